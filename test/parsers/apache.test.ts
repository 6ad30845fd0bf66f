import { describe, expect, it } from 'vitest';
import { apacheCombined, apacheCombinedMicros, apacheCombinedSeconds, apacheCommon, apacheVhostCombined, apacheVhostCommon } from '../../parsers/apache.js';
import { detectFormat } from '../../parsers/detect.js';
import { FORMATS } from '../../parsers/registry.js';
import { nginxCombined } from '../../parsers/nginx.js';
import { expectOtherLinesIgnored, onlyProxy, parseLines } from './parse-lines.js';

// docs/formats.md, Apache httpd: %t is when the request was RECEIVED; %D µs, %T whole seconds; `\"` escaping.
const T0 = Date.UTC(2025, 0, 15, 10, 32, 1);

describe('apache-common', () => {
  it('reads %h %l %u %t "%r" %>s %b, with %t as the start', () => {
    const record = onlyProxy(apacheCommon, '198.51.100.7 - alice [15/Jan/2025:10:32:01 +0000] "GET /v1/orders?limit=20 HTTP/1.1" 200 1834');
    expect(record).toMatchObject({
      format: 'apache-common', startMs: T0, endMs: T0, timeResolutionMs: 1000,
      method: 'GET', path: '/v1/orders', query: 'limit=20', status: 200, bytesSent: 1834,
      clientIp: '198.51.100.7', apiKey: 'alice', requestTimeMs: null,
      upstreamLogged: false, upstreamStatus: null, clientClosed: false, userAgent: null,
    });
  });

  it('keeps "-" as null, never 0 (%b of "-" and no user)', () => {
    const record = onlyProxy(apacheCommon, '198.51.100.7 - - [15/Jan/2025:10:32:01 +0000] "HEAD /health HTTP/1.1" 204 -');
    expect(record.bytesSent).toBeNull();
    expect(record.apiKey).toBeNull();
  });

  it('reads a status of "-" (httpd\'s status 0) as none, in Apache\'s formats and in the nginx combined that shares their layout', () => {
    // logstash-plugins/logstash-patterns-core spec/patterns/httpd_spec.rb (Apache-2.0, 8381e7a5d5731d81b94bc2649710aae1a43478c3).
    const line = '83.149.9.216 - a.user [11/Jan/2020:23:05:27 +0100] "OPTIONS /remote.php/ HTTP/1.1" - 7908 "-" "monitoring-client (v2.2)"';
    for (const format of [apacheCombined, nginxCombined]) {
      const { records, issues } = parseLines(format, [line]);
      expect(issues).toEqual([]);
      expect(records[0]).toMatchObject({ status: null, method: 'OPTIONS', path: '/remote.php/', bytesSent: 7908, startMs: Date.UTC(2020, 0, 11, 22, 5, 27) });
    }
    expect(onlyProxy(apacheCommon, '198.51.100.7 - - [15/Jan/2025:10:32:01 +0000] "GET / HTTP/1.1" - -').status).toBeNull();
  });

  it('converts the zone offset to UTC', () => {
    const record = onlyProxy(apacheCommon, '198.51.100.7 - - [15/Jan/2025:11:32:01 +0100] "GET / HTTP/1.1" 200 5');
    expect(record.startMs).toBe(T0);
  });

  it('rejects a combined line (wrong field count) as PARSE_NO_MATCH', () => {
    const { records, issues } = parseLines(apacheCommon, [
      '198.51.100.7 - - [15/Jan/2025:10:32:01 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8.5.0"',
    ]);
    expect(records).toHaveLength(0);
    expect(issues[0]).toMatchObject({ code: 'PARSE_NO_MATCH', field: 'line', line: 1 });
  });
});

describe('lines httpd itself adds to a captured stream', () => {
  it('ignores the error log and start-up messages that `docker logs` of the official image merges in, and still reports look-alikes', () => {
    expectOtherLinesIgnored(apacheCommon, [
      // The shapes `kubectl logs` of an httpd container shows: a message from before the log opened, then error-log lines.
      "AH00558: httpd: Could not reliably determine the server's fully qualified domain name, using 192.168.1.20. Set the 'ServerName' directive globally to suppress this message",
      '[Tue Apr 14 16:08:07.377507 2026] [mpm_event:notice] [pid 1:tid 1] AH00489: Apache/2.4.66 (Unix) configured -- resuming normal operations',
      "[Tue Apr 14 16:08:07.379270 2026] [core:notice] [pid 1:tid 1] AH00094: Command line: 'httpd -D FOREGROUND'",
      '[Sat Oct 25 16:00:00.000000 2025] [mpm_event:notice] [pid 1] AH00489: Apache/2.4.62 (Unix) configured',
    ], '192.168.1.58 - - [14/Apr/2026:16:08:09 +0000] "GET /readyz HTTP/1.1" 200 5', [
      'AH558: httpd: Could not reliably determine the server name',
      '[Tue Apr 14 16:08:07.377507 2026] [mpm_event:notice] AH00489: Apache/2.4.66 (Unix) configured',
      '192.168.1.58 - - [14/Apr/2026:16:08:09 +0000] "GET /readyz HTTP/1.1" 200',
    ]);
  });
});

