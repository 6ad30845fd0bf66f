import { describe, expect, it } from 'vitest';
import { apacheLogFormat, apacheToNginxFormat, isApacheLogFormat } from '../../parsers/apache-log-format.js';
import { LogFormatError } from '../../parsers/nginx-log-format.js';
import { compileLogFormat } from '../../src/parse/workers/worker-formats.js';
import { onlyProxy, parseLines } from './parse-lines.js';
import type { ProxyRecord } from '../../src/model/records.js';

const onlyFields = ({ status, path, userAgent, requestTimeMs }: ProxyRecord) => ({ status, path, userAgent, requestTimeMs });

/**
 * An httpd LogFormat given to --log-format: read through the log_format compiler with %t as the
 * request's start and the durations, keep-alive counts and connection states httpd writes.
 */

// Ensembl/webvm's httpd.conf and a line its access_log holds (Apache-2.0, 7124f46a; a real httpd's).
const ENSEMBL_CONF = [
  '<IfModule log_config_module>',
  '    LogFormat "%h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-Agent}i\\"" combined',
  '    LogFormat "%h %l %u %t \\"%r\\" %>s %b" common',
  '    <IfModule logio_module>',
  '      LogFormat "%h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-Agent}i\\" io<%Iin %Oout %Dus %X%k> fwd<%{x-forwarded-for}i>" combined_proxy',
  '    </IfModule>',
  '#    CustomLog "${WEBTMPDIR}/logs/access_log" common',
  '    CustomLog "${WEBTMPDIR}/logs/access_log" combined_proxy',
  '</IfModule>',
].join('\n');
const ENSEMBL_LINE = '127.0.0.1 - - [06/Apr/2018:14:31:32 +0100] "GET /cgi-bin/otter/109/authenticate_me?client=otter HTTP/1.1" 200 4 "-" "otter/50.0 libwww-perl/6.15" io<174in 204out 309906us -0> fwd<->';
const START = Date.UTC(2018, 3, 6, 13, 31, 32);

