import { describe, expect, it } from 'vitest';
import { nginxJson } from '../../parsers/nginx-json.js';
import { nginxFormat } from '../../parsers/nginx.js';
import { onlyProxy, parseLines } from './parse-lines.js';

// docs/formats.md, nginx: values are nginx variable values (escape=json: "" for not found); time = END.
const END = 1736937121457;

describe('nginx-json', () => {
  it('maps the example through the nginx variable handlers', () => {
    const record = onlyProxy(nginxJson, nginxJson.example);
    expect(record).toMatchObject({
      format: 'nginx-json', endMs: END, startMs: END - 84, timeResolutionMs: 1, requestTimeMs: 84,
      method: 'GET', path: '/v1/orders', query: 'limit=20', status: 200, upstreamLogged: true, upstreamStatus: 200,
      upstreamTimeMs: 83, upstreamConnectTimeMs: 1, upstreamHeaderTimeMs: 81, upstreamAttempts: 1, upstreamAddr: '10.0.3.17:8080',
      clientIp: '203.0.113.24', apiKey: 'key_7H2', requestId: '7bbf528f3944f25005b1a4c8d33e8184', userAgent: 'okhttp/4.12.0',
      bytesSent: 1834, clientClosed: false,
    });
  });

  it('maps 499 with empty upstream status to clientClosed and no upstream answer', () => {
    const record = onlyProxy(nginxJson, JSON.stringify({
      time_local: '15/Jan/2025:10:32:31 +0000', status: '499', request_time: '30.004', upstream_status: '', upstream_response_time: '30.004',
      upstream_addr: '10.0.3.17:8080', request: 'POST /v1/reports HTTP/1.1',
    }));
    expect(record).toMatchObject({
      clientClosed: true, upstreamStatus: null, upstreamTimeMs: 30004, timeResolutionMs: 1000,
      endMs: Date.UTC(2025, 0, 15, 10, 32, 31), startMs: Date.UTC(2025, 0, 15, 10, 32, 31) - 30004,
    });
  });

  it('sums multiple upstream attempts and keeps the last status and address', () => {
    const record = onlyProxy(nginxJson, JSON.stringify({
      msec: '1736937121.457', status: '200', request_time: '0.096', upstream_status: '502, 200',
      upstream_response_time: '0.001, 0.090', upstream_connect_time: '-, 0.001', upstream_addr: '10.0.3.16:8080, 10.0.3.17:8080',
    }));
    expect(record).toMatchObject({ upstreamStatus: 200, upstreamTimeMs: 91, upstreamAttempts: 2, upstreamAddr: '10.0.3.17:8080', upstreamConnectTimeMs: 1 });
  });

  it('maps common key names (time, method, uri, ua) and unquoted numbers', () => {
    const record = onlyProxy(nginxJson, JSON.stringify({
      time: '2025-01-15T10:32:01+00:00', method: 'GET', uri: '/v1/search?q=caf%C3%A9', status: 200, request_time: 0.131,
      ua: 'Mozilla/5.0 (compatible; "SiteBot"/2.1)', remote_addr: '2001:db8::7', traceparent: '00-491e743b1be0164f3055415f2cb2f8d0-edeed8f67ed0c810-01',
    }));
    expect(record).toMatchObject({
      endMs: Date.UTC(2025, 0, 15, 10, 32, 1), method: 'GET', path: '/v1/search', query: 'q=caf%C3%A9', status: 200, requestTimeMs: 131,
      userAgent: 'Mozilla/5.0 (compatible; "SiteBot"/2.1)', clientIp: '2001:db8::7', traceId: '491e743b1be0164f3055415f2cb2f8d0',
      upstreamLogged: false,
    });
  });

  it('reads a generic time key a shipper rewrote in RFC 3339 (Z, a fraction), as well as nginx\'s own $time_iso8601', () => {
    const at = (time: string): ReturnType<typeof onlyProxy> => onlyProxy(nginxJson, JSON.stringify({ time, status: '200', request: 'GET / HTTP/1.1' }));
    expect(at('2025-01-15T10:32:01+00:00')).toMatchObject({ endMs: Date.UTC(2025, 0, 15, 10, 32, 1), timeResolutionMs: 1000 });
    expect(at('2025-01-15T10:32:01Z')).toMatchObject({ endMs: Date.UTC(2025, 0, 15, 10, 32, 1), timeResolutionMs: 1000 });
    expect(at('2025-01-15T11:32:01.457+01:00')).toMatchObject({ endMs: Date.UTC(2025, 0, 15, 10, 32, 1, 457), timeResolutionMs: 1 });
    expect(parseLines(nginxJson, [JSON.stringify({ time: '2025-01-15Tlater', status: '200' })]).issues.map((i) => i.code)).toEqual(['PARSE_BAD_TIMESTAMP']);
  });

  it('takes $msec over a time to the second in the same line, whichever key comes first', () => {
    const msec = '1535473131.906';
    const iso = '2018-08-28T16:18:51+00:00';
    const expected = { endMs: 1535473131906, timeResolutionMs: 1 };
    expect(onlyProxy(nginxJson, JSON.stringify({ msec, time_iso8601: iso, status: 200 }))).toMatchObject(expected);
    expect(onlyProxy(nginxJson, JSON.stringify({ time_iso8601: iso, msec, status: 200 }))).toMatchObject(expected);
    // The same for a generic time key a shipper rewrote in RFC 3339, to the second.
    expect(onlyProxy(nginxJson, JSON.stringify({ msec, time: '2018-08-28T16:18:51Z', status: 200 }))).toMatchObject(expected);
    // A text log_format the same way round.
    const text = nginxFormat('$msec [$time_local] "$request" $status');
    expect(onlyProxy(text, `${msec} [28/Aug/2018:16:18:51 +0000] "GET / HTTP/1.1" 200`)).toMatchObject(expected);
  });

  it('keeps a TLS handshake sent to a plain port as a request without method or path (its bytes are no request line)', () => {
    const handshake = onlyProxy(nginxJson, JSON.stringify({ time_iso8601: '2026-01-25T17:16:41+07:00', request: '\u0016\u0003\u0001\u0007\u0012 \u00fc\u0003 ab', status: 400 }));
    expect(handshake).toMatchObject({ status: 400, method: null, path: null });
    const text = onlyProxy(nginxFormat('$remote_addr [$time_local] "$request" $status'), '192.0.2.8 [25/Jan/2026:17:16:41 +0700] "\\x16\\x03\\x01\\x00 \\xFC\\x03" 400');
    expect(text).toMatchObject({ status: 400, method: null, path: null });
    // Methods are tokens: WebDAV's and custom ones stay.
    expect(onlyProxy(nginxJson, JSON.stringify({ time_iso8601: '2026-01-25T17:16:41+07:00', request: 'PROPFIND /dav/ HTTP/1.1', status: 207 }))).toMatchObject({ method: 'PROPFIND', path: '/dav/' });
  });

  it('reads `date` as a time key and `referrer` as the referer, as in Matomo\'s suggested nginx JSON log_format', () => {
    // matomo-org/matomo-log-analytics README: log_format matomo '{"ip": "$remote_addr", … "referrer": "$http_referer", … "date": "$time_iso8601"}'.
    const record = onlyProxy(nginxJson, JSON.stringify({ ip: '1.2.3.4', host: 'www.example.org', path: '/a?b=1', status: '200', referrer: 'http://x/', user_agent: 'curl/8', length: 886, generation_time_milli: 0.05, date: '2013-10-10T16:52:00+02:00' }));
    expect(record).toMatchObject({ endMs: Date.UTC(2013, 9, 10, 14, 52), status: 200, path: '/a', clientIp: '1.2.3.4', userAgent: 'curl/8' });
  });

  it('treats "" and "-" as missing, never 0', () => {
    const record = onlyProxy(nginxJson, JSON.stringify({
      msec: '1736937121.457', status: '404', request_time: '0.000', upstream_status: '-', upstream_response_time: '', upstream_addr: '', http_user_agent: '',
    }));
    expect(record).toMatchObject({ upstreamStatus: null, upstreamTimeMs: null, upstreamAddr: null, userAgent: null, upstreamAttempts: 0 });
  });

  it('ignores keys named like Object.prototype members', () => {
    const record = onlyProxy(nginxJson, '{"msec":"1736937121.457","status":"200","constructor":"x","toString":"y","__proto__":"z","valueOf":"1"}');
    expect(record.status).toBe(200);
  });

  it('honours keyField', () => {
    const record = onlyProxy(nginxJson, JSON.stringify({ msec: '1736937121.457', status: '200', consumer_name: 'acme' }), 'consumer_name');
    expect(record.apiKey).toBe('acme');
  });

  it('reports malformed lines with code and field', () => {
    const { records, issues } = parseLines(nginxJson, [
      '[]', '{"msec":', JSON.stringify({ msec: 'soon', status: '200' }), JSON.stringify({ msec: '1736937121.457', status: '20' }),
      JSON.stringify({ msec: '1736937121.457', status: '200', request_time: { s: 1 } }), JSON.stringify({ status: '200' }),
    ]);
    expect(records).toHaveLength(0);
    expect(issues.map((issue) => [issue.code, issue.field])).toEqual([
      ['PARSE_BAD_JSON', null], ['PARSE_BAD_JSON', null], ['PARSE_BAD_TIMESTAMP', 'msec'], ['PARSE_BAD_FIELD', 'status'],
      ['PARSE_BAD_FIELD', 'request_time'], ['PARSE_NO_MATCH', 'time'],
    ]);
  });
});
