import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Analysis } from '../../src/pipeline/analysis.js';
import { runCli } from './run-cli.js';

/**
 * A file no format fits is unread: `analyze` fails on it (exit 2; with --keep-going after the
 * report on the others), as `detect` does, and both name the format that came closest with the
 * reason it failed there (or, for a file of a format's lines that hold no HTTP request, that).
 */

const dir = mkdtempSync(join(tmpdir(), 'alf-nofit-'));
// HAProxy's start-up notices (lnav's test/logfile_haproxy.0, BSD-2-Clause): syslog lines, no request in them.
const notices = join(dir, 'haproxy-notices.log');
writeFileSync(notices, [
  'Feb 25 16:19:38 192.168.4.2 haproxy[1]: Proxy prod_http_in started.',
  'Feb 25 16:19:38 192.168.4.2 haproxy[1]: Proxy tools_http_frnt started.',
].join('\n') + '\n');
const good = join(dir, 'good.log');
writeFileSync(good, '192.168.202.254 - - [20/Jul/2009:22:59:26 +0000] "GET /vmw/cgi/tramp HTTP/1.0" 200 134 "-" "gPXE/0.9.7"\n');

describe('an input no format fits', () => {
  it('fails analyze with exit 2 and one line naming the closest format and why it failed', () => {
    const run = runCli(['analyze', notices, good, '--format', 'json']);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`alf: cannot read ${notices}: holds no request: all 2 lines are of the kind a server writes besides its requests (an error log, notices, TCP sessions), as line 1: Feb 25 16:19:38 192.168.4.2 haproxy[1]: Proxy prod_http_in started.`);
  }, 30_000);

  it('with --keep-going, analyses the rest, keeps the reason with the file, and still fails the run (exit 2) after the report', () => {
    const run = runCli(['analyze', notices, good, '--keep-going', '--format', 'json']);
    // A file no format fits is an input alf could not read: never an all-clear, even with --keep-going.
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`alf: cannot read ${notices}: holds no request`);
    const analysis = JSON.parse(run.stdout) as Analysis;
    const [bad, ok] = analysis.inputs.files;
    expect(bad!.undetected).toMatch(/^holds no request/);
    expect(bad).toMatchObject({ linesRead: 2, ignored: 2, skipped: 0 });
    expect(ok).toMatchObject({ format: 'nginx-combined', records: 1 });
  });

  it('fails on a file read as a forced --input-format of which no line parses: nothing read is no all-clear', () => {
    const run = runCli(['analyze', good, '--input-format', 'haproxy', '--format', 'json']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`alf: cannot read ${good}: none of its 1 line parsed`);
  });

  it('names a file with a line break in its name on one line of stderr, so the name cannot forge a line of alf\'s', () => {
    const forged = join(mkdtempSync(join(tmpdir(), 'alf-forge-')), 'x\nalf: forged.log');
    writeFileSync(forged, readFileSync(good));
    const run = runCli(['analyze', forged, '--format', 'json']);
    expect(run.status).toBe(0);
    expect(run.stderr.split('\n').filter((line) => line.startsWith('alf: forged'))).toEqual([]);
    expect(run.stderr).toContain('x\uFFFDalf: forged.log: nginx-combined');
  });

  it('fails detect with exit 2 and names the same candidate', () => {
    const run = runCli(['detect', notices, good]);
    expect(run.status).toBe(2);
    expect(run.stdout).toContain(`${notices}: no request in its first 2 lines: all are of the kind a server writes besides its requests (an error log, notices, TCP sessions); analyze reads on to its first request, and fails on a file that has none`);
    // A line of another shape is named where it fails, as before.
    const mixed = join(dir, 'mixed.log');
    writeFileSync(mixed, `${readFileSync(notices, 'utf8')}not a log line at all\n`);
    expect(runCli(['detect', mixed]).stdout).toMatch(/closest is \S+ \(0%\), failing at line \d+/);
    expect(run.stdout).toContain(`${good}: nginx-combined`);
  });

  it('says what a JSON document of an unknown shape holds: its top-level keys, beside the closest format', () => {
    // A GraphQL answer with errors, as a vendor's API gives it: no format of alf's.
    const answer = join(dir, 'answer.json');
    writeFileSync(answer, `${JSON.stringify({ data: { actor: null }, errors: [{ message: 'x' }], 'trace\u001b[31m': 1 })}\n`);
    const run = runCli(['analyze', '--apm', answer, good, '--format', 'json']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('; its first line is a JSON object with keys "data", "errors", "trace\\u001b[31m"');
    expect(runCli(['detect', answer]).stdout).toContain('; its first line is a JSON object with keys "data", "errors"');
    expect(runCli(['detect', answer]).stdout).not.toContain('log_format');
  });

  it('points a flat JSON line to --log-format, whether the objects come a line each or back to back', () => {
    // An nginx JSON log_format with keys of the operator's own.
    const custom = join(dir, 'custom-keys.log');
    writeFileSync(custom, `${JSON.stringify({ time_ms: '1700000001.250', ip: '198.51.100.7', status: '302', method: 'GET', path: '/logout', nginx_time: '0.109' })}\n`);
    expect(runCli(['detect', custom]).stdout).toContain('(if nginx wrote it, name its JSON log_format with --log-format)');
    // Kinesis Data Firehose's delivery to S3 without a delimiter, of objects no format of alf's reads
    // (a gateway's own are read: test/lines/back-to-back-json.test.ts), is read an object a line.
    const joined = join(dir, 'firehose.log');
    const entry = { event: 'signup', user: 'u1', plan: 'free' };
    writeFileSync(joined, `${JSON.stringify(entry)}${JSON.stringify({ ...entry, user: 'u2' })}\n`);
    expect(runCli(['detect', joined]).stdout).toContain('(if nginx wrote it, name its JSON log_format with --log-format)');
  });

  it('fails on an APM export whose spans hold no transaction, as on a file no format fits', () => {
    // An OTLP document of one internal span, as opentelemetry-rust's integration test expects its exporter to write.
    const internal = join(dir, 'internal-spans.json');
    writeFileSync(internal, JSON.stringify({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ scope: { name: 'ex.com/basic' }, spans: [{
      traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', name: 'operation', kind: 1,
      startTimeUnixNano: '1736937122000000001', endTimeUnixNano: '1736937123500000001', attributes: [], status: {},
    }] }] }] }, null, 2) + '\n');
    const run = runCli(['analyze', good, '--apm', internal, '--format', 'json']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`alf: cannot read ${internal}: otel-json holds no transaction (no server or entry span`);
    expect(runCli(['detect', internal]).stdout).toContain(`${internal}: otel-json (apm; its sample holds one event of its own that is no transaction, and no transaction yet)`);
  }, 30_000);

  it('detects the format inside a container runtime\'s wrapper, and says which wrapper', () => {
    const pod = join(dir, 'pod-0.log');
    writeFileSync(pod, `2009-07-20T22:59:26.123456789Z stdout F ${readFileSync(good, 'utf8')}`);
    const run = runCli(['detect', pod]);
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(`${pod}: nginx-combined inside CRI container log lines (proxy; 1 of 1 sample lines parsed)\n`);
  });
});

