import { describe, expect, it } from 'vitest';
import { tyk } from '../../parsers/tyk.js';
import { expectOtherLinesIgnored, onlyProxy, parseLines } from './parse-lines.js';

// docs/formats.md, Tyk: timestamp ≈ END; request_time / latency.* in ms; api_key or alias = identity.
const BASE = JSON.parse(tyk.example) as Record<string, unknown>;
const line = (patch: Record<string, unknown>): string => JSON.stringify({ ...BASE, ...patch });
const END = Date.UTC(2025, 0, 15, 10, 32, 1, 457);

describe('tyk', () => {
  it('ignores the gateway\'s and pump\'s own log lines (logrus, text or JSON) on the records\' stream', () => {
    expectOtherLinesIgnored(tyk, [
      'time="Jan 15 10:32:00" level=info msg="Init Pump: stdout" prefix=main',
      '{"level":"info","msg":"Purged 12 records...","prefix":"stdout-pump","time":"2025-01-15T10:32:01Z"}',
    ], tyk.example, ['time="Jan 15 10:32:00" level=chatty msg="x"', '{"msg":"Purged 12 records..."}']);
  });

  it('maps the example: start = timestamp − request_time', () => {
    const record = onlyProxy(tyk, tyk.example);
    expect(record).toMatchObject({
      format: 'tyk', endMs: END, startMs: END - 84, timeResolutionMs: 1, requestTimeMs: 84,
      method: 'GET', path: '/v1/orders', query: 'limit=20', host: 'api.example.com', status: 200,
      upstreamLogged: true, upstreamStatus: 200, upstreamTimeMs: 81, upstreamAttempts: 1,
      clientIp: '203.0.113.24', userAgent: 'okhttp/4.12.0', apiKey: '5d1e3f0a9b8c7d6e00a1b2c3', clientClosed: false,
    });
  });

  it('maps 499 (context cancelled) to clientClosed with no upstream answer', () => {
    const record = onlyProxy(tyk, line({ response_code: 499, request_time: 12000, latency: { total: 12000, upstream: 0 } }));
    expect(record).toMatchObject({ clientClosed: true, upstreamStatus: null, upstreamTimeMs: null, requestTimeMs: 12000 });
  });

  it('maps a hard timeout without upstream latency to no upstream answer', () => {
    const record = onlyProxy(tyk, line({ response_code: 504, request_time: 30000, latency: { total: 30000, upstream: 0 } }));
    expect(record).toMatchObject({ status: 504, upstreamStatus: null, upstreamAttempts: 0, clientClosed: false });
  });

  it('falls back to alias when api_key is empty, and reads Go-style names', () => {
    expect(onlyProxy(tyk, line({ api_key: '' })).apiKey).toBe('acme-mobile');
    const goNames = onlyProxy(tyk, JSON.stringify({
      Method: 'POST', Path: '/orders', RawPath: '/v1/orders', ResponseCode: 201, APIKey: 'k-1', TimeStamp: '2025-01-15T10:32:01Z',
      RequestTime: 2412, Latency: { Total: 2412, Upstream: 2405 }, IPAddress: '2001:db8::7', UserAgent: 'okhttp/4.12.0',
    }));
    expect(goNames).toMatchObject({
      status: 201, apiKey: 'k-1', path: '/v1/orders', timeResolutionMs: 1000, upstreamTimeMs: 2405, clientIp: '2001:db8::7',
      endMs: Date.UTC(2025, 0, 15, 10, 32, 1), startMs: Date.UTC(2025, 0, 15, 10, 32, 1) - 2412,
    });
  });

  it('reports malformed lines with code and field', () => {
    const { records, issues } = parseLines(tyk, [
      line({ timestamp: '15/Jan/2025:10:32:01' }), line({ response_code: 'OK' }), line({ request_time: -5 }), '"text"', JSON.stringify({ status: 200 }),
    ]);
    expect(records).toHaveLength(0);
    expect(issues.map((issue) => [issue.code, issue.field])).toEqual([
      ['PARSE_BAD_TIMESTAMP', 'timestamp'], ['PARSE_BAD_FIELD', 'response_code'], ['PARSE_BAD_FIELD', 'request_time'],
      ['PARSE_BAD_JSON', null], ['PARSE_NO_MATCH', 'response_code'],
    ]);
  });

  it('reads the stdout pump\'s logrus lines, the record under tyk-analytics-record', () => {
    const logged = JSON.stringify({ level: 'info', msg: '', time: '2025-01-15T10:32:02Z', 'tyk-analytics-record': BASE });
    expect(onlyProxy(tyk, logged)).toMatchObject({ status: 200, path: '/v1/orders', query: 'limit=20', apiKey: '5d1e3f0a9b8c7d6e00a1b2c3', endMs: END });
  });

  it('takes the keyless placeholder 00000000 for no key: the alias, else nothing, holds the budget', () => {
    expect(onlyProxy(tyk, line({ api_key: '00000000' })).apiKey).toBe('acme-mobile');
    expect(onlyProxy(tyk, line({ api_key: '00000000', alias: '' })).apiKey).toBeNull();
  });
});
