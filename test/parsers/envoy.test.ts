import { describe, expect, it } from 'vitest';
import { envoy } from '../../parsers/envoy.js';
import { onlyProxy, parseLines } from './parse-lines.js';

// docs/formats.md, Envoy (the default format, its flags and units).
const OK = '[2025-01-15T10:32:01.373Z] "GET /v1/orders?limit=20 HTTP/1.1" 200 - 0 1834 84 81 "203.0.113.24" "okhttp/4.12.0" "9b3c1e7a-6f0d-4c2e-8a51-2f7d0c9e4b11" "api.example.com" "10.0.3.17:8080"';
const TIMEOUT = '[2025-01-15T10:31:31.901Z] "POST /v1/reports HTTP/1.1" 504 UT 612 24 15001 - "198.51.100.7" "python-requests/2.31.0" "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f" "api.example.com" "10.0.3.17:8080"';
const CLOSED = '[2025-01-15T10:33:10.002Z] "GET /v1/export HTTP/1.1" 0 DC 0 0 30004 - "198.51.100.9" "curl/8.5.0" "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a" "api.example.com" "10.0.3.18:8080"';
const START = Date.UTC(2025, 0, 15, 10, 32, 1, 373);

describe('envoy', () => {
  it('maps a proxied request: START_TIME is the start, DURATION the client-facing time', () => {
    const record = onlyProxy(envoy, OK);
    expect(record).toMatchObject({
      format: 'envoy', startMs: START, endMs: START + 84, timeResolutionMs: 1, requestTimeMs: 84,
      method: 'GET', path: '/v1/orders', query: 'limit=20', status: 200, flags: null,
      upstreamLogged: true, upstreamStatus: 200, upstreamTimeMs: 81, upstreamAddr: '10.0.3.17:8080', upstreamAttempts: 1,
      clientIp: '203.0.113.24', userAgent: 'okhttp/4.12.0', requestId: '9b3c1e7a-6f0d-4c2e-8a51-2f7d0c9e4b11',
      host: 'api.example.com', bytesSent: 1834, clientClosed: false,
    });
  });

  it('maps UT with no upstream service time to "no upstream answer"', () => {
    const record = onlyProxy(envoy, TIMEOUT);
    expect(record).toMatchObject({ status: 504, flags: 'UT', upstreamStatus: null, upstreamTimeMs: null, clientClosed: false });
  });

  it('maps response code 0 + DC to clientClosed', () => {
    const record = onlyProxy(envoy, CLOSED);
    expect(record).toMatchObject({ status: 0, flags: 'DC', clientClosed: true, upstreamStatus: null, requestTimeMs: 30004 });
  });

  it('treats comma-joined flags UF,URX as no upstream answer even with a service time', () => {
    const record = onlyProxy(envoy, OK.replace('200 - 0 1834 84 81', '503 UF,URX 0 91 3 2'));
    expect(record).toMatchObject({ status: 503, flags: 'UF,URX', upstreamStatus: null, upstreamTimeMs: 2 });
  });

  it('keeps "-" everywhere as null (local reply: no route)', () => {
    const record = onlyProxy(envoy, '[2025-01-15T10:32:01.373Z] "GET /nope HTTP/1.1" 404 NR 0 0 0 - "-" "-" "-" "api.example.com" "-"');
    expect(record).toMatchObject({
      status: 404, flags: 'NR', upstreamStatus: null, upstreamTimeMs: null, upstreamAddr: null, upstreamAttempts: 0,
      clientIp: null, userAgent: null, requestId: null, requestTimeMs: 0,
    });
  });

  it('takes the first X-Forwarded-For element and IPv6 clients', () => {
    const record = onlyProxy(envoy, OK.replace('"203.0.113.24"', '"2001:db8::7, 10.0.0.2"'));
    expect(record.clientIp).toBe('2001:db8::7');
  });

  it('survives an unescaped quote inside the user agent', () => {
    const record = onlyProxy(envoy, OK.replace('"okhttp/4.12.0"', '"Mozilla/5.0 (compatible; "SiteBot"/2.1)"'));
    expect(record.userAgent).toBe('Mozilla/5.0 (compatible; "SiteBot"/2.1)');
    expect(record.requestId).toBe('9b3c1e7a-6f0d-4c2e-8a51-2f7d0c9e4b11');
  });

  it('reports malformed lines with code and field', () => {
    const { records, issues } = parseLines(envoy, [
      OK.replace('2025-01-15T10:32:01.373Z', 'yesterday'),
      OK.replace(' 84 81 ', ' 84 8x1 '),
      OK.replace(' 200 - ', ' OK - '),
      '[2025-01-15T10:32:01.373Z] "GET / HTTP/1.1" 200',
    ]);
    expect(records).toHaveLength(0);
    expect(issues.map((issue) => [issue.code, issue.field])).toEqual([
      ['PARSE_BAD_TIMESTAMP', 'START_TIME'],
      ['PARSE_BAD_FIELD', 'X-ENVOY-UPSTREAM-SERVICE-TIME'],
      ['PARSE_BAD_FIELD', 'RESPONSE_CODE'],
      ['PARSE_NO_MATCH', 'line'],
    ]);
  });
});
