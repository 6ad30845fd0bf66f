import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { datadogJson, datadogTraceId } from '../../parsers/datadog.js';
import { detectFormat } from '../../parsers/detect.js';
import { parseJsonKeepingBigIntegers } from '../../parsers/fields/lossless-json.js';
import { isoToMs, nanosSpanToMs, nanosToMs } from '../../parsers/fields/nanoseconds.js';
import { FORMATS } from '../../parsers/registry.js';
import { onlyApm, parseLines } from './parse-lines.js';

// Tracer payload spans (docs/formats.md, Datadog). Ids and times are bare JSON numbers beyond 2^53,
// so fixtures are written as text: JSON.stringify of a Number would already have rounded them.
// W3C trace id 491e743b1be0164f3055415f2cb2f8d0 = _dd.p.tid 491e743b1be0164f + 3482761763868571856 as hex.
const ROOT =
  '{"trace_id":3482761763868571856,"span_id":11803524617385150262,"parent_id":0,"name":"express.request",' +
  '"resource":"GET /v1/orders","service":"orders-api","type":"web","start":1736937121374012000,"duration":79198000,' +
  '"error":0,"meta":{"http.method":"GET","http.url":"https://api.example.com/v1/orders?limit=20","http.status_code":"200",' +
  '"http.route":"/v1/orders","http.useragent":"okhttp/4.12.0","span.kind":"server","_dd.p.tid":"491e743b1be0164f",' +
  '"http.request.headers.x-request-id":"req-42","http.request.headers.x-api-key":"ak_live_7Hq2"},"metrics":{"_top_level":1}}';
const CHILD_SQL =
  '{"trace_id":3482761763868571856,"span_id":9007199254740993,"parent_id":11803524617385150262,"name":"pg.query",' +
  '"resource":"SELECT * FROM orders","service":"orders-api-postgres","type":"sql","start":1736937121375012000,"duration":1500000,' +
  '"meta":{"span.kind":"client"},"metrics":{"_top_level":1}}';
// No _dd.p.tid (64-bit propagation), no span.kind and no HTTP method tag: method and path from the resource.
const ROOT_NO_TID =
  '{"trace_id":18446744073709551615,"span_id":1,"name":"rack.request","resource":"POST /v1/payments","service":"pay",' +
  '"type":"web","start":1736937122000000001,"duration":1500000000,"error":1,"meta":{"http.status_code":"502"}}';
// The entry span of a service called by another: not a root, but marked top-level as tracers do.
const CHILD_WEB =
  '{"trace_id":42,"span_id":7,"parent_id":5,"name":"aspnet_core.request","resource":"GET /v1/catalog","service":"catalog",' +
  '"type":"web","start":1736937123000000000,"duration":12000000,"meta":{"http.status_code":"200"},"metrics":{"_dd.top_level":1}}';
const ROOT_WORKER =
  '{"trace_id":43,"span_id":8,"parent_id":0,"name":"sidekiq.job","resource":"ReportJob","service":"jobs","type":"worker",' +
  '"start":1736937124000000000,"duration":12000000,"meta":{}}';

