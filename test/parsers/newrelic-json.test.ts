import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { detectFormat } from '../../parsers/detect.js';
import { newRelicJson } from '../../parsers/newrelic-json.js';
import { FORMATS } from '../../parsers/registry.js';
import { onlyApm, parseLines } from './parse-lines.js';

// docs/formats.md, New Relic
const EVENT = {
  timestamp: 1736937121373, duration: 0.0792, name: 'WebTransaction/Expressjs/GET//v1/orders',
  'request.uri': '/v1/orders', httpResponseCode: '200', 'request.headers.userAgent': 'okhttp/4.12.0',
  appName: 'orders-api', host: 'ip-10-0-3-17', transactionType: 'Web', traceId: '491e743b1be0164f3055415f2cb2f8d0',
};
const SECOND = {
  timestamp: 1736937122004, duration: 1.5, name: 'WebTransaction/Expressjs/POST//v1/payments',
  'request.uri': '/v1/payments', 'request.method': 'POST', 'http.statusCode': 502, apiKeyId: 'ak_live_7Hq2',
  'request.headers.x-request-id': 'req-77', traceId: '0AF7651916CD43DD8448EB211C80319C',
};
const nerdGraph = (results: unknown[]): unknown => ({ data: { actor: { account: { nrql: { results } } } } });
const pretty = (value: unknown): string[] => JSON.stringify(value, null, 2).split('\n');

const EXPECTED_FIRST = {
  kind: 'apm', format: 'newrelic-json', file: 'fixture.log',
  startMs: 1736937121373, durationMs: 79.2, queueMs: null, name: 'WebTransaction/Expressjs/GET//v1/orders',
  method: 'GET', path: '/v1/orders', status: 200, userAgent: 'okhttp/4.12.0', host: 'ip-10-0-3-17',
  traceId: '491e743b1be0164f3055415f2cb2f8d0', requestId: null, apiKey: null,
};

describe('newrelic-json shapes', () => {
  it('reads a date without a zone in --timezone, as the CSV export does', () => {
    const line = JSON.stringify([{ ...EVENT, timestamp: '2026-12-07 03:00:01.250' }]);
    expect(onlyApm(newRelicJson, [line]).map((t) => t.startMs)).toEqual([Date.UTC(2026, 11, 7, 3, 0, 1, 250)]);
    expect(onlyApm(newRelicJson, [line], '+05:30').map((t) => t.startMs)).toEqual([Date.UTC(2026, 11, 6, 21, 30, 1, 250)]);
  });

  it('reads the NerdGraph example from formats.md on one line', () => {
    const [transaction] = onlyApm(newRelicJson, [newRelicJson.example]);
    expect(transaction).toEqual({ ...EXPECTED_FIRST, line: 1, raw: JSON.stringify(EVENT) });
  });

  it('points each event of a pretty-printed NerdGraph document at the line its object opens', () => {
    const lines = pretty(nerdGraph([EVENT, SECOND]));
    const { records, issues, ignored } = parseLines(newRelicJson, lines);
    expect(issues).toEqual([]);
    expect(records.map((r) => r.line)).toEqual([7, 19]);
    expect(lines[6]!.trim()).toBe('{');
    expect(lines[7]!.trim()).toBe('"timestamp": 1736937121373,');
    // Every physical line is accounted for exactly once.
    expect(records.length + ignored).toBe(lines.length);
    expect(records[1]).toMatchObject({
      startMs: 1736937122004, durationMs: 1500, method: 'POST', path: '/v1/payments', status: 502,
      requestId: 'req-77', traceId: '0af7651916cd43dd8448eb211c80319c', apiKey: 'ak_live_7Hq2',
    });
  });

  it('reads a bare array and the NRQL REST v1 shape, passing over aggregate rows', () => {
    expect(onlyApm(newRelicJson, pretty([EVENT, SECOND])).map((t) => t.line)).toEqual([2, 14]);
    const v1 = { results: [{ events: [EVENT, SECOND] }, { count: 2 }], performanceStats: { inspectedCount: 2 }, metadata: { eventTypes: ['Transaction'] } };
    expect(onlyApm(newRelicJson, [JSON.stringify(v1)]).map((t) => t.startMs)).toEqual([1736937121373, 1736937122004]);
    const prettyV1 = parseLines(newRelicJson, pretty(v1));
    expect(prettyV1.issues).toEqual([]);
    expect(prettyV1.records.map((r) => r.line)).toEqual([5, 17]);
  });

  it('reads historical data export files: an array of {"attributes": {…}} records, epoch s and ISO timestamps alike', () => {
    const historical = [{ attributes: EVENT }, { attributes: { ...SECOND, timestamp: 1736937122.004 } }, { attributes: { ...EVENT, timestamp: '2025-01-15T10:32:03.500Z' } }];
    const { records, issues } = parseLines(newRelicJson, pretty(historical));
    expect(issues).toEqual([]);
    expect(records.map((r) => (r as { startMs: number }).startMs)).toEqual([1736937121373, 1736937122004, Date.UTC(2025, 0, 15, 10, 32, 3, 500)]);
    expect(records[1]).toMatchObject({ method: 'POST', path: '/v1/payments', status: 502, apiKey: 'ak_live_7Hq2' });
  });

  it('reads NDJSON line by line and reports bad lines without losing the rest', () => {
    const lines = [
      JSON.stringify(EVENT),
      '',
      '{"timestamp":1736937121999,"duration":}',
      JSON.stringify({ ...EVENT, timestamp: 'yesterday' }),
      JSON.stringify({ ...EVENT, duration: -1 }),
      'not json at all',
      JSON.stringify(SECOND),
    ];
    const { records, issues, ignored } = parseLines(newRelicJson, lines);
    expect(records.map((r) => r.line)).toEqual([1, 7]);
    expect(issues.map((i) => [i.line, i.code, i.field])).toEqual([
      [3, 'PARSE_BAD_JSON', null],
      [4, 'PARSE_BAD_TIMESTAMP', 'timestamp'],
      [5, 'PARSE_BAD_FIELD', 'duration'],
      [6, 'PARSE_NO_MATCH', null],
    ]);
    expect(issues[0]!.sample).toBe('{"timestamp":1736937121999,"duration":}');
    expect(ignored).toBe(1);
  });

  it('takes the API key from the attribute the user names', () => {
    const line = JSON.stringify({ ...EVENT, 'request.headers.x-tenant': 'tenant-9' });
    const { records } = parseLines(newRelicJson, [line], 'request.headers.x-tenant');
    expect(records[0]).toMatchObject({ apiKey: 'tenant-9' });
  });
});

