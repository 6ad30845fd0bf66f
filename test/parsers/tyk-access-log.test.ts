import { describe, expect, it } from 'vitest';
import { tyk } from '../../parsers/tyk.js';
import { logfmtPairs, tykAccessLog } from '../../parsers/tyk-access-log.js';
import type { ProxyRecord } from '../../src/model/records.js';
import { expectOtherLinesIgnored, onlyProxy, parseLines } from './parse-lines.js';

// docs/formats.md, Tyk: the gateway's access log (5.8+) is a logrus entry per request, written
// after the response (END); latencies in ms; the text stamp `Jan 02 15:04:05` has no year or zone.
const END = Date.UTC(2025, 0, 15, 10, 32, 1);
const BASE = JSON.parse(tykAccessLog.example) as Record<string, unknown>;
const json = (patch: Record<string, unknown>): string => JSON.stringify({ ...BASE, ...patch });

/** A text stamp (`Jan 02 15:04:05`) for an instant, in UTC. */
function stampOf(ms: number): string {
  const date = new Date(ms);
  const month = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][date.getUTCMonth()]!;
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${month} ${two(date.getUTCDate())} ${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())}`;
}

const text = (stamp: string, fields: string): string => `time="${stamp}" level=info ${fields}`;
const TEXT_FIELDS = 'api_id=0123456789abcdef api_key=00000000 client_ip=198.51.100.7 host=api.example.com latency_total=84 method=GET ' +
  'path=/v1/orders prefix=access-log protocol=HTTP/1.1 remote_addr="198.51.100.7:53122" status=200 ' +
  'upstream_addr="http://10.0.3.17:8080/v1/orders" upstream_latency=81 user_agent="Mozilla/5.0 (X11; Linux x86_64) \\"beta\\""';

describe('tyk-access-log', () => {
  it('reads the JSON entry: the time is the end, start = end - latency_total, the upstream from its URL', () => {
    expect(onlyProxy(tykAccessLog, tykAccessLog.example)).toMatchObject({
      format: 'tyk-access-log', endMs: END, startMs: END - 84, timeResolutionMs: 1000, requestTimeMs: 84,
      method: 'GET', path: '/v1/orders', query: null, host: 'api.example.com', status: 200,
      upstreamLogged: true, upstreamStatus: 200, upstreamTimeMs: 81, upstreamAttempts: 1, upstreamAddr: '10.0.3.17:8080',
      clientIp: '203.0.113.24', userAgent: 'okhttp/4.12.0', apiKey: null, clientClosed: false,
    });
  });

  it('reads the names of the development versions too (status_code, total_latency, request_url, upstream_address)', () => {
    const renamed = JSON.stringify({
      prefix: 'access-log', level: 'info', time: '2025-01-15T11:32:01+01:00', status_code: 200, total_latency: 84, upstream_latency: 81,
      request_url: '/v1/orders', upstream_address: 'http://10.0.3.17:8080/v1/orders', method: 'GET', client_ip: '203.0.113.24',
    });
    expect(onlyProxy(tykAccessLog, renamed)).toMatchObject({ endMs: END, status: 200, requestTimeMs: 84, path: '/v1/orders', upstreamAddr: '10.0.3.17:8080' });
  });

  it('takes a 499 as the client hanging up, and an upstream latency of 0 as the gateway answering alone', () => {
    expect(onlyProxy(tykAccessLog, json({ status: 499, latency_total: 5003, upstream_latency: 0 })))
      .toMatchObject({ clientClosed: true, upstreamStatus: null, upstreamAttempts: 0, upstreamTimeMs: null, requestTimeMs: 5003 });
    expect(onlyProxy(tykAccessLog, json({ status: 429, upstream_latency: 0 })))
      .toMatchObject({ clientClosed: false, status: 429, upstreamStatus: null, upstreamAttempts: 0 });
  });

  it('reads the key, or the field --key-field names, and the trace id OpenTelemetry adds', () => {
    expect(onlyProxy(tykAccessLog, json({ api_key: 'eyJvcmciOiI1ZTlkIn0' })).apiKey).toBe('eyJvcmciOiI1ZTlkIn0');
    expect(parseLines(tykAccessLog, [json({ org_id: 'acme' })], 'org_id').records[0]).toMatchObject({ apiKey: 'acme' });
    expect(onlyProxy(tykAccessLog, json({ trace_id: '4BF92F3577B34DA6A3CE929D0E0E4736' })).traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it('reads the text entry, quoted values and their escapes included, and ignores the application log beside it', () => {
    expectOtherLinesIgnored(tykAccessLog, [
      'time="Jan 15 10:32:00" level=info msg="Loading API Specification from /opt/tyk-gateway/apps/orders.json" prefix=main',
      '{"level":"warning","msg":"Attempted access with non-existent key.","prefix":"auth-mgr","time":"2025-01-15T10:32:01Z"}',
    ], tykAccessLog.example, [
      'time="Jan 15 10:32:00" level=chatty msg="not a logrus level"',
      '{"msg":"a JSON object of another program"}',
    ]);
    const record = onlyProxy(tykAccessLog, text('Jan 15 10:32:01', TEXT_FIELDS));
    expect(record).toMatchObject({
      method: 'GET', path: '/v1/orders', status: 200, requestTimeMs: 84, upstreamTimeMs: 81, upstreamAddr: '10.0.3.17:8080',
      clientIp: '198.51.100.7', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) "beta"', timeResolutionMs: 1000,
    });
  });

  it('dates a text stamp in the latest year that does not put it in the future, in --timezone, and says so once', () => {
    const now = Date.now();
    const yesterday = Math.floor((now - 24 * 3600_000) / 1000) * 1000;
    const read = parseLines(tykAccessLog, [text(stampOf(yesterday), TEXT_FIELDS), text(stampOf(yesterday), TEXT_FIELDS)]);
    expect(read.records.map((r) => (r as ProxyRecord).endMs)).toEqual([yesterday, yesterday]);
    expect(read.warnings.map((w) => w.code)).toEqual(['PARSE_TIME_GUESSED']);
    // Two days ahead of now (Dec 31 read on Dec 29, or any day): last year's.
    const ahead = Math.floor((now + 2 * 24 * 3600_000) / 1000) * 1000;
    const [last] = parseLines(tykAccessLog, [text(stampOf(ahead), TEXT_FIELDS)]).records;
    const aYearBefore = new Date(ahead);
    aYearBefore.setUTCFullYear(aYearBefore.getUTCFullYear() - 1);
    expect((last as ProxyRecord).endMs).toBe(aYearBefore.getTime());
    // The gateway's local time: 11:32:01 at +01:00 is 10:32:01 UTC.
    const [zoned] = parseLines(tykAccessLog, [text(stampOf(yesterday + 3600_000), TEXT_FIELDS)], undefined, '+01:00').records;
    expect((zoned as ProxyRecord).endMs).toBe(yesterday);
  });

  it('reads key=value pairs in one pass, whatever a hostile line holds', () => {
    expect(logfmtPairs('time="Jan 15 10:32:01" level=info msg="a=b \\"c\\"" word path=/x')).toEqual(new Map([
      ['time', 'Jan 15 10:32:01'], ['level', 'info'], ['msg', 'a=b "c"'], ['path', '/x'],
    ]));
    // 300,000 words and no '=' after the first pair, read for what they are: nothing. (A search for
    // '=' from every word took 1.4 s on this line and 3.1 s at the 1 MiB line cap, per line.)
    const words = `time="Jan 15 10:32:01" ${'w '.repeat(300_000)}`;
    expect(logfmtPairs(words)).toEqual(new Map([['time', 'Jan 15 10:32:01']]));
  });

  it('names what is wrong with an entry it cannot read', () => {
    const read = parseLines(tykAccessLog, [
      json({ status: 'teapot' }),
      json({ time: 'yesterday' }),
      text('Feb 30 10:32:01', TEXT_FIELDS),
      'time="Jan 15 10:32:01" level=info prefix=access-log user_agent="never closed',
      json({ status: undefined }),
    ]);
    expect(read.records).toEqual([]);
    expect(read.issues.map((issue) => [issue.line, issue.field])).toEqual([[1, 'status'], [2, 'time'], [3, 'time'], [4, 'line'], [5, 'status']]);
  });

  it('is not taken for a notice by the analytics-record parser: there an access-log line is unread, and counted', () => {
    const read = parseLines(tyk, [tykAccessLog.example, text('Jan 15 10:32:01', TEXT_FIELDS)]);
    expect([read.records.length, read.ignored, read.issues.length]).toEqual([0, 0, 2]);
  });
});
