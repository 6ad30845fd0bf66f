import { emptyApmTransaction } from '../src/model/records.js';
import { isJsonObject } from './fields/json-object.js';
import { APM_TRAITS, type FormatDef, type ParserOptions, type RecordParser } from './format.js';
import { findKeyAttribute } from './fields/apm-attributes.js';
import { createJsonEventParser, parsedObjectEvents, type EventOutcome, type JsonEventShape } from './fields/json-events.js';
import { parseJsonKeepingBigIntegers } from './fields/lossless-json.js';
import { nanosSpanToMs, nanosToMs } from './fields/nanoseconds.js';
import { splitTarget } from './fields/request-line.js';
import { normaliseTraceId } from './fields/trace-context.js';

/**
 * OpenTelemetry traces in OTLP/JSON (docs/formats.md, OpenTelemetry): `resourceSpans[].scopeSpans[].spans[]`,
 * or `instrumentationLibrarySpans` from OTLP before 0.15. One document, pretty-printed or not, or
 * one document per line as the collector's file exporter writes them; also the per-line shapes of
 * OTEL_JSON_SHAPE below (logged ResourceSpans, the `{"v","rs"}` file serialization).
 *
 * Which spans are transactions: kind SERVER (2 or "SPAN_KIND_SERVER"), plus spans whose kind is
 * unset (0, "SPAN_KIND_UNSPECIFIED" or absent) when they have no parent and carry an HTTP method,
 * as hand-rolled or old instrumentation leaves the entry span unkinded. Client, internal, producer
 * and consumer spans are never transactions, even as roots (a root client span is an outgoing call
 * from a job). Spans that are not transactions are not emitted and raise no issue.
 *
 * Attributes: stable HTTP semconv names first, then the pre-1.23 names (both appear under
 * `OTEL_SEMCONV_STABILITY_OPT_IN=http/dup`). `host` is the request's server address, not the machine.
 * `name` is the span name. Trace ids are hex, or base64 (16 bytes) from exporters that get the
 * proto3 JSON mapping wrong; other ids become null. Nanosecond times are read losslessly.
 */

const FORMAT_ID = 'otel-json';

/**
 * Where ResourceSpans sit: under `resourceSpans` (TracesData, the collector's file exporter and
 * OtlpStdoutSpanExporter), under `result.resourceSpans` (Jaeger v2's API v3, `/api/v3/traces`),
 * under `batches` and `trace.resourceSpans` (a trace fetched from Grafana Tempo by id: its API v1,
 * `/api/traces/<id>`, and v2, `/api/v2/traces/<id>`), under `rs` (the experimental JSON file
 * serialization, `{"v":"1","rs":…}`, as an array or one object), or at the root (the Java agent's
 * `logging-otlp` exporter logs one ResourceSpans per line).
 */
const RESOURCE_SPANS = ['.resourceSpans[]', '.result.resourceSpans[]', '.batches[]', '.trace.resourceSpans[]', '.rs[]', '.rs', ''];
const SCOPES = ['scopeSpans', 'instrumentationLibrarySpans'];

export const OTEL_JSON_SHAPE: JsonEventShape = {
  title: 'OTLP/JSON traces',
  eventArrays: RESOURCE_SPANS.flatMap((at) => SCOPES.map((scope) => `${at}.${scope}[].spans`)),
  envelopeArrays: ['.resourceSpans', '.result.resourceSpans', '.batches', '.trace.resourceSpans', '.rs', ...RESOURCE_SPANS.flatMap((at) => SCOPES.map((scope) => `${at}.${scope}`))],
  envelopeKeys: null,
  // The collector's file exporter writes every pipeline it serves to one path (its README: traces, metrics, logs).
  siblingArrays: ['.resourceMetrics', '.resourceLogs', '.resourceProfiles'],
};

/** Where the JSON of a logged ResourceSpans starts after a logger's prefix, or -1. */
function loggedJsonStart(text: string): number {
  for (const key of ['{"resource"', '{"scopeSpans"', '{"schemaUrl"']) {
    const at = text.indexOf(key);
    // A prefix opens no object and ends in a space: `{"v":"1","rs":[{"resource"…` is a document,
    // `[{"resource"…` an array of them, not log lines.
    if (at > 0 && text.charCodeAt(at - 1) === 32 && text.lastIndexOf('{', at - 1) < 0) return at;
  }
  return -1;
}

