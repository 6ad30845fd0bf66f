import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { closestFailure, detectFormat } from '../../parsers/detect.js';
import { otelJson, otelTraceId } from '../../parsers/otel-json.js';
import { FORMATS } from '../../parsers/registry.js';
import { onlyApm, parseLines } from './parse-lines.js';

type Value = { stringValue: string } | { intValue: string | number } | { doubleValue: number } | { boolValue: boolean };
const s = (key: string, value: string): { key: string; value: Value } => ({ key, value: { stringValue: value } });
const i = (key: string, value: string | number): { key: string; value: Value } => ({ key, value: { intValue: value } });

// docs/formats.md, OpenTelemetry: stable semconv, SERVER span.
const STABLE_SPAN = {
  traceId: '491e743b1be0164f3055415f2cb2f8d0', spanId: 'a3ce929d0e0e4736', parentSpanId: 'edeed8f67ed0c810',
  name: 'GET /v1/orders', kind: 2, startTimeUnixNano: '1736937121374012000', endTimeUnixNano: '1736937121453210000',
  attributes: [
    s('http.request.method', 'GET'), s('url.path', '/v1/orders'), s('http.route', '/v1/orders'),
    i('http.response.status_code', '200'), s('user_agent.original', 'okhttp/4.12.0'), s('server.address', 'api.example.com'),
    { key: 'http.request.header.x-api-key', value: { arrayValue: { values: [{ stringValue: 'ak_live_7Hq2' }] } } },
  ],
  status: {},
};
// Pre-1.23 semconv, as older instrumentation writes it.
const OLD_SPAN = {
  traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', parentSpanId: '',
  name: 'POST', kind: 'SPAN_KIND_SERVER', startTimeUnixNano: '1736937122000000001', endTimeUnixNano: '1736937123500000001',
  attributes: [
    s('http.method', 'POST'), s('http.target', '/v1/payments?retry=1'), i('http.status_code', 502),
    s('http.user_agent', 'python-requests/2.32.3'), s('net.host.name', 'pay.example.com'), s('http.scheme', 'https'),
  ],
  status: { code: 2 },
};
const CLIENT_SPAN = { ...STABLE_SPAN, spanId: 'c1c1c1c1c1c1c1c1', parentSpanId: 'a3ce929d0e0e4736', name: 'pg.query', kind: 3, attributes: [s('db.system', 'postgresql')] };
const document = (spans: unknown[], scopeKey = 'scopeSpans'): unknown => ({
  resourceSpans: [{ resource: { attributes: [s('service.name', 'orders-api')] }, [scopeKey]: [{ scope: { name: '@opentelemetry/instrumentation-http' }, spans }] }],
});
const pretty = (value: unknown): string[] => JSON.stringify(value, null, 2).split('\n');
const onlyApmAll = (spans: unknown[]): { method: string | null; path: string | null; status: number | null }[] =>
  parseLines(otelJson, [JSON.stringify(document(spans))]).records as unknown as { method: string | null; path: string | null; status: number | null }[];

