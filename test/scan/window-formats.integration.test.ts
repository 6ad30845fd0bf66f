import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runAlf } from './cli.js';
import { albLines, comparable, windowReports } from './helpers.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2025, 0, 1, 10, 0, 30);

function reportFiles(out: string, extension: string): string[] {
  return readdirSync(out).filter((name) => name.startsWith('alf-') && name.endsWith(extension)).sort();
}

describe('alf scan --format and alf merge --format', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alf-window-formats-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  writeFileSync(join(logs, 'a.log'), albLines(T0, 0, 40));
  writeFileSync(join(logs, 'b.log'), albLines(T0 + HOUR, 100, 40));

  it('json alone writes the same JSON reports as the default, no HTML, and an index that links only what exists', async () => {
    const both = await runAlf(['scan', logs, '--state', join(dir, 'both.json'), '--out', join(dir, 'both'), '--quiet']);
    const json = await runAlf(['scan', logs, '--state', join(dir, 'json.json'), '--out', join(dir, 'json'), '--format', 'json', '--quiet']);
    expect([both.code, json.code]).toEqual([0, 0]);
    expect(reportFiles(join(dir, 'both'), '.html')).toEqual(['alf-20250101T1000Z.html', 'alf-20250101T1100Z.html']);
    expect(reportFiles(join(dir, 'json'), '.html')).toEqual([]);
    const expected = [...windowReports(join(dir, 'both'))].map(([name, report]) => [name, comparable(report)]);
    expect([...windowReports(join(dir, 'json'))].map(([name, report]) => [name, comparable(report)])).toEqual(expected);
    const index = readFileSync(join(dir, 'json', 'index.html'), 'utf8');
    expect(index).toContain('href="alf-20250101T1000Z.json"');
    expect(index).not.toContain('.html"');
  });

  it('a later run writes its formats for the windows it updates and removes a report of a format no longer asked for', async () => {
    const out = join(dir, 'json');
    appendFileSync(join(logs, 'b.log'), albLines(T0 + HOUR + 50_000, 200, 5));
    const run = await runAlf(['scan', logs, '--state', join(dir, 'json.json'), '--out', out, '--format', 'html', '--quiet']);
    expect(run.code).toBe(0);
    // Only the 11:00 window was updated: it now has HTML and its JSON is gone; 10:00 keeps its JSON.
    expect(reportFiles(out, '.html')).toEqual(['alf-20250101T1100Z.html']);
    expect(reportFiles(out, '.json')).toEqual(['alf-20250101T1000Z.json']);
    const index = readFileSync(join(out, 'index.html'), 'utf8');
    expect(index).toContain('href="alf-20250101T1100Z.html"');
    expect(index).not.toContain('href="alf-20250101T1100Z.json"');
    expect(index).toContain('href="alf-20250101T1000Z.json"');
    expect(index).not.toContain('href="alf-20250101T1000Z.html"');
  });

  it('merge --format json writes JSON reports only', async () => {
    const shards = [0, 1].map((i) => join(dir, `shard-${i}`));
    for (const [i, shard] of shards.entries()) {
      const run = await runAlf(['scan', logs, '--state', join(shard, 'state.json'), '--out', shard, '--shard', `${i}/2`, '--quiet']);
      expect(run.code).toBe(0);
    }
    const merged = join(dir, 'merged');
    const run = await runAlf(['merge', ...shards, '--out', merged, '--format', 'json', '--quiet']);
    expect(run.code).toBe(0);
    expect(reportFiles(merged, '.json')).toEqual(['alf-20250101T1000Z.json', 'alf-20250101T1100Z.json']);
    expect(reportFiles(merged, '.html')).toEqual([]);
  });

  it('an unknown format is a one-line usage error (exit 2) before anything is read or written', async () => {
    const out = join(dir, 'never');
    const run = await runAlf(['scan', logs, '--state', join(dir, 'never.json'), '--out', out, '--format', 'json,pdf']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain('--format "json,pdf"');
    expect(existsSync(out)).toBe(false);
    expect(existsSync(join(dir, 'never.json'))).toBe(false);
  });
});