/**
 * The Java agent's `logging-otlp` exporter writes through a logger: `INFO: {"resource":…}`, or
 * `2025-01-15 10:32:01 INFO … OtlpJsonLoggingSpanExporter - {"resource":…}`, after java.util.logging's
 * own header line, or, through the agent's own logger, `[otel.javaagent 2023-07-03 16:29:47:222
 * +0530] [BatchSpanProcessor_WorkerThread-1] INFO …OtlpJsonLoggingSpanExporter - {"resource":…}`.
 * The prefix is cut off so the JSON is read as it is; a header line naming the exporter is not a record.
 */
function withoutLoggerPrefix(parser: RecordParser): RecordParser {
  return {
    line(text, lineNumber, sink) {
      const first = text.charCodeAt(0);
      if (first === 91 /* [ */ && text.startsWith('[otel.javaagent ')) {
        const at = loggedJsonStart(text);
        if (at > 0) return parser.line(text.slice(at), lineNumber, sink);
      }
      if (first === 123 || first === 91 || first === 32 || first === 9 || text.length === 0) return parser.line(text, lineNumber, sink);
      const at = loggedJsonStart(text);
      if (at > 0) return parser.line(text.slice(at), lineNumber, sink);
      if (text.includes('LoggingSpanExporter') && !text.includes('{')) return sink.ignore(lineNumber);
      parser.line(text, lineNumber, sink);
    },
    end: (sink) => parser.end(sink),
  };
}

type Scalar = string | number | boolean;

/** An OTLP AnyValue as a scalar; arrays give their first element (captured headers are arrays). */
function anyValue(value: unknown): Scalar | null {
  if (!isJsonObject(value)) return null;
  const v = value.stringValue ?? value.intValue ?? value.doubleValue ?? value.boolValue;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  const array = value.arrayValue;
  if (isJsonObject(array) && Array.isArray(array.values)) return anyValue(array.values[0]);
  return null;
}

function text(value: Scalar | undefined): string | null {
  if (value === undefined) return null;
  const s = String(value);
  return s === '' ? null : s;
}

function statusCode(value: Scalar | undefined): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d{3}$/.test(value) ? Number(value) : NaN;
  return Number.isInteger(n) && n >= 100 && n <= 999 ? n : null;
}

const BASE64_16_BYTES = /^[A-Za-z0-9+/]{22}==$/;

/** Hex trace id, or base64 of 16 bytes (24 chars) converted to hex. */
export function otelTraceId(value: unknown): string | null {
  if (typeof value !== 'string' || value === '') return null;
  if (value.length === 32) return normaliseTraceId(value);
  if (BASE64_16_BYTES.test(value)) return normaliseTraceId(Buffer.from(value, 'base64').toString('hex'));
  return null;
}

const SERVER_KINDS = new Set<unknown>([2, '2', 'SPAN_KIND_SERVER']);
const UNSET_KINDS = new Set<unknown>([undefined, 0, '0', 'SPAN_KIND_UNSPECIFIED']);
const HEADER_PREFIX = 'http.request.header.';

function headerName(key: string): string {
  return key.startsWith(HEADER_PREFIX) ? key.slice(HEADER_PREFIX.length) : key;
}

/**
 * A gRPC server span's request path, as a proxy in front of it logs the call (`POST
 * /helloworld.Greeter/SayHello`: gRPC over HTTP/2 is always a POST to `/service/method`, per
 * grpc/grpc `doc/PROTOCOL-HTTP2.md`). Semantic conventions put the service and the method in
 * `rpc.service` and `rpc.method`; the Go auto-instrumentation writes the whole path into
 * `rpc.service` (opentelemetry-go-instrumentation's gRPC probe). null for other spans.
 */
