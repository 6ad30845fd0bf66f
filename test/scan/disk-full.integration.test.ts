import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quietLine, runAlf } from './cli.js';
import { albLines, totalProxyRequests } from './helpers.js';

/** Mounts a tmpfs of `size` at `path`; false where the machine does not allow it (not root, no mount). */
function mountTmpfs(path: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', path], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Files left in a directory tree whose name says they are temporary. */
function temps(directory: string): string[] {
  return readdirSync(directory, { recursive: true, encoding: 'utf8' }).filter((name) => /\.tmp$|\/\.tmp-|^\.tmp-/.test(name));
}

// A full disk (ENOSPC) or a file size limit (EFBIG) is an operational error: one line naming the
// file, exit 2 (not 1, which the README's systemd unit once counted as success, nor 3 with a
// stack), the JSON line under --quiet; nothing half-written stays to make the next run fail,
// and the next run with room counts every request once.
describe('disk full', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alf-full-'));
  const volume = join(dir, 'volume');
  const logs = join(dir, 'logs');
  let mounted = false;
  const LINES = 30_000;

  beforeAll(() => {
    mkdirSync(volume);
    mkdirSync(logs);
    mounted = mountTmpfs(volume, '1m');
    writeFileSync(join(logs, 'access.log'), albLines(Date.UTC(2025, 0, 15, 0, 0, 30), 0, LINES, 600)); // five hourly windows
  });
  afterAll(() => {
    if (mounted) execFileSync('umount', [volume]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('ENOSPC on a 1 MiB volume: exit 2 naming the file, nothing left over; after growing it, every request once', async (context) => {
    if (!mounted) context.skip();
    const args = ['scan', logs, '--state', join(volume, 'state.json'), '--out', join(volume, 'out'), '--quiet'];
    const full = await runAlf(args);
    expect(full.code, full.stderr).toBe(2);
    expect(full.stderr.trim().split('\n')).toHaveLength(1);
    expect(quietLine(full).error).toMatch(new RegExp(`${volume}.*no space left on device \\(ENOSPC\\)`));
    expect(full.stderr).not.toMatch(/bug in alf/);
    expect(temps(volume)).toEqual([]);

    execFileSync('mount', ['-o', 'remount,size=64m', volume]);
    const roomy = await runAlf(args);
    expect(roomy.code, roomy.stderr).toBe(0);
    expect(totalProxyRequests(join(volume, 'out'))).toBe(LINES);
  }, 120_000);

  it('EFBIG under ulimit -f: exit 2 naming the file; without the limit the next run completes', async () => {
    const args = ['scan', logs, '--state', join(dir, 'limited.json'), '--out', join(dir, 'limited')];
    const limited = await runAlf(args, { fileSizeLimitKb: 64 });
    expect(limited.code, limited.stderr).toBe(2);
    expect(limited.stderr.trim().split('\n')).toHaveLength(1);
    expect(limited.stderr).toMatch(/^alf: .*file too large \(file size limit\) \(EFBIG\)/);
    const free = await runAlf([...args, '--quiet']);
    expect(free.code, free.stderr).toBe(0);
    expect(temps(join(dir, 'limited'))).toEqual([]);
    expect(totalProxyRequests(join(dir, 'limited'))).toBe(LINES);
  }, 120_000);
});
