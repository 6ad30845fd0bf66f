import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { createServer } from 'node:net';

/**
 * Child processes of the end-to-end tests (nginx, HAProxy), stopped by process id: gracefully by
 * the test, and, if the test process dies first, by a synchronous kill of each one's process group
 * on exit (nginx's workers are children of its master, so the group takes them too). Nothing is
 * ever found or killed by name.
 */

const running = new Set<ChildProcess>();

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    try { process.kill(child.pid, 'SIGKILL'); } catch { /* already gone */ }
  }
}

function killAll(): void {
  for (const child of running) killGroup(child);
  running.clear();
}

process.once('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAll();
    process.kill(process.pid, signal);
  });
}

export interface Managed {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
}

/** Starts a process in its own process group, remembered until it exits. */
export function startProcess(name: string, command: string, args: readonly string[], stdio: StdioOptions = 'ignore', env?: NodeJS.ProcessEnv): Managed {
  const child = spawn(command, args, { stdio, detached: true, env });
  running.add(child);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    });
    child.once('error', () => {
      running.delete(child);
      resolve(null);
    });
  });
  return { name, child, exited };
}

/** Sends `signal` to the process by id and waits for it to exit; SIGKILLs its group after `graceMs`. */
export async function stopProcess(managed: Managed, signal: NodeJS.Signals = 'SIGTERM', graceMs = 5_000): Promise<void> {
  const { child } = managed;
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try { process.kill(child.pid, signal); } catch { /* already gone */ }
  const timer = setTimeout(() => killGroup(child), graceMs);
  await managed.exited;
  clearTimeout(timer);
}

export function isRunning(managed: Managed): boolean {
  return managed.child.exitCode === null && managed.child.signalCode === null;
}

/** A port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it holds; throws with `what` after `timeoutMs`. */
export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
