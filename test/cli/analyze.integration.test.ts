import { execFileSync, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { Analysis } from '../../src/pipeline/analysis.js';
import { ROOT, runCli } from './run-cli.js';

const truth = JSON.parse(readFileSync(join(ROOT, 'samples', 'incident.truth.json'), 'utf8')) as {
  clientTimeoutSeconds: number; exporterKey: string; exporterUserAgent: string; proxyLines: number; apmTransactions: number;
};
const ACCESS_LOG = join('samples', 'incident', 'access.log');
const LOG_FORMAT = join('samples', 'incident', 'nginx-log-format.conf');
const APM = join('samples', 'incident', 'newrelic-transactions.csv');

function analyzeJson(args: string[], input?: string | Buffer, timeoutMs?: number): Analysis {
  const result = runCli(['analyze', ...args, '--format', 'json'], { input, timeoutMs });
  expect(result.stderr).not.toMatch(/internal error/);
  expect(result.status).toBe(0);
  return JSON.parse(result.stdout) as Analysis;
}

describe('alf analyze on the bundled incident (the quick start)', () => {
  const analysis = analyzeJson(['samples/incident', '--budget', '600s/5m']);

  it('names the client-timeout knee within 0.1 s of the clients\' real timeout, and who has it', () => {
    const knee = analysis.findings.find((f) => f.kind === 'client-timeout-knee');
    expect(knee).toBeDefined();
    expect(Math.abs(Number(knee!.figures.timeoutSeconds) - truth.clientTimeoutSeconds)).toBeLessThan(0.1);
    expect(knee!.figures.topCohort).toBe(truth.exporterUserAgent);
    expect(knee!.evidence.length).toBeGreaterThan(0);
  });

  it('lists the responses nginx made without the backend, with example lines', () => {
    const madeUp = analysis.findings.filter((f) => f.kind === 'proxy-made-responses');
    expect(madeUp.length).toBeGreaterThan(0);
    const aborts = madeUp.find((f) => f.figures.class === 'client-abort');
    expect(aborts!.figures.topStatus).toBe(404);
    expect(aborts!.evidence[0]!.file).toBe(ACCESS_LOG);
    expect(aborts!.evidence[0]!.line).toBeGreaterThan(0);
  });

  it('names the exporter\'s API key as under-counted, and every key in the per-key table', () => {
    const undercounted = analysis.findings.filter((f) => f.kind === 'budget-undercount').map((f) => f.figures.apiKey);
    expect(undercounted).toEqual([truth.exporterKey]);
    const table = analysis.findings.find((f) => f.kind === 'budget-per-key')!.table!;
    expect(table.rows.map((row) => row[0])).toContain('key_m0b1le');
  });

  it('says per file how many lines it read, parsed and skipped, and joins almost every request', () => {
    const log = analysis.inputs.files.find((f) => f.file === ACCESS_LOG)!;
    expect(log).toMatchObject({ format: 'nginx', kind: 'proxy', linesRead: truth.proxyLines, records: truth.proxyLines, skipped: 0 });
    const apm = analysis.inputs.files.find((f) => f.file === APM)!;
    expect(apm).toMatchObject({ kind: 'apm', records: truth.apmTransactions, ignored: 1 });
    expect(analysis.join.joinedHeuristic / truth.apmTransactions).toBeGreaterThan(0.98);
  });
});

// Each case spawns real processes; a loaded CI machine needs more than the 5 s default.
const SLOW = { timeout: 60_000 };

describe('alf analyze inputs', SLOW, () => {
  const dir = mkdtempSync(join(tmpdir(), 'alf-cli-'));

  it('reads stdin given as -, with the format from a log_format file', () => {
    const stdin = readFileSync(join(ROOT, ACCESS_LOG));
    const analysis = analyzeJson(['-', '--log-format', LOG_FORMAT, '--apm', APM], stdin);
    expect(analysis.inputs.files[0]).toMatchObject({ file: '-', records: truth.proxyLines });
    expect(analysis.findings.some((f) => f.kind === 'client-timeout-knee')).toBe(true);
  });

  it('reads an APM export from a named pipe (`--apm <(zcat …)`) beside a log file, once, from its start', () => {
    // A regular file of a run of several is read up to its first record and again later; a pipe gives its bytes once.
    const fifo = join(dir, 'transactions.fifo');
    execFileSync('mkfifo', [fifo]);
    const writer = spawn('sh', ['-c', 'cat "$1" > "$2"', 'sh', join(ROOT, APM), fifo], { stdio: 'ignore' });
    try {
      // Opened a second time, the pipe would wait for a writer that has gone: killed after 30 s, the run fails.
      const analysis = analyzeJson([ACCESS_LOG, '--log-format', LOG_FORMAT, '--apm', fifo], undefined, 30_000);
      expect(analysis.inputs.files.map((file) => [file.file, file.records])).toEqual([[ACCESS_LOG, truth.proxyLines], [fifo, truth.apmTransactions]]);
      expect(analysis.join.joinedShare).toBeGreaterThan(0.9);
    } finally {
      writer.kill();
    }
  });

  it('says why a slice kept nothing: its times miss the logs, or its --where matched no request (a field the log does not carry)', () => {
    // The incident's log has no client address: a client clause keeps none of it.
    const byClient = runCli(['analyze', ACCESS_LOG, '--log-format', LOG_FORMAT, '--where', 'client=10.0.0.0/8', '--format', 'json']);
    expect(byClient.stderr).toMatch(/slice where client=10\.0\.0\.0\/8: 0 proxy requests kept of [\d,]+; nothing to analyse in it: no request matched the --where clause \(the logs cover .*\); a clause on a field the logs do not carry/);
    const byTime = runCli(['analyze', ACCESS_LOG, '--log-format', LOG_FORMAT, '--since', '2020-01-01', '--format', 'json']);
    expect(byTime.stderr).toMatch(/slice since 2020-01-01T00:00:00Z: 0 proxy requests kept of [\d,]+; nothing to analyse in it \(the logs cover 2017-03-14T09:00:00\.\d{3}Z to [^;\n]*\)$/m);
  });

  it('reads HAProxy captures in the order an haproxy.cfg given as --log-format declares them', () => {
    // Captures declared User-Agent, X-Api-Key, Host: not the default order (Host, User-Agent, X-Api-Key).
    const config = join(dir, 'haproxy.cfg');
    writeFileSync(config, [
      'frontend fe_api', '  bind :443', '  http-request capture req.hdr(User-Agent) len 96',
      '  http-request capture req.hdr(X-Api-Key) len 40', '  capture request header Host len 64', '  default_backend be_api', '',
    ].join('\n'));
    const log = join(dir, 'haproxy.log');
    const lines = Array.from({ length: 40 }, (_, i) =>
      `203.0.113.${i % 9}:5312${i % 10} [15/Jan/2025:10:32:${String(i).padStart(2, '0')}.373] fe_api be_api/app3 0/0/1/81/84 200 2101 - - ---- 3/3/1/1/0 0/0 ` +
      `{curl/8.5.0|key_${i % 2 === 0 ? 'even' : 'odd'}|api.example.com} "GET /v1/orders/${i} HTTP/1.1"`);
    writeFileSync(log, `${lines.join('\n')}\n`);
    const analysis = analyzeJson([log, '--log-format', config, '--budget', '60s/5m']);
    expect(analysis.inputs.files[0]).toMatchObject({ format: 'haproxy', records: 40, skipped: 0 });
    const keys = analysis.findings.find((f) => f.kind === 'budget-per-key')!.table!.rows.map((row) => row[0]);
    expect(keys.sort()).toEqual(['key_even', 'key_odd']);
  });

  it('reads an Envoy log in the operator\'s own format string, given as an Envoy YAML with --log-format (with --jobs 2 too)', () => {
    const config = join(dir, 'envoy.yaml');
    writeFileSync(config, [
      'access_log:', '- name: envoy.access_loggers.stdout', '  typed_config:',
      '    "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog',
      '    log_format:', '      text_format_source:',
      '        inline_string: "%START_TIME% %REQ(:METHOD)% %REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS% %DURATION% %UPSTREAM_HOST% key=%REQ(X-API-KEY)%\\n"', '',
    ].join('\n'));
    const log = join(dir, 'envoy-custom.log');
    const lines = Array.from({ length: 40 }, (_, i) =>
      `2025-01-15T10:32:${String(i).padStart(2, '0')}.373Z GET /v1/orders/${i} ${i % 10 === 0 ? '504 UT 15000 10.0.3.17:8080' : '200 - 84 10.0.3.17:8080'} key=key_${i % 2 === 0 ? 'even' : 'odd'}`);
    writeFileSync(log, `${lines.join('\n')}\n`);
    for (const jobs of ['1', '2']) {
      const analysis = analyzeJson([log, '--log-format', config, '--jobs', jobs]);
      expect(analysis.inputs.files[0], `--jobs ${jobs}`).toMatchObject({ format: 'envoy', records: 40, skipped: 0 });
      const keys = analysis.findings.find((f) => f.kind === 'budget-per-key')!.table!.rows.map((row) => row[0]);
      expect(keys.sort()).toEqual(['key_even', 'key_odd']);
    }
  });

  it('reads gzip by content, whatever the file is called', () => {
    const gz = join(dir, 'access.log.2');
    writeFileSync(gz, gzipSync(readFileSync(join(ROOT, ACCESS_LOG))));
    const analysis = analyzeJson([gz, APM, '--log-format', LOG_FORMAT]);
    expect(analysis.inputs.files.find((f) => f.file === gz)).toMatchObject({ records: truth.proxyLines, skipped: 0 });
  });

  it('counts and reports malformed lines (file, line, sample) instead of dropping them', () => {
    const log = join(dir, 'mixed.log');
    const lines = readFileSync(join(ROOT, ACCESS_LOG), 'utf8').split('\n').slice(0, 200);
    lines.splice(10, 0, 'garbage line', '\u001b[31mred\u001b[0m');
    writeFileSync(log, lines.join('\n'));
    const result = runCli(['analyze', log, '--log-format', LOG_FORMAT, '--format', 'json']);
    const analysis = JSON.parse(result.stdout) as Analysis;
    const file = analysis.inputs.files[0]!;
    expect(file.linesRead).toBe(file.records + file.skipped + file.ignored);
    expect(file.skipped).toBe(2);
    expect(file.firstIssues[0]).toMatchObject({ line: 11, sample: 'garbage line' });
    // Control characters from the log never reach the terminal.
    expect(result.stderr).not.toContain('\u001b');
    expect(result.stderr).toMatch(/2 skipped/);
  });

  it('reports a doubt about a whole file as a warning, never as a skipped line', () => {
    const log = join(dir, 'apache-d-in-seconds.log');
    // %D should be microseconds; these look like whole seconds.
    const lines = ['0', '1', '0', '2', '1'].map((d) => `198.51.100.7 - - [15/Jan/2025:10:32:01 +0000] "GET / HTTP/1.1" 200 5 "-" "x" ${d}`);
    writeFileSync(log, `${lines.join('\n')}\n`);
    const result = runCli(['analyze', log, '--input-format', 'apache-combined-d', '--format', 'json']);
    const file = (JSON.parse(result.stdout) as Analysis).inputs.files[0]!;
    expect(file).toMatchObject({ linesRead: 5, records: 5, skipped: 0, ignored: 0 });
    expect(file.warnings[0]).toMatchObject({ code: 'PARSE_SUSPECT_UNITS', field: '%D' });
    expect(result.stderr).toMatch(/is this apache-combined-t\?/);
  });

  it('says on stderr when a memory cap folded values into "(other)"', () => {
    const log = join(dir, 'many-agents.log');
    // 6,000 distinct user agents: past the knee's 5,000-value cohort cap (it counts requests that ran 0.5 s or more).
    const lines = Array.from({ length: 6000 }, (_, i) =>
      `203.0.113.${i % 250} [15/Jan/2025:10:${String(Math.floor(i / 100) % 60).padStart(2, '0')}:00 +0000] "GET /a HTTP/1.1" 200 0.612 "agent-${i}"`);
    writeFileSync(log, `${lines.join('\n')}\n`);
    const format = `log_format timed '$remote_addr [$time_local] "$request" $status $request_time "$http_user_agent"';`;
    const result = runCli(['analyze', log, '--log-format', format, '--format', 'json']);
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/Memory caps reached: client-timeout-knee kept 5,000 distinct values and counted [\d,]+ more observations under "\(other\)"/);
    expect((JSON.parse(result.stdout) as Analysis).limits.length).toBeGreaterThan(0);
  });

  it('writes HTML to --out, and Markdown when asked', () => {
    const out = join(dir, 'report.html');
    const result = runCli(['analyze', 'samples/incident', '--budget', '600s/5m', '--out', out]);
    expect(result.status).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('Content-Security-Policy');
    expect(html).toContain('knee_marker');
    // The page's data block and its one script, nothing else (test/hostile/injection.integration.test.ts checks the hash).
    expect(html.match(/<script\b/gi)).toHaveLength(2);
    const md = runCli(['analyze', 'samples/incident', '--format', 'md', '-q']);
    expect(md.stdout).toMatch(/^# alf incident report/);
    expect(md.stdout).toContain(truth.exporterKey);
  });
});

describe('alf exit codes and errors', SLOW, () => {
  it('exits 0 by default (--fail-on never), 1 when a finding reaches --fail-on, 0 when none does', () => {
    expect(runCli(['analyze', 'samples/incident', '--budget', '600s/5m', '-q']).status).toBe(0);
    expect(runCli(['analyze', 'samples/incident', '--budget', '600s/5m', '--fail-on', 'high', '-q']).status).toBe(1);
    expect(runCli(['analyze', 'samples/incident', '--budget', '600s/5m', '--fail-on', 'medium', '-q']).status).toBe(1);
    expect(runCli(['analyze', 'samples/incident', '--budget', '600s/5m', '--fail-on', 'critical', '-q']).status).toBe(0);
  });

  it('gives a one-line error and exit 2 for a missing file or a bad option', () => {
    const missing = runCli(['analyze', 'no/such/file.log']);
    expect(missing.status).toBe(2);
    expect(missing.stderr.trim()).toBe('alf: cannot read no/such/file.log: no such file or directory');
    const budget = runCli(['analyze', 'samples/incident', '--budget', 'lots']);
    expect(budget.status).toBe(2);
    expect(budget.stderr).toMatch(/--budget/);
    expect(runCli(['analyze', 'samples/incident', '--format', 'pdf']).status).toBe(2);
    const failOn = runCli(['analyze', 'samples/incident', '--fail-on', 'sometimes']);
    expect(failOn.status).toBe(2);
    expect(failOn.stderr).toContain('--fail-on');
    expect(runCli(['analyze']).status).toBe(2);
    expect(runCli(['frobnicate']).status).toBe(2);
  });
});

describe('alf as installed', () => {
  it('has an executable bin, so `npx alf` runs it directly (tsc writes files without the x bit)', () => {
    expect(() => accessSync(join(ROOT, 'dist', 'src', 'cli', 'main.js'), constants.X_OK)).not.toThrow();
  });
});

describe('alf help', SLOW, () => {
  it('explains every command with an example, and prints the version', () => {
    const help = runCli(['--help']);
    expect(help.status).toBe(0);
    const commands = [...help.stdout.matchAll(/^ {2}([a-z]+) /gm)].map((m) => m[1]).filter((c) => c !== 'help');
    expect(commands).toEqual(expect.arrayContaining(['analyze', 'detect', 'formats']));
    for (const command of commands) {
      const own = runCli([command!, '--help']);
      expect(own.status, command).toBe(0);
      expect(own.stdout, command).toMatch(/Examples?:\n\s+\$ alf /);
    }
    expect(runCli(['--version']).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe('--route-template', () => {
  it('accepts templates with one placeholder per segment, and refuses what could backtrack', async () => {
    const { checkRouteTemplate } = await import('../../src/cli/commands/analyze.js');
    expect(checkRouteTemplate('/v2/applications/:id/metrics.json')).toBe('/v2/applications/:id/metrics.json');
    expect(checkRouteTemplate('/orders/{id}')).toBe('/orders/{id}');
    expect(() => checkRouteTemplate('v2/:id')).toThrow(/must start with/);
    expect(() => checkRouteTemplate('/v:major.:minor/x')).toThrow(/one placeholder per path segment/);
  });

  it('is taken by alf analyze and does not change a run whose APM export has concrete paths', { timeout: 60_000 }, () => {
    const plain = runCli(['analyze', 'samples/incident', '--format', 'json', '-q']);
    const templated = runCli(['analyze', 'samples/incident', '--format', 'json', '-q', '--route-template', '/v2/applications/:id/metrics.json']);
    expect(templated.status).toBe(0);
    const joined = (stdout: string) => (JSON.parse(stdout) as Analysis).join.joinedHeuristic;
    expect(joined(templated.stdout)).toBe(joined(plain.stdout));
  });
});

describe('alf analyze with an APM export that does not join (issue 20)', () => {
  // The bundled export moved two days on: the same transactions, another time range.
  const dir = mkdtempSync(join(tmpdir(), 'alf-weak-join-'));
  const shifted = join(dir, 'newrelic-other-day.csv');
  const [header, ...rows] = readFileSync(join(ROOT, APM), 'utf8').trimEnd().split('\n');
  writeFileSync(shifted, [header, ...rows.map((row) => row.replace(/^\d+/, (ms) => String(Number(ms) + 2 * 86_400_000)))].join('\n') + '\n');
  const result = runCli(['analyze', ACCESS_LOG, '--log-format', LOG_FORMAT, '--apm', shifted, '--format', 'json', '--quiet']);

  it('says so on stderr, even with --quiet, with the reason and what to do', () => {
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/^alf: warning: The APM export did not join: 0% of proxy requests and 0% of APM transactions paired; reason: other-time-range\. Export the APM transactions for the proxy log's time range/m);
  });

  it('opens the verdict with it, as a finding of high severity', () => {
    const analysis = JSON.parse(result.stdout) as Analysis;
    expect(analysis.findings[0]).toMatchObject({ kind: 'apm-join-weak', severity: 'high' });
    expect(analysis.verdict[0]!.text).toMatch(/^The APM export did not join the proxy log/);
  });
});
