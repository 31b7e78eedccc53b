// Runs in a worker thread: SADB_REGISTER for each SA type asked, on a PF_KEY socket of its own, closed
// before the thread ends. The kernel answers inside sendmsg (pfkey_register → pfkey_broadcast to the
// sender), so each reply is already queued when send returns; a non-blocking recv picks it up.
import { parentPort, workerData } from 'node:worker_threads';
import { SyscallError } from '../../sys/errno.ts';
import { setThreadNetns } from '../../sys/netns.ts';
import { openPfkeySocket } from './conn.ts';
import { encodeSadbMessage } from './message.ts';
import { SADB } from './spec.ts';

/** What register.ts hands the thread: checked, not assumed (workerData is whatever the parent passed). */
function registerRequest(d: unknown): { satypes: number[]; pid: number; netnsFd?: number } {
  if (typeof d === 'object' && d !== null && 'satypes' in d && 'pid' in d) {
    const { satypes, pid } = d;
    const netnsFd = 'netnsFd' in d ? d.netnsFd : undefined;
    if (Array.isArray(satypes) && satypes.every((t): t is number => Number.isInteger(t)) && typeof pid === 'number' && (netnsFd === undefined || typeof netnsFd === 'number')) return { satypes, pid, netnsFd };
  }
  throw new TypeError('pfkey register worker: workerData must be { satypes: number[]; pid: number; netnsFd?: number }');
}
const { satypes, pid, netnsFd } = registerRequest(workerData);
try {
  // --netns: this thread (it ends when done) enters the watched namespace for good before its socket opens.
  const errno = netnsFd === undefined ? undefined : setThreadNetns(netnsFd);
  if (errno !== undefined) throw new SyscallError('pfkey register', 'setns', errno);
  const sock = openPfkeySocket('pfkey register', 1024 * 1024);
  const replies: string[] = [];
  try {
    for (const [i, satype] of satypes.entries()) {
      const seq = i + 1;
      sock.send(encodeSadbMessage({ type: SADB.REGISTER, satype, seq, pid }));
      let found = false;
      for (let d = sock.recv(); d; d = sock.recv()) {
        const b = d.data;
        if (b.length >= 16 && b[1] === SADB.REGISTER && b.readUInt32LE(12) === pid && b.readUInt32LE(8) === seq) {
          replies.push(b.toString('hex'));
          found = true;
        }
      }
      if (!found) throw new Error(`pfkey: register satype ${satype}: no reply queued after sendmsg returned`);
    }
  } finally {
    sock.close();
  }
  parentPort!.postMessage({ replies });
} catch (err) {
  parentPort!.postMessage({ error: { message: err instanceof Error ? err.message : String(err), errno: err instanceof SyscallError ? err.errno : undefined, call: err instanceof SyscallError ? err.call : undefined } });
}