describe('datadog-json spans', () => {
  it('reads a tracer payload losslessly: W3C trace id from _dd.p.tid + trace_id, ns to ms', () => {
    const [transaction] = onlyApm(datadogJson, [`[[${ROOT},${CHILD_SQL}]]`]);
    expect(transaction).toEqual({
      kind: 'apm', format: 'datadog-json', file: 'fixture.log', line: 1,
      startMs: 1736937121374.012, durationMs: 79.198, queueMs: null, name: 'GET /v1/orders', method: 'GET', path: '/v1/orders',
      status: 200, userAgent: 'okhttp/4.12.0', host: 'api.example.com', traceId: '491e743b1be0164f3055415f2cb2f8d0',
      requestId: 'req-42', apiKey: 'ak_live_7Hq2', raw: ROOT,
    });
  });

  it('keeps a 64-bit trace id as 32 hex with leading zeros when _dd.p.tid is missing', () => {
    const [transaction] = onlyApm(datadogJson, [ROOT_NO_TID]);
    expect(transaction).toMatchObject({
      traceId: '0000000000000000ffffffffffffffff', method: 'POST', path: '/v1/payments', status: 502,
      startMs: 1736937122000.000001, durationMs: 1500, host: null,
    });
    expect(datadogTraceId('3482761763868571856', '491E743B1BE0164F')).toBe('491e743b1be0164f3055415f2cb2f8d0');
    expect(datadogTraceId(0, null)).toBeNull();
    expect(datadogTraceId('18446744073709551616', null)).toBeNull();
  });

  it('emits web spans and HTTP roots only', () => {
    const lines = [ROOT, CHILD_SQL, ROOT_NO_TID, CHILD_WEB, ROOT_WORKER];
    const { records, issues, ignored } = parseLines(datadogJson, lines);
    expect(issues).toEqual([]);
    expect(records.map((r) => [r.line, r.kind === 'apm' ? r.name : null])).toEqual([
      [1, 'GET /v1/orders'], [3, 'POST /v1/payments'], [4, 'GET /v1/catalog'],
    ]);
    expect(ignored).toBe(2);
  });

  it('emits a service\'s entry span only: not the web-typed spans under it, nor outgoing HTTP calls, even as roots', () => {
    // dd-trace-py's WSGI trace (tests/snapshots/tests.contrib.wsgi.test_wsgi.test_200.json, BSD-3-Clause): the
    // request span, and under it a `start_response` span typed web with span.kind server, unmarked.
    const wsgi = [
      '{"name":"wsgi.request","service":"wsgi","resource":"GET /","trace_id":0,"span_id":1,"parent_id":0,"type":"web","start":1714000000000000000,"duration":395750,' +
        '"meta":{"http.method":"GET","http.status_code":"200","http.url":"http://localhost:80/","span.kind":"server"},"metrics":{"_dd.top_level":1}}',
      '{"name":"wsgi.application","service":"wsgi","resource":"wsgi.application","trace_id":0,"span_id":2,"parent_id":1,"type":"","start":1714000000000100000,"duration":200000,"meta":{}}',
      '{"name":"wsgi.start_response","service":"wsgi","resource":"wsgi.start_response","trace_id":0,"span_id":3,"parent_id":2,"type":"web","start":1714000000000150000,"duration":20000,' +
        '"meta":{"span.kind":"server"}}',
    ];
    expect(parseLines(datadogJson, wsgi).records.map((r) => r.kind === 'apm' ? [r.name, r.method, r.path, r.status] : null)).toEqual([['GET /', 'GET', '/', 200]]);
    // An httpx call made outside any request (…test_httpx.test_get_200.json): a root, top-level, with HTTP tags, but outgoing.
    const httpx = '{"name":"http.request","service":"tests.contrib.httpx","resource":"http.request","trace_id":0,"span_id":1,"parent_id":0,"type":"http","start":1714000000000000000,' +
      '"duration":3000000,"meta":{"http.method":"GET","http.url":"http://localhost:8001/status/200","http.status_code":"200","span.kind":"client"},"metrics":{"_dd.top_level":1}}';
    expect(parseLines(datadogJson, [httpx]).records).toEqual([]);
    // Without any mark in the file (an older tracer, every Spans API v2 answer), a child is an entry
    // when it serves HTTP itself: a web span with an HTTP tag is, the framework span without one is not.
    const unmarked = wsgi[2]!.replace('"parent_id":2', '"parent_id":9');
    expect(parseLines(datadogJson, [unmarked]).records).toEqual([]);
    expect(parseLines(datadogJson, [unmarked.replace('"meta":{', '"meta":{"http.method":"GET","http.url":"http://localhost:80/",')]).records).toHaveLength(1);
  });

  it('reads a gRPC server span as the POST to /package.Service/Method a proxy logs', () => {
    // After dd-trace-py's gRPC server spans: type grpc, the method path as the resource and in grpc.method.path (its grpc contrib's constants).
    const grpc = '{"name":"grpc","service":"grpc-server","resource":"/helloworld.Greeter/SayHello","trace_id":0,"span_id":1,"parent_id":0,"type":"grpc",' +
      '"start":1714000000000000000,"duration":2000000,"meta":{"grpc.method.path":"/helloworld.Greeter/SayHello","grpc.method.kind":"unary","rpc.service":"helloworld.Greeter",' +
      '"span.kind":"server","grpc.status.code":"StatusCode.OK"},"metrics":{"_dd.top_level":1}}';
    const [transaction] = onlyApm(datadogJson, [grpc]);
    expect(transaction).toMatchObject({ method: 'POST', path: '/helloworld.Greeter/SayHello', status: null });
  });

  it('reads a flat array and a pretty-printed array of traces, each span at its opening line', () => {
    expect(onlyApm(datadogJson, [`[${ROOT},${CHILD_SQL},${CHILD_WEB}]`])).toHaveLength(2);
    const lines = ['[', '  [', `    ${ROOT},`, `    ${CHILD_SQL}`, '  ],', '  [', `    ${CHILD_WEB}`, '  ]', ']'];
    const { records, ignored } = parseLines(datadogJson, lines);
    expect(records.map((r) => r.line)).toEqual([3, 7]);
    expect(records.length + ignored).toBe(lines.length);
  });

  it('reads Spans API v2 search results with ISO times and nested attributes', () => {
    const v2 = {
      data: [{
        type: 'spans', id: 'AAAAAYzK',
        attributes: {
          start_timestamp: '2025-01-15T10:32:01.374012Z', end_timestamp: '2025-01-15T10:32:01.453210Z',
          service: 'orders-api', resource_name: 'GET /v1/orders/?', trace_id: '3482761763868571856',
          span_id: '11803524617385150262', parent_id: '0', type: 'web', env: 'prod', host: 'ip-10-0-3-17',
          tags: ['env:prod', '_dd.p.tid:491e743b1be0164f'],
          custom: { http: { method: 'GET', url: 'https://api.example.com/v1/orders/8812', status_code: '404', useragent: 'okhttp/4.12.0' } },
        },
      }],
      meta: { page: { after: 'eyJ' } },
    };
    const lines = JSON.stringify(v2, null, 2).split('\n');
    const [transaction] = onlyApm(datadogJson, lines);
    expect(transaction).toMatchObject({
      line: 3, startMs: 1736937121374.012, durationMs: 79.198, method: 'GET', path: '/v1/orders/8812', status: 404,
      name: 'GET /v1/orders/?', host: 'api.example.com', traceId: '491e743b1be0164f3055415f2cb2f8d0',
    });
  });
});

