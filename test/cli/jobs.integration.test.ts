import { chmodSync, copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { Analysis } from '../../src/pipeline/analysis.js';
import { ROOT, runCli, type CliResult } from './run-cli.js';

/**
 * `alf analyze --jobs N` must give the report `--jobs 1` gives, byte for byte apart from the time
 * it was generated: same records in the same order, same per-file counters, same issue examples
 * and evidence with the same file:line. Each case also checks from stderr that workers really
 * ran (and, where it matters, that the file really was read in ranges), so a silent fall-back to
 * one thread cannot pass.
 */

const SLOW = { timeout: 120_000 };
const ACCESS_LOG = join(ROOT, 'samples/incident/access.log');
const LOG_FORMAT = join(ROOT, 'samples/incident/nginx-log-format.conf');
const APM = join(ROOT, 'samples/incident/newrelic-transactions.csv');
/** Forces the range split on small files: any file of 1 byte or more, in ranges of this many bytes. */
const split = (rangeBytes: number): string[] => ['--split-min-bytes', '1', '--split-range-bytes', String(rangeBytes)];

function report(result: CliResult): string {
  expect(result.stderr).not.toMatch(/internal error/);
  const analysis = JSON.parse(result.stdout) as Partial<Analysis>;
  delete analysis.generatedAt;
  return JSON.stringify(analysis, null, 1);
}

/** Runs the same analysis with --jobs 1 and with `jobs`; returns both reports and the parallel run's stderr. */
function both(args: string[], jobs: string[] = ['--jobs', '2'], expectedStatus = 0): { single: string; parallel: string; stderr: string; analysis: Analysis } {
  const single = runCli(['analyze', ...args, '--format', 'json']);
  const parallel = runCli(['analyze', ...args, ...jobs, '--format', 'json']);
  expect(single.status).toBe(expectedStatus);
  expect(parallel.status).toBe(expectedStatus);
  expect(parallel.stderr).toMatch(/alf: parsed in \d+ worker thread/);
  return { single: report(single), parallel: report(parallel), stderr: parallel.stderr, analysis: JSON.parse(single.stdout) as Analysis };
}

/** The incident's access log with bad lines spread through it: issue examples from several ranges. */
function accessLogWithBadLines(dir: string): string {
  const lines = readFileSync(ACCESS_LOG, 'utf8').split('\n');
  for (const at of [1, 700, 1400, 2100, 2800, 3500, 4200]) lines[at] = `garbage line ${at} | not | a | log line`;
  lines[900] = '';
  lines[901] = `${lines[901]}\r`;
  const path = join(dir, 'access-bad.log');
  writeFileSync(path, lines.join('\n'));
  return path;
}

describe('alf analyze --jobs 2 gives the --jobs 1 report', SLOW, () => {
  const dir = mkdtempSync(join(tmpdir(), 'alf-jobs-'));

  it('on samples/incident (log_format from the directory, New Relic CSV, budget)', () => {
    const run = both(['samples/incident', '--budget', '600s/5m']);
    expect(run.parallel).toBe(run.single);
    expect(run.analysis.findings.some((f) => f.evidence.length > 0)).toBe(true);
    expect(run.stderr).toMatch(/parsed in 2 worker threads/);
  });

  it('on several files: rotated logs of one layer merged by time, the APM export, and a directory of formats (a worker per file, none split)', () => {
    const lines = readFileSync(ACCESS_LOG, 'utf8').trimEnd().split('\n');
    const third = Math.ceil(lines.length / 3);
    const rotated = ['access.log.2', 'access.log.1', 'access.log'].map((name, i) => {
      const path = join(dir, name);
      writeFileSync(path, `${lines.slice(i * third, (i + 1) * third).join('\n')}\n`);
      return path;
    });
    const run = both([...rotated, '--log-format', LOG_FORMAT, '--apm', APM, '--budget', '600s/5m', ...split(20_000)]);
    expect(run.parallel).toBe(run.single);
    expect(run.stderr).toMatch(/parsed in 2 worker threads\n/);
    expect(run.analysis.inputs.files.map((f) => f.file)).toEqual([...rotated, APM]);

    const formats = both(['samples/formats', 'samples/apm']);
    expect(formats.parallel).toBe(formats.single);
    expect(formats.analysis.inputs.files.length).toBeGreaterThan(15);
  });

  it('on one file split into line-aligned ranges, with bad lines in several of them', () => {
    const bad = accessLogWithBadLines(dir);
    // Two files (log and APM export) need three workers for the log to be split.
    for (const jobs of ['3', '4']) {
      const run = both([bad, '--log-format', LOG_FORMAT, '--apm', APM, '--budget', '600s/5m', ...split(40_000)], ['--jobs', jobs]);
      expect(run.stderr).toMatch(/access-bad\.log read in 1[89] ranges/);
      expect(run.parallel).toBe(run.single);
    }
    // Alone, it is split with two workers. The comparisons cover the line numbers; these say the
    // fixture really has line numbers to get wrong.
    const alone = both([bad, '--log-format', LOG_FORMAT, ...split(40_000)]);
    expect(alone.stderr).toMatch(/access-bad\.log read in 1[89] ranges/);
    expect(alone.parallel).toBe(alone.single);
    const file = alone.analysis.inputs.files[0]!;
    expect(file.firstIssues.map((issue) => issue.line)).toEqual([2, 701, 1401, 2101, 2801]);
    expect(file).toMatchObject({ skipped: 7, ignored: 1, issuesByCode: { PARSE_NO_MATCH: 7 } });
  });

  it('with a range per line (every boundary falls right after a newline)', () => {
    const path = join(dir, 'tiny.log');
    const lines = readFileSync(ACCESS_LOG, 'utf8').split('\n').slice(0, 40);
    lines[5] = 'not a log line';
    lines[17] = '';
    writeFileSync(path, lines.join('\n')); // no final newline: the last range reads to EOF
    const run = both([path, '--log-format', LOG_FORMAT, ...split(1)]);
    expect(run.stderr).toMatch(/tiny\.log read in 40 ranges/);
    expect(run.parallel).toBe(run.single);
  });

  it('with --input-format and --key-field (the workers get the options and compile their own formats)', () => {
    const forced = both([join(ROOT, 'samples/formats/apache-combined.log'), '--input-format', 'nginx-combined', ...split(300)]);
    expect(forced.parallel).toBe(forced.single);
    expect(forced.analysis.inputs.files[0]!.format).toBe('nginx-combined');
    expect(forced.stderr).toMatch(/read in \d+ ranges/);

    const keyed = both(['samples/incident', '--key-field', 'host', '--budget', '600s/5m', ...split(100_000)], ['--jobs', '3']);
    expect(keyed.stderr).toMatch(/access\.log read in \d+ ranges/);
    expect(keyed.parallel).toBe(keyed.single);
    const table = keyed.analysis.findings.find((f) => f.kind === 'budget-per-key')!.table!;
    expect(table.rows.map((row) => row[0])).toContain('api.newrelic.com');
  });

  it('with a gzip input (one worker reads it whole, never in ranges)', () => {
    const gz = join(dir, 'access.log.3');
    writeFileSync(gz, gzipSync(readFileSync(ACCESS_LOG)));
    const run = both([gz, '--log-format', LOG_FORMAT, '--apm', APM, ...split(1000)], ['--jobs', '3']);
    expect(run.parallel).toBe(run.single);
    expect(run.stderr).toMatch(/parsed in 2 worker threads\n/);
  });

  it('with stdin among the inputs (read on the main thread)', () => {
    const stdin = readFileSync(ACCESS_LOG);
    const single = runCli(['analyze', '-', '--log-format', LOG_FORMAT, '--apm', APM, '--format', 'json'], { input: stdin });
    const parallel = runCli(['analyze', '-', '--log-format', LOG_FORMAT, '--apm', APM, '--jobs', '2', '--format', 'json'], { input: stdin });
    expect(parallel.status).toBe(0);
    expect(report(parallel)).toBe(report(single));
    expect(parallel.stderr).toMatch(/parsed in 1 worker thread\n/);
    const alone = runCli(['analyze', '-', '--log-format', LOG_FORMAT, '--jobs', '2', '--format', 'json'], { input: stdin });
    expect(report(alone)).toBe(report(runCli(['analyze', '-', '--log-format', LOG_FORMAT, '--format', 'json'], { input: stdin })));
    expect(alone.stderr).not.toMatch(/worker/);
  });
});

describe('alf analyze --jobs auto: workers only where they pay, the --jobs 1 report either way', SLOW, () => {
  const dir = mkdtempSync(join(tmpdir(), 'alf-jobs-auto-'));
  /** Lowers the input size from which --jobs auto starts workers, so the samples count as big. */
  const anySize = ['--auto-jobs-min-bytes', '1'];

  it('starts no worker for a small input, and says why', () => {
    const run = runCli(['analyze', 'samples/incident', '--jobs', 'auto', '--format', 'json']);
    expect(run.status).toBe(0);
    expect(report(run)).toBe(report(runCli(['analyze', 'samples/incident', '--format', 'json'])));
    expect(run.stderr).toMatch(/--jobs auto: no worker threads: under 256 MiB of input/);
    expect(run.stderr).not.toMatch(/parsed in \d+ worker/);
  });

  it('parses an nginx log on the main thread and its New Relic export in a worker', () => {
    const run = both([ACCESS_LOG, '--log-format', LOG_FORMAT, '--apm', APM, ...anySize], ['--jobs', 'auto']);
    expect(run.parallel).toBe(run.single);
    expect(run.stderr).toMatch(/parsed in 1 worker thread\n/);
    expect(run.stderr).toContain(`--jobs auto: parsed on the main thread, their format being cheaper to parse than to hand to a worker: ${ACCESS_LOG} (nginx)`);
  });

  it('hands an ALB log to a worker, gzip-compressed or not', () => {
    const alb = join(dir, 'alb.log');
    copyFileSync(join(ROOT, 'samples/formats/aws-alb.log'), alb);
    writeFileSync(join(dir, 'alb.log.1.gz'), gzipSync(readFileSync(alb)));
    const run = both([alb, join(dir, 'alb.log.1.gz'), ...anySize], ['--jobs', 'auto']);
    expect(run.parallel).toBe(run.single);
    expect(run.stderr).not.toMatch(/main thread/);
  });
});

describe('alf analyze --jobs 2 on unreadable input', SLOW, () => {
  const dir = mkdtempSync(join(tmpdir(), 'alf-jobs-bad-'));
  const truncated = join(dir, 'truncated.log.gz');
  const gz = gzipSync(readFileSync(ACCESS_LOG));
  // Cut late enough that some full batches of lines come out before the error.
  writeFileSync(truncated, gz.subarray(0, Math.floor(gz.length * 0.8)));
  const good = join(dir, 'access.log');
  copyFileSync(ACCESS_LOG, good);

  it('fails with the same one-line error and exit 2, and --keep-going reports the same partial analysis', () => {
    const args = ['analyze', truncated, good, '--log-format', LOG_FORMAT, '--format', 'json'];
    const single = runCli(args);
    const parallel = runCli([...args, '--jobs', '2']);
    expect(single.status).toBe(2);
    expect(parallel.status).toBe(2);
    expect(parallel.stderr).toBe(single.stderr);
    expect(parallel.stderr).toMatch(/^alf: cannot read .*truncated\.log\.gz: corrupt or truncated gzip/);
    expect(parallel.stdout).toBe('');

    const going = both([truncated, good, '--log-format', LOG_FORMAT, '--keep-going', ...split(100_000)], ['--jobs', '3'], 2);
    expect(going.parallel).toBe(going.single);
    expect(going.analysis.inputs.files[0]!.error).toMatch(/corrupt or truncated gzip/);
    expect(going.analysis.inputs.files[0]!.records).toBeGreaterThan(0);
    expect(going.stderr).toMatch(/access\.log read in \d+ ranges/);
  });

  it('a file it may not read: the same error as one thread', { skip: process.getuid?.() === 0 }, () => {
    const locked = join(dir, 'locked.log');
    copyFileSync(ACCESS_LOG, locked);
    chmodSync(locked, 0);
    const args = ['analyze', locked, '--log-format', LOG_FORMAT, '--format', 'json'];
    const single = runCli(args);
    const parallel = runCli([...args, '--jobs', '2', ...split(1000)]);
    expect(parallel.status).toBe(2);
    expect(parallel.stderr).toBe(single.stderr);
  });

  it('refuses a --jobs that is not a count', () => {
    for (const jobs of ['0', '-1', '1.5', 'many']) {
      const result = runCli(['analyze', 'samples/incident', '--jobs', jobs]);
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(/--jobs must be auto or a whole number/);
    }
  });
});
