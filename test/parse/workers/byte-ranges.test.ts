import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FormatDef } from '../../../parsers/format.js';
import { apacheLogFormat, APACHE_LOG_FORMAT_ID } from '../../../parsers/apache-log-format.js';
import { nginxFormat } from '../../../parsers/nginx.js';
import { FORMATS, findFormat } from '../../../parsers/registry.js';
import { DEFAULT_SPLIT, lineAlignedRanges, planSplit, SPLITTABLE_FORMATS } from '../../../src/parse/workers/byte-ranges.js';
import { emptyFileStats } from '../../../src/model/file-stats.js';
import { addRangeStats } from '../../../src/parse/workers/worker-sources.js';
import { parseLines } from '../../parsers/parse-lines.js';
import { ROOT } from '../../cli/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'alf-ranges-'));
let fileNumber = 0;
function tempFile(content: string | Buffer): string {
  const path = join(dir, `f${fileNumber++}.log`);
  writeFileSync(path, content);
  return path;
}

describe('line-aligned byte ranges', () => {
  it('cover the file exactly, each starting a line, and together hold its lines in order', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('', '\r', 'é€😀')), { maxLength: 60 }),
      fc.boolean(), fc.integer({ min: 1, max: 80 }),
      async (lines, finalNewline, rangeBytes) => {
        const text = lines.join('\n') + (finalNewline && lines.length > 0 ? '\n' : '');
        const bytes = Buffer.from(text);
        const path = tempFile(bytes);
        const ranges = await lineAlignedRanges(path, bytes.length, rangeBytes);
        expect(ranges[0]!.start).toBe(0);
        expect(ranges[ranges.length - 1]!.end).toBeUndefined();
        for (let i = 0; i < ranges.length; i++) {
          const range = ranges[i]!;
          if (i > 0) {
            expect(range.start).toBe(ranges[i - 1]!.end);
            expect(bytes[range.start - 1]).toBe(0x0a);
          }
          if (range.end !== undefined) expect(range.end).toBeGreaterThan(range.start);
        }
        const pieces = ranges.map((r) => bytes.subarray(r.start, r.end));
        expect(Buffer.concat(pieces).equals(bytes)).toBe(true);
        // Every range but the last ends with a newline: no line is cut in two.
        for (const piece of pieces.slice(0, -1)) expect(piece[piece.length - 1]).toBe(0x0a);
      },
    ), { numRuns: 150 });
  });

  it('from a line\'s start (where an earlier read stopped), cover the rest of the file exactly, each starting a line', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.string({ maxLength: 30 }), { minLength: 1, maxLength: 60 }), fc.nat(), fc.integer({ min: 1, max: 80 }),
      async (lines, pick, rangeBytes) => {
        const bytes = Buffer.from(lines.map((line) => `${line.replaceAll('\n', '')}\n`).join(''));
        const starts = [0, ...[...bytes.entries()].filter(([, byte]) => byte === 0x0a).map(([at]) => at + 1).filter((at) => at < bytes.length)];
        const from = starts[pick % starts.length]!;
        const ranges = await lineAlignedRanges(tempFile(bytes), bytes.length, rangeBytes, from);
        expect(ranges[0]!.start).toBe(from);
        for (const range of ranges.slice(1)) expect(bytes[range.start - 1]).toBe(0x0a);
        expect(Buffer.concat(ranges.map((r) => bytes.subarray(r.start, r.end))).equals(bytes.subarray(from))).toBe(true);
      },
    ), { numRuns: 100 });
  });

  it('a file with no newline after the first cut point stays one range', async () => {
    const path = tempFile(`short\n${'x'.repeat(500)}`);
    expect(await lineAlignedRanges(path, 506, 10)).toEqual([{ start: 0 }]);
  });
});

describe('which files are split', () => {
  const big = { minBytes: 1, rangeBytes: 2000 };
  const incident = readFileSync(join(ROOT, 'samples/incident/access.log'));
  const directive = readFileSync(join(ROOT, 'samples/incident/nginx-log-format.conf'), 'utf8');
  const logFormat = nginxFormat(directive, 'nginx');
  const choice = { candidates: [logFormat, ...FORMATS] };

  it('a big plain file of a line format, with the format parseSource would detect', async () => {
    const plan = await planSplit(tempFile(incident), 'access.log', incident.length, choice, big);
    expect(plan?.format).toBe(logFormat);
    expect(plan!.ranges.length).toBeGreaterThan(100);
  });

  it('not: gzip, small files, size unknown (pipes), undetectable or header-bound formats, unreadable files', async () => {
    const gz = gzipSync(incident);
    expect(await planSplit(tempFile(gz), 'a.gz', gz.length, choice, big)).toBeNull();
    expect(await planSplit(tempFile(incident), 'a', incident.length, choice, DEFAULT_SPLIT)).toBeNull();
    expect(await planSplit(tempFile(incident), 'a', undefined, choice, big)).toBeNull();
    const junk = Buffer.from('nothing\nlike\na log\n'.repeat(500));
    expect(await planSplit(tempFile(junk), 'junk', junk.length, choice, big)).toBeNull();
    const csv = readFileSync(join(ROOT, 'samples/incident/newrelic-transactions.csv'));
    expect(await planSplit(tempFile(csv), 'nr.csv', csv.length, choice, big)).toBeNull();
    const cloudfront = readFileSync(join(ROOT, 'samples/formats/cloudfront.log'));
    expect(await planSplit(tempFile(cloudfront), 'cf.log', cloudfront.length, { candidates: FORMATS }, { minBytes: 1, rangeBytes: 100 })).toBeNull();
    expect(await planSplit(join(dir, 'missing.log'), 'missing.log', 10_000, choice, big)).toBeNull();
  });

  it('a forced format is used without detection', async () => {
    const combined = readFileSync(join(ROOT, 'samples/formats/apache-combined.log'));
    const forced = findFormat('nginx-combined')!;
    const plan = await planSplit(tempFile(combined), 'a.log', combined.length, { candidates: FORMATS, forced }, { minBytes: 1, rangeBytes: 200 });
    expect(plan?.format).toBe(forced);
  });
});

