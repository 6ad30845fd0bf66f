import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync, appendFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/scan/manifest.js';
import { runScan } from '../../src/scan/run-scan.js';
import { fnv1a } from '../../src/scan/shard.js';
import { quietLine, runAlf } from './cli.js';
import { albLines, scanOptions, totalProxyRequests, windowReports } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const INCIDENT_LOG = join(ROOT, 'samples/incident/access.log');
const INCIDENT_FORMAT = join(ROOT, 'samples/incident/nginx-log-format.conf');
const INCIDENT_LINES = readFileSync(INCIDENT_LOG, 'utf8').split('\n').filter(Boolean).length;

const manifestOf = (out: string): Manifest => JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as Manifest;

/** The spool segments one source file wrote into a window (segment names carry a hash of its path). */
function segmentsOf(out: string, window: string, source: string): string[] {
  const pathHash = fnv1a(source).toString(16).padStart(8, '0');
  return readdirSync(join(out, 'spool', window)).filter((file) => file.split('-')[1] === pathHash);
}

// Nothing lost quietly: a file no format fits, a source that cannot be read, a lost or damaged
// segment, a damaged manifest or state are named, make the run exit 2, and are read or rebuilt later.
describe('nothing lost quietly', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alf-lost-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a file no format fits is not marked read: named in stderr, the JSON line and the index, and read whole once a format fits', async () => {
    const work = join(dir, 'unparsed');
    mkdirSync(join(work, 'logs'), { recursive: true });
    // The incident log without its log_format: no built-in format fits its pipe-separated lines.
    copyFileSync(INCIDENT_LOG, join(work, 'logs', 'access.log'));
    writeFileSync(join(work, 'logs', 'alb.log'), albLines(Date.UTC(2025, 0, 15, 10), 0, 20));
    const args = ['scan', join(work, 'logs'), '--state', join(work, 'state.json'), '--out', join(work, 'out')];

    const first = await runAlf([...args, '--quiet']);
    expect(first.code).toBe(2);
    const line = quietLine(first);
    expect(line.exitCode).toBe(2);
    expect(line.sourcesRead).toBe(1);
    expect((line.unparsed as { source: string }[]).map((u) => u.source)).toEqual([join(work, 'logs', 'access.log')]);
    expect(readFileSync(join(work, 'out', 'index.html'), 'utf8')).toContain(`${join(work, 'logs', 'access.log')}</code>`);
    expect(totalProxyRequests(join(work, 'out'))).toBe(20);

    // Again without the format: still not read, still named, still exit 2 (and said to a person, too).
    const second = await runAlf(args);
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/no format fits .*access\.log/);

    // With the right format: every request of it, from its first line.
    const third = await runAlf([...args, '--quiet', '--log-format', INCIDENT_FORMAT]);
    expect(quietLine(third).unparsed).toEqual([]);
    expect(third.code).toBe(0);
    expect(totalProxyRequests(join(work, 'out'))).toBe(20 + INCIDENT_LINES);
    expect(manifestOf(join(work, 'out')).problems?.unparsed).toEqual([]);
  }, 60_000);

  it('a truncated .gz and a missing source fail alone: the others are read, the run exits 2 naming both', async () => {
    const work = join(dir, 'failed');
    const logs = join(work, 'logs');
    mkdirSync(logs, { recursive: true });
    const t0 = Date.UTC(2025, 0, 15, 11);
    writeFileSync(join(logs, 'good.log'), albLines(t0, 0, 30));
    const whole = gzipSync(albLines(t0, 30, 400));
    writeFileSync(join(logs, 'cut.log.gz'), whole.subarray(0, whole.length >> 1));
    const missing = join(work, 'no-such-dir');
    const run = await runAlf(['scan', logs, missing, '--state', join(work, 'state.json'), '--out', join(work, 'out'), '--quiet']);
    expect(run.code).toBe(2);
    const line = quietLine(run);
    const failed = (line.failures as { source: string; error: string }[]);
    expect(failed.map((f) => f.source).sort()).toEqual([join(logs, 'cut.log.gz'), missing].sort());
    expect(failed.find((f) => f.source.endsWith('.gz'))!.error).toMatch(/truncated gzip/);
    expect(run.stderr).not.toMatch(/keep-going|bug in alf/);
    expect(totalProxyRequests(join(work, 'out'))).toBe(30);
    // The truncated file is not marked read: complete, it is read on the next run.
    writeFileSync(join(logs, 'cut.log.gz'), whole);
    const again = await runAlf(['scan', logs, '--state', join(work, 'state.json'), '--out', join(work, 'out'), '--quiet']);
    expect(again.code).toBe(0);
    expect(totalProxyRequests(join(work, 'out'))).toBe(430);
  }, 60_000);

  it('the last line of a rotated .gz counts even without a final newline; a plain file\'s waits for its newline', async () => {
    const work = join(dir, 'tails');
    const logs = join(work, 'logs');
    mkdirSync(logs, { recursive: true });
    const t0 = Date.UTC(2025, 0, 15, 16);
    writeFileSync(join(logs, 'access.log.2.gz'), gzipSync(albLines(t0, 0, 10).trimEnd()));
    writeFileSync(join(logs, 'access.log'), albLines(t0 + 60_000, 100, 5).trimEnd());
    const summary = await runScan(scanOptions([logs], work));
    expect(summary.records).toBe(10 + 4);
    appendFileSync(join(logs, 'access.log'), '\n');
    expect((await runScan(scanOptions([logs], work))).records).toBe(1);
    expect(totalProxyRequests(join(work, 'out'))).toBe(15);
  }, 30_000);

  it('a plain file untouched for minutes counts its last line without a newline: an object written once, not a line being written', async () => {
    const work = join(dir, 'settled');
    const logs = join(work, 'logs');
    mkdirSync(logs, { recursive: true });
    const t0 = Date.UTC(2025, 0, 15, 17);
    // A Firehose object copied down ends without a newline; it was written long before this run.
    const copied = join(logs, 'firehose-object.log');
    writeFileSync(copied, albLines(t0, 0, 6).trimEnd());
    const live = join(logs, 'access.log');
    writeFileSync(live, albLines(t0 + 60_000, 100, 5).trimEnd());
    const copiedAt = statSync(copied).mtimeMs;
    const liveAt = statSync(live).mtimeMs;
    // The live file is fresh at the first run: its unterminated line waits, the copy's does not.
    const minutes = (n: number): number => n * 60_000;
    const first = await runScan(scanOptions([copied], work, { nowMs: copiedAt + minutes(6) }));
    expect(first.records).toBe(6);
    const fresh = await runScan(scanOptions([live], work, { nowMs: liveAt + minutes(1) }));
    expect(fresh.records).toBe(4);
    // No newline came and the file was not touched again: a later run reads its last line.
    const settled = await runScan(scanOptions([copied, live], work, { nowMs: liveAt + minutes(6) }));
    expect(settled.records).toBe(1);
    expect(settled.sourcesUnchanged).toBe(1);
    const after = await runScan(scanOptions([copied, live], work, { nowMs: liveAt + minutes(12) }));
    expect(after.records).toBe(0);
    expect(after.sourcesUnchanged).toBe(2);
    expect(totalProxyRequests(join(work, 'out'))).toBe(11);
  }, 30_000);

  it('a lost segment is found, rebuilt from its source and counted as before; with the source gone the window is marked incomplete', async () => {
    const work = join(dir, 'segments');
    const logs = join(work, 'logs');
    mkdirSync(logs, { recursive: true });
    const t0 = Date.UTC(2025, 0, 15, 12);
    const a = join(logs, 'a.log');
    writeFileSync(a, albLines(t0, 0, 745, 6000)); // spans windows 12:00 and 13:00 (745 * 6 s)
    writeFileSync(join(logs, 'b.log'), albLines(t0 + 60_000, 1000, 200, 1000));
    const options = scanOptions([logs], work);
    await runScan(options);
    const before = windowReports(join(work, 'out'));
    const total = totalProxyRequests(join(work, 'out'));
    expect(total).toBe(945);

    // Delete a.log's segment in the first window: found at start, re-read from a.log, counts as before.
    const out = join(work, 'out');
    const lost = segmentsOf(out, '20250115T1200Z', a);
    expect(lost).toHaveLength(1);
    unlinkSync(join(out, 'spool', '20250115T1200Z', lost[0]!));
    let summary = await runScan({ ...options, nowMs: Date.now() });
    expect(summary.integrity.map((i) => i.problem).join('\n')).toMatch(/lost \(\d+ records\): re-reading/);
    expect(summary.incompleteWindows).toEqual([]);
    expect(totalProxyRequests(join(work, 'out'))).toBe(total);
    for (const [name, report] of before) expect(windowReports(join(work, 'out')).get(name)!.join.proxyRecords, name).toBe(report.join.proxyRecords);

    // A truncated segment (same damage as a full disk or a crash of the volume): found by size, rebuilt.
    const victim = segmentsOf(out, '20250115T1300Z', a);
    expect(victim).toHaveLength(1);
    truncateSync(join(out, 'spool', '20250115T1300Z', victim[0]!), 20);
    summary = await runScan({ ...options, nowMs: Date.now() });
    expect(summary.integrity.map((i) => i.problem).join('\n')).toMatch(/damaged \(\d+ records\): 20 bytes/);
    expect(totalProxyRequests(join(work, 'out'))).toBe(total);

    // A byte flipped inside a frame at rest: the digest (of the frame headers) still passes, the
    // frame's CRC-32 fails as the window is replayed. The run goes on without the segment, names
    // it, and the next run reads its source again.
    const flipped = segmentsOf(out, '20250115T1300Z', a);
    expect(flipped).toHaveLength(1);
    const flippedPath = join(out, 'spool', '20250115T1300Z', flipped[0]!);
    const bytes = readFileSync(flippedPath);
    bytes[40]! ^= 0x20;
    writeFileSync(flippedPath, bytes);
    // A late line of that window makes the run replay it.
    writeFileSync(join(logs, 'late.log'), albLines(t0 + 3_600_000 + 60_000, 5000, 1));
    summary = await runScan({ ...options, nowMs: Date.now() });
    expect(summary.integrity.map((i) => i.problem).join('\n')).toMatch(/does not decode/);
    expect(totalProxyRequests(join(work, 'out'))).toBeLessThan(total + 1);
    summary = await runScan({ ...options, nowMs: Date.now() });
    expect(totalProxyRequests(join(work, 'out'))).toBe(total + 1);
    rmSync(join(logs, 'late.log'));

    // Source gone: the loss is reported, the window shrinks but says it is incomplete, until then.
    rmSync(a);
    for (const file of segmentsOf(out, '20250115T1200Z', a)) unlinkSync(join(out, 'spool', '20250115T1200Z', file));
    summary = await runScan({ ...options, nowMs: Date.now() });
    expect(summary.integrity.length).toBeGreaterThan(0);
    expect(summary.incompleteWindows).toEqual(['20250115T1200Z']);
    const manifest = manifestOf(join(work, 'out'));
    expect(manifest.windows['20250115T1200Z']!.incomplete![0]!.problem).toMatch(/lost/);
    expect(readFileSync(join(work, 'out', 'index.html'), 'utf8')).toContain('incomplete');
    expect(totalProxyRequests(join(work, 'out'))).toBeLessThan(total);
    // It stays incomplete on later runs: nothing repaired it.
    summary = await runScan({ ...options, nowMs: Date.now() });
    expect(summary.incompleteWindows).toEqual(['20250115T1200Z']);
  }, 60_000);

  it('a truncated or deleted manifest.json is rebuilt from the spool: every window stays in the index', async () => {
    const work = join(dir, 'manifest');
    const logs = join(work, 'logs');
    mkdirSync(logs, { recursive: true });
    const t0 = Date.UTC(2025, 0, 15, 6, 0, 10);
    writeFileSync(join(logs, 'a.log'), albLines(t0, 0, 600, 30_000)); // five hourly windows
    const options = scanOptions([logs], work);
    await runScan(options);
    const out = join(work, 'out');
    const windows = Object.keys(manifestOf(out).windows).sort();
    expect(windows.length).toBe(5);
    const text = readFileSync(join(out, 'manifest.json'), 'utf8');

    writeFileSync(join(out, 'manifest.json'), text.slice(0, text.length >> 1));
    appendFileSync(join(logs, 'a.log'), albLines(t0 + 600 * 30_000, 600, 10, 1000)); // touches one window only
    let summary = await runScan({ ...options, nowMs: Date.now() });
    expect(summary.integrity.map((i) => i.problem).join()).toMatch(/not valid JSON.*rebuilt from the spool/);
    expect(Object.keys(manifestOf(out).windows).sort()).toEqual([...windows, '20250115T1100Z'].sort());
    expect(totalProxyRequests(out)).toBe(610);

    unlinkSync(join(out, 'manifest.json'));
    summary = await runScan({ ...options, nowMs: Date.now() });
    expect(summary.integrity.map((i) => i.problem).join()).toMatch(/is missing: rebuilt/);
    expect(Object.keys(manifestOf(out).windows).length).toBe(6);
    for (const label of Object.keys(manifestOf(out).windows)) expect(readFileSync(join(out, 'index.html'), 'utf8')).toContain(`alf-${label}.html`);

    // Whole again: the next run has nothing to report.
    summary = await runScan({ ...options, nowMs: Date.now() });
    expect(summary.integrity).toEqual([]);
  }, 60_000);

  it('a state file holding null, or cut short, is one line and exit 2, with the JSON line under --quiet', async () => {
    const work = join(dir, 'state');
    mkdirSync(join(work, 'logs'), { recursive: true });
    writeFileSync(join(work, 'logs', 'a.log'), albLines(Date.UTC(2025, 0, 15, 3), 0, 10));
    for (const content of ['null', '{"version":1,"windowMs":3600000,"lastR']) {
      writeFileSync(join(work, 'state.json'), content);
      const args = ['scan', join(work, 'logs'), '--state', join(work, 'state.json'), '--out', join(work, 'out')];
      const plain = await runAlf(args);
      expect(plain.code).toBe(2);
      expect(plain.stderr.trim().split('\n')).toHaveLength(1);
      expect(plain.stderr).toContain(`state file ${join(work, 'state.json')}`);
      expect(plain.stderr).not.toMatch(/bug in alf|    at /);
      const quiet = await runAlf([...args, '--quiet']);
      expect(quiet.code).toBe(2);
      expect(quiet.stderr.trim().split('\n')).toHaveLength(1);
      expect(quietLine(quiet).error).toContain('state.json');
    }
    expect(existsSync(join(work, 'out', 'manifest.json'))).toBe(false);
    expect(statSync(join(work, 'state.json')).size).toBeGreaterThan(0);
  }, 60_000);
});