describe('otel-json spans', () => {
  it('reads the formats.md example with exact ns-to-ms values', () => {
    const [span] = onlyApm(otelJson, [otelJson.example]);
    expect(span).toMatchObject({
      kind: 'apm', format: 'otel-json', line: 1,
      startMs: 1736937121374.012, durationMs: 79.198, name: 'GET /v1/orders', method: 'GET', path: '/v1/orders',
      status: 200, userAgent: 'okhttp/4.12.0', host: null, traceId: '491e743b1be0164f3055415f2cb2f8d0', requestId: null, apiKey: null,
    });
  });

  it('maps stable and pre-1.23 semantic conventions alike', () => {
    const [stable, old] = onlyApm(otelJson, [JSON.stringify(document([STABLE_SPAN, OLD_SPAN]))]);
    expect(stable).toMatchObject({ host: 'api.example.com', apiKey: 'ak_live_7Hq2', path: '/v1/orders' });
    expect(old).toMatchObject({
      startMs: 1736937122000.000001, durationMs: 1500, method: 'POST', path: '/v1/payments', status: 502,
      userAgent: 'python-requests/2.32.3', host: 'pay.example.com', traceId: '0af7651916cd43dd8448eb211c80319c', name: 'POST',
    });
  });

  it('takes the path from http.url when that is all there is', () => {
    const span = { ...OLD_SPAN, attributes: [s('http.method', 'get'), s('http.url', 'https://api.example.com/v1/catalog?limit=20'), i('http.status_code', '200')] };
    expect(onlyApm(otelJson, [JSON.stringify(document([span]))])[0]).toMatchObject({ method: 'GET', path: '/v1/catalog', status: 200 });
  });

  it('reads nanosecond times written as bare JSON numbers beyond 2^53 without rounding', () => {
    const line = JSON.stringify(document([STABLE_SPAN]))
      .replace('"startTimeUnixNano":"1736937121374012000"', '"startTimeUnixNano":1736937121374012345')
      .replace('"endTimeUnixNano":"1736937121453210000"', '"endTimeUnixNano":1736937121453210999');
    const [span] = onlyApm(otelJson, [line]);
    expect(span!.startMs).toBe(1736937121374.012345);
    expect(span!.durationMs).toBe(79.198654);
  });

  it('ignores the metrics and logs documents the collector\'s file exporter writes to the same file, whichever comes first', () => {
    // The file exporter serves traces, metrics and logs pipelines with one path (plengauer/Thoth's demos, Apache-2.0).
    const resource = '{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"demo"}}]}';
    const metrics = `{"resourceMetrics":[${resource},"scopeMetrics":[{"scope":{"name":"m"},"metrics":[{"name":"process.cpu.time","sum":{"dataPoints":[{"asDouble":0.5}]}}]}]}]}`;
    const logs = `{"resourceLogs":[${resource},"scopeLogs":[{"scope":{"name":"l"},"logRecords":[{"timeUnixNano":"1736937121373000000","body":{"stringValue":"hi"}}]}]}]}`;
    const lines = [metrics, metrics, logs, otelJson.example];
    const read = parseLines(otelJson, lines);
    expect([read.records.length, read.issues, read.ignored]).toEqual([1, [], 3]);
    expect(detectFormat(FORMATS, 'otlp.json', lines).best?.format.id).toBe('otel-json');
  });

  it('emits server spans only; an unkinded root with an HTTP method counts as one', () => {
    const unkindedRoot = { ...OLD_SPAN, spanId: '1111111111111111', kind: 0 };
    const unkindedChild = { ...OLD_SPAN, spanId: '2222222222222222', kind: 0, parentSpanId: 'b7ad6b7169203331' };
    const internalRoot = { ...OLD_SPAN, spanId: '3333333333333333', kind: 1 };
    const clientRoot = { ...OLD_SPAN, spanId: '4444444444444444', kind: 'SPAN_KIND_CLIENT' };
    const lines = pretty(document([CLIENT_SPAN, STABLE_SPAN, unkindedRoot, unkindedChild, internalRoot, clientRoot]));
    const { records, issues, ignored } = parseLines(otelJson, lines);
    expect(issues).toEqual([]);
    expect(records.map((r) => (r.kind === 'apm' ? r.method : null))).toEqual(['GET', 'POST']);
    expect(records.length + ignored).toBe(lines.length);
  });

  it('accepts base64 trace ids and the pre-0.15 instrumentationLibrarySpans', () => {
    expect(otelTraceId('SR50OxvgFk8wVUFfLLL40A==')).toBe('491e743b1be0164f3055415f2cb2f8d0');
    expect(otelTraceId('00000000000000000000000000000000')).toBeNull();
    expect(otelTraceId('xyz')).toBeNull();
    const span = { ...STABLE_SPAN, traceId: 'SR50OxvgFk8wVUFfLLL40A==' };
    const [transaction] = onlyApm(otelJson, pretty(document([span], 'instrumentationLibrarySpans')));
    expect(transaction!.traceId).toBe('491e743b1be0164f3055415f2cb2f8d0');
  });

  it('reads one document per line (collector file exporter) with each span on its line', () => {
    const lines = [JSON.stringify(document([STABLE_SPAN, CLIENT_SPAN])), JSON.stringify(document([OLD_SPAN]))];
    const { records, issues, ignored } = parseLines(otelJson, lines);
    expect(issues).toEqual([]);
    expect(records.map((r) => r.line)).toEqual([1, 2]);
    expect(ignored).toBe(0);
  });

  it('points pretty-printed spans at the line their object opens', () => {
    const lines = pretty(document([STABLE_SPAN, OLD_SPAN]));
    const records = onlyApm(otelJson, lines);
    for (const record of records) expect(lines[record.line - 1]!.trim()).toBe('{');
    expect(lines[records[0]!.line]!.trim()).toBe('"traceId": "491e743b1be0164f3055415f2cb2f8d0",');
  });
});

