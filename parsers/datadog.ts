import { emptyApmTransaction } from '../src/model/records.js';
import { isJsonObject, type JsonObject } from './fields/json-object.js';
import { APM_TRAITS, type FormatDef, type ParserOptions, type RecordParser } from './format.js';
import { findKeyAttribute } from './fields/apm-attributes.js';
import { createJsonEventParser, parsedObjectEvents, type EventOutcome, type JsonEventShape } from './fields/json-events.js';
import { parseJsonKeepingBigIntegers } from './fields/lossless-json.js';
import { integerDigits, isoToNanos, nanosDigitsToMs, nanosSpanToMs } from './fields/nanoseconds.js';
import { authorityOfUrl, parseRequestLine, splitTarget } from './fields/request-line.js';

/**
 * Datadog APM spans as JSON (docs/formats.md, Datadog), in the shapes they come in:
 * - tracer/agent payloads: an array of traces (arrays of spans), or a flat array of spans;
 * - NDJSON, one span (or one trace array) per line;
 * - Spans API v2 search results `{"data":[{"type":"spans","attributes":{…}}]}`.
 * `start`/`duration` are ns (integers beyond 2^53, read losslessly); v2 has ISO start/end (ms) and
 * `custom.duration` in ns, which gives the duration when present.
 *
 * Which spans are transactions: a service's entry span that serves HTTP. Entry: the tracers mark it
 * with the metric `_dd.top_level` (or `_top_level`) 1, the root or a span whose parent is another
 * service's; once a file has shown the mark, a span without it is a child (dd-trace-php types every
 * framework span `web`, 31 of them per Drupal request; dd-trace-py's WSGI `start_response` and
 * Molten's middleware spans carry `span.kind` server under the request's). Without marks, a root,
 * or a child with HTTP tags of its own (a web-typed framework span under the request's has none).
 * HTTP: `type` "web", `span.kind` "server", or a root with HTTP tags. Outgoing
 * calls are never transactions, even as roots: `span.kind` client or producer, or `type` "http"
 * (Datadog's type for an HTTP client call: an httpx or urllib3 span of a job). Other spans are not
 * emitted and raise no issue. A request that crosses two instrumented HTTP services yields one
 * transaction per service, as each service's APM would count it.
 *
 * Mapping: method and path from `meta["http.method"]` and the path of `meta["http.url"]`, else from
 * `resource` ("GET /v1/orders"); `name` is the resource; `host` is the request's host (from
 * `http.host` or `http.url`), not the agent's machine. Trace id in W3C form: `meta["_dd.p.tid"]`
 * (high 64 bits) + `trace_id` as 16 hex; without `_dd.p.tid` the high half is zeros, which joins
 * only with proxies that log the same 64-bit id padded (Datadog propagation, not W3C).
 */

const FORMAT_ID = 'datadog-json';

export const DATADOG_SHAPE: JsonEventShape = {
  title: 'Datadog spans JSON',
  eventArrays: ['', '[]', '.data'],
  envelopeArrays: [],
  envelopeKeys: ['data'],
};

type Json = JsonObject;

/** A tag by its dotted name: flat (`"http.method"`) as tracers write it, or nested as the v2 API does. */
function tag(source: unknown, name: string): string | null {
  if (!isJsonObject(source)) return null;
  const flat = source[name];
  if (typeof flat === 'string' || typeof flat === 'number') return flat === '' ? null : String(flat);
  let node: unknown = source;
  for (const part of name.split('.')) {
    if (!isJsonObject(node)) return null;
    node = node[part];
  }
  return typeof node === 'string' || typeof node === 'number' ? (node === '' ? null : String(node)) : null;
}

const HEX64 = /^[0-9a-f]{1,16}$/;
const HEX128 = /^[0-9a-f]{32}$/;
const UINT64_MAX = (1n << 64n) - 1n;

/** Datadog trace id (decimal uint64, or hex) plus optional `_dd.p.tid` to 32 lowercase hex. */
export function datadogTraceId(traceId: unknown, highHex: string | null): string | null {
  let low: string | null = null;
  const digits = integerDigits(traceId);
  if (digits !== null) {
    const value = BigInt(digits);
    if (value === 0n || value > UINT64_MAX) return null;
    low = value.toString(16).padStart(16, '0');
  } else if (typeof traceId === 'string') {
    const lower = traceId.toLowerCase();
    if (HEX128.test(lower)) return /^0+$/.test(lower) ? null : lower;
    if (HEX64.test(lower)) low = lower.padStart(16, '0');
  }
  if (low === null) return null;
  const high = highHex !== null && /^[0-9a-f]{16}$/i.test(highHex) ? highHex.toLowerCase() : '0000000000000000';
  return high + low;
}

