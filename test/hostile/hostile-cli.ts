import { spawn } from 'node:child_process';
import { BUILT_MAIN, ROOT } from '../layers/built-cli.js';

/** Runs the built CLI asynchronously (so a corpus can run in parallel), with a hard time limit. */
export interface HostileRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export function runCliAsync(args: readonly string[], timeoutMs = 30_000, env: Record<string, string> = {}): Promise<HostileRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [BUILT_MAIN, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', ...env } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({
        status, signal, ms: performance.now() - started,
        stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

/** What a crash looks like on stderr: the internal-error banner or a Node stack frame. */
export const CRASH = /internal error|\n\s+at .+:\d+:\d+\)?\n|Unhandled|FATAL ERROR|heap out of memory/;