function grpcPath(get: (name: string) => Scalar | undefined): string | null {
  if (text(get('rpc.system')) !== 'grpc') return null;
  const service = text(get('rpc.service'));
  const method = text(get('rpc.method'));
  if (service !== null && method !== null) return `/${service.startsWith('/') ? service.slice(1) : service}/${method}`;
  if (service !== null && service.startsWith('/') && service.indexOf('/', 1) > 1) return service;
  return null;
}

export function createOtelJsonParser(options: ParserOptions): RecordParser {
  const file = options.file;
  const keyField = options.keyField;
  return withoutLoggerPrefix(createJsonEventParser(file, OTEL_JSON_SHAPE, parsedObjectEvents(parseJsonKeepingBigIntegers, 'a span', (span, raw, line): EventOutcome => {

    const attributes = new Map<string, Scalar>();
    if (Array.isArray(span.attributes)) {
      for (const attribute of span.attributes) {
        if (!isJsonObject(attribute) || typeof attribute.key !== 'string') continue;
        const value = anyValue(attribute.value);
        if (value !== null) attributes.set(attribute.key, value);
      }
    }
    const get = (name: string): Scalar | undefined => attributes.get(name);
    let method = text(get('http.request.method')) ?? text(get('http.method'));
    if (method === '_OTHER') method = text(get('http.request.method_original')) ?? method;

    const parentless = span.parentSpanId === undefined || span.parentSpanId === '' || span.parentSpanId === null;
    const server = SERVER_KINDS.has(span.kind) || (UNSET_KINDS.has(span.kind) && parentless && method !== null);
    if (!server) return null;

    const startMs = nanosToMs(span.startTimeUnixNano);
    if (!Number.isFinite(startMs) || startMs <= 0) {
      return { code: 'PARSE_BAD_TIMESTAMP', field: 'startTimeUnixNano', message: span.startTimeUnixNano === undefined ? 'no startTimeUnixNano' : `bad startTimeUnixNano "${String(span.startTimeUnixNano)}"` };
    }
    const durationMs = nanosSpanToMs(span.startTimeUnixNano, span.endTimeUnixNano);
    if (!Number.isFinite(durationMs)) {
      return { code: 'PARSE_BAD_FIELD', field: 'endTimeUnixNano', message: `bad endTimeUnixNano "${String(span.endTimeUnixNano)}" (start ${String(span.startTimeUnixNano)})` };
    }

    const transaction = emptyApmTransaction(FORMAT_ID, file, line, raw);
    transaction.startMs = startMs;
    transaction.durationMs = durationMs;
    transaction.method = method?.toUpperCase() ?? null;
    const target = text(get('url.path')) ?? text(get('http.target')) ?? text(get('http.url')) ?? text(get('url.full'));
    transaction.path = target ? splitTarget(target).path : null;
    if (transaction.path === null) {
      const rpcPath = grpcPath(get);
      if (rpcPath !== null) {
        transaction.path = rpcPath;
        transaction.method ??= 'POST';
      }
    }
    transaction.name = typeof span.name === 'string' && span.name !== '' ? span.name : text(get('http.route'));
    transaction.status = statusCode(get('http.response.status_code')) ?? statusCode(get('http.status_code'));
    transaction.userAgent = text(get('user_agent.original')) ?? text(get('http.user_agent'));
    transaction.host = text(get('server.address')) ?? text(get('net.host.name')) ?? text(get('http.host'));
    transaction.traceId = otelTraceId(span.traceId);
    transaction.requestId = text(get('http.request.header.x-request-id')) ?? text(get('http.request.header.x_request_id'));
    let keyAttribute: string | undefined;
    for (const name of attributes.keys()) {
      const header = headerName(name);
      if (keyField ? name === keyField || header === keyField : findKeyAttribute([header]) !== null) {
        keyAttribute = name;
        break;
      }
    }
    transaction.apiKey = keyAttribute === undefined ? null : text(get(keyAttribute));
    return transaction;
  })));
}

