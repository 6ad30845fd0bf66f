import { spawnSync } from 'node:child_process';
import { BUILT_MAIN, ROOT } from '../layers/built-cli.js';

export { ROOT };

export const MAIN = BUILT_MAIN;

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (the integration and e2e projects build it first) as a real process: stdout, stderr and exit code. */
export function runCli(args: readonly string[], options: { input?: string | Buffer; env?: Record<string, string>; timeoutMs?: number } = {}): CliResult {
  const result = spawnSync(process.execPath, [BUILT_MAIN, ...args], {
    cwd: ROOT, input: options.input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: options.timeoutMs,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
