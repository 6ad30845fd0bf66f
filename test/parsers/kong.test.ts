import { describe, expect, it } from 'vitest';
import { kong } from '../../parsers/kong.js';
import { expectOtherLinesIgnored, onlyProxy, parseLines } from './parse-lines.js';

// docs/formats.md, Kong: started_at = START (ms); latencies ms; proxy -1 = never proxied.
const BASE = JSON.parse(kong.example) as Record<string, unknown>;
const line = (patch: Record<string, unknown>): string => JSON.stringify({ ...BASE, ...patch });

describe('kong', () => {
  it('ignores nginx\'s error-log lines that a captured Kong stream holds beside the log entries', () => {
    expectOtherLinesIgnored(kong, [
      '2024/01/15 10:32:00 [notice] 1#0: using the "epoll" event method',
      '2024/01/15 10:32:06 [warn] 1290#0: *6 [kong] handler.lua:85 [file-log] failed to open the file: Permission denied, client: 172.18.0.1, server: kong',
    ], kong.example, ['2024/01/15 10:32:00 [loud] 1#0: start worker process 29', '{"request":{}}']);
  });

  it('maps the formats.md example', () => {
    const record = onlyProxy(kong, kong.example);
    expect(record).toMatchObject({
      format: 'kong', startMs: 1736937121373, endMs: 1736937121457, timeResolutionMs: 1, requestTimeMs: 84,
      method: 'GET', path: '/v1/orders', query: 'limit=20', host: 'api.example.com', status: 200,
      upstreamLogged: true, upstreamStatus: 200, upstreamHeaderTimeMs: 81, upstreamTimeMs: 83, upstreamAttempts: 1,
      upstreamAddr: '10.0.3.17:8080', clientIp: '203.0.113.24', userAgent: 'okhttp/4.12.0', apiKey: 'acme-mobile',
      requestId: '2f6946328ffc4946b8c9120704a4a155', bytesSent: 2101, clientClosed: false,
    });
  });

  it('reads an http-log batch (a JSON array of entries, posted when the batch size is above 1): a record each, an issue for an entry that is not one', () => {
    // The two real entries of Kong's docs (kong.realSamples), as http-log would post them together.
    const [first, second] = (kong.realSamples ?? []).map((sample) => JSON.parse(sample.lines[0]!) as Record<string, unknown>);
    const { records, issues } = parseLines(kong, [JSON.stringify([first, second]), JSON.stringify([first, { request: {} }]), '[]']);
    expect(records.map((r) => [r.line, (r as { path: string | null }).path, r.raw.startsWith('{"service"') || r.raw.startsWith('{"request"')])).toEqual([
      [1, '/log', true], [1, '/get', true], [2, '/log', true],
    ]);
    expect(issues.map((issue) => [issue.line, issue.field])).toEqual([[2, 'response'], [3, null]]);
  });

  it('maps proxy -1 and upstream_status "" to no upstream answer (rate limited)', () => {
    const record = onlyProxy(kong, line({
      upstream_status: '', response: { status: 429, size: 84 }, latencies: { kong: 0, proxy: -1, request: 0 }, tries: [], source: 'exit',
    }));
    expect(record).toMatchObject({
      status: 429, upstreamStatus: null, upstreamTimeMs: null, upstreamHeaderTimeMs: null, upstreamAttempts: 0, upstreamAddr: null, flags: 'exit',
    });
  });

  it('reads retries: last status of a "502, 200" list, one attempt per try', () => {
    const record = onlyProxy(kong, line({
      upstream_status: '502, 200',
      tries: [{ ip: '10.0.3.16', port: 8080 }, { ip: '10.0.3.17', port: 8080 }],
    }));
    expect(record).toMatchObject({ upstreamStatus: 200, upstreamAttempts: 2, upstreamAddr: '10.0.3.17:8080' });
  });

  it('maps 499 to clientClosed', () => {
    const record = onlyProxy(kong, line({ response: { status: 499, size: 0 }, upstream_status: '' }));
    expect(record.clientClosed).toBe(true);
  });

  it('falls back to the credential when there is no consumer, and honours keyField', () => {
    const { consumer: _consumer, ...noConsumer } = BASE;
    const credential = onlyProxy(kong, JSON.stringify({ ...noConsumer, authenticated_entity: { id: 'cred-7', consumer_id: 'c-1' } }));
    expect(credential.apiKey).toBe('c-1');
    const anonymous = onlyProxy(kong, JSON.stringify(noConsumer));
    expect(anonymous.apiKey).toBeNull();
    expect(onlyProxy(kong, kong.example, 'consumer.custom_id').apiKey).toBe('cust-42');
  });

  it('reads trace ids given as a string or per propagation format', () => {
    expect(onlyProxy(kong, line({ trace_id: { w3c: '491e743b1be0164f3055415f2cb2f8d0' } })).traceId).toBe('491e743b1be0164f3055415f2cb2f8d0');
    expect(onlyProxy(kong, line({ trace_id: '491E743B1BE0164F3055415F2CB2F8D0' })).traceId).toBe('491e743b1be0164f3055415f2cb2f8d0');
  });

  it('reports malformed lines with code and field', () => {
    const { records, issues } = parseLines(kong, [
      '[]', 'null', '{"request":{}', line({ started_at: 'soon' }), line({ latencies: { request: 'slow' } }),
      line({ upstream_status: { code: 200 } }), JSON.stringify({ message: 'not kong' }),
    ]);
    expect(records).toHaveLength(0);
    expect(issues.map((issue) => [issue.code, issue.field])).toEqual([
      ['PARSE_BAD_JSON', null], ['PARSE_BAD_JSON', null], ['PARSE_BAD_JSON', null],
      ['PARSE_BAD_TIMESTAMP', 'started_at'], ['PARSE_BAD_FIELD', 'latencies.request'], ['PARSE_BAD_FIELD', 'upstream_status'],
      ['PARSE_NO_MATCH', 'request'],
    ]);
  });
});