describe('otel-json in the per-line shapes exporters write', () => {
  const resourceSpans = { resource: { attributes: [s('service.name', 'orders-api')] }, scopeSpans: [{ scope: { name: 'io.opentelemetry.tomcat-10.0' }, spans: [STABLE_SPAN] }] };

  it('reads the Java agent\'s logging-otlp lines: one ResourceSpans per line after the logger\'s prefix', () => {
    const lines = [
      'Jan 15, 2025 10:32:01 AM io.opentelemetry.exporter.logging.otlp.OtlpJsonLoggingSpanExporter export',
      `INFO: ${JSON.stringify(resourceSpans)}`,
      `2025-01-15 10:32:02.114 INFO  [BatchSpanProcessor_WorkerThread-1] i.o.e.l.o.OtlpJsonLoggingSpanExporter - ${JSON.stringify(resourceSpans)}`,
      JSON.stringify(resourceSpans),
      // Through the agent's own logger, whose prefix starts with a bracket.
      `[otel.javaagent 2023-07-03 16:29:47:222 +0530] [BatchSpanProcessor_WorkerThread-1] INFO io.opentelemetry.exporter.logging.otlp.OtlpJsonLoggingSpanExporter - ${JSON.stringify(resourceSpans)}`,
    ];
    const { records, issues, ignored } = parseLines(otelJson, lines);
    expect(issues).toEqual([]);
    expect(ignored).toBe(1);
    expect(records.map((r) => [r.line, (r as { path: string | null }).path])).toEqual([[2, '/v1/orders'], [3, '/v1/orders'], [4, '/v1/orders'], [5, '/v1/orders']]);
  });

  it('says of a document without spans that it holds no server span, not that it holds a proxy\'s notices', () => {
    const lines = pretty(document([]));
    const detection = detectFormat(FORMATS, 'empty.json', lines);
    expect(detection.best).toBeNull();
    expect(detection.ranking[0]!.format.id).toBe('otel-json');
    expect(closestFailure(detection.ranking[0]!)).toBe(`: the sample's ${lines.length} lines hold no transaction (no server or entry span: only internal, client or database spans, or none)`);
  });

  it('knows a long document by its spans when the sample holds no server span yet (SDKs export children first)', () => {
    // 40 internal spans before the server span: the first 64 lines hold whole spans, none a transaction.
    const internal = Array.from({ length: 40 }, (_, k) => ({ ...CLIENT_SPAN, spanId: `c1c1c1c1c1c1c1${String(k).padStart(2, '0')}`, kind: 1 }));
    const lines = pretty(document([...internal, STABLE_SPAN]));
    const sample = detectFormat(FORMATS, 'children-first.json', lines.slice(0, 64));
    expect(sample.best?.format.id).toBe('otel-json');
    expect(sample.best).toMatchObject({ records: 0, issues: 0 });
    expect(sample.best!.declined).toBeGreaterThan(0);
    // The whole document then reads its one transaction.
    expect(parseLines(otelJson, lines).records).toHaveLength(1);
    // A Datadog or New Relic document is not taken for one: their samples hold no span of OTLP's shape.
    for (const id of ['datadog-json', 'newrelic-json']) {
      const format = FORMATS.find((f) => f.id === id)!;
      expect(detectFormat([format], 'children-first.json', lines.slice(0, 64)).best).toBeNull();
    }
  });

  it('reads a gRPC server span as the POST to /service/method a proxy logs, from rpc.service and rpc.method or the whole path in rpc.service', () => {
    const grpc = (attributes: unknown[]) => ({ ...STABLE_SPAN, name: 'helloworld.Greeter/SayHello', attributes });
    const [semconv, goAuto, notGrpc] = onlyApmAll([
      grpc([s('rpc.system', 'grpc'), s('rpc.service', 'helloworld.Greeter'), s('rpc.method', 'SayHello'), i('rpc.grpc.status_code', 0)]),
      // opentelemetry-go-instrumentation's gRPC probe: the whole method path in rpc.service.
      grpc([s('rpc.system', 'grpc'), s('rpc.service', '/helloworld.Greeter/SayHello'), i('rpc.grpc.status_code', 12)]),
      grpc([s('rpc.system', 'connect_rpc'), s('rpc.service', 'helloworld.Greeter'), s('rpc.method', 'SayHello')]),
    ]);
    expect([semconv!.method, semconv!.path, semconv!.status]).toEqual(['POST', '/helloworld.Greeter/SayHello', null]);
    expect([goAuto!.method, goAuto!.path]).toEqual(['POST', '/helloworld.Greeter/SayHello']);
    expect([notGrpc!.method, notGrpc!.path]).toEqual([null, null]);
  });

  it('reads Jaeger v2\'s API v3 answer: ResourceSpans under `result`', () => {
    const lines = pretty({ result: { resourceSpans: [resourceSpans] } });
    const { records, issues } = parseLines(otelJson, lines);
    expect(issues).toEqual([]);
    expect(records.map((r) => (r as { path: string | null }).path)).toEqual(['/v1/orders']);
  });

  it('reads a trace fetched from Grafana Tempo by id: ResourceSpans under `batches` (API v1) or `trace.resourceSpans` (API v2)', () => {
    for (const document of [{ batches: [resourceSpans] }, { trace: { resourceSpans: [resourceSpans] }, metrics: { inspectedBytes: '2360' } }]) {
      const lines = pretty(document);
      const { records, issues } = parseLines(otelJson, lines);
      expect(issues).toEqual([]);
      expect(records.map((r) => (r as { path: string | null }).path)).toEqual(['/v1/orders']);
      expect(detectFormat(FORMATS, 'trace.json', lines).best?.format.id).toBe('otel-json');
    }
  });

  it('reads the JSON file serialization: {"v":…,"rs":…} per line, ResourceSpans as an array or one object', () => {
    const lines = [
      `\uFEFF${JSON.stringify({ v: '1', rs: [resourceSpans] })}`,
      JSON.stringify({ v: '1', rs: resourceSpans }),
    ];
    const { records, issues } = parseLines(otelJson, lines);
    expect(issues).toEqual([]);
    expect(records.map((r) => r.line)).toEqual([1, 2]);
    expect(detectFormat(FORMATS, 'spans.json', lines).best?.format.id).toBe('otel-json');
  });
});

