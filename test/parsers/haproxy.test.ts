import { describe, expect, it } from 'vitest';
import { haproxy, haproxyCaptureLayout, haproxyFormat } from '../../parsers/haproxy.js';
import type { ProxyRecord } from '../../src/model/records.js';
import { onlyProxy, parseLines } from './parse-lines.js';

// docs/formats.md, HAProxy: [%tr] = START (local time, ms, read as UTC); timers in ms with -1.
const OK = '203.0.113.24:53122 [15/Jan/2025:10:32:01.373] fe_api~ be_api/app3 0/0/1/81/84 200 2101 - - ---- 312/298/41/12/0 0/0 "GET /v1/orders?limit=20 HTTP/1.1"';
const START = Date.UTC(2025, 0, 15, 10, 32, 1, 373);

describe('haproxy', () => {
  it('maps an httplog line without syslog prefix', () => {
    const record = onlyProxy(haproxy, OK);
    expect(record).toMatchObject({
      format: 'haproxy', startMs: START, endMs: START + 84, timeResolutionMs: 1, requestTimeMs: 84,
      method: 'GET', path: '/v1/orders', query: 'limit=20', status: 200, bytesSent: 2101,
      upstreamLogged: true, upstreamStatus: 200, upstreamTimeMs: 81, upstreamHeaderTimeMs: 81, upstreamConnectTimeMs: 1,
      upstreamAddr: 'be_api/app3', upstreamAttempts: 1, clientIp: '203.0.113.24', flags: null, clientClosed: false,
    });
  });

  it('reads the formats.md syslog example: sH, Tr = -1 means no upstream answer; the server had the request for the rest of Ta', () => {
    const record = onlyProxy(haproxy, haproxy.example);
    // 0/0/1/-1/30004: Ta less the request (TR 0), the queue (Tw 0) and the connect (Tc 1).
    expect(record).toMatchObject({
      startMs: Date.UTC(2025, 0, 15, 10, 31, 31, 901), requestTimeMs: 30004, status: 504, flags: 'sH--',
      upstreamStatus: null, upstreamHeaderTimeMs: null, upstreamTimeMs: 30003, upstreamConnectTimeMs: 1, clientClosed: false, clientIp: '198.51.100.7',
    });
  });

  it('counts a hang-up before the answer (CH, Tr = -1) as the server\'s time until then, as nginx\'s $upstream_response_time does', () => {
    const record = onlyProxy(haproxy, OK.replace('0/0/1/81/84 200', '3/2/1/-1/12000 -1').replace('----', 'CH--'));
    expect(record).toMatchObject({ clientClosed: true, upstreamStatus: null, upstreamTimeMs: 12000 - 3 - 2 - 1 });
    // Never connected (Tc -1): no server time at all.
    expect(onlyProxy(haproxy, OK.replace('0/0/1/81/84 200', '0/0/-1/-1/3001 503').replace('----', 'sC--')).upstreamTimeMs).toBeNull();
  });

  it('maps CH (client aborted while waiting) to clientClosed, tolerating status -1', () => {
    const record = onlyProxy(haproxy, OK.replace('0/0/1/81/84 200', '0/0/1/-1/12000 -1').replace('----', 'CH--'));
    expect(record).toMatchObject({ clientClosed: true, status: null, upstreamStatus: null, flags: 'CH--', requestTimeMs: 12000 });
  });

  it('maps a client timeout (cR) to clientClosed', () => {
    const record = onlyProxy(haproxy, OK.replace('0/0/1/81/84 200', '-1/-1/-1/-1/5001 408').replace('be_api/app3', 'be_api/<NOSRV>').replace('----', 'cR--'));
    expect(record.clientClosed).toBe(true);
  });

  it('maps <NOSRV> to no upstream at all', () => {
    const record = onlyProxy(haproxy, OK.replace('be_api/app3 0/0/1/81/84 200', 'be_api/<NOSRV> 0/-1/-1/-1/0 503').replace('----', 'SC--'));
    expect(record).toMatchObject({
      status: 503, upstreamStatus: null, upstreamAddr: null, upstreamAttempts: 0, upstreamConnectTimeMs: null, upstreamTimeMs: null, flags: 'SC--',
    });
  });

  it('maps an applet that answered in place of a server (the stats page, the cache) to no upstream either', () => {
    // nagiosplugin's real log (test/fixtures/real-logs): the stats page polled from localhost.
    const stats = 'Aug  5 00:53:00 localhost haproxy[374]: 127.0.0.1:56003 [05/Aug/2012:00:53:00.936] http stats/<STATS> 0/-1/-1/-1/0 200 18928 - - PR-- 0/0/0/0/0 0/0 "GET /admin/stats HTTP/1.1"';
    for (const line of [stats, OK.replace('be_api/app3 0/0/1/81/84', 'be_api/<CACHE> 0/0/0/0/1')]) {
      expect(onlyProxy(haproxy, line), line).toMatchObject({ status: 200, upstreamStatus: null, upstreamAddr: null, upstreamAttempts: 0, upstreamTimeMs: null });
    }
  });

  it('counts retries and reads IPv6 clients', () => {
    const record = onlyProxy(haproxy, OK.replace('203.0.113.24:53122', '2001:db8::7:443').replace('312/298/41/12/0', '312/298/41/12/+1'));
    expect(record.clientIp).toBe('2001:db8::7');
    expect(record.upstreamAttempts).toBe(2);
  });

  it('skips header captures that contain spaces, and keeps <BADREQ> pathless', () => {
    const captured = onlyProxy(haproxy, OK.replace('0/0 "GET', '0/0 {api.example.com|Mozilla/5.0 (X11; Linux x86_64)} {} "GET'));
    expect(captured.path).toBe('/v1/orders');
    const bad = onlyProxy(haproxy, OK.replace('"GET /v1/orders?limit=20 HTTP/1.1"', '"<BADREQ>"').replace('----', 'PR--'));
    expect(bad.method).toBeNull();
    expect(bad.path).toBeNull();
  });

  it('accepts logasap totals (+Ta)', () => {
    expect(onlyProxy(haproxy, OK.replace('/84 200', '/+84 200')).requestTimeMs).toBe(84);
  });

  it('reports malformed lines with code and field', () => {
    const { records, issues, ignored } = parseLines(haproxy, [
      OK.replace('0/0/1/81/84', '0/0/1/81'),
      OK.replace('0/0/1/81/84', '0/0/x/81/84'),
      OK.replace('15/Jan/2025:10:32:01.373', '15/Jan/2025:10:99:01.373'),
      'Jan 15 10:32:01 lb1 haproxy[2211]: Proxy fe_api started yesterday',
      OK.slice(0, OK.indexOf(' "GET')),
      '203.0.113.24:53122 [15/Jan/2025:10:32:01.373] fe_api be_api/app3 0/1/84 2101 -- 3/2/1/0/0 0/0 extra',
      '',
    ]);
    expect(records).toHaveLength(0);
    expect(ignored).toBe(1);
    expect(issues.map((issue) => [issue.code, issue.field])).toEqual([
      ['PARSE_NO_MATCH', 'TR/Tw/Tc/Tr/Ta'],
      ['PARSE_BAD_FIELD', 'Tc'],
      ['PARSE_BAD_TIMESTAMP', 'tr'],
      ['PARSE_NO_MATCH', 'tr'],
      ['PARSE_NO_MATCH', 'r'],
      ['PARSE_NO_MATCH', 'r'],
    ]);
  });

  it('ignores the other lines HAProxy writes to the same log: its own messages, TCP sessions, connection errors', () => {
    const lines = [
      // Process messages, behind RFC 3164 and RFC 5424 headers and alone (lnav's samples and HAProxy's sources).
      'Feb 26 10:07:24 192.168.8.2 haproxy[1]: Proxy prod_http_in started.',
      'Feb 26 10:00:47 192.168.8.2 haproxy[7]: Stopping frontend prod_http_in in 0 ms.',
      'Feb 26 10:00:47 192.168.8.2 haproxy[7]: Proxy prod_http_in stopped (FE: 847876 conns, BE: 0 conns).',
      '<132>1 2025-01-15T10:32:01.123+01:00 lb1 haproxy 2211 - - Proxy fe_api stopped (cumulated conns: FE: 12, BE: 0).',
      'Pausing frontend fe_api.',
      'Jan 15 10:32:01 lb1 haproxy[2211]: Server be_api/app3 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms. 0 active and 0 backup servers left.',
      'Jan 15 10:32:01 lb1 haproxy[2211]: backend be_api has no server available!',
      'Jan 15 10:32:01 lb1 haproxy[2211]: Health check for server be_api/app3 failed, reason: Layer7 wrong status, code: 500',
      'Feb 19 04:11:57 debian11 haproxy[4436]: [NOTICE] 049/041157 (4436) : path to executable is /usr/sbin/haproxy',
      'Jan 21 10:43:56 nl12s0204 haproxy[137260]: Connect from 188.207.249.162:53412 to 77.222.80.71:80 (lb_http_oa_vip/HTTP)',
      // option tcplog, and a TLS handshake that failed before any request.
      'Feb 26 23:16:16 192.168.8.2 haproxy[7]: 178.203.144.192:50210 [26/Feb/2019:23:16:15.321] prod_ssh_in prod_ssh_out/ssh1 1/1/861 1485 -- 2/1/0/0/0 0/0',
      '10.0.1.2:33313 [06/Feb/2009:12:12:51.443] fnt bck/srv1 34/56/+5007 +212 sD 1/3/6/8/+13 15/17',
      'Feb 26 23:08:47 192.168.8.2 haproxy[7]: 178.203.144.192:50210 [26/Feb/2019:23:08:47.266] prod_http_in/slsp: Connection closed during SSL handshake',
      // A stream offload agent's line (efigence/go-haproxy t-data/haproxy_log_spoa, MIT, df83141c37f21ba0a02429c47746d6fbc850f461).
      '<156>Aug 12 13:18:51 haproxy[1806]: SPOE: [hauth] <EVENT:on-frontend-http-request> sid=3 st=2 -1/-1/-1/-1/0 0/0 0/0 4/4',
      OK,
    ];
    const { records, issues, ignored } = parseLines(haproxy, lines);
    expect(issues).toEqual([]);
    expect(ignored).toBe(lines.length - 1);
    expect(records).toHaveLength(1);
  });

  it('reads a line HAProxy cut at its 1024-byte log length inside the request: every field before it whole, the path as far as it goes, one warning', () => {
    // efigence/go-haproxy t-data/haproxy_log line 18 (MIT, df83141c37f21ba0a02429c47746d6fbc850f461): 1,002 characters, no closing quote.
    const cut = "<142>Jul 28 14:54:23 haproxy[28380]: 127.0.0.1:20487 [28/Jul/2015:14:54:23.001] front_front1 backend_foobar/srv2-backend 0/0/0/258/259 200 2284 - - ---- 25/10/7/0/0 0/0 \"GET /film/Laura-1944-35824/contribute/photos?elementIdsToUpdate=585875&elementIdsToUpdate=585876&elementIdsToUpdate=585877&elementIdsToUpdate=585878&elementIdsToUpdate=585879&elementIdsToUpdate=585880&elementIdsToUpdate=585881&elementIdsToUpdate=585882&elementIdsToUpdate=585883&elementIdsToUpdate=585884&elementIdsToUpdate=585885&elementIdsToUpdate=585886&elementIdsToUpdate=585887&elementIdsToUpdate=585888&elementIdsToUpdate=585889&elementIdsToUpdate=585890&elementIdsToUpdate=585891&elementIdsToUpdate=585892&elementIdsToUpdate=585893&elementIdsToUpdate=585894&elementIdsToUpdate=585895&elementIdsToUpdate=585896&elementIdsToUpdate=585897&elementIdsToUpdate=585898&elementIdsToUpdate=585899&elementIdsToUpdate=585900&elementIdsToUpdate=585901&elementIdsToUpdate=585902&elementIdsToUpdate=585903&elementIdsToUpdate=585904&element";
    // logstash-plugins/logstash-patterns-core spec/patterns/haproxy_spec.rb (Apache-2.0, 8381e7a5d5731d81b94bc2649710aae1a43478c3), shortened here.
    const cutEarly = 'Jul 31 22:20:22 loadbalancer haproxy[1190]: 203.0.113.54:59968 [31/Jul/2017:22:20:22.447] loadbalancer default/instance8 135/0/1/19/156 200 1015 - - --VR 8/8/0/0/0 0/0 "GET /path/to/request/that/exceeds/more/than/1024/charactersssss';
    const { records, issues, warnings } = parseLines(haproxy, [cut, OK, cutEarly]);
    expect(issues).toEqual([]);
    expect(records).toHaveLength(3);
    expect(records[0]).toMatchObject({
      startMs: Date.UTC(2015, 6, 28, 14, 54, 23, 1), requestTimeMs: 259, status: 200, upstreamStatus: 200, upstreamAddr: 'backend_foobar/srv2-backend',
      method: 'GET', path: '/film/Laura-1944-35824/contribute/photos', clientIp: '127.0.0.1',
    });
    expect((records[0] as ProxyRecord).query!.endsWith('&element')).toBe(true);
    expect(records[2]).toMatchObject({ method: 'GET', path: '/path/to/request/that/exceeds/more/than/1024/charactersssss', query: null, requestTimeMs: 156 });
    expect(warnings.map((warning) => [warning.code, warning.line])).toEqual([['PARSE_TRUNCATED', 1]]);
    // A line with no request at all after its fields is still malformed.
    expect(parseLines(haproxy, [OK.slice(0, OK.indexOf('"'))]).issues).toHaveLength(1);
  });

  it('honours the zone of an RFC 5424 syslog header ([%tr] has none), and --timezone when the header has none either', () => {
    const rfc5424 = `<134>1 2025-01-15T11:32:01.480+01:00 lb1 haproxy 2211 - - ${OK.replace('10:32:01.373', '11:32:01.373')}`;
    expect(onlyProxy(haproxy, rfc5424).startMs).toBe(START);
    const rfc3164 = `Jan 15 11:32:01 lb1 haproxy[2211]: ${OK.replace('10:32:01.373', '11:32:01.373')}`;
    const parse = (zone?: string): number => {
      const records: number[] = [];
      haproxy.createParser({ file: 'x', timeZone: zone }).line(rfc3164, 1, { record: (r) => records.push((r as { startMs: number }).startMs), issue: () => {}, ignore: () => {}, warn: () => {} });
      return records[0]!;
    };
    expect(parse()).toBe(START + 3_600_000);
    expect(parse('Europe/Paris')).toBe(START);
    expect(parse('+01:00')).toBe(START);
    // The header's own zone wins over --timezone.
    const records: number[] = [];
    haproxy.createParser({ file: 'x', timeZone: 'America/New_York' }).line(rfc5424, 1, { record: (r) => records.push((r as { startMs: number }).startMs), issue: () => {}, ignore: () => {}, warn: () => {} });
    expect(records).toEqual([START]);
  });

  it('reads option httpslog (2.5+): the TLS words after the request, the SNI as host', () => {
    // The example line of HAProxy Enterprise's logging documentation (HAPROXY_HTTPS_LOG_FMT).
    const line = 'Feb  6 12:14:14 localhost hapee-lb[3098]: 192.168.50.1:61818 [27/Jan/2021:21:52:56.086] fe_main be_servers/s1 0/0/1/1/2 200 517 - - ---- 1/1/0/0/0 0/0 {1wt.eu} {} "GET / HTTP/1.1" 0/0/0/0/0 1wt.eu/TLSv1.3/TLS_AES_256_GCM_SHA384';
    expect(onlyProxy(haproxy, line)).toMatchObject({ status: 200, path: '/', host: '1wt.eu', requestTimeMs: 2 });
    expect(parseLines(haproxy, [`${line} extra`]).issues[0]).toMatchObject({ field: 'r' });
  });

  it('never guesses header captures silently: the assumed layout is warned about once, and a capture that is no host is not read', () => {
    // lnav's test/logfile_haproxy.0 (BSD-2-Clause): this frontend captures the user agent first.
    const userAgentFirst = 'Feb 25 16:19:49 192.168.4.2 haproxy[7]: 141.35.244.171:53332 [25/Feb/2019:16:19:48.143] prod_http_in~ bk_admin/nginx_sonst 0/0/7/1457/1487 200 11394 - - ---- 2/1/0/0/0 0/0 {Mozilla/5.0 (Windows NT 6.1; Win64; x64; rv:65.0) Gecko/20100101 Firefox/65.0} {} "GET /admin/colt/administration HTTP/1.1"';
    const misfit = parseLines(haproxy, [userAgentFirst, userAgentFirst]);
    expect(misfit.records.map((r) => [(r as { host: string | null }).host, (r as { userAgent: string | null }).userAgent])).toEqual([[null, null], [null, null]]);
    expect(misfit.warnings).toHaveLength(1);
    expect(misfit.warnings[0]).toMatchObject({ code: 'PARSE_SUSPECT_CAPTURES', line: 1 });
    expect(misfit.warnings[0]!.message).toContain('is no host name');
    // Elastic Beats' filebeat/module/haproxy fixture (Apache-2.0): a host first, read by the assumed layout, said so.
    const hostFirst = 'Jul 30 09:03:52 localhost haproxy[32450]: 1.2.3.4:38862 [30/Jul/2018:09:03:52.726] incoming~ docs_microservice/docs 0/0/1/0/2 304 168 - - ---- 6/6/0/0/0 0/0 {docs.example.internal||} {|||} "GET /component---src-pages-index-js-4b15624544f97cf0bb8f.js HTTP/1.1"';
    const assumed = parseLines(haproxy, [hostFirst]);
    expect(assumed.records[0]).toMatchObject({ host: 'docs.example.internal' });
    expect(assumed.warnings[0]!.message).toContain('assumed layout');
    // With the frontend's haproxy.cfg, the captures are named and nothing is assumed.
    const configured = haproxyFormat(haproxyCaptureLayout('frontend prod_http_in\n  capture request header User-Agent len 128\n'));
    const named = parseLines(configured, [userAgentFirst]);
    expect(named.warnings).toEqual([]);
    expect(named.records[0]).toMatchObject({ userAgent: 'Mozilla/5.0 (Windows NT 6.1; Win64; x64; rv:65.0) Gecko/20100101 Firefox/65.0', host: null });
  });
});