describe('a server\'s error log beside its access logs', () => {
  // /var/log/nginx as a package leaves it: access and error logs, rotated. The error lines are in
  // ngx_log_error_core's layout (docs/formats.md, nginx: other lines on the same stream).
  const logs = mkdtempSync(join(tmpdir(), 'alf-varlog-'));
  writeFileSync(join(logs, 'access.log'), readFileSync(good));
  const errorLog = join(logs, 'error.log');
  writeFileSync(errorLog, [
    '2009/07/20 22:59:20 [notice] 1#1: using the "epoll" event method',
    '2009/07/20 22:59:27 [error] 29#29: *1 open() "/usr/share/nginx/html/favicon.ico" failed (2: No such file or directory), client: 192.168.202.254, server: localhost, request: "GET /favicon.ico HTTP/1.1", host: "192.168.202.1"',
    // A PHP-FPM site's entry, spilled onto three lines (parsers/nginx.ts, nginxOtherLines).
    '2009/07/20 22:59:28 [error] 29#29: *2 FastCGI sent in stderr: "PHP message: PHP Fatal error:  Uncaught Exception: x in /var/www/index.php:3',
    'Stack trace:',
    '#0 {main}" while reading response header from upstream, client: 192.168.202.254, server: localhost, request: "GET / HTTP/1.1", upstream: "fastcgi://unix:/run/php/php-fpm.sock:", host: "192.168.202.1"',
  ].join('\n') + '\n');

  it.each([['one thread', []], ['parse workers', ['--jobs', '2']]])('is passed over with a note when the directory is the input (%s)', (_, jobs) => {
    const run = runCli(['analyze', logs, ...jobs, '--format', 'json']);
    expect(run.status).toBe(0);
    const files = (JSON.parse(run.stdout) as Analysis).inputs.files;
    expect(files.map((file) => [file.file, file.records, file.ignored, file.skipped, file.undetected])).toEqual([
      [join(logs, 'access.log'), 1, 0, 0, null],
      [errorLog, 0, 5, 0, null],
    ]);
    expect(files[1]!.warnings.map((warning) => warning.code)).toEqual(['PARSE_NO_REQUESTS']);
    expect(run.stderr).toContain(`alf: ${errorLog}: unknown format, 5 lines read, 0 parsed, 0 skipped, 5 ignored; warning: holds no request: all 5 lines are of the kind a server writes besides its requests`);
  }, 30_000);

  it('is said to hold no request yet by detect, which fails on it only when it is named', () => {
    const listed = runCli(['detect', logs]);
    expect(listed.status).toBe(0);
    expect(listed.stdout).toContain(`${errorLog}: no request in its first 5 lines: all are of the kind a server writes besides its requests (an error log, notices, TCP sessions); analyze reads on to its first request, and passes over a file of a directory that has none`);
    expect(runCli(['detect', errorLog]).status).toBe(2);
  });

  it('fails the run when it is named as an input itself', () => {
    const run = runCli(['analyze', join(logs, 'access.log'), errorLog, '--format', 'json']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`alf: cannot read ${errorLog}: holds no request`);
  });

  it('is read by a scan of the directory, not left unparsed to fail every run', () => {
    const out = mkdtempSync(join(tmpdir(), 'alf-varlog-scan-'));
    // A scan's --quiet line is the last line of its stderr.
    const quietLine = (run: { stderr: string }) => JSON.parse(run.stderr.trim().split('\n').at(-1)!) as { unparsed: unknown[] };
    const scan = (source: string) => runCli(['scan', source, '--state', join(out, `${source === logs ? 'dir' : 'file'}.json`), '--out', join(out, source === logs ? 'dir' : 'file'), '--quiet']);
    const run = scan(logs);
    expect(run.status).toBe(0);
    expect(quietLine(run)).toMatchObject({ sourcesRead: 2, unparsed: [], records: 1, linesRead: 6 });
    // Named as a scan's source itself, it is left unparsed as before (tried again each run, exit 2).
    const named = scan(errorLog);
    expect(named.status).toBe(2);
    expect(quietLine(named).unparsed).toEqual([{ source: errorLog, reason: expect.stringMatching(/^holds no request/) }]);
  }, 30_000);
});

