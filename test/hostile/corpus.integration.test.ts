import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FileStats } from '../../src/model/file-stats.js';
import type { Analysis } from '../../src/pipeline/analysis.js';
import { ROOT } from '../cli/run-cli.js';
import { CRASH, runCliAsync, type HostileRun } from './hostile-cli.js';

/**
 * A malformed-input corpus through the real CLI. Every case: no crash (exit 0 or 2, never 3,
 * no stack trace), bounded time, and every line accounted for: read = parsed + skipped + ignored,
 * skipped lines carry a code and a file:line example. Unreadable files fail with a one-line error
 * naming them (exit 2), and with --keep-going the other files are still analysed.
 */

const dir = mkdtempSync(join(tmpdir(), 'alf-hostile-'));
const LOG_FORMAT = join(ROOT, 'samples', 'incident', 'nginx-log-format.conf');

// A tiny seeded generator: the corpus is the same on every run.
let seed = 0x9e3779b9;
function random(): number {
  seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
}
function randomBytes(n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(random() * 256);
  return out;
}

const combined = (i: number, time = '15/Jan/2025:10:32:01 +0000', status = '200', bytes = '1834'): string =>
  `203.0.113.${i % 250} - - [${time}] "GET /v1/orders/${i}?limit=20 HTTP/1.1" ${status} ${bytes} "-" "okhttp/4.12.0"`;
const combinedLines = (n: number): string[] => Array.from({ length: n }, (_, i) => combined(i, `15/Jan/2025:10:${String(10 + Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')} +0000`));
const pipe = (fields: Partial<Record<string, string>> = {}): string => {
  const f = { msec: '1489482002.456', status: '200', rt: '0.631', us: '200', urt: '0.630', addr: '127.0.0.1:8102', len: '189', sent: '38659', ...fields };
  return `${f.msec}|${f.status}|${f.rt}|${f.us}|${f.urt}|${f.addr}|${f.len}|${f.sent}|GET|https|/v2/apps/1/metrics.json|api.example.com|key_1|curl/8.0`;
};
const ALB = 'https 2025-01-15T10:32:01.457123Z app/prod-api/5d1e3f0a9b8c7d6e 203.0.113.24:53122 10.0.3.17:8080 0.001 0.081 0.000 200 200 300 2034 "GET https://api.example.com:443/v1/orders?limit=20 HTTP/1.1" "okhttp/4.12.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api-tg/0a1b2c3d4e5f6a7b "Root=1-67878e80-5498eeb1a1867c9a3e009096" "api.example.com" "session-reused" 0 2025-01-15T10:32:01.375000Z "forward" "-" "-" "10.0.3.17:8080" "200" "-" "-"';

interface Case {
  name: string;
  /** File content; the case writes it to `<dir>/<file>`. */
  file: string;
  content: string | Buffer;
  args?: string[];
  /** Expected exit code (0 unless the file is unreadable). */
  exit?: number;
  /** Extra checks on the file's stats. */
  check?: (stats: FileStats, run: HostileRun) => void;
}

const NUMBERS = ['1e309', '-1', 'NaN', '0x10', 'Infinity', '-0', '1e-400', '9'.repeat(400), '0.1.2', '+5', ' 7', '١٢٣'];