describe('an httpd LogFormat as --log-format', () => {
  it('reads the format an httpd.conf\'s CustomLog names, with %t the start and %D the time taken', () => {
    const format = compileLogFormat(ENSEMBL_CONF);
    expect(format).toMatchObject({ id: 'apache-logformat', title: 'Apache httpd LogFormat combined_proxy' });
    expect(onlyProxy(format, ENSEMBL_LINE)).toMatchObject({
      // %O, the bytes sent with headers (204), as nginx's $bytes_sent over $body_bytes_sent (%b, 4).
      startMs: START, endMs: START + 309.906, requestTimeMs: 309.906, status: 200, bytesSent: 204, method: 'GET',
      path: '/cgi-bin/otter/109/authenticate_me', userAgent: 'otter/50.0 libwww-perl/6.15', clientIp: '127.0.0.1',
      connectionRequests: 1, clientClosed: false,
    });
  });

  it('reads %X as the client going away, %k from 0, %{ms}T and %{msec}t', () => {
    const format = apacheLogFormat('%h %{msec}t "%r" %>s %{ms}T %X %k');
    const record = onlyProxy(format, '203.0.113.9 1736937121373 "POST /v1/reports HTTP/1.1" 200 5004 X 3');
    expect(record).toMatchObject({ startMs: 1736937121373, endMs: 1736937121373 + 5004, requestTimeMs: 5004, clientClosed: true, connectionRequests: 4, timeResolutionMs: 1 });
  });

  it('reads a strftime %{…}t with httpd\'s fraction (netnea\'s widely copied format), in the --timezone zone or else UTC, said once', () => {
    // The shape of netnea's Apache tutorial format: [%{%Y-%m-%d %H:%M:%S}t.%{usec_frac}t], mod_ssl's %x, a %D.
    const format = '%h %{GEOIP_COUNTRY_CODE}e %u [%{%Y-%m-%d %H:%M:%S}t.%{usec_frac}t] "%r" %>s %b "%{Referer}i" "%{User-Agent}i" %v %{SSL_PROTOCOL}x %{ratio}n%% %D';
    const line = '192.0.2.36 CH - [2015-05-20 12:53:11.139981] "GET /EMail/login.aspx HTTP/1.1" 200 7362 "-" "Mozilla/5.0" www.example.com TLSv1.2 14% 935006';
    const utc = parseLines(apacheLogFormat(format), [line, line]);
    const start = Date.UTC(2015, 4, 20, 12, 53, 11, 140);
    expect(utc.records[0]).toMatchObject({ startMs: start, endMs: start + 935.006, requestTimeMs: 935.006, timeResolutionMs: 1, status: 200, path: '/EMail/login.aspx' });
    expect(utc.warnings.map((w) => [w.code, w.line])).toEqual([['PARSE_TIME_GUESSED', 1]]);
    const zurich = parseLines(apacheLogFormat(format), [line], undefined, 'Europe/Zurich');
    // Summer time in Zurich is UTC+2.
    expect(zurich.records[0]).toMatchObject({ startMs: start - 2 * 3_600_000 });
    expect(zurich.warnings).toEqual([]);
    // With %z, the line says its zone; %b, %y and %T read too.
    const zoned = onlyProxy(apacheLogFormat('%h [%{%d/%b/%y %T %z}t] "%r" %>s %b'), '192.0.2.36 [20/May/15 12:53:11 +0200] "GET / HTTP/1.1" 200 5');
    expect(zoned).toMatchObject({ startMs: Date.UTC(2015, 4, 20, 10, 53, 11), timeResolutionMs: 1000 });
    // A month 13 is a bad time, named so.
    expect(parseLines(apacheLogFormat(format), [line.replace('2015-05-20', '2015-13-20')]).issues.map((issue) => [issue.code, issue.field])).toEqual([['PARSE_BAD_TIMESTAMP', 'apache_tm_mon']]);
  });

  it('reads Apache\'s vhost_common, which no built-in format does', () => {
    // matomo-org/matomo-log-analytics tests/logs/common_vhost.log (GPL-3.0, d1cd2fed): a line as httpd writes it.
    const record = onlyProxy(apacheLogFormat('LogFormat "%v %h %l %u %t \\"%r\\" %>s %b" vhost_common'), 'www.example.com 1.2.3.4 - theuser [10/Feb/2012:16:42:07 -0500] "GET / HTTP/1.0" 301 368');
    expect(record).toMatchObject({ host: 'www.example.com', clientIp: '1.2.3.4', status: 301, startMs: Date.UTC(2012, 1, 10, 21, 42, 7), path: '/' });
    // %u, the authenticated user, is the budget's key when no header names one, as in the built-in Apache formats.
    expect(record.apiKey).toBe('theuser');
    const withKey = apacheLogFormat('%h %u %t "%r" %>s %b "%{X-Api-Key}i"');
    expect(onlyProxy(withKey, '1.2.3.4 theuser [10/Feb/2012:16:42:07 -0500] "GET / HTTP/1.0" 200 3 "k-42"').apiKey).toBe('k-42');
  });

  it('tells httpd formats from nginx ones and HAProxy configs', () => {
    expect(isApacheLogFormat('%h %l %u %t "%r" %>s %b')).toBe(true);
    expect(isApacheLogFormat(ENSEMBL_CONF)).toBe(true);
    expect(isApacheLogFormat('$remote_addr - [$time_local] "$request" $status')).toBe(false);
    expect(isApacheLogFormat("log_format main '$remote_addr [$time_local] \"$request\" $status';")).toBe(false);
    expect(compileLogFormat('$remote_addr [$time_local] "$request" $status').id).toBe('nginx');
  });

  it('refuses what it cannot read, naming it', () => {
    expect(() => apacheToNginxFormat('%h %{%a %d %b}t "%r"')).toThrow(/%\{%a %d %b\}t: .* not %a/);
    expect(() => apacheToNginxFormat('%h %{end:%Y-%m-%d %T}t "%r"')).toThrow(/not its end/);
    expect(() => apacheToNginxFormat('%h %t "%r" %>s %Z')).toThrow(/unknown httpd directive %Z/);
    expect(() => apacheToNginxFormat('LogLevel warn\nCustomLog logs/access_log combined')).toThrow(LogFormatError);
    expect(() => apacheLogFormat('%h %t %D%>s')).toThrow(/touch with no separator/);
  });

  it('reads a quoted value with httpd\'s escapes: \\" is a quote in the value, not its end', () => {
    // httpd writes `"` and `\` in a logged value as `\"` and `\\`, other bytes outside printable
    // ASCII as `\xhh` (ap_escape_logitem); an injection probe's request line is full of them.
    const format = apacheLogFormat('LogFormat "%h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-Agent}i\\" %D" timed');
    const { records, issues } = parseLines(format, [
      '192.0.2.44 - - [15/Jan/2025:10:32:05 +0000] "GET /login.php?user=admin\\" OR \\"1\\"=\\"1 HTTP/1.1" 400 226 "-" "sqlmap/1.7.2#stable (https://sqlmap.org)" 1200',
      '192.0.2.45 - - [15/Jan/2025:10:32:06 +0000] "GET /a HTTP/1.1" 200 5 "http://x/\\\\" "agent \\"quoted\\" caf\\xc3\\xa9 \\\\x41" 800',
    ]);
    expect(issues).toEqual([]);
    expect(records.map((record) => onlyFields(record as never))).toEqual([
      { status: 400, path: '/login.php', userAgent: 'sqlmap/1.7.2#stable (https://sqlmap.org)', requestTimeMs: 1.2 },
      { status: 200, path: '/a', userAgent: 'agent "quoted" caf\u00e9 \\x41', requestTimeMs: 0.8 },
    ]);
  });

  it('skips a line of another shape and counts it, as any log_format does', () => {
    const { records, issues } = parseLines(apacheLogFormat('%h %l %u %t "%r" %>s %b %D'), ['198.51.100.7 - - [15/Jan/2025:10:32:01 +0000] "GET / HTTP/1.1" 200 12 oops']);
    expect(records).toEqual([]);
    expect(issues).toHaveLength(1);
  });
});
