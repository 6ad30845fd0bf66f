import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { albLine, albLines, scan, totalProxyRequests, windowReports } from './helpers.js';

// logrotate as distro nginx configs do it: rename (delaycompress), later gzip, and copytruncate.
describe('rotation: every line counted once', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alf-rotation-'));
  const logs = join(dir, 'logs');
  const log = join(logs, 'access.log');
  const t0 = Date.UTC(2025, 0, 15, 9, 0, 0);
  let written = 0;
  let next = 0;
  const write = (count: number, append = true): void => {
    const text = albLines(t0 + next * 1000, next, count);
    if (append) appendFileSync(log, text);
    else writeFileSync(log, text);
    next += count;
    written += count;
  };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads only what is new across rename, gzip, append and copytruncate', async () => {
    const glob = `${logs}/access.log*`;
    mkdirSync(logs);
    write(100, false);
    let summary = await scan([glob], dir);
    expect(summary.records).toBe(100);
    expect(totalProxyRequests(join(dir, 'out'))).toBe(written);

    // Nothing new: nothing read.
    summary = await scan([glob], dir);
    expect(summary.records).toBe(0);
    expect(summary.sourcesUnchanged).toBe(1);

    // Appended, with a line still being written: only complete lines now, the rest next time.
    write(50);
    const partial = albLine(t0 + next * 1000, next);
    appendFileSync(log, partial.slice(0, 40));
    summary = await scan([glob], dir);
    expect(summary.records).toBe(50);
    appendFileSync(log, `${partial.slice(40)}\n`);
    next++;
    written++;

    // Rotated by rename, a new file started.
    renameSync(log, `${log}.1`);
    write(30, false);
    summary = await scan([glob], dir);
    expect(summary.records).toBe(31);
    expect(totalProxyRequests(join(dir, 'out'))).toBe(written);

    // Next rotation: .1 is gzipped to .2.gz (its content already read), access.log renamed to .1
    // with lines appended before the rename, and a fresh access.log.
    writeFileSync(`${log}.2.gz`, gzipSync(readFileSync(`${log}.1`)));
    unlinkSync(`${log}.1`);
    write(20);
    renameSync(log, `${log}.1`);
    write(10, false);
    summary = await scan([glob], dir);
    expect(summary.records).toBe(30);
    expect(totalProxyRequests(join(dir, 'out'))).toBe(written);

    // copytruncate: the live file is copied, then truncated in place and written again.
    write(15);
    copyFileSync(log, `${log}.1.tmp`);
    truncateSync(log, 0);
    write(12, false);
    renameSync(`${log}.1.tmp`, `${log}.0`);
    summary = await scan([glob], dir);
    expect(summary.records).toBe(27);
    expect(totalProxyRequests(join(dir, 'out'))).toBe(written);

    // Every window's lines add up, and the state file never named a line twice.
    let parsed = 0;
    for (const report of windowReports(join(dir, 'out')).values()) parsed += report.inputs.totals.records;
    expect(parsed).toBe(written);
  }, 30_000);

  it('cites file line numbers for lines read on a later run, not numbers counted from where the read resumed', async () => {
    const other = mkdtempSync(join(tmpdir(), 'alf-lines-'));
    const file = join(other, 'logs', 'access.log');
    mkdirSync(join(other, 'logs'));
    writeFileSync(file, albLines(t0, 0, 100));
    await scan([`${other}/logs/access.log*`], other);
    appendFileSync(file, `${albLines(t0 + 100_000, 100, 50)}not an ALB line\n`);
    await scan([`${other}/logs/access.log*`], other);
    const issues = [...windowReports(join(other, 'out')).values()]
      .flatMap((report) => (report.inputs as unknown as { files: { firstIssues: { line: number }[] }[] }).files)
      .flatMap((stats) => stats.firstIssues);
    expect(issues.map((issue) => issue.line)).toEqual([151]);
    rmSync(other, { recursive: true, force: true });
  }, 30_000);
});