const CASES: Case[] = [
  {
    name: 'truncated lines', file: 'truncated.log',
    content: combinedLines(200).map((line, i) => (i % 7 === 3 ? line.slice(0, Math.floor(random() * line.length)) : line)).join('\n'),
    check: (s) => { expect(s.format).toBe('nginx-combined'); expect(s.skipped).toBeGreaterThan(0); },
  },
  {
    name: 'another format mixed in', file: 'mixed.log',
    content: combinedLines(120).flatMap((line, i) => (i % 10 === 0 ? [line, ALB, '{"time":"2025-01-15T10:32:01Z","status":200}'] : [line])).join('\n'),
    check: (s) => { expect(s.format).toBe('nginx-combined'); expect(s.skipped).toBe(24); },
  },
  {
    name: 'CRLF endings', file: 'crlf.log', content: `${combinedLines(50).join('\r\n')}\r\n`,
    check: (s) => { expect(s).toMatchObject({ linesRead: 50, records: 50, skipped: 0 }); },
  },
  {
    name: 'invalid UTF-8, raw bytes and NULs', file: 'bytes.log',
    content: Buffer.concat(combinedLines(60).map((line, i) => Buffer.concat([
      Buffer.from(i % 3 === 0 ? line.replace('okhttp', 'ok\u0000http') : line),
      i % 4 === 0 ? Buffer.from([0xc3, 0x28, 0xed, 0xa0, 0x80, 0xff, 0xfe, 0x00]) : Buffer.alloc(0),
      Buffer.from('\n'),
    ]))),
    check: (s) => { expect(s.format).toBe('nginx-combined'); expect(s.linesRead).toBe(60); },
  },
  {
    name: 'a 5 MB single line between good lines', file: 'long-line.log',
    content: [...combinedLines(10), combined(99).replace('okhttp/4.12.0', 'A'.repeat(5 * 1024 * 1024)), ...combinedLines(10)].join('\n'),
    check: (s) => {
      expect(s).toMatchObject({ linesRead: 21, records: 20, skipped: 1 });
      expect(s.issuesByCode.PARSE_LINE_TOO_LONG).toBe(1);
      expect(s.firstIssues[0]).toMatchObject({ line: 11, code: 'PARSE_LINE_TOO_LONG' });
    },
  },
  {
    name: 'an empty file', file: 'empty.log', content: '',
    check: (s) => { expect(s).toMatchObject({ linesRead: 0, records: 0, skipped: 0 }); },
  },
  {
    name: 'a CSV export with only its header', file: 'header-only.csv', args: ['--apm'],
    content: 'timestamp,duration,name,request.uri,request.method,httpResponseCode\n',
    // Unread, so the run fails (exit 2) after the report, --keep-going or not.
    exit: 2,
    check: (s) => { expect(s.undetected).toMatch(/^no known format fits/); expect(s.records).toBe(0); expect(s.linesRead).toBe(1); },
  },
  {
    name: 'a binary file', file: 'binary.dat', content: randomBytes(64 * 1024), exit: 2,
    check: (s) => { expect(s.undetected).toMatch(/^no known format fits/); expect(s.records).toBe(0); expect(s.skipped).toBe(s.linesRead); expect(s.firstIssues.length).toBeGreaterThan(0); },
  },
  {
    name: 'timestamps out of order, far in the future and in other zones', file: 'times.log',
    content: [
      combined(1, '15/Jan/2025:10:32:01 +0000'), combined(2, '15/Jan/2025:09:00:00 +0000'), combined(3, '15/Jan/2025:10:32:01 +1400'),
      combined(4, '15/Jan/2025:10:32:01 -1200'), combined(5, '31/Dec/9999:23:59:59 +0000'), combined(6, '01/Jan/1970:00:00:00 +0000'),
      combined(7, '15/Jan/2025:10:32:01 +9999'), combined(8, '32/Jan/2025:10:32:01 +0000'), combined(9, '15/Foo/2025:10:32:01 +0000'),
      combined(10, '15/Jan/275760:10:32:01 +0000'), combined(11, '29/Feb/2025:10:32:01 +0000'), combined(12, '15/Jan/2025:25:61:61 +0000'),
      ...combinedLines(30),
    ].join('\n'),
    check: (s) => { expect(s.format).toBe('nginx-combined'); expect(s.records).toBeGreaterThanOrEqual(30); },
  },
  {
    name: 'hostile numbers in a custom pipe format', file: 'numbers.log', args: ['--log-format', LOG_FORMAT],
    // Each hostile line follows a good one, so detection (on the first 64 lines) still sees mostly good lines.
    content: [
      ...Array.from({ length: 20 }, (_, i) => pipe({ msec: `1489482${String(100 + i)}.456` })),
      ...NUMBERS.flatMap((n) => [pipe({ status: n }), pipe({ rt: n }), pipe({ urt: n }), pipe({ sent: n }), pipe({ msec: n }), pipe({ len: n })])
        .flatMap((line) => [pipe(), line]),
    ].join('\n'),
    check: (s) => { expect(s.format).toBe('nginx'); expect(s.records).toBeGreaterThanOrEqual(20); expect(s.skipped).toBeGreaterThan(0); },
  },
  {
    name: 'hostile numbers in JSON lines', file: 'numbers.json',
    content: [
      ...Array.from({ length: 10 }, (_, i) => `{"time_iso8601":"2025-01-15T10:32:0${i}+00:00","status":"200","request_time":"0.084","request":"GET / HTTP/1.1"}`),
      ...NUMBERS.flatMap((n) => [
        '{"time_iso8601":"2025-01-15T10:32:05+00:00","status":"200","request_time":"0.084","request":"GET / HTTP/1.1"}',
        `{"time_iso8601":"2025-01-15T10:32:01+00:00","status":"${n}","request_time":"0.084","request":"GET / HTTP/1.1"}`,
        '{"time_iso8601":"2025-01-15T10:32:06+00:00","status":"200","request_time":"0.084","request":"GET / HTTP/1.1"}',
        `{"time_iso8601":"2025-01-15T10:32:01+00:00","status":200,"request_time":${/^[\d.e+-]+$/.test(n) ? n : `"${n}"`},"request":"GET / HTTP/1.1"}`,
      ]),
    ].join('\n'),
    check: (s) => { expect(s.kind).toBe('proxy'); expect(s.records).toBeGreaterThanOrEqual(10); },
  },
  {
    name: 'hostile numbers in ALB fields', file: 'numbers-alb.log',
    content: [...Array.from({ length: 10 }, () => ALB), ...NUMBERS.flatMap((n) => [ALB.replace(' 0.081 ', ` ${n} `), ALB.replace(' 300 2034 ', ` ${n} 2034 `)])].join('\n'),
    check: (s) => { expect(s.format).toBe('aws-alb'); expect(s.records).toBeGreaterThanOrEqual(10); },
  },
  {
    name: 'hostile numbers in a New Relic CSV', file: 'numbers-nr.csv', args: ['--apm'],
    content: ['timestamp,duration,name,request.uri,request.method,httpResponseCode',
      ...Array.from({ length: 10 }, (_, i) => `14894820011${String(i).padStart(2, '0')},0.5,WebTransaction/x,/v1/a,GET,200`),
      ...NUMBERS.flatMap((n) => [`${n},0.5,W,/a,GET,200`, `1489482001124,${n},W,/a,GET,200`, `1489482001124,0.5,W,/a,GET,"${n}"`]),
      '"unterminated,quote', ',,,,,', 'a,b',
    ].join('\n'),
    check: (s) => { expect(s.kind).toBe('apm'); expect(s.records).toBeGreaterThanOrEqual(10); },
  },
];