describe('datadog-json as real files lay it out', () => {
  it('takes a v2 span\'s duration from custom.duration (ns), not from its millisecond stamps', () => {
    const event = {
      type: 'spans', id: 'AAAAAYzL',
      attributes: {
        start_timestamp: '2025-01-15T10:32:01.374Z', end_timestamp: '2025-01-15T10:32:01.374Z',
        resource_name: 'GET /health', trace_id: '3482761763868571856', parent_id: '0', type: 'web',
        custom: { duration: 412345, http: { method: 'GET', url: 'https://api.example.com/health', status_code: '200' } },
      },
    };
    const [transaction] = onlyApm(datadogJson, [JSON.stringify({ data: [event] })]);
    expect(transaction!.durationMs).toBe(0.412345);
  });

  it('reads a pretty-printed trace array whose nested "[" starts a line (no indentation)', () => {
    const span = (id: number): string => `{"trace_id": ${id}, "span_id": 5678, "parent_id": 0, "resource": "GET /v1/orders", "type": "web",
"start": 1736937121000000000, "duration": 81000000,
"meta": {"http.method": "GET", "http.url": "/v1/orders", "http.status_code": "200"}
}`;
    const lines = `[[\n${span(1)}\n],\n[\n${span(2)}\n]]`.split('\n');
    const { records, issues } = parseLines(datadogJson, lines);
    expect(issues).toEqual([]);
    expect(records.map((r) => r.line)).toEqual([2, 8]);
  });
});