describe('otel-json malformed input', () => {
  it('reports bad times and bad span JSON per span', () => {
    const badStart = { ...STABLE_SPAN, startTimeUnixNano: '1.7e18' };
    const endBeforeStart = { ...OLD_SPAN, endTimeUnixNano: '1736937121000000000' };
    const lines = [
      JSON.stringify(document([badStart, endBeforeStart, STABLE_SPAN])),
      '{"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":2,"startTimeUnixNano":"1736937121374012000",}]}]}]}',
      '{"traces":[]}',
    ];
    const { records, issues } = parseLines(otelJson, lines);
    expect(records).toHaveLength(1);
    expect(issues.map((x) => [x.line, x.code, x.field])).toEqual([
      [1, 'PARSE_BAD_TIMESTAMP', 'startTimeUnixNano'],
      [1, 'PARSE_BAD_FIELD', 'endTimeUnixNano'],
      [2, 'PARSE_BAD_JSON', null],
      [3, 'PARSE_NO_MATCH', null],
    ]);
    const { startTimeUnixNano: _, ...scrubbed } = STABLE_SPAN;
    expect(parseLines(otelJson, [JSON.stringify(document([scrubbed]))]).issues.map((x) => x.message)).toEqual(['no startTimeUnixNano']);
  });

  it('finds nothing in New Relic and Datadog content', () => {
    const nr = '{"timestamp":1736937121373,"duration":0.0792,"request.uri":"/v1/orders"}';
    const dd = '[{"trace_id":1,"start":1736937121374012000,"duration":5,"type":"web"}]';
    for (const line of [nr, dd]) {
      const parsed = parseLines(otelJson, [line]);
      expect(parsed.records).toEqual([]);
      expect(parsed.issues.map((x) => x.code)).toEqual(['PARSE_NO_MATCH']);
    }
  });
});

describe('otel-json detection', () => {
  it('detects the sample file and keeps its 12 server spans out of 24', () => {
    const lines = readFileSync('samples/apm/otel-traces.json', 'utf8').split('\n');
    expect(detectFormat(FORMATS, 'otel-traces.json', lines.slice(0, 64)).best?.format.id).toBe('otel-json');
    const { records, issues } = parseLines(otelJson, lines);
    expect(issues).toEqual([]);
    expect(records).toHaveLength(12);
  });

  it('detects a pretty-printed document when its first span closes within 64 lines', () => {
    const small = { ...OLD_SPAN, attributes: OLD_SPAN.attributes.slice(0, 3) };
    const lines = pretty(document([small, STABLE_SPAN]));
    // The second span's first key follows the first span's closing brace and the next opening one.
    const firstSpanEnd = lines.findIndex((line) => line.includes('"traceId": "491e743b')) - 2;
    expect(firstSpanEnd).toBeGreaterThan(0);
    expect(firstSpanEnd).toBeLessThan(64);
    expect(detectFormat(FORMATS, 'traces.json', lines.slice(0, 64)).best?.format.id).toBe('otel-json');
  });

  it('needs more than 64 lines when the first pretty-printed span is longer (a limit of 64-line detection)', () => {
    const lines = pretty(document([OLD_SPAN, STABLE_SPAN]));
    expect(lines.findIndex((line) => line.includes('"traceId": "491e743b')) - 2).toBeGreaterThanOrEqual(64);
    const sample = detectFormat(FORMATS, 'traces.json', lines.slice(0, 64));
    expect(sample.best).toBeNull();
    // The parser saw nothing wrong but the cut, which is the sample's doing, not the file's, and no whole span.
    expect(sample.ranking.find((r) => r.format.id === 'otel-json')).toMatchObject({ records: 0, issues: 0, declined: 0 });
    expect(detectFormat(FORMATS, 'traces.json', lines.slice(0, 256)).best?.format.id).toBe('otel-json');
  });
});