/**
 * A format may be split only if its parser keeps nothing from one line to the next: parsing
 * each line with a fresh parser must give what one parser gives over the whole file.
 */
describe('every splittable format parses a line alone as it does in its file', () => {
  const samples = readdirSync(join(ROOT, 'samples/formats')).map((name) => join(ROOT, 'samples/formats', name));
  const directive = readFileSync(join(ROOT, 'samples/incident/nginx-log-format.conf'), 'utf8');
  const cases: [string, FormatDef, string[]][] = [
    ['nginx (log_format)', nginxFormat(directive, 'nginx'), readFileSync(join(ROOT, 'samples/incident/access.log'), 'utf8').split('\n').slice(0, 300)],
  ];
  const apacheSample = join(ROOT, 'samples/formats/apache-combined-d.log');
  cases.push(['apache-logformat (an httpd LogFormat)', apacheLogFormat('%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" %D'), readFileSync(apacheSample, 'utf8').split('\n')]);
  for (const id of SPLITTABLE_FORMATS) {
    if (id === 'nginx' || id === APACHE_LOG_FORMAT_ID) continue;
    const format = findFormat(id);
    if (format === undefined) throw new Error(`SPLITTABLE_FORMATS names ${id}, which is no format`);
    const sample = samples.find((path) => path.endsWith(`/${id}.log`));
    const lines = sample ? readFileSync(sample, 'utf8').split('\n') : [];
    // Formats without a sample file: their example, and a bad line, which must fail alike.
    cases.push([id, format, [...lines, format.example, '', 'not a line of anything']]);
  }

  it.each(cases)('%s', (_id, format, lines) => {
    const whole = parseLines(format, lines);
    const alone = lines.map((line) => parseLines(format, [line]));
    const shift = <T extends { line: number }>(items: T[], index: number): T[] => items.map((item) => ({ ...item, line: index + 1 }));
    expect(alone.flatMap((p, i) => shift(p.records, i))).toStrictEqual(whole.records);
    expect(alone.flatMap((p, i) => shift(p.issues, i))).toStrictEqual(whole.issues);
    // File-level warnings are said once per file (and once per kind when ranges are merged: noteWarning).
    const kinds = (warnings: { code: string; field: string | null }[]): string[] => [...new Set(warnings.map((w) => `${w.code} ${w.field}`))];
    expect(kinds(alone.flatMap((p) => p.warnings))).toStrictEqual(kinds(whole.warnings));
    expect(alone.reduce((sum, p) => sum + p.ignored, 0)).toBe(whole.ignored);
    expect(whole.records.length).toBeGreaterThan(0);
  });
});

describe('a file\'s stats from its ranges\' stats', () => {
  it('sums the counters, keeps the first examples in file order with file line numbers, and the first error', () => {
    const issue = (line: number, code: 'PARSE_NO_MATCH' | 'PARSE_BAD_FIELD') => ({ code, file: 'a.log', line, field: null, message: 'm', sample: 's' });
    const first = { ...emptyFileStats('a.log'), linesRead: 100, records: 97, skipped: 3, issuesByCode: { PARSE_BAD_FIELD: 1, PARSE_NO_MATCH: 2 }, firstIssues: [issue(5, 'PARSE_BAD_FIELD'), issue(6, 'PARSE_NO_MATCH'), issue(99, 'PARSE_NO_MATCH')], firstTimeMs: 50, lastTimeMs: 90 };
    const second = { ...emptyFileStats('a.log'), linesRead: 10, records: 6, skipped: 3, ignored: 1, issuesByCode: { PARSE_NO_MATCH: 2, PARSE_LINE_TOO_LONG: 1 }, firstIssues: [issue(1, 'PARSE_NO_MATCH'), issue(2, 'PARSE_NO_MATCH'), issue(3, 'PARSE_NO_MATCH')], firstTimeMs: 40, lastTimeMs: 95, error: 'boom' };
    const into = { ...emptyFileStats('a.log'), format: 'nginx', kind: 'proxy' as const };
    addRangeStats(into, first, 0);
    addRangeStats(into, second, 100);
    expect(into).toMatchObject({ format: 'nginx', kind: 'proxy', linesRead: 110, records: 103, skipped: 6, ignored: 1, firstTimeMs: 40, lastTimeMs: 95, error: 'boom' });
    expect(Object.entries(into.issuesByCode)).toEqual([['PARSE_BAD_FIELD', 1], ['PARSE_NO_MATCH', 4], ['PARSE_LINE_TOO_LONG', 1]]);
    expect(into.firstIssues.map((i) => i.line)).toEqual([5, 6, 99, 101, 102]);
  });
});
