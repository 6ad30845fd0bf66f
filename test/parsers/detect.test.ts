import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { closestFailure, closestText, DETECTION_LINES, detectFirstLines, detectFormat, scoreFormat } from '../../parsers/detect.js';
import { nginxCombined } from '../../parsers/nginx.js';
import { candidateFormats, compileLogFormat } from '../../src/parse/workers/worker-formats.js';
import { PROXY_FORMATS } from '../../parsers/proxy-formats.js';
import { FORMATS } from '../../parsers/registry.js';
import { parseLines } from './parse-lines.js';

/**
 * Detection order is a contract (parsers/proxy-formats.ts): every format's example and sample
 * must come out as that format, against the whole registry (APM formats are tried first).
 */
const SAMPLES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'samples', 'formats');

function sampleLines(id: string): string[] {
  const lines = readFileSync(join(SAMPLES, `${id}.log`), 'utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

describe('proxy format detection', () => {
  it.each(PROXY_FORMATS.map((format) => [format.id, format] as const))('detects the %s example as itself', (id, format) => {
    const detection = detectFormat(FORMATS, 'example.log', [format.example]);
    expect(detection.best?.format.id).toBe(id);
    expect(detection.best?.score).toBe(1);
  });

  const sampleIds = readdirSync(SAMPLES).filter((name) => name.endsWith('.log')).map((name) => name.slice(0, -'.log'.length));

  it('names every sample file after a registered proxy format (the list comes from the modules)', () => {
    const ids = new Set(PROXY_FORMATS.map((format) => format.id));
    expect(sampleIds.filter((id) => !ids.has(id))).toEqual([]);
    expect(sampleIds.length).toBeGreaterThan(0);
  });

  it.each(sampleIds)('detects samples/formats/%s.log as itself, and parses every line', (id) => {
    const lines = sampleLines(id);
    expect(lines.length).toBeGreaterThanOrEqual(10);
    expect(lines.length).toBeLessThanOrEqual(40);
    const detection = detectFormat(FORMATS, `${id}.log`, lines);
    expect(detection.best?.format.id).toBe(id);
    const { records, issues } = parseLines(detection.best!.format, lines);
    expect(issues).toEqual([]);
    expect(records.length).toBeGreaterThanOrEqual(10);
  });

  it('samples carry the failure signals: client closed, upstream missing, 502/504', () => {
    for (const id of sampleIds) {
      const format = PROXY_FORMATS.find((candidate) => candidate.id === id)!;
      const records = parseLines(format, sampleLines(id)).records.filter((record) => record.kind === 'proxy');
      const statuses = new Set(records.map((record) => record.status));
      expect(statuses.has(502) || statuses.has(504), id).toBe(true);
      if (records.some((record) => record.upstreamLogged)) {
        expect(records.some((record) => record.upstreamLogged && record.upstreamStatus === null), id).toBe(true);
      }
    }
    const closedIn = sampleIds.filter((id) => {
      const format = PROXY_FORMATS.find((candidate) => candidate.id === id)!;
      return parseLines(format, sampleLines(id)).records.some((record) => record.kind === 'proxy' && record.clientClosed);
    });
    // Apache, Classic ELB and API Gateway have no client-closed signal in these layouts.
    expect(closedIn.sort()).toEqual([
      'aws-alb', 'cloudfront', 'envoy', 'haproxy', 'kong', 'nginx-json', 'traefik-clf', 'traefik-json', 'tyk',
    ]);
  });

  it('sends an ambiguous combined line to nginx, and an Apache-escaped one to Apache', () => {
    const plain = '203.0.113.24 - - [15/Jan/2025:10:32:01 +0000] "GET /v1/orders HTTP/1.1" 200 1834 "-" "okhttp/4.12.0"';
    expect(detectFormat(FORMATS, 'a.log', [plain]).best?.format.id).toBe('nginx-combined');
    const escaped = '192.0.2.66 - - [15/Jan/2025:10:32:01 +0000] "GET /a?q=\\" OR 1 HTTP/1.1" 400 226 "-" "x"';
    expect(detectFormat(FORMATS, 'a.log', [plain, escaped]).best?.format.id).toBe('apache-combined');
  });

  it('detects a file of one line whose format doubts it (text after the last field), and counts the doubt as no failed line', () => {
    const line = '172.19.0.1 - - [04/Sep/2020:17:20:55 +0000] "GET /myapp/index HTTP/1.1" 200 5 "-" "curl/7.64.1" cs=HIT';
    const detection = detectFormat(FORMATS, 'one.log', [line]);
    expect(detection.best?.format.id).toBe('nginx-combined');
    expect([detection.best?.records, detection.best?.issues]).toEqual([1, 0]);
    expect(detection.best!.score).toBeLessThan(1);
  });

  it('takes the format the user named (--log-format) for a file it fits, though `combined` reads more of it', () => {
    const named = compileLogFormat(`log_format timed '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time $upstream_response_time $upstream_status';`);
    const lines = [
      '10.0.0.1 - - [15/Jan/2025:10:32:01 +0000] "GET /a HTTP/1.1" 200 5 "-" "curl/8.5.0" 0.012 0.011 200',
      '10.0.0.1 - - [15/Jan/2025:10:32:02 +0000] "GET /b HTTP/1.1" 200 5 "-" "curl/8.5.0" 0.013 0.012 200',
      // Written before the format gained its timings: `combined` reads this one too, the named format not.
      '10.0.0.1 - - [15/Jan/2025:10:31:59 +0000] "GET /c HTTP/1.1" 200 5 "-" "curl/8.5.0"',
    ];
    const candidates = candidateFormats(named);
    expect(scoreFormat(nginxCombined, 'mixed.log', lines).score).toBeGreaterThan(scoreFormat(named, 'mixed.log', lines).score);
    expect(detectFormat(candidates, 'mixed.log', lines).best?.format).toBe(named);
    // A file it does not fit goes to the format that does.
    const alb = FORMATS.find((format) => format.id === 'aws-alb')!;
    expect(detectFormat(candidates, 'alb.log', [alb.example]).best?.format.id).toBe('aws-alb');
  });

  it('tells %D from %T by the size of the durations', () => {
    const line = (duration: number): string =>
      `198.51.100.7 - - [15/Jan/2025:10:32:01 +0000] "GET / HTTP/1.1" 200 5 "-" "x" ${duration}`;
    expect(detectFormat(FORMATS, 'd.log', [84213, 1200, 35011].map(line)).best?.format.id).toBe('apache-combined-d');
    expect(detectFormat(FORMATS, 't.log', [0, 1, 0, 30].map(line)).best?.format.id).toBe('apache-combined-t');
  });
});

describe('the format of the run\'s last file, tried first', () => {
  // nginx and Apache httpd write `combined` alike: both read this line wholly, nginx comes first.
  const plain = '203.0.113.24 - - [15/Jan/2025:10:32:01 +0000] "GET /v1/orders HTTP/1.1" 200 1834 "-" "okhttp/4.12.0"';
  const apacheCombined = FORMATS.find((format) => format.id === 'apache-combined')!;
  const alb = FORMATS.find((format) => format.id === 'aws-alb')!;

  it('reads a file as the last file was read when that format reads every sample line, though another comes first in the registry', () => {
    expect(detectFirstLines(FORMATS, 'access.log.2', [plain]).best?.format.id).toBe('nginx-combined');
    expect(detectFirstLines(FORMATS, 'access.log.2', [plain], apacheCombined).best?.format.id).toBe('apache-combined');
  });

  it('detects as without it when the last file\'s format does not read every line', () => {
    expect(detectFirstLines(FORMATS, 'access.log', [plain], alb).best?.format.id).toBe('nginx-combined');
    // nginx reads the httpd-escaped line only with a doubt: Apache, which reads it cleanly, wins as before.
    const escaped = '192.0.2.66 - - [15/Jan/2025:10:32:01 +0000] "GET /a?q=\\" OR 1 HTTP/1.1" 400 226 "-" "x"';
    expect(detectFirstLines(FORMATS, 'a.log', [plain, escaped], nginxCombined).best?.format.id).toBe('apache-combined');
  });

  it('still tries the format named with --log-format first, which wins any file it fits', () => {
    const named = compileLogFormat(`log_format mine '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"';`);
    expect(detectFirstLines(candidateFormats(named), 'access.log', [plain], nginxCombined).best?.format).toBe(named);
  });
});

describe('detection on a file\'s first lines', () => {
  it('reads on past the sample when a pretty-printed document has not closed its first event in it', () => {
    // dd-trace-py's test-agent snapshot of a Flask request blocked by AppSec (DataDog/dd-trace-py,
    // BSD-3-Clause; test/fixtures/real/ddtrace-py-flask-403.json): a 105-line trace, its stack trace in between.
    const fixture = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'real', 'ddtrace-py-flask-403.json'), 'utf8')) as { lines: { line: string }[] };
    const lines = fixture.lines.map((entry) => entry.line);
    expect(lines.length).toBeGreaterThan(DETECTION_LINES);
    expect(detectFormat(FORMATS, 'trace.json', lines.slice(0, DETECTION_LINES)).best).toBeNull();
    expect(detectFirstLines(FORMATS, 'trace.json', lines).best?.format.id).toBe('datadog-json');
  });

  it('reads a stream of HAProxy\'s other lines and a few requests as HAProxy, and names it for a file of its notices only', () => {
    const notice = 'Feb 25 16:19:38 192.168.4.2 haproxy[1]: Proxy prod_http_in started.';
    const tcp = 'Jan 21 10:43:56 nl12s0204 haproxy[137260]: 217.114.110.36:21090 [21/Jan/2019:10:43:56.296] lb_slicing bk_kamino_p/nl14s0111 1/2/87 25085 CD 49198/21255/4356/482/0 0/0';
    const request = '203.0.113.24:53122 [15/Jan/2025:10:32:01.373] fe_api~ be_api/app3 0/0/1/81/84 200 2101 - - ---- 312/298/41/12/0 0/0 "GET /v1/orders?limit=20 HTTP/1.1"';
    expect(detectFormat(FORMATS, 'haproxy.log', [notice, tcp, tcp, tcp, request]).best?.format.id).toBe('haproxy');
    const onlyNotices = detectFormat(FORMATS, 'haproxy.log', [notice, '', notice]);
    expect(onlyNotices.best).toBeNull();
    expect(onlyNotices.ranking[0]).toMatchObject({ records: 0, issues: 0, recognised: 2 });
    expect(onlyNotices.ranking[0]!.format.id).toBe('haproxy');
    expect(closestFailure(onlyNotices.ranking[0]!)).toBe(': the sample\'s 2 lines are its lines that hold no HTTP request (notices, or TCP sessions, which alf does not analyse)');
  });

  it('names a line that failed, not a doubt the format had about a line it read, as why the closest format does not fit', () => {
    // Tyk's text access log writes no year (a doubt, PARSE_TIME_GUESSED); the second line, of a custom template, has no status.
    const read = 'time="Jan 29 08:27:09" level=info api_id=b1a4 api_key=00000000 api_name=httpbin client_ip="::1" host="localhost:8080" latency_total=62 method=GET org_id=678e path=/get prefix=access-log protocol=HTTP/1.1 remote_addr="[::1]:63251" status=200 upstream_addr="http://httpbin.org/get" upstream_latency=61 user_agent=PostmanRuntime/7.43.0';
    const custom = 'time="Jan 29 08:27:48" level=info api_id=b1a4 api_key=00000000 api_name=httpbin org_id=678e prefix=access-log remote_addr="[::1]:63270" upstream_addr="http://httpbin.org/get"';
    const closest = detectFormat(FORMATS, 'tyk.log', [read, custom]).ranking[0]!;
    expect(closest.format.id).toBe('tyk-access-log');
    expect(closest.firstIssue).toMatchObject({ line: 2, code: 'PARSE_NO_MATCH' });
  });

  it('names HAProxy as the closest format for its own lines in a custom log-format, and says why they are not read', () => {
    // log-format "%ci [%tr] %ST %B \"%r\"" behind HAProxy's syslog tag: every candidate reads 0%.
    const custom = 'Dec  4 11:20:07 172.20.0.5 haproxy[8]: 203.0.113.7 [04/Dec/2024:11:20:07.068] 200 +0 "GET / HTTP/1.1"';
    const detection = detectFormat(FORMATS, 'haproxy.log', [custom, custom]);
    expect(detection.best).toBeNull();
    expect(detection.ranking[0]!.format.id).toBe('haproxy');
    expect(closestFailure(detection.ranking[0]!)).toMatch(/field log-format: .*an HAProxy line in a log-format alf does not read/);
    // Without the tag, the same text is no more HAProxy's than anyone's.
    expect(detectFormat(FORMATS, 'x.log', [custom.slice(custom.indexOf('203.'))]).ranking[0]!.firstIssue?.field).not.toBe('log-format');
  });
});