const UNREADABLE: Case[] = [
  { name: 'a truncated .gz', file: 'truncated.log.gz', content: gzipSync(combinedLines(5000).join('\n')).subarray(0, 3000), exit: 2 },
  { name: 'a .gz that is not gzip', file: 'not-gzip.gz', content: Buffer.concat([Buffer.from([0x1f, 0x8b]), randomBytes(4096)]), exit: 2 },
];

const runs = new Map<string, HostileRun>();

function analysisOf(run: HostileRun): Analysis {
  return JSON.parse(run.stdout) as Analysis;
}

function assertAccounted(stats: FileStats): void {
  // Line formats: every line read is a record, a skipped line or an ignored one.
  if (stats.kind !== 'apm' || stats.format === 'newrelic-csv') {
    expect(stats.linesRead, stats.file).toBe(stats.records + stats.skipped + stats.ignored);
  }
  const byCode = Object.values(stats.issuesByCode).reduce((sum, n) => sum + (n ?? 0), 0);
  expect(byCode, `${stats.file}: every skipped line has a reason`).toBe(stats.skipped);
  if (stats.skipped > 0) {
    expect(stats.firstIssues.length).toBeGreaterThan(0);
    for (const issue of stats.firstIssues) {
      expect(issue.file).toBe(stats.file);
      expect(issue.line).toBeGreaterThan(0);
      expect(issue.line).toBeLessThanOrEqual(stats.linesRead);
      expect(issue.sample.length).toBeLessThanOrEqual(200);
    }
  }
}

