// PSP devices: no tunnels of their own (the device's key rotates for all its associations); a rotation
// counter that went up is a rotation of the device.
import type { OnWire } from '../../../wire/entities.ts';
import type { PspDevice } from '../../../wire/psp.ts';
import type { TunnelAdapterFactory } from '../adapter.ts';

export const pspAdapter: TunnelAdapterFactory = (host) => {
  /** Rotation count by device id, as last seen. */
  const seen = new Map<number, number>();
  return {
    kinds: ['psp-dev'],
    onChange(c) {
      if (c.op !== 'upsert') return;
      const d = c.value as OnWire<PspDevice>;
      const before = seen.get(d.id);
      seen.set(d.id, d.rotations);
      if (before === undefined || d.rotations <= before) return;
      const name = `PSP device ${d.id}${d.ifname ? ` (${d.ifname})` : ''}`;
      const time = d.lastRotation ?? host.now();
      host.rotations.publish({ key: `psp:${d.id}#${d.rotations}@${time}`, family: 'psp', tunnel: `psp:${d.id}`, tunnelName: name, time, cause: 'key-rotate', state: 'done' });
    },
  };
};