function statusCode(value: string | null): number | null {
  if (value === null || !/^\d{3}$/.test(value)) return null;
  return Number(value);
}

const HEADER_PREFIX = 'http.request.headers.';

/** The tag naming an API key: the user's `--key-field`, or a name like `x-api-key` / `api_key_id`. */
function keyTag(meta: Json, keyField: string | undefined): string | null {
  for (const name of Object.keys(meta)) {
    const header = name.startsWith(HEADER_PREFIX) ? name.slice(HEADER_PREFIX.length) : name;
    if (keyField ? name === keyField || header === keyField : findKeyAttribute([header]) !== null) {
      const value = meta[name];
      return typeof value === 'string' && value !== '' ? value : null;
    }
  }
  return null;
}

/** The fields of one span, whichever shape it came in. */
interface SpanView {
  traceId: unknown;
  parentId: unknown;
  type: unknown;
  resource: string | null;
  /** Tag lookup (meta, or v2 custom/attributes/tags). */
  tag(name: string): string | null;
  tags: Json;
}

function agentSpan(span: Json): SpanView {
  const meta = isJsonObject(span.meta) ? span.meta : {};
  const metrics = isJsonObject(span.metrics) ? span.metrics : {};
  return {
    traceId: span.trace_id, parentId: span.parent_id, type: span.type,
    resource: typeof span.resource === 'string' && span.resource !== '' ? span.resource : null,
    tag: (name) => tag(meta, name) ?? tag(metrics, name),
    tags: meta,
  };
}

function v2Span(attributes: Json): SpanView {
  const custom = isJsonObject(attributes.custom) ? attributes.custom : {};
  const inner = isJsonObject(attributes.attributes) ? attributes.attributes : {};
  const tagList: Record<string, unknown> = {};
  if (Array.isArray(attributes.tags)) {
    for (const entry of attributes.tags) {
      if (typeof entry !== 'string') continue;
      const colon = entry.indexOf(':');
      if (colon > 0) tagList[entry.slice(0, colon)] = entry.slice(colon + 1);
    }
  }
  return {
    traceId: attributes.trace_id, parentId: attributes.parent_id, type: attributes.type,
    resource: typeof attributes.resource_name === 'string' && attributes.resource_name !== '' ? attributes.resource_name : null,
    tag: (name) => tag(custom, name) ?? tag(inner, name) ?? tag(tagList, name),
    tags: { ...tagList, ...inner, ...custom },
  };
}

function isRoot(parentId: unknown): boolean {
  return parentId === undefined || parentId === null || parentId === 0 || parentId === '0' || parentId === '';
}

/** The entry mark tracers set on a service's top-level span: 1, 0, or null when the span has none. */
function topLevelMark(span: SpanView): number | null {
  const mark = span.tag('_dd.top_level') ?? span.tag('_top_level');
  return mark === null ? null : Number(mark) === 1 ? 1 : 0;
}

const OUTGOING_KINDS = new Set(['client', 'producer']);

