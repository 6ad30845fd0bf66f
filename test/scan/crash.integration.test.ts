import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { albLines, comparable, totalProxyRequests, windowReports } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** `alf scan` from source in a child process; resolves with its exit code (null when killed). */
function runCli(args: string[], killAfterMs: number | null): Promise<number | null> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'scan', ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const timer = killAfterMs === null ? null : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('error', fail);
    child.on('exit', (code) => {
      if (timer) clearTimeout(timer);
      if (code !== null && code !== 0) fail(new Error(`alf scan exited ${code}: ${stderr}`));
      else done(code);
    });
  });
}

// SIGKILL at random moments (listing, reading, spooling, reporting, committing), then a full
// run: the findings equal those of one uninterrupted run, every request counted once.
describe('crash safety', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alf-crash-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('counts every request exactly once after repeated SIGKILLs', async () => {
    const logs = join(dir, 'logs');
    mkdirSync(logs);
    const t0 = Date.UTC(2025, 0, 15, 8, 0, 0);
    let total = 0;
    for (let f = 0; f < 40; f++) {
      const text = albLines(t0 + f * 200_000, f * 150, 150, 1300);
      writeFileSync(join(logs, `node-${String(f).padStart(2, '0')}.log${f % 2 ? '.gz' : ''}`), f % 2 ? gzipSync(text) : text);
      total += 150;
    }
    const args = (name: string): string[] => [logs, '--state', join(dir, `${name}.json`), '--out', join(dir, name), '--quiet', '--concurrency', '4'];

    await runCli(args('clean'), null);
    expect(totalProxyRequests(join(dir, 'clean'))).toBe(total);

    // A seeded sequence of kill points, so a failure can be replayed.
    let seed = 7;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let killed = 0;
    for (let attempt = 0; attempt < 5; attempt++) {
      const code = await runCli(args('crashed'), 500 + Math.floor(random() * 2000));
      if (code === null) killed++;
    }
    await runCli(args('crashed'), null);
    expect(killed).toBeGreaterThan(0);

    const clean = windowReports(join(dir, 'clean'));
    const crashed = windowReports(join(dir, 'crashed'));
    expect([...crashed.keys()]).toEqual([...clean.keys()]);
    for (const [name, report] of clean) expect(comparable(crashed.get(name)), name).toEqual(comparable(report));
    expect(totalProxyRequests(join(dir, 'crashed'))).toBe(total);
  }, 60_000);
});