describe('newrelic-json malformed documents', () => {
  it('reports a truncated document once, after the events that did close', () => {
    const lines = pretty(nerdGraph([EVENT, SECOND])).slice(0, 25);
    const { records, issues } = parseLines(newRelicJson, lines);
    expect(records).toHaveLength(1);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ code: 'PARSE_BAD_JSON', line: 19 });
  });

  it('reports a mismatched bracket and resumes at the next value in column 1', () => {
    const lines = ['[', '  {"timestamp": 1736937121373, "duration": 0.1]', ']', JSON.stringify(SECOND)];
    const { records, issues, ignored } = parseLines(newRelicJson, lines);
    expect(issues.map((i) => [i.line, i.code])).toEqual([[2, 'PARSE_BAD_JSON']]);
    expect(records.map((r) => r.line)).toEqual([4]);
    expect(records.length + issues.length + ignored).toBe(lines.length);
  });

  it('finds no events in OTLP or Datadog content', () => {
    const otel = '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"491e743b1be0164f3055415f2cb2f8d0","kind":2,"startTimeUnixNano":"1736937121374012000"}]}]}]}';
    expect(parseLines(newRelicJson, [otel]).records).toEqual([]);
    const datadog = '[[{"trace_id":1,"span_id":2,"parent_id":0,"start":1736937121374012000,"duration":79198000,"type":"web"}]]';
    const parsed = parseLines(newRelicJson, [datadog]);
    expect(parsed.records).toEqual([]);
    expect(parsed.issues[0]?.code).toBe('PARSE_NO_MATCH');
  });
});

describe('newrelic-json detection', () => {
  it('detects the sample export from its first 64 lines', () => {
    const lines = readFileSync('samples/apm/newrelic.json', 'utf8').split('\n');
    expect(detectFormat(FORMATS, 'newrelic.json', lines.slice(0, 64)).best?.format.id).toBe('newrelic-json');
    const { records, issues } = parseLines(newRelicJson, lines);
    expect(issues).toEqual([]);
    expect(records).toHaveLength(12);
  });

  it('detects single-line, pretty and NDJSON exports', () => {
    for (const lines of [[newRelicJson.example], pretty(nerdGraph([EVENT, SECOND])), [JSON.stringify(EVENT), JSON.stringify(SECOND)]]) {
      expect(detectFormat(FORMATS, 'export.json', lines.slice(0, 64)).best?.format.id).toBe('newrelic-json');
    }
  });
});