export function createDatadogParser(options: ParserOptions): RecordParser {
  const file = options.file;
  const keyField = options.keyField;
  /** Whether a span of this file carried the entry mark: from then on, an unmarked span is a child. */
  let marksSeen = false;
  return createJsonEventParser(file, DATADOG_SHAPE, parsedObjectEvents(parseJsonKeepingBigIntegers, 'a span', (event, raw, line): EventOutcome => {

    const v2 = event.start === undefined && isJsonObject(event.attributes);
    const span = v2 ? v2Span(event.attributes as Json) : agentSpan(event);
    if (!v2 && event.trace_id === undefined && event.start === undefined) {
      return { code: 'PARSE_NO_MATCH', field: 'start', message: 'not a Datadog span: no start or trace_id' };
    }

    const request = span.resource ? parseRequestLine(span.resource) : null;
    const resourceIsRequest = request !== null && /^[A-Z]+$/.test(request.method) && request.path.startsWith('/');
    const url = span.tag('http.url');
    const method = span.tag('http.method') ?? (resourceIsRequest ? request.method : null);
    const kind = span.tag('span.kind');
    if ((kind !== null && OUTGOING_KINDS.has(kind)) || (span.type === 'http' && kind !== 'server')) return null;
    const mark = topLevelMark(span);
    if (mark !== null) marksSeen = true;
    const root = isRoot(span.parentId);
    const http = method !== null || url !== null || span.tag('http.status_code') !== null;
    // Unmarked (the Spans API v2 gives no metrics), a child is an entry only if it serves HTTP
    // itself: a real v2 search answer held 21 requests and 4 dd-trace-java `spring-web-controller`
    // spans (type web, span.kind server) under their Tomcat request spans, with no http.* tag.
    const entry = mark !== null ? mark === 1 : root || (!marksSeen && http);
    if (!entry) return null;
    const web = span.type === 'web' || kind === 'server';
    if (!web && !(root && http)) return null;

    let startMs: number;
    let durationMs: number;
    if (v2) {
      const attributes = event.attributes as Json;
      const start = typeof attributes.start_timestamp === 'string' ? isoToNanos(attributes.start_timestamp) : null;
      if (start === null) {
        return { code: 'PARSE_BAD_TIMESTAMP', field: 'start_timestamp', message: `bad start_timestamp "${String(attributes.start_timestamp)}"` };
      }
      const end = typeof attributes.end_timestamp === 'string' ? isoToNanos(attributes.end_timestamp) : null;
      if (end === null || end < start) {
        return { code: 'PARSE_BAD_FIELD', field: 'end_timestamp', message: `bad end_timestamp "${String(attributes.end_timestamp)}"` };
      }
      startMs = nanosDigitsToMs(start.toString());
      // The stamps have millisecond precision; `custom.duration` is the span's own duration in ns,
      // so a sub-millisecond span is not 0.
      const custom = isJsonObject(attributes.custom) ? attributes.custom : {};
      const nanos = integerDigits(custom.duration) ?? integerDigits(attributes.duration);
      durationMs = nanos !== null ? nanosSpanToMs('0', nanos) : nanosDigitsToMs((end - start).toString());
    } else {
      const start = integerDigits(event.start);
      if (start === null || /^0+$/.test(start)) {
        return { code: 'PARSE_BAD_TIMESTAMP', field: 'start', message: event.start === undefined ? 'no start' : `bad start "${String(event.start)}"` };
      }
      startMs = nanosDigitsToMs(start);
      const duration = integerDigits(event.duration);
      if (duration === null) return { code: 'PARSE_BAD_FIELD', field: 'duration', message: event.duration === undefined ? 'no duration' : `bad duration "${String(event.duration)}"` };
      durationMs = nanosSpanToMs('0', duration);
    }

    const transaction = emptyApmTransaction(FORMAT_ID, file, line, raw);
    transaction.startMs = startMs;
    transaction.durationMs = durationMs;
    transaction.method = method?.toUpperCase() ?? null;
    transaction.path = url !== null ? splitTarget(url).path : resourceIsRequest ? request.path : null;
    if (transaction.path === null) {
      // A gRPC call, as a proxy in front of it logs it: POST /package.Service/Method (dd-trace-py
      // tags grpc.method.path; the resource is the same path).
      const grpc = span.tag('grpc.method.path') ?? (span.type === 'grpc' && span.resource?.startsWith('/') ? span.resource : null);
      if (grpc !== null) {
        transaction.path = grpc;
        transaction.method ??= 'POST';
      }
    }
    transaction.name = span.resource ?? (v2 ? null : typeof event.name === 'string' ? event.name : null);
    transaction.status = statusCode(span.tag('http.status_code'));
    transaction.userAgent = span.tag('http.useragent') ?? span.tag('http.user_agent') ?? span.tag('http.request.headers.user-agent');
    transaction.host = span.tag('http.host') ?? (url === null ? null : authorityOfUrl(url));
    transaction.traceId = datadogTraceId(span.traceId, span.tag('_dd.p.tid'));
    transaction.requestId = span.tag('http.request.headers.x-request-id');
    transaction.apiKey = keyTag(span.tags, keyField);
    return transaction;
  }));
}

export const datadogJson: FormatDef = {
  id: FORMAT_ID,
  title: 'Datadog APM spans, JSON (traces, span arrays, NDJSON, Spans API v2)',
  kind: 'apm',
  traits: APM_TRAITS,
  url: 'https://docs.datadoghq.com/tracing/guide/send_traces_to_agent_by_api/',
  example:
    '[[{"trace_id":3482761763868571856,"span_id":11803524617385150262,"parent_id":0,"name":"express.request",' +
    '"resource":"GET /v1/orders","service":"orders-api","type":"web","start":1736937121374012000,"duration":79198000,' +
    '"error":0,"meta":{"http.method":"GET","http.url":"https://api.example.com/v1/orders?limit=20",' +
    '"http.status_code":"200","http.route":"/v1/orders","http.useragent":"okhttp/4.12.0","span.kind":"server",' +
    '"_dd.p.tid":"491e743b1be0164f"},"metrics":{"_top_level":1}}]]',
  exampleFields: { start: '2025-01-15T10:32:01.374Z', status: 200, method: 'GET', path: '/v1/orders', durationMs: 79.198 },
  createParser: createDatadogParser,
};