describe('apache-combined', () => {
  it('unescapes \\" inside the request and the user agent', () => {
    const record = onlyProxy(apacheCombined, apacheCombined.example);
    expect(record.method).toBe('GET');
    expect(record.path).toBe('/login.php');
    expect(record.query).toBe('user=admin" OR "1"="1');
    expect(record.status).toBe(400);
    expect(record.userAgent).toBe('sqlmap/1.7.2#stable (https://sqlmap.org)');
  });

  it('keeps a user agent with quotes and spaces whole', () => {
    const record = onlyProxy(apacheCombined,
      '192.0.2.44 - - [15/Jan/2025:10:32:08 +0000] "GET /v1/search?q=caf%C3%A9 HTTP/1.1" 200 4410 "https://example.com/a b" "Mozilla/5.0 (compatible; \\"SiteBot\\"/2.1)"');
    expect(record.userAgent).toBe('Mozilla/5.0 (compatible; "SiteBot"/2.1)');
    expect(record.query).toBe('q=caf%C3%A9');
  });

  it('decodes the bytes httpd wrote as \\xhh (a UTF-8 user agent), and keeps an escaped backslash one backslash', () => {
    const record = onlyProxy(apacheCombined,
      '192.0.2.44 - - [15/Jan/2025:10:32:08 +0000] "GET /a HTTP/1.1" 200 5 "-" "Caf\\xc3\\xa9Bot/1.0 (C:\\\\x41)"');
    expect(record.userAgent).toBe('Caf\u00e9Bot/1.0 (C:\\x41)');
  });

  it('reads IPv6 clients', () => {
    const record = onlyProxy(apacheCombined, '2001:db8::7 - - [15/Jan/2025:10:32:07 +0000] "GET /v1/orders HTTP/1.1" 200 902 "-" "okhttp/4.12.0"');
    expect(record.clientIp).toBe('2001:db8::7');
  });

  it('keeps a junk request line as a pathless record', () => {
    const record = onlyProxy(apacheCombined, '192.0.2.9 - - [15/Jan/2025:10:32:07 +0000] "-" 408 - "-" "-"');
    expect(record).toMatchObject({ method: null, path: null, status: 408, bytesSent: null, userAgent: null });
  });

  it('reports a bad timestamp with its field', () => {
    const { issues } = parseLines(apacheCombined, ['198.51.100.7 - - [15/Jan/2025:25:32:01 +0000] "GET / HTTP/1.1" 200 5 "-" "x"']);
    expect(issues[0]).toMatchObject({ code: 'PARSE_BAD_TIMESTAMP', field: '%t' });
  });

  it('reports a bad status with its field', () => {
    const { issues } = parseLines(apacheCombined, ['198.51.100.7 - - [15/Jan/2025:10:32:01 +0000] "GET / HTTP/1.1" OK 5 "-" "x"']);
    expect(issues[0]).toMatchObject({ code: 'PARSE_BAD_FIELD', field: '%>s' });
  });

  it('ignores blank lines and reports an unterminated quote', () => {
    const { records, issues, ignored } = parseLines(apacheCombined, ['', '198.51.100.7 - - [15/Jan/2025:10:32:01 +0000] "GET / HTTP/1.1 200 5']);
    expect(records).toHaveLength(0);
    expect(ignored).toBe(1);
    expect(issues[0]).toMatchObject({ code: 'PARSE_NO_MATCH', line: 2 });
  });
});

