import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileNginxFormat, nginxCombined, nginxFormat, nginxIngress, nginxMain } from '../../parsers/nginx.js';
import type { ProxyRecord } from '../../src/model/records.js';
import { LogFormatError } from '../../parsers/nginx-log-format.js';
import { expectOtherLinesIgnored, onlyProxy, parseLines } from './parse-lines.js';

// The forensic pipe format of docs/formats.md, nginx.
const FORENSIC = `log_format forensic '$msec|$request_id|$remote_addr|$api_client|$request_method|$request_uri|$status|'
                    '$request_time|$upstream_connect_time|$upstream_header_time|$upstream_response_time|'
                    '$upstream_status|$upstream_addr|$request_length|$bytes_sent|$body_bytes_sent|'
                    '$connection|$connection_requests|$http_traceparent|$http_user_agent';`;
const forensic = nginxFormat(FORENSIC);

describe('nginx log_format compiler', () => {
  it('parses the documented forensic line into a normalised record (ms, nulls, ids)', () => {
    const record = onlyProxy(forensic,
      '1736937121.457|7bbf528f3944f25005b1a4c8d33e8184|203.0.113.24|key_7H2|GET|/v1/orders?limit=20|200|0.084|0.001|0.081|0.083|200|10.0.3.17:8080|412|2101|1834|88123|3|00-491e743b1be0164f3055415f2cb2f8d0-edeed8f67ed0c810-01|okhttp/4.12.0');
    expect(record).toMatchObject({
      endMs: 1736937121457, startMs: 1736937121373, timeResolutionMs: 1,
      method: 'GET', path: '/v1/orders', query: 'limit=20', status: 200, requestTimeMs: 84,
      upstreamLogged: true, upstreamStatus: 200, upstreamTimeMs: 83, upstreamConnectTimeMs: 1, upstreamHeaderTimeMs: 81,
      upstreamAttempts: 1, upstreamAddr: '10.0.3.17:8080', clientIp: '203.0.113.24', apiKey: 'key_7H2',
      requestId: '7bbf528f3944f25005b1a4c8d33e8184', traceId: '491e743b1be0164f3055415f2cb2f8d0',
      bytesSent: 2101, connectionRequests: 3, userAgent: 'okhttp/4.12.0', clientClosed: false,
    });
  });

  it('keeps "-" as missing, never zero: a 499 has no upstream status and a partial upstream time', () => {
    const record = onlyProxy(forensic,
      '1736937151.906|0d9e2c41a7b35f6e8c1d0a2b4f6e8a9c|198.51.100.7|key_Q9x|POST|/v1/reports|499|30.004|0.001|-|30.004|-|10.0.3.17:8080|612|0|0|88140|1|-|python-requests/2.31.0');
    expect(record.status).toBe(499);
    expect(record.clientClosed).toBe(true);
    expect(record.upstreamStatus).toBeNull();
    expect(record.upstreamHeaderTimeMs).toBeNull();
    expect(record.upstreamTimeMs).toBe(30004);
    expect(record.traceId).toBeNull();
  });

  it('sums every upstream attempt across servers and redirect groups, and keeps the last status and address', () => {
    const format = nginxFormat('$msec|$status|$upstream_response_time|$upstream_status|$upstream_addr|$upstream_connect_time');
    const retried = onlyProxy(format, '1736937121.457|200|0.010, 0.020 : 0.030|502, 200 : 200|10.0.3.16:8080, 10.0.3.17:8080 : 10.0.4.9:8080|-, 0.000 : 0.001');
    expect(retried.upstreamTimeMs).toBe(60);
    expect(retried.upstreamAttempts).toBe(3);
    expect(retried.upstreamStatus).toBe(200);
    expect(retried.upstreamAddr).toBe('10.0.4.9:8080');
    expect(retried.upstreamConnectTimeMs).toBe(1);
    const refused = onlyProxy(format, '1736937121.457|502|0.000|502|10.0.3.16:8080|-');
    expect(refused.upstreamStatus).toBe(502);
    expect(refused.upstreamConnectTimeMs).toBeNull();
    const local = onlyProxy(format, '1736937121.457|404|-|-|-|-');
    expect(local).toMatchObject({ upstreamTimeMs: null, upstreamStatus: null, upstreamAddr: null, upstreamAttempts: 0 });
  });

  it('lets the last free-text field absorb separators inside it (a | in the user agent)', () => {
    const record = onlyProxy(forensic,
      '1736937121.457|-|203.0.113.24|-|GET|/a|200|0.010|-|-|-|-|-|1|2|3|4|1|-|evil|agent|with|pipes');
    expect(record.userAgent).toBe('evil|agent|with|pipes');
    expect(record.path).toBe('/a');
    expect(record.apiKey).toBeNull();
  });

  it('reads the combined preset, with $time_local at one-second resolution and a UTC offset', () => {
    const record = onlyProxy(nginxCombined, '203.0.113.24 - alice [15/Jan/2025:11:32:01 +0100] "GET /v1/orders?limit=20 HTTP/1.1" 200 1834 "-" "okhttp/4.12.0"');
    expect(record).toMatchObject({
      endMs: Date.UTC(2025, 0, 15, 10, 32, 1), timeResolutionMs: 1000, method: 'GET', path: '/v1/orders',
      status: 200, bytesSent: 1834, userAgent: 'okhttp/4.12.0', upstreamLogged: false, upstreamStatus: null,
    });
  });

  it('reads $time_iso8601 with its UTC offset, at one-second resolution, and refuses a month 13', () => {
    const format = nginxFormat('$time_iso8601|$status|$request');
    expect(onlyProxy(format, '2025-01-15T11:32:01+01:00|200|GET /a HTTP/1.1')).toMatchObject({ endMs: Date.UTC(2025, 0, 15, 10, 32, 1), timeResolutionMs: 1000 });
    const { records, issues } = parseLines(format, ['2025-13-15T11:32:01+01:00|200|GET /a HTTP/1.1', '2025-01-15T11:32:01.5+01:00|200|GET /a HTTP/1.1']);
    expect(records).toHaveLength(0);
    expect(issues.map((issue) => issue.field)).toEqual(['time_iso8601', 'time_iso8601']);
  });

  it('decodes default escaping: \\x22 is a quote, an escaped UTF-8 run is its character (the bytes the client sent)', () => {
    const record = onlyProxy(nginxCombined, '198.51.100.7 - - [15/Jan/2025:10:32:01 +0000] "GET /caf\\xC3\\xA9?q=\\x22x\\x22 HTTP/1.1" 404 0 "-" "say \\x22hi\\x22 \\x5C"');
    expect(record.path).toBe('/café');
    expect(record.query).toBe('q="x"');
    expect(record.userAgent).toBe('say "hi" \\');
  });

  it('reads a line with \\" in a quoted value as Apache\'s (nginx writes a quote as \\x22), and says so once per file', () => {
    // The 2004 honeynet httpd log (Chuvakin), whose 4,130 lines tie between nginx and Apache
    // combined until such a line: a Nikto probe, written by httpd with its own escaping.
    const probe = '68.48.142.117 - - [09/Mar/2004:22:31:37 -0500] "GET /article.php?sid=\\"><Img Src=javascript:alert(\'Vulnerable\')><Img Src=\\" HTTP/1.0" 404 283 "-" "Mozilla/4.75 (Nikto/1.32 )"';
    const plain = '68.48.142.117 - - [09/Mar/2004:22:31:38 -0500] "GET /index.php HTTP/1.0" 200 5 "-" "Mozilla/4.75 (Nikto/1.32 )"';
    const { records, issues, warnings } = parseLines(nginxCombined, [plain, probe, probe]);
    expect(issues).toEqual([]);
    expect(records.map((r) => [(r as ProxyRecord).status, (r as ProxyRecord).path, (r as ProxyRecord).query])).toEqual([
      [200, '/index.php', null],
      [404, '/article.php', 'sid="><Img Src=javascript:alert(\'Vulnerable\')><Img Src="'],
      [404, '/article.php', 'sid="><Img Src=javascript:alert(\'Vulnerable\')><Img Src="'],
    ]);
    expect(warnings.map((w) => [w.line, w.message])).toEqual([[2, expect.stringMatching(/Apache's escaping/)]]);
  });

  it('tells main from combined: main has one more quoted field, which combined keeps out of the user agent', () => {
    const line = '203.0.113.24 - - [15/Jan/2025:10:32:01 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8.5.0" "10.1.1.1"';
    expect(parseLines(nginxMain, [line]).records).toHaveLength(1);
    const asCombined = parseLines(nginxCombined, [line, line]);
    expect(asCombined.records.map((r) => (r as ProxyRecord).userAgent)).toEqual(['curl/8.5.0', 'curl/8.5.0']);
    expect(asCombined.warnings).toHaveLength(1);
    expect(asCombined.warnings[0]).toMatchObject({ code: 'PARSE_EXTRA_FIELDS', line: 1 });
    expect(asCombined.warnings[0]!.message).toContain('"10.1.1.1"');
  });

  it('reports a malformed line as an issue naming the field, never a record or an exception', () => {
    const { records, issues, ignored } = parseLines(forensic, [
      'not a log line', '', 'x|-|1.2.3.4|-|GET|/a|200|0.010|-|-|-|-|-|1|2|3|4|1|-|ua',
      '1736937121.457|-|1.2.3.4|-|GET|/a|2000|0.010|-|-|-|-|-|1|2|3|4|1|-|ua',
      '1736937121.457|-|1.2.3.4|-|GET|/a|200|1e309|-|-|-|-|-|1|2|3|4|1|-|ua',
    ]);
    expect(records).toHaveLength(0);
    expect(ignored).toBe(1);
    expect(issues.map((issue) => [issue.line, issue.code, issue.field])).toEqual([
      [1, 'PARSE_NO_MATCH', 'msec'],
      [3, 'PARSE_BAD_TIMESTAMP', 'msec'],
      [4, 'PARSE_BAD_FIELD', 'status'],
      [5, 'PARSE_BAD_FIELD', 'request_time'],
    ]);
    expect(issues[0]!.sample).toBe('not a log line');
  });

  it('ignores the lines nginx itself adds to the stream (`docker logs` of the official image): its error log and its entrypoint scripts', () => {
    const access = '172.17.0.1 - - [15/Jan/2024:10:32:05 +0000] "GET / HTTP/1.1" 200 615 "-" "curl/8.4.0" "-"';
    expectOtherLinesIgnored(nginxMain, [
      // As nginxinc/docker-nginx's entrypoint scripts print them ($0, or $(basename $0), then the message).
      '/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration',
      '10-listen-on-ipv6-by-default.sh: info: Enabled listen on IPv6 in /etc/nginx/conf.d/default.conf',
      '/docker-entrypoint.sh: Sourcing /docker-entrypoint.d/15-local-resolvers.envsh',
      '20-envsubst-on-templates.sh: Running envsubst on /etc/nginx/templates/default.conf.template to /etc/nginx/conf.d/default.conf',
      // As ngx_log_error_core writes them: time, [level], pid#tid, then the connection for request errors.
      '2024/01/15 10:32:00 [notice] 1#1: start worker process 29',
      '2024/01/15 10:32:06 [error] 29#29: *2 open() "/usr/share/nginx/html/favicon.ico" failed (2: No such file or directory), client: 172.17.0.1, server: localhost, request: "GET /favicon.ico HTTP/1.1", host: "localhost:8080"',
    ], access, [
      // Look-alikes are still malformed lines: another level, no pid#tid, another script name.
      '2024/01/15 10:32:00 [loud] 1#1: start worker process 29',
      '2024/01/15 10:32:00 [notice] start worker process 29',
      'docker-entrypoint.sh: Configuration complete; ready for start up',
      access.replace('200 615', '200'),
    ]);
  });

  it('ignores the lines an error entry spills onto: a FastCGI backend\'s stderr, newlines and all, until its quote closes', () => {
    // In the layout nginx writes it (ngx_http_fastcgi_module: `FastCGI sent in stderr: "%*s"`, then
    // the entry's context), with the message PHP-FPM sends for an uncaught exception.
    const access = (i: number): string => `172.17.0.1 - - [15/Jan/2024:10:32:0${i} +0000] "GET /?awd=de HTTP/1.1" 500 5 "-" "curl/8.4.0" "-"`;
    const entry = [
      '2024/01/15 10:32:05 [error] 29#29: *88661 FastCGI sent in stderr: "PHP message: PHP Fatal error:  Uncaught Exception: TEST in /var/www/src/index.php:19',
      'Stack trace:',
      '#0 /var/www/src/index.php(7): {closure}()',
      '#1 {main}',
      '  thrown in /var/www/src/index.php on line 19" while reading response header from upstream, client: 172.17.0.1, server: localhost, request: "GET /?awd=de HTTP/1.1", upstream: "fastcgi://unix:/run/php/php8.2-fpm.sock:", host: "localhost"',
    ];
    const read = parseLines(nginxMain, [access(1), ...entry, access(2), 'Stack trace:']);
    expect(read.records.map((record) => record.line)).toEqual([1, 7]);
    expect(read.ignored).toBe(entry.length);
    // Once the quote is closed, such a line is malformed again; so is one with no entry open before it.
    expect(read.issues.map((issue) => issue.line)).toEqual([8]);
    expect(parseLines(nginxMain, ['#0 /var/www/src/index.php(7): {closure}()']).issues).toHaveLength(1);
    // An entry that closes its quote on its own line opens nothing.
    const closed = '2024/01/15 10:32:05 [error] 29#29: *3 FastCGI sent in stderr: "Primary script unknown" while reading response header from upstream, client: 172.17.0.1, server: localhost, request: "GET /x.php HTTP/1.1", upstream: "fastcgi://127.0.0.1:9000", host: "localhost"';
    expect(parseLines(nginxMain, [closed, 'Stack trace:']).issues.map((issue) => issue.line)).toEqual([2]);
    // An entry whose quote never closes spills onto 500 lines at most.
    const endless = parseLines(nginxMain, [entry[0]!, ...Array.from({ length: 600 }, (_, i) => `#${i} /var/www/x.php(1): f()`)]);
    expect([endless.ignored, endless.issues.length]).toEqual([501, 100]);
  });

  it('ignores the ingress-nginx controller\'s own lines in `kubectl logs`: klog lines and its start banner', () => {
    const access = '192.168.64.1 - - [07/Feb/2020:11:48:51 +0000] "POST /products HTTP/1.1" 200 59 "-" "curl/7.54.0" 89 0.001 [default-web-8080] [] 172.17.0.5:8080 59 0.000 200 529a007902362a5f51385a5fa7049884';
    expectOtherLinesIgnored(nginxIngress, [
      // DataDog/integrations-core nginx_ingress_controller/assets/logs/nginx-ingress-controller_tests.yaml (BSD-3-Clause).
      'I1221 13:00:58.488494       7 controller.go:202] Initial sync, sleeping for 1 second.',
      // client-go's start-up warning, in klog's header.
      'W0207 11:48:49.101342       8 client_config.go:615] Neither --kubeconfig nor --master was specified.',
      // The banner, as ingress-nginx's version.String() prints it.
      '-'.repeat(79),
      'NGINX Ingress controller',
      '  Release:       v1.9.4',
      '  Build:         846d251814a09d8a5d8d28e2e604bfc7749bcb49',
      '  Repository:    https://github.com/kubernetes/ingress-nginx',
      '  nginx version: nginx/1.21.6',
    ], access, [
      // A klog header without its `file:line] `, a shorter rule, another banner word.
      'I1221 13:00:58.488494       7 Initial sync, sleeping for 1 second.',
      '-'.repeat(78),
      '  Version:       v1.9.4',
    ]);
  });

  it('guesses the API-key variable, or takes the one the user names', () => {
    expect(compileNginxFormat('$msec|$http_x_api_key|$status').keyVariable).toBe('http_x_api_key');
    expect(compileNginxFormat('$msec|$api_client|$status').keyVariable).toBe('api_client');
    expect(compileNginxFormat('$msec|$remote_user|$status', 'remote_user').keyVariable).toBe('remote_user');
    expect(() => compileNginxFormat('$msec|$status', 'http_x_key')).toThrow(LogFormatError);
  });

  it('refuses a format with no time variable: requests could not be placed in time', () => {
    expect(() => compileNginxFormat('$remote_addr $status')).toThrow(/time variable/);
  });

  it('unescapes values of an escape=json format', () => {
    const format = nginxFormat(`log_format j escape=json '{"t":"$msec","s":"$status","ua":"$http_user_agent"}';`);
    const record = onlyProxy(format, '{"t":"1736937121.457","s":"200","ua":"say \\"hi\\" \\\\o/"}');
    expect(record.userAgent).toBe('say "hi" \\o/');
  });

  // Lines from Elastic Beats' filebeat/module/nginx fixtures (Apache-2.0); see test/fixtures/real/.
  it('reads ingress-nginx upstreaminfo lines whose upstream lists hold several attempts, unquoted', () => {
    const retried = '192.168.64.14 - - [07/Feb/2020:12:02:42 +0000] "GET /v2/some HTTP/1.1" 200 61 "-" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.14; rv:72.0) Gecko/20100101 Firefox/72.0" 348 0.001 [default-web2-8080] [] 172.17.0.6:8080, 172.17.0.7:8080 61, 100 0.100, 0.004 200, 203 835136ae24486dbb4156dcbe21f5d402';
    expect(onlyProxy(nginxIngress, retried)).toMatchObject({
      upstreamAddr: '172.17.0.7:8080', upstreamStatus: 203, upstreamTimeMs: 104, upstreamAttempts: 2,
      requestId: '835136ae24486dbb4156dcbe21f5d402', userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10.14; rv:72.0) Gecko/20100101 Firefox/72.0',
      requestTimeMs: 1, status: 200,
    });
    const halfLogged = retried.replace('61, 100 0.100, 0.004 200, 203', '- 0.100, - 200, -');
    expect(onlyProxy(nginxIngress, halfLogged)).toMatchObject({ upstreamStatus: null, upstreamTimeMs: 100, upstreamAttempts: 2 });
    const grouped = retried.replace('172.17.0.6:8080, 172.17.0.7:8080 61, 100 0.100, 0.004 200, 203', '10.0.0.1:80, 10.0.0.2:80 : 10.0.0.3:80 1, 2 : 3 0.010, 0.020 : 0.030 502, 504 : 200');
    expect(onlyProxy(nginxIngress, grouped)).toMatchObject({ upstreamAddr: '10.0.0.3:80', upstreamStatus: 200, upstreamTimeMs: 60, upstreamAttempts: 3 });
    const viaLogFormat = nginxFormat(`log_format upstreaminfo '$remote_addr - $remote_user [$time_local] "$request" '
      '$status $body_bytes_sent "$http_referer" "$http_user_agent" $request_length $request_time [$proxy_upstream_name] '
      '[$proxy_alternative_upstream_name] $upstream_addr $upstream_response_length $upstream_response_time $upstream_status $req_id';`);
    expect(onlyProxy(viaLogFormat, retried)).toMatchObject({ upstreamStatus: 203, upstreamAttempts: 2, requestId: '835136ae24486dbb4156dcbe21f5d402' });
  });

  it('reads a $host and an X-Forwarded-For chain before the client address: host apart, the chain\'s first address as client', () => {
    const lines = [
      'example.com 10.0.0.2, 10.0.0.1, 127.0.0.1 - - [07/Dec/2016:11:05:07 +0100] "GET /ocelot HTTP/1.1" 200 571 "-" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.12; rv:49.0) Gecko/20100101 Firefox/49.0"',
      'example.com:80 "10.5.102.222, 175.16.199.1, 204.246.1.1" 10.2.1.185 - - [22/Jan/2016:13:18:29 +0000] "GET /assets/xxxx?q=100 HTTP/1.1" 200 25507 "-" "Amazon CloudFront"',
      '10.0.0.2, 10.0.0.1, 127.0.0.1 - - [07/Dec/2016:11:05:07 +0100] "GET /ocelot HTTP/1.1" 200 571 "-" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.12; rv:49.0) Gecko/20100101 Firefox/49.0"',
    ];
    const { records, issues } = parseLines(nginxCombined, lines);
    expect(issues).toEqual([]);
    expect(records.map((r) => [(r as ProxyRecord).host, (r as ProxyRecord).clientIp])).toEqual([
      ['example.com', '10.0.0.2'], ['example.com:80', '10.5.102.222'], [null, '10.0.0.2'],
    ]);
  });

  it('takes no RFC 3339 time before the address for a $host: such a line has a prefix nginx did not write', () => {
    const { records, issues } = parseLines(nginxCombined, ['2020-09-13T11:13:47.401738723Z 172.17.0.1 - - [13/Sep/2020:11:13:47 +0000] "GET / HTTP/1.1" 200 612 "-" "curl/8.4.0"']);
    expect(records).toHaveLength(0);
    expect(issues.map((issue) => [issue.code, issue.field])).toEqual([['PARSE_BAD_FIELD', 'remote_addr']]);
  });

  it('takes no syslog header before the address for a $host and a chain: nginx\'s `access_log syslog:` lines are read inside it', () => {
    const access = '203.0.113.24 - - [05/Jan/2025:10:32:01 +0000] "GET / HTTP/1.1" 200 612 "-" "curl/8.4.0"';
    const { records, issues } = parseLines(nginxCombined, [`Jan  5 10:32:01 web1 nginx: ${access}`, `Jan  5 10:32:01 web1 nginx[1042]: ${access}`]);
    expect(records).toHaveLength(0);
    expect(issues.map((issue) => [issue.code, issue.field])).toEqual([['PARSE_BAD_FIELD', 'remote_addr'], ['PARSE_BAD_FIELD', 'remote_addr']]);
  });

  describe('key=value pairs after a known format', () => {
    // nginx's blog post's `upstream_time` format: `combined`, then four timings with no space before them.
    const blog = (ua: string, times: string) => `172.19.0.1 - - [04/Sep/2020:17:20:55 +0000] "GET /myapp/index HTTP/1.1" 200 5 "-" "${ua}"${times}`;

    it('reads the request and upstream times, and the upstream answer they imply, with or without a space before them', () => {
      for (const line of [blog('curl/7.64.1', 'rt=0.013 uct="0.000" uht="0.012" urt="0.013"'), blog('curl/7.64.1', ' rt=0.013 uct="0.000" uht="0.012" urt="0.013"')]) {
        const { records, issues, warnings } = parseLines(nginxCombined, [line]);
        expect(issues).toEqual([]);
        expect(records[0]).toMatchObject({
          userAgent: 'curl/7.64.1', status: 200, requestTimeMs: 13, upstreamConnectTimeMs: 0, upstreamHeaderTimeMs: 12, upstreamTimeMs: 13,
          upstreamAttempts: 1, upstreamLogged: true, upstreamStatus: 200, endMs: Date.UTC(2020, 8, 4, 17, 20, 55), startMs: Date.UTC(2020, 8, 4, 17, 20, 55) - 13,
        });
        expect(warnings[0]!.message).toContain('read from it: $request_time, $upstream_connect_time, $upstream_header_time, $upstream_response_time');
      }
    });

    it('tells a request nginx answered alone (every upstream value "-") from a client that left before the answer', () => {
      const local = parseLines(nginxCombined, [blog('-', 'rt=0.000 uct="-" uht="-" urt="-"').replace(' 200 ', ' 503 ')]).records[0] as ProxyRecord;
      expect(local).toMatchObject({ status: 503, upstreamLogged: true, upstreamStatus: null, upstreamAttempts: 0, upstreamTimeMs: null });
      const left = parseLines(nginxCombined, [blog('-', 'rt=5.001 uct="0.000" uht="-" urt="5.001"').replace(' 200 ', ' 499 ')]).records[0] as ProxyRecord;
      expect(left).toMatchObject({ status: 499, clientClosed: true, upstreamStatus: null, upstreamTimeMs: 5001 });
    });

    it('reads the bare times of nginx\'s wiki `timed_combined` ($request_time $upstream_response_time $pipe), and no other bare numbers', () => {
      const line = (tail: string) => `66.249.71.173 - - [08/Nov/2010:14:16:18 -0600] "GET /blog/ HTTP/1.1" 200 6569 "-" "Mozilla/5.0 (compatible; Googlebot/2.1)" ${tail}`;
      const read = (tail: string) => parseLines(nginxCombined, [line(tail)]).records[0] as ProxyRecord;
      expect(read('0.640 0.640 .')).toMatchObject({ requestTimeMs: 640, upstreamTimeMs: 640, upstreamLogged: true, upstreamStatus: 200, startMs: Date.UTC(2010, 10, 8, 20, 16, 18) - 640 });
      expect(read('0.013')).toMatchObject({ requestTimeMs: 13, upstreamLogged: false });
      expect(read('5.001 -').upstreamTimeMs).toBeNull();
      expect(read('5.001 -')).toMatchObject({ requestTimeMs: 5001, upstreamLogged: true, upstreamStatus: null });
      // A byte count, a time with two decimals, or a fourth word: nothing is taken.
      for (const tail of ['412', '0.64', '0.640 0.640 . 77', '0.640 abc']) expect(read(tail)).toMatchObject({ requestTimeMs: null, upstreamTimeMs: null });
    });

    it('never lets a pair overwrite a field the format reads, and leaves unknown keys and refused values out', () => {
      const timed = nginxFormat('$remote_addr [$time_local] "$request" $status $request_time');
      const [record] = parseLines(timed, ['10.0.0.9 [15/Jan/2025:10:32:01 +0000] "GET /a HTTP/1.1" 200 0.105 rt=9.999 ua="10.0.0.1:80" urt=oops cs=HIT host=api.example.com']).records as ProxyRecord[];
      expect(record).toMatchObject({ requestTimeMs: 105, upstreamTimeMs: null, upstreamAddr: null, host: 'api.example.com', upstreamLogged: false, upstreamStatus: null });
      // A word that is no pair, before pairs: the pairs after it are still read.
      const [after] = parseLines(nginxCombined, ['10.0.0.9 - - [15/Jan/2025:10:32:01 +0000] "GET /a HTTP/1.1" 200 5 "-" "curl/8.5.0" MISS rt=0.105 urt=0.104']).records as ProxyRecord[];
      expect(after).toMatchObject({ requestTimeMs: 105, upstreamTimeMs: 104 });
    });

    it('reads any text after the format without throwing, and never changes what the format itself read', () => {
      const base = '10.0.0.9 - - [15/Jan/2025:10:32:01 +0000] "GET /a HTTP/1.1" 200 5 "-" "curl/7.68.0"';
      const [plain] = parseLines(nginxCombined, [base]).records as ProxyRecord[];
      fc.assert(fc.property(fc.string({ unit: fc.constantFrom('r', 't', 'u', '=', '"', ' ', '-', '0', '.', '5', ',', ':', 'x', '\\') , maxLength: 60 }), (tail) => {
        const { records, issues } = parseLines(nginxCombined, [`${base} ${tail}`]);
        expect(issues).toEqual([]);
        const record = records[0] as ProxyRecord;
        expect([record.status, record.path, record.clientIp, record.endMs, record.userAgent]).toEqual([plain!.status, plain!.path, plain!.clientIp, plain!.endMs, plain!.userAgent]);
      }));
    });
  });

  it('keeps text after the last known field out of the user agent and warns once per file, with an example', () => {
    const line = '10.0.0.9 - - [15/Jan/2025:10:32:01 +0000] "GET /a HTTP/1.1" 200 5 "-" "curl/7.68.0" rt=0.105 ua="x y"';
    const { records, warnings, issues } = parseLines(nginxCombined, [line, line, line]);
    expect(issues).toEqual([]);
    expect(records.map((r) => (r as ProxyRecord).userAgent)).toEqual(['curl/7.68.0', 'curl/7.68.0', 'curl/7.68.0']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toContain('rt=0.105 ua="x y"');
  });
});