describe('datadog-json malformed input', () => {
  it('reports bad fields, bad JSON and foreign events per span', () => {
    const lines = [
      ROOT.replace('"start":1736937121374012000', '"start":"soon"'),
      ROOT.replace('"duration":79198000', '"duration":-5'),
      '{"trace_id":1,"start":1736937121374012000,"duration":5,"type":"web",',
      '{"timestamp":1736937121373,"duration":0.0792,"request.uri":"/v1/orders"}',
      ROOT,
    ];
    const { records, issues } = parseLines(datadogJson, lines);
    expect(records.map((r) => r.line)).toEqual([5]);
    expect(issues.map((x) => [x.line, x.code, x.field])).toEqual([
      [1, 'PARSE_BAD_TIMESTAMP', 'start'],
      [2, 'PARSE_BAD_FIELD', 'duration'],
      [3, 'PARSE_BAD_JSON', null],
      [4, 'PARSE_NO_MATCH', 'start'],
    ]);
    // A test agent's snapshot strips the times: said as missing, not as a bad "undefined".
    const snapshot = parseLines(datadogJson, [ROOT.replace('"start":1736937121374012000,', '')]);
    expect(snapshot.issues.map((x) => x.message)).toEqual(['no start']);
  });

  it('rejects NerdGraph and OTLP documents', () => {
    const nerdGraph = '{"data":{"actor":{"account":{"nrql":{"results":[{"timestamp":1736937121373,"duration":0.0792}]}}}}}';
    const otlp = '{"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":2,"startTimeUnixNano":"1736937121374012000"}]}]}]}';
    for (const line of [nerdGraph, otlp]) {
      const parsed = parseLines(datadogJson, [line]);
      expect(parsed.records).toEqual([]);
      expect(parsed.issues).toHaveLength(1);
    }
  });
});

describe('datadog-json detection', () => {
  it('detects the sample file and keeps its 12 web spans out of 24', () => {
    const lines = readFileSync('samples/apm/datadog-spans.json', 'utf8').split('\n');
    expect(detectFormat(FORMATS, 'datadog-spans.json', lines.slice(0, 64)).best?.format.id).toBe('datadog-json');
    const { records, issues } = parseLines(datadogJson, lines);
    expect(issues).toEqual([]);
    expect(records).toHaveLength(12);
    expect(records.filter((r) => r.kind === 'apm' && r.traceId?.startsWith('0000000000000000'))).toHaveLength(1);
  });

  it('detects NDJSON spans and the one-line example', () => {
    expect(detectFormat(FORMATS, 'spans.ndjson', [ROOT, CHILD_SQL, CHILD_WEB]).best?.format.id).toBe('datadog-json');
    expect(detectFormat(FORMATS, 'spans.json', [datadogJson.example]).best?.format.id).toBe('datadog-json');
  });
});

describe('big integers and nanoseconds', () => {
  it('keeps integers beyond 2^53 as digit strings, and leaves strings and fractions alone', () => {
    expect(parseJsonKeepingBigIntegers('{"a":18446744073709551615,"b":"12345678901234567890","c":1.2345678901234567,"d":-9007199254740993,"e":12}'))
      .toEqual({ a: '18446744073709551615', b: '12345678901234567890', c: 1.2345678901234567, d: '-9007199254740993', e: 12 });
  });

  it('converts ns to ms without a lossy Number of the ns value', () => {
    expect(nanosToMs('1736937121374012000')).toBe(1736937121374.012);
    expect(nanosToMs('999')).toBe(0.000999);
    expect(nanosToMs('-1')).toBeNaN();
    expect(nanosSpanToMs('1736937121374012000', '1736937121453210000')).toBe(79.198);
    expect(nanosSpanToMs('2', '1')).toBeNaN();
    expect(isoToMs('2025-01-15T10:32:01.374012Z')).toBe(1736937121374.012);
    expect(isoToMs('2025-01-15T11:32:01.5+01:00')).toBe(1736937121500);
    expect(isoToMs('yesterday')).toBeNaN();
  });
});