describe('apache-combined-d and -t', () => {
  it('reads %D as microseconds: end = start + duration', () => {
    const record = onlyProxy(apacheCombinedMicros, apacheCombinedMicros.example);
    expect(record.requestTimeMs).toBe(84.213);
    expect(record.startMs).toBe(T0);
    expect(record.endMs).toBe(T0 + 84);
    expect(record.apiKey).toBe('alice');
  });

  it('reads %T as whole seconds', () => {
    const record = onlyProxy(apacheCombinedSeconds,
      '198.51.100.7 - - [15/Jan/2025:10:32:01 +0000] "POST /v1/reports HTTP/1.1" 504 198 "-" "python-requests/2.31.0" 30');
    expect(record.requestTimeMs).toBe(30_000);
    expect(record.endMs).toBe(T0 + 30_000);
  });

  it('rejects a non-numeric duration as PARSE_BAD_FIELD on %D', () => {
    const { issues } = parseLines(apacheCombinedMicros, ['198.51.100.7 - - [15/Jan/2025:10:32:01 +0000] "GET / HTTP/1.1" 200 5 "-" "x" 12ms']);
    expect(issues[0]).toMatchObject({ code: 'PARSE_BAD_FIELD', field: '%D' });
  });

  it('does not take nginx main\'s quoted X-Forwarded-For for a duration', () => {
    const { issues } = parseLines(apacheCombinedMicros, ['198.51.100.7 - - [15/Jan/2025:10:32:01 +0000] "GET / HTTP/1.1" 200 5 "-" "x" "-"']);
    expect(issues[0]).toMatchObject({ code: 'PARSE_NO_MATCH', field: '%D' });
  });

  it('warns once about the file, without dropping or skipping a line, when %D values look like seconds', () => {
    const lines = ['0', '1', '0', '2'].map((d) => `198.51.100.7 - - [15/Jan/2025:10:32:01 +0000] "GET / HTTP/1.1" 200 5 "-" "x" ${d}`);
    const { records, issues, warnings } = parseLines(apacheCombinedMicros, lines);
    expect(records).toHaveLength(4);
    expect(issues).toHaveLength(0);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ code: 'PARSE_SUSPECT_UNITS', field: '%D', line: 1 });
    expect(warnings[0]!.message).toContain('apache-combined-t');
  });

  it('warns when the %D field repeats a few values again and again (a port logged last, not a duration), and not for real durations', () => {
    const line = (last: number): string => `198.51.100.7 - - [15/Jan/2025:10:32:01 +0000] "GET / HTTP/1.1" 200 5 "-" "x" ${last}`;
    const ports = Array.from({ length: 80 }, (_, i) => line([445, 445, 22, 80, 3389, 8080, 445, 1433][i % 8]!));
    const read = parseLines(apacheCombinedMicros, ports);
    expect(read.records).toHaveLength(80);
    expect(read.warnings.map((w) => [w.code, w.field])).toEqual([['PARSE_SUSPECT_UNITS', '%D']]);
    expect(read.warnings[0]!.message).toContain('445 × 30');
    // Durations of a real server: all but unique, though fast ones may meet.
    const durations = Array.from({ length: 80 }, (_, i) => line(i % 10 === 0 ? 312 : 1_000 + ((i * 7919) % 90_000)));
    expect(parseLines(apacheCombinedMicros, durations).warnings).toEqual([]);
    // Read as %T the ports are no durations either, while whole seconds repeat as 0, 1 and 2.
    expect(parseLines(apacheCombinedSeconds, ports).warnings.map((w) => w.field)).toEqual(['%T']);
    expect(parseLines(apacheCombinedSeconds, Array.from({ length: 80 }, (_, i) => line([0, 0, 1, 0, 2, 0, 1, 30][i % 8]!))).warnings).toEqual([]);
    // A long poll held 30 s by design repeats its hold, give or take a second: durations still.
    expect(parseLines(apacheCombinedSeconds, Array.from({ length: 80 }, (_, i) => line([30, 30, 29, 31, 30, 2][i % 6]!))).warnings).toEqual([]);
  });

  it('warns when %T values look like microseconds', () => {
    const { warnings } = parseLines(apacheCombinedSeconds, [apacheCombinedMicros.example]);
    expect(warnings[0]).toMatchObject({ code: 'PARSE_SUSPECT_UNITS', field: '%T' });
  });
});

describe('apache-vhost-common and apache-vhost-combined', () => {
  it('read the virtual host first, then the client and the usual fields', () => {
    // matomo-org/matomo-log-analytics tests/logs/common_vhost.log's shape, and Debian's other_vhosts_access.log.
    expect(onlyProxy(apacheVhostCommon, 'www.example.com 1.2.3.4 - theuser [10/Feb/2012:16:42:07 -0500] "GET / HTTP/1.0" 301 368')).toMatchObject({
      format: 'apache-vhost-common', host: 'www.example.com', clientIp: '1.2.3.4', apiKey: 'theuser', status: 301, bytesSent: 368, path: '/',
      startMs: Date.UTC(2012, 1, 10, 21, 42, 7),
    });
    expect(onlyProxy(apacheVhostCombined, 'www.example.com:443 1.2.3.4 - - [10/Feb/2012:16:42:07 -0500] "GET /a HTTP/1.1" 200 368 "-" "curl/7.1"')).toMatchObject({
      host: 'www.example.com', clientIp: '1.2.3.4', userAgent: 'curl/7.1', status: 200, path: '/a',
    });
  });

  it('are detected before nginx combined, which read the virtual host as the client', () => {
    const line = 'www.example.com:443 1.2.3.4 - - [10/Feb/2012:16:42:07 -0500] "GET /a HTTP/1.1" 200 368 "-" "curl/7.1"';
    expect(detectFormat(FORMATS, 'other_vhosts_access.log', [line]).best?.format.id).toBe('apache-vhost-combined');
    // And a combined line is still combined.
    expect(detectFormat(FORMATS, 'access.log', ['1.2.3.4 - - [10/Feb/2012:16:42:07 -0500] "GET /a HTTP/1.1" 200 368 "-" "curl/7.1"']).best?.format.id).toBe('nginx-combined');
  });
});