export const otelJson: FormatDef = {
  id: FORMAT_ID,
  title: 'OpenTelemetry traces, OTLP/JSON (server spans)',
  kind: 'apm',
  traits: APM_TRAITS,
  url: 'https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding',
  example:
    '{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"orders-api"}}]},' +
    '"scopeSpans":[{"scope":{"name":"@opentelemetry/instrumentation-http"},"spans":[{"traceId":"491e743b1be0164f3055415f2cb2f8d0",' +
    '"spanId":"a3ce929d0e0e4736","parentSpanId":"edeed8f67ed0c810","name":"GET /v1/orders","kind":2,' +
    '"startTimeUnixNano":"1736937121374012000","endTimeUnixNano":"1736937121453210000","attributes":[' +
    '{"key":"http.request.method","value":{"stringValue":"GET"}},{"key":"url.path","value":{"stringValue":"/v1/orders"}},' +
    '{"key":"http.route","value":{"stringValue":"/v1/orders"}},{"key":"http.response.status_code","value":{"intValue":"200"}},' +
    '{"key":"user_agent.original","value":{"stringValue":"okhttp/4.12.0"}}],"status":{}}]}]}]}',
  exampleFields: { start: '2025-01-15T10:32:01.374Z', status: 200, method: 'GET', path: '/v1/orders', durationMs: 79.198 },
  realSamples: [
    {
      source: { project: 'open-telemetry/opentelemetry-proto', path: 'examples/trace.json', commit: 'ca6170ef02a5c2561ab0f5c9da274f6b713dd3ea', licence: 'Apache-2.0' },
      lines: [
        '{',
        '  "resourceSpans": [',
        '    {',
        '      "resource": {',
        '        "attributes": [',
        '          {',
        '            "key": "service.name",',
        '            "value": {',
        '              "stringValue": "my.service"',
        '            }',
        '          }',
        '        ]',
        '      },',
        '      "scopeSpans": [',
        '        {',
        '          "scope": {',
        '            "name": "my.library",',
        '            "version": "1.0.0",',
        '            "attributes": [',
        '              {',
        '                "key": "my.scope.attribute",',
        '                "value": {',
        '                  "stringValue": "some scope attribute"',
        '                }',
        '              }',
        '            ]',
        '          },',
        '          "spans": [',
        '            {',
        '              "traceId": "5B8EFFF798038103D269B633813FC60C",',
        '              "spanId": "EEE19B7EC3C1B174",',
        '              "parentSpanId": "EEE19B7EC3C1B173",',
        '              "name": "I\'m a server span",',
        '              "startTimeUnixNano": 1544712660000000000,',
        '              "endTimeUnixNano": 1544712661000000000,',
        '              "kind": 2,',
        '              "attributes": [',
        '                {',
        '                  "key": "my.span.attr",',
        '                  "value": {',
        '                    "stringValue": "some value"',
        '                  }',
        '                }',
        '              ]',
        '            }',
        '          ]',
        '        }',
        '      ]',
        '    }',
        '  ]',
        '}',
      ],
      fields: { start: '2018-12-13T14:51:00.000Z', status: null, method: null, path: null, durationMs: 1000 },
    },
    {
      // The same trace as Tempo's API v1 returned it (`/api/traces/<id>`): under `batches`, kinds by name, ids in base64.
      source: { project: 'observatorium/api', path: 'test/e2e/traces_test.go', commit: 'e5cc822940b8615edb01b700e267f20b65ce0abe', licence: 'Apache-2.0' },
      lines: [
        '{"batches":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"my.service"}}]},"scopeSpans":[{"scope":{"name":"my.library","version":"1.0.0","attributes":[{"key":"my.scope.attribute","value":{"stringValue":"some scope attribute"}}]},"spans":[{"traceId":"W47/95gDgQPSabYzgT/GDA==","spanId":"7uGbfsPBsXQ=","parentSpanId":"7uGbfsPBsXM=","name":"I\'m a server span","kind":"SPAN_KIND_SERVER","startTimeUnixNano":"1544712660000000000","endTimeUnixNano":"1544712661000000000","attributes":[{"key":"my.span.attr","value":{"stringValue":"some value"}}],"status":{}}]}]}]}',
      ],
      fields: { start: '2018-12-13T14:51:00.000Z', status: null, method: null, path: null, durationMs: 1000 },
    },
  ],
  createParser: createOtelJsonParser,
};
