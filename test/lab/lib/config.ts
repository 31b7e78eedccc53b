// What the lab pins and where it keeps things. Everything lives under $SASCOPE_LAB_CACHE
// (default ~/.cache/sascope-lab); see test/lab/README.md for the layout.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type KernelName = 'debian' | 'custom';
export const KERNELS: readonly KernelName[] = ['debian', 'custom'];

/** test/lab/ in the project */
export const LAB_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** the project root (the VM's working directory) */
export const PROJECT_DIR = resolve(LAB_DIR, '..', '..');

export const CACHE = resolve(process.env.SASCOPE_LAB_CACHE || join(homedir(), '.cache', 'sascope-lab'));

/** Debian unstable kernel, tested with the lab (NOTES: 7.2.13+deb14). */
export const DEBIAN_KERNEL = {
  release: '7.2.13+deb14-amd64',
  version: '7.2.13-1',
  packages: ['linux-binary', 'linux-modules', 'linux-base'].map((p) => `${p}-7.2.13+deb14-amd64`),
};
/** Debian's kernel source package the custom kernel is built from. */
export const LINUX_SOURCE = { package: 'linux-source-7.2', version: '7.2.13-1', dir: 'linux-7.2' };
export const APT_SUITE = 'sid';

export const paths = {
  cache: CACHE,
  apt: join(CACHE, 'apt'),
  debs: join(CACHE, 'debs'),
  logs: join(CACHE, 'logs'),
  runs: join(CACHE, 'runs'),
  ccache: join(CACHE, 'ccache'),
  lock: join(CACHE, 'provision.lock'),
  /** extracted Debian kernel: usr/lib/modules/<release>/{vmlinuz,kernel/…} */
  debianRoot: join(CACHE, 'debian', DEBIAN_KERNEL.release),
  get debianModules() {
    return join(this.debianRoot, 'usr', 'lib', 'modules', DEBIAN_KERNEL.release);
  },
  /** the kernel source tree, at a fixed path other code reads uapi headers and ynl specs from */
  source: join(CACHE, 'src', LINUX_SOURCE.dir),
  sourceStamp: join(CACHE, 'src', LINUX_SOURCE.dir, '.sascope-source-version'),
  customObj: join(CACHE, 'custom', 'build'),
  customFragment: join(LAB_DIR, 'kernel', 'custom.fragment'),
  customBuildScript: join(LAB_DIR, 'kernel', 'build-custom.sh'),
  init1: join(LAB_DIR, 'guest', 'init1.sh'),
  init2: join(LAB_DIR, 'guest', 'init2.sh'),
  hostDeps: join(LAB_DIR, 'host-deps.sh'),
};

export function sha12(...parts: (string | Buffer)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex').slice(0, 12);
}

/** Custom kernel output dir, keyed by source version and fragment contents. */
export function customKey(): string {
  return `${LINUX_SOURCE.version}-${sha12(readFileSync(paths.customFragment))}`;
}
export function customOut(): string {
  return join(CACHE, 'custom', customKey());
}

export function initramfsPath(kernel: KernelName): string {
  const id = kernel === 'debian' ? DEBIAN_KERNEL.release : customKey();
  return join(CACHE, 'initramfs', `${kernel}-${sha12(readFileSync(paths.init1), id)}.cpio.gz`);
}

export interface KernelArtifacts {
  kernel: KernelName;
  image: string;
  initrd: string;
  /** module tree bind-mounted onto /usr/lib/modules/$(uname -r) in the guest (Debian only) */
  modules?: string;
}

export function artifacts(kernel: KernelName): KernelArtifacts {
  if (kernel === 'debian') {
    return {
      kernel,
      image: join(paths.debianModules, 'vmlinuz'),
      initrd: initramfsPath(kernel),
      modules: paths.debianModules,
    };
  }
  return { kernel, image: join(customOut(), 'bzImage'), initrd: initramfsPath(kernel) };
}

/** The source tree is part of every kernel's provisioning: guest scenarios read its ynl and specs. */
export function sourceReady(): boolean {
  return existsSync(paths.sourceStamp) && readFileSync(paths.sourceStamp, 'utf8').trim() === LINUX_SOURCE.version;
}

export function isProvisioned(kernel: KernelName): boolean {
  const a = artifacts(kernel);
  const complete = kernel === 'debian' ? existsSync(join(paths.debianRoot, '.complete')) : true;
  return complete && existsSync(a.image) && existsSync(a.initrd) && sourceReady();
}

export function parseKernel(s: string): KernelName {
  if (s === 'debian' || s === 'custom') return s;
  throw new Error(`unknown kernel "${s}" (debian or custom)`);
}
