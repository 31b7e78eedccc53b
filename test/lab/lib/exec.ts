// Small process helpers for the host side of the lab.
import { spawn, type SpawnOptions } from 'node:child_process';
import { createWriteStream } from 'node:fs';
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

/** Runs a program with its output appended to a log file; calls onLine for each output line. */
export function runLogged(
  cmd: string,
  args: string[],
  logFile: string,
  onLine: (line: string) => void = () => {},
  opts: SpawnOptions = {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    const log = createWriteStream(logFile, { flags: 'a' });
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let partial = '';
    const feed = (d: Buffer) => {
      log.write(d);
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop()!;
      for (const l of lines) onLine(l);
    };
    child.stdout!.on('data', feed);
    child.stderr!.on('data', feed);
    child.on('error', (e) => reject(new LabError(`${cmd}: ${e.message}`)));
    child.on('close', (code) => {
      log.end();
      if (code === 0) resolve();
      else reject(new LabError(`${cmd} failed (exit ${code}); log: ${logFile}`));
    });
  });
}
