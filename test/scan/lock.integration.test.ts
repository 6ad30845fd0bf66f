import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { takeLock } from '../../src/scan/state-lock.js';
import { quietLine, runAlf } from './cli.js';
import { albLines, totalProxyRequests } from './helpers.js';

// alf's own lock: never two writers of one state, whatever starts them; a crashed holder never
// leaves the lock behind.
describe('the state lock', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alf-lock-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is exclusive between two holders, even in one process, and free again once released', async () => {
    const path = join(dir, 'unit.lock');
    const first = await takeLock(path, 'the unit state', 0);
    await expect(takeLock(path, 'the unit state', 0)).rejects.toThrow(new RegExp(`the unit state is in use by another alf run \\(pid ${process.pid} on .*lock ${path}\\)`));
    // Waiting: released a moment later, the second holder gets it within its wait.
    const waiting = takeLock(path, 'the unit state', 10_000);
    await first.release();
    const second = await waiting;
    await second.release();
  });

  it('a second scan exits 2 at once naming the holder; a SIGKILLed holder leaves no stale lock', async () => {
    const logs = join(dir, 'held-logs');
    mkdirSync(logs);
    writeFileSync(join(logs, 'a.log'), albLines(Date.UTC(2025, 0, 15, 1), 0, 50));
    const state = join(dir, 'held.json');
    // Another process holds the lock (as a long scan would): a child that takes it and waits.
    const holder = runAlfLockHolder(`${state}.lock`);
    await holder.locked;
    const second = await runAlf(['scan', logs, '--state', state, '--out', join(dir, 'held'), '--quiet']);
    expect(second.code).toBe(2);
    expect(quietLine(second).error).toMatch(new RegExp(`the state ${state} is in use by another alf run \\(pid ${holder.pid}`));
    holder.kill();
    await holder.exited;
    // The kernel released it with the process: the next run goes ahead.
    const third = await runAlf(['scan', logs, '--state', state, '--out', join(dir, 'held'), '--quiet']);
    expect(third.code, third.stderr).toBe(0);
    expect(totalProxyRequests(join(dir, 'held'))).toBe(50);
  }, 60_000);

  // Two scans on one state while the log grows, with no flock around them: before alf took its
  // own lock, such a pair put 61,500 requests in the reports for 60,000 lines. Every round here
  // starts both at once; with --lock-wait the second waits for the first and reads on from it.
  it('two scans started together while files grow never count a line twice (8 rounds)', async () => {
    const logs = join(dir, 'race-logs');
    mkdirSync(logs);
    const files = [join(logs, 'a.log'), join(logs, 'b.log')];
    const state = join(dir, 'race.json');
    const out = join(dir, 'race');
    const args = ['scan', logs, '--state', state, '--out', out, '--quiet', '--lock-wait', '2m', '--concurrency', '2'];
    const t0 = Date.UTC(2025, 0, 15, 2);
    let written = 0;
    let reads = 0;
    for (let round = 0; round < 8; round++) {
      for (const [n, file] of files.entries()) appendFileSync(file, albLines(t0 + written * 500, written + n * 100_000, 400, 500));
      written += 400;
      let growing = true;
      // A writer keeps appending while both scans run: complete lines only, as nginx writes them.
      const writer = (async () => {
        while (growing) {
          for (const [n, file] of files.entries()) appendFileSync(file, albLines(t0 + written * 500, written + n * 100_000, 10, 500));
          written += 10;
          await sleep(50);
        }
      })();
      const [a, b] = await Promise.all([runAlf(args), runAlf(args)]);
      growing = false;
      await writer;
      expect(a.code, a.stderr).toBe(0);
      expect(b.code, b.stderr).toBe(0);
      // Both read something new: the second waited for the first and read what came since.
      reads += Number(quietLine(a).records) > 0 && Number(quietLine(b).records) > 0 ? 1 : 0;
    }
    console.log(`${reads} of 8 rounds had both scans read new lines; ${written * 2} lines in all`);
    const last = await runAlf(args);
    expect(last.code, last.stderr).toBe(0);
    const lines = files.reduce((n, file) => n + readFileSync(file, 'utf8').split('\n').filter(Boolean).length, 0);
    expect(lines).toBe(written * 2);
    expect(totalProxyRequests(out)).toBe(lines);
  }, 300_000);
});

/** A child process that takes the lock at `path` (as a scan does) and holds it until killed. */
function runAlfLockHolder(path: string): { pid: number; locked: Promise<void>; exited: Promise<void>; kill(): void } {
  const script = `import { takeLock } from ${JSON.stringify(join(import.meta.dirname, '../../src/scan/state-lock.ts'))};
await takeLock(${JSON.stringify(path)}, 'held', 0); process.stdout.write('locked\\n'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  return {
    pid: child.pid!,
    locked: new Promise((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => { if (chunk.toString().includes('locked')) resolve(); });
      child.once('exit', (code) => reject(new Error(`lock holder exited ${code}`)));
    }),
    exited: new Promise((resolve) => child.once('exit', () => resolve())),
    kill: () => child.kill('SIGKILL'),
  };
}
