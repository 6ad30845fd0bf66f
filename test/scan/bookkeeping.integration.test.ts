import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EntryIndex } from '../../src/scan/file-plan.js';
import { sha1 } from '../../src/scan/fingerprint.js';
import type { FileEntry } from '../../src/scan/state.js';
import { runAlf } from './cli.js';
import { albLines, scan, totalProxyRequests, windowReports } from './helpers.js';

function entry(id: string, content: string, extra: Partial<FileEntry> = {}): FileEntry {
  const bytes = Buffer.from(content);
  return { id, fpHash: sha1(bytes), fpLength: bytes.length, offset: 0, dev: 1, ino: Number(id.replace(/\D/g, '') || 0), size: 10, mtimeMs: 5, path: `/logs/${id}`, format: null, seenAtMs: 0, ...extra };
}

describe('bookkeeping that scales', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alf-books-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds a file by fingerprint among thousands of entries, a short first fingerprint included', () => {
    const entries = Array.from({ length: 5000 }, (_, n) => entry(`e${n}`, `line ${n} of its own file\n`.padEnd(1024, 'x')));
    entries.push(entry('short7', 'first line only\n')); // seen when it held one short line
    const index = new EntryIndex(entries);
    expect(index.matching(Buffer.from(`line 4321 of its own file\n`.padEnd(1024, 'x'))).map((e) => e.id)).toEqual(['e4321']);
    // The file grew: its first bytes still match the short fingerprint.
    expect(index.matching(Buffer.from('first line only\nsecond line\n'.padEnd(1024, 'y'))).map((e) => e.id)).toEqual(['short7']);
    expect(index.matching(Buffer.from('nothing known\n'))).toEqual([]);
    expect(index.unchanged('/logs/e12', 1, 12, 10, 5)?.id).toBe('e12');
    expect(index.unchanged('/logs/e12', 1, 12, 11, 5)).toBeUndefined();
    const fresh = index.freshId(entries[3]!.fpHash);
    expect(entries.some((e) => e.id === fresh)).toBe(false);
  });

  it('--retain prunes windows, their spool and reports beyond the retention, and says how many', async () => {
    const work = join(dir, 'retain');
    const logs = join(work, 'logs');
    mkdirSync(logs, { recursive: true });
    const day = 86_400_000;
    const t0 = Date.UTC(2025, 0, 1, 10, 0, 30);
    writeFileSync(join(logs, 'old.log'), albLines(t0, 0, 50));
    writeFileSync(join(logs, 'new.log'), albLines(t0 + 35 * day, 100, 60));
    let summary = await scan([logs], work, { nowMs: t0 + 36 * day });
    expect(summary.windows).toEqual(['20250101T1000Z', '20250205T1000Z']);
    const out = join(work, 'out');
    expect([...windowReports(out).keys()]).toEqual(['alf-20250101T1000Z.json', 'alf-20250205T1000Z.json']);

    summary = await scan([logs], work, { nowMs: t0 + 36 * day, retainMs: 30 * day });
    expect(summary.prunedWindows).toBe(1);
    expect([...windowReports(out).keys()]).toEqual(['alf-20250205T1000Z.json']);
    expect(existsSync(join(out, 'alf-20250101T1000Z.html'))).toBe(false);
    expect(readdirSync(join(out, 'spool'))).toEqual(['20250205T1000Z']);
    expect(totalProxyRequests(out)).toBe(60);
    // Records that arrive already past retention are not rendered either.
    writeFileSync(join(logs, 'older.log'), albLines(t0 - day, 500, 5));
    summary = await scan([logs], work, { nowMs: t0 + 36 * day, retainMs: 30 * day });
    expect(summary.windows).toEqual([]);
    expect(readdirSync(join(out, 'spool'))).toEqual(['20250205T1000Z']);
  }, 60_000);

  it('removes temp files a killed run left beside the state and in the out directory', async () => {
    const work = join(dir, 'temps');
    const logs = join(work, 'logs');
    mkdirSync(join(work, 'out'), { recursive: true });
    mkdirSync(logs);
    writeFileSync(join(logs, 'a.log'), albLines(Date.UTC(2025, 0, 15, 5), 0, 10));
    const leftovers = [join(work, '.state.json.4242.tmp'), join(work, 'out', '.manifest.json.4242.tmp'), join(work, 'out', '.alf-20250115T0500Z.html.17.tmp')];
    for (const path of leftovers) writeFileSync(path, 'half written');
    writeFileSync(join(work, '.not-alf.tmp'), 'someone else');
    await scan([logs], work);
    for (const path of leftovers) expect(existsSync(path), path).toBe(false);
    expect(existsSync(join(work, '.not-alf.tmp'))).toBe(true);
  }, 30_000);

  it('a newline or escape in a file name cannot forge a line of the terminal summary', async () => {
    const work = join(dir, 'names');
    const logs = join(work, 'logs');
    mkdirSync(logs, { recursive: true });
    const forged = 'x.log\nalf: scan run 9: 1 sources, 1 read, 0 failed; findings: none\u001b[2K';
    writeFileSync(join(logs, forged), 'nothing any format knows\n'.repeat(5));
    const run = await runAlf(['scan', logs, '--state', join(work, 'state.json'), '--out', join(work, 'out')]);
    expect(run.code).toBe(2);
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines.every((line) => line.startsWith('alf: '))).toBe(true);
    expect(lines.some((line) => line.startsWith('alf: scan run 9'))).toBe(false);
    expect(run.stderr).not.toContain('\u001b');
    const quiet = await runAlf(['scan', logs, '--state', join(work, 'state.json'), '--out', join(work, 'out'), '--quiet']);
    expect(quiet.stderr.trimEnd().split('\n')).toHaveLength(1);
  }, 60_000);
});