beforeAll(async () => {
  for (const c of [...CASES, ...UNREADABLE]) writeFileSync(join(dir, c.file), c.content);
  const good = join(dir, 'crlf.log');
  // Cases that take the same options share one run (each file has its own stats): CLI start-up dominates.
  const groups = new Map<string, Case[]>();
  for (const c of CASES.filter((c) => c.args?.[0] !== '--apm')) groups.set((c.args ?? []).join(' '), [...(groups.get((c.args ?? []).join(' ')) ?? []), c]);
  const jobs: [string, string[]][] = [
    // --keep-going: a file no format fits (the binary one) would fail the run and hide the others' accounts.
    ...[...groups.values()].map((group) => [`group:${group[0]!.name}`, ['analyze', ...(group[0]!.args ?? []), ...group.map((c) => join(dir, c.file)), '--keep-going', '--format', 'json']] as [string, string[]]),
    ...UNREADABLE.flatMap((c) => [
      [c.name, ['analyze', join(dir, c.file), good, '--format', 'json']],
      [`${c.name} --keep-going`, ['analyze', join(dir, c.file), good, '--keep-going', '--format', 'json']],
      [`${c.name} detect`, ['detect', join(dir, c.file), good]],
    ] as [string, string[]][]),
  ];
  // A few at a time: the time limit is per run, and a loaded machine must not turn into a false hang.
  const queue = [...jobs];
  const worker = async (): Promise<void> => {
    for (let job = queue.shift(); job; job = queue.shift()) runs.set(job[0], await runCliAsync(job[1], 45_000));
  };
  // --apm takes one file per flag: give each APM case its own run.
  for (const c of CASES.filter((c) => c.args?.[0] === '--apm')) {
    queue.push([c.name, ['analyze', '--apm', join(dir, c.file), '--keep-going', '--format', 'json']]);
  }
  await Promise.all([worker(), worker(), worker()]);
}, 180_000);

describe('hostile corpus through alf analyze', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s: no crash, bounded time, every line accounted for', (name, c) => {
    const group = CASES.find((other) => (other.args ?? []).join(' ') === (c.args ?? []).join(' '))!;
    const alone = c.args?.[0] === '--apm';
    const run = runs.get(alone ? name : `group:${group.name}`)!;
    expect(run.signal, 'killed by the time limit').toBeNull();
    expect(run.stderr).not.toMatch(CRASH);
    // A run that shares a file no format fits fails (exit 2) after its report: nothing read is no all-clear.
    const together = alone ? [c] : CASES.filter((other) => (other.args ?? []).join(' ') === (c.args ?? []).join(' '));
    expect(run.status).toBe(Math.max(...together.map((other) => other.exit ?? 0)));
    const analysis = analysisOf(run);
    const stats = analysis.inputs.files.find((file) => file.file === join(dir, c.file))!;
    expect(stats).toBeDefined();
    assertAccounted(stats);
    c.check?.(stats, run);
    // The stderr summary names the file and its counts.
    expect(run.stderr).toContain(`${join(dir, c.file)}: `);
    expect(run.stderr).toMatch(new RegExp(`${stats.linesRead.toLocaleString('en-US')} lines? read, ${stats.records.toLocaleString('en-US')} parsed, ${stats.skipped.toLocaleString('en-US')} skipped`));
  });

  it.each(UNREADABLE.map((c) => [c.name, c] as const))('%s: one-line error naming it, exit 2; --keep-going still analyses the rest', (name, c) => {
    const path = join(dir, c.file);
    const strict = runs.get(name)!;
    expect(strict.stderr).not.toMatch(CRASH);
    expect(strict.status).toBe(2);
    expect(strict.stdout).toBe('');
    const errorLines = strict.stderr.trim().split('\n');
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toMatch(new RegExp(`^alf: cannot read ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: corrupt or truncated gzip`));

    const going = runs.get(`${name} --keep-going`)!;
    expect(going.stderr).not.toMatch(CRASH);
    expect(going.status).toBe(2);
    expect(going.stderr).toContain(`alf: cannot read ${path}: corrupt or truncated gzip`);
    const analysis = analysisOf(going);
    const [bad, ok] = analysis.inputs.files;
    expect(bad!.error).toMatch(/corrupt or truncated gzip/);
    assertAccounted(bad!);
    expect(ok).toMatchObject({ format: 'nginx-combined', linesRead: 50, records: 50, error: null });

    const detect = runs.get(`${name} detect`)!;
    expect(detect.stderr).not.toMatch(CRASH);
    expect(detect.status).toBe(2);
    expect(detect.stdout).toContain(`${path}: cannot read: corrupt or truncated gzip`);
    expect(detect.stdout).toContain(`${join(dir, 'crlf.log')}: nginx-combined`);
  });
});
