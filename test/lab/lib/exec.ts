// Small process helpers for the host side of the lab.
import { spawn, type SpawnOptions } from 'node:child_process';
import { LabError } from './log.ts';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program, collecting output; rejects on a non-zero exit unless allowFail. */
export function run(
  cmd: string,
  args: string[],
  opts: SpawnOptions & { allowFail?: boolean; input?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('error', (e) => reject(new LabError(`${cmd}: ${e.message}`)));
    child.on('close', (code, signal) => {
      const c = code ?? 128;
      if (c !== 0 && !opts.allowFail) {
        const tail = (stderr || stdout).trim().split('\n').slice(-15).join('\n');
        reject(new LabError(`${cmd} ${args.join(' ')} exited ${signal ?? c}\n${tail}`));
      } else resolve({ code: c, stdout, stderr });
    });
    if (opts.input !== undefined) {
      child.stdin!.on('error', () => {});
      child.stdin!.end(opts.input);
    }
  });
}

/** Whether a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