describe('--timezone, for local times written without an offset', () => {
  // HAProxy's [accept date] has no zone and an RFC 3164 syslog header none either (lnav's haproxy fixture).
  const haproxy = join(dir, 'haproxy.log');
  writeFileSync(haproxy, 'Feb 25 16:19:49 192.168.4.2 haproxy[7]: 92.193.212.151:59841 [25/Feb/2019:16:19:49.851] prod_http_in~ bk_ktest_kt/nginx_sonst 0/0/0/62/62 200 306 - - ---- 3/2/0/0/0 0/0 "POST /portal/?Script=934 HTTP/1.1"\n');

  it('reads them in the zone given (Europe/Paris is UTC+1 in February)', () => {
    const firstTime = (args: string[]): number | null => {
      const run = runCli(['analyze', haproxy, ...args, '--format', 'json']);
      expect(run.status).toBe(0);
      return (JSON.parse(run.stdout) as Analysis).inputs.files[0]!.firstTimeMs;
    };
    expect(firstTime([])).toBe(Date.UTC(2019, 1, 25, 16, 19, 49, 851));
    expect(firstTime(['--timezone', 'Europe/Paris'])).toBe(Date.UTC(2019, 1, 25, 15, 19, 49, 851));
  }, 60_000);

  it('refuses a zone it does not know before reading anything (exit 2, one line)', () => {
    const run = runCli(['analyze', haproxy, '--timezone', 'Mars/Olympus', '--format', 'json']);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain('--timezone "Mars/Olympus"');
  });
});
