// A free loopback port of the host. Here, in the lab's own files, because the lab boots a VM from a
// project holding only test/lab (integration/lab-paths.test.ts); test/helpers.ts re-exports it.
import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}