describe('closestText: what a file no format fits is said to resemble', () => {
  it('names no format when none got past its first check (every unknown text line was "closest to tyk-access-log (0%)")', () => {
    for (const line of ['Dec  7 10:00:01 host sshd[123]: Accepted publickey for root from 192.0.2.4', '2024-01-01 12:00:00,123 INFO [main] com.example.App - started']) {
      const detection = detectFormat(FORMATS, 'x.log', [line]);
      expect(detection.best).toBeNull();
      expect(closestText(detection, [line], 'is'), line).toBe('; no format reads any line of its sample');
    }
  });

  it('points a line with a CLF time to --log-format: nginx or httpd in a format of its own (a real nginx incident log)', () => {
    // plantegg/programmer_case's nginx log_format (status=, rt=, uct=…), as its lines read.
    const line = '172.31.91.109 [31/May/2023:08:27:41 +0000] "GET /server.pcap HTTP/1.1" status=499 body_bytes_sent=0 rt=0.629 uct="-" uht="-" urt="0.628"';
    expect(closestText(detectFormat(FORMATS, 'x.log', [line]), [line], 'was')).toMatch(/^; no format reads any line of its sample \(its lines carry a CLF time: .*--log-format\)$/);
  });

  it('says where the format given with --log-format failed, and no longer suggests giving one', () => {
    const line = '172.31.91.109 [31/May/2023:08:27:41 +0000] "GET /server.pcap HTTP/1.1" status=499 rt=0.629';
    const given = compileLogFormat('$remote_addr - [$time_local] "$request" $status');
    const text = closestText(detectFormat(candidateFormats(given), 'x.log', [line]), [line], 'was');
    expect(text).toBe('; no format reads any line of its sample; the format given with --log-format reads 0% of the sample, failing at line 1 field remote_addr: line does not match the log_format near $remote_addr');
  });
});
