import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { freePort, waitUntil } from '../e2e/processes.js';
import { cliEntry } from './cli.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** Debian's redis-server (CI installs it: .ci/run); tests that need it are skipped, saying why, when it is absent. */
export const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((path) => existsSync(path)) ?? null;

export interface RunningProcess {
  child: ChildProcess;
  /** Everything it wrote to stderr so far. */
  stderr: () => string;
  exited: Promise<void>;
}

function track(child: ChildProcess): RunningProcess {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  return { child, stderr: () => stderr, exited };
}

/** A throwaway redis-server on 127.0.0.1: no persistence, its files in `dir`. */
export async function startRedis(dir: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const redis = track(spawn(REDIS_SERVER!, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] }));
  let out = '';
  redis.child.stdout?.on('data', (chunk: Buffer) => { out += chunk.toString(); });
  await waitUntil('redis-server to accept connections', () => out.includes('Ready to accept connections'), 10_000);
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      redis.child.kill('SIGTERM');
      await redis.exited;
    },
  };
}

/** `alf worker` in a child process; `ready` resolves once it listens for tasks. */
export async function startWorker(url: string, extra: readonly string[] = []): Promise<RunningProcess> {
  const worker = track(spawn(process.execPath, [...cliEntry(), 'worker', '--queue', url, ...extra], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] }));
  await waitUntil('alf worker to be ready', () => worker.stderr().includes(': ready on '), 20_000);
  return worker;
}
