import type { ProxyRecord } from '../src/model/records.js';
import { splitTarget } from './fields/request-line.js';
import { normaliseTraceId } from './fields/trace-context.js';
import { parseLastUpstreamStatus } from './fields/upstream-list.js';
import type { FormatDef, ParserOptions, RecordParser } from './format.js';
import { FieldError, isJsonObject, jsonLineParser, jsonNumber, jsonText, lookup, type JsonObject } from './proxy-line-kit.js';

/**
 * Kong `kong.log.serialize()` as written by the file-log plugin, one JSON object per line
 * (docs/formats.md, Kong).
 * - `started_at` is START (ms epoch); `latencies.request` is client-facing (ms).
 * - `latencies.proxy` is the wait for the upstream (-1 = never proxied); 3.x adds `receive`
 *   (reading the upstream body), so backend time = proxy + receive.
 * - `upstream_status` uses nginx list syntax (`"502, 200"`), `""` when no upstream answered.
 * - Identity: `consumer` (username, custom_id, id) or the credential's `authenticated_entity`.
 * - 499 on client abort comes from nginx core and is UNCONFIRMED for Kong (§8).
 */

const CONSUMER_KEYS = ['consumer.username', 'consumer.custom_id', 'consumer.id', 'authenticated_entity.consumer_id', 'authenticated_entity.id'];

/** A latency or size: -1 (never proxied) and missing markers give null. */
function nonNegative(object: JsonObject, path: string): number | null {
  const value = lookup(object, path);
  const n = jsonNumber(value);
  if (Number.isNaN(n)) throw new FieldError(path, value);
  return n === null || n < 0 ? null : n;
}

function header(headers: unknown, name: string): string | null {
  if (!isJsonObject(headers)) return null;
  const value = headers[name];
  // Repeated headers are serialised as arrays; the first is what most servers use.
  return jsonText(Array.isArray(value) ? value[0] : value);
}

/** Kong's `trace_id` is a string, or an object keyed by propagation format (`w3c`, `b3`, ...). */
function traceIdOf(value: unknown): string | null {
  if (typeof value === 'string') return normaliseTraceId(value);
  if (!isJsonObject(value)) return null;
  for (const inner of Object.values(value)) {
    if (typeof inner === 'string') {
      const id = normaliseTraceId(inner);
      if (id !== null) return id;
    }
  }
  return null;
}

function fill(record: ProxyRecord, entry: JsonObject, keyField?: string): void {
  const startedAt = jsonNumber(lookup(entry, 'started_at'));
  if (startedAt === null || Number.isNaN(startedAt) || startedAt <= 0) {
    throw new FieldError('started_at', lookup(entry, 'started_at'), 'PARSE_BAD_TIMESTAMP');
  }
  const status = jsonNumber(lookup(entry, 'response.status'));
  if (Number.isNaN(status) || (status !== null && !Number.isInteger(status))) throw new FieldError('response.status', lookup(entry, 'response.status'));

  record.startMs = startedAt;
  record.timeResolutionMs = 1;
  record.requestTimeMs = nonNegative(entry, 'latencies.request');
  record.endMs = startedAt + Math.round(record.requestTimeMs ?? 0);
  record.status = status;
  record.clientClosed = status === 499;

  const proxyMs = nonNegative(entry, 'latencies.proxy');
  const receiveMs = nonNegative(entry, 'latencies.receive');
  record.upstreamLogged = true;
  record.upstreamHeaderTimeMs = proxyMs;
  record.upstreamTimeMs = proxyMs === null ? null : proxyMs + (receiveMs ?? 0);
  const upstreamStatusValue = lookup(entry, 'upstream_status');
  if (upstreamStatusValue === undefined) {
    // Older Kong has no upstream_status: proxied (proxy ≥ 0) means the client got the upstream's status.
    record.upstreamStatus = proxyMs === null ? null : status;
  } else {
    const text = typeof upstreamStatusValue === 'number' ? String(upstreamStatusValue) : upstreamStatusValue;
    const parsed = typeof text === 'string' ? parseLastUpstreamStatus(text) : undefined;
    if (parsed === undefined) throw new FieldError('upstream_status', upstreamStatusValue);
    record.upstreamStatus = parsed;
  }
  const tries = lookup(entry, 'tries');
  if (Array.isArray(tries) && tries.length > 0) {
    record.upstreamAttempts = tries.length;
    const last: unknown = tries[tries.length - 1];
    if (isJsonObject(last)) {
      const ip = jsonText(last['ip']);
      const port = jsonText(last['port']);
      record.upstreamAddr = ip === null ? null : port === null ? ip : `${ip}:${port}`;
    }
  } else if (typeof upstreamStatusValue === 'string') {
    record.upstreamAttempts = upstreamStatusValue === '' ? 0 : upstreamStatusValue.split(',').length;
  }

  const uri = jsonText(lookup(entry, 'request.uri'));
  if (uri !== null) {
    const target = splitTarget(uri);
    record.path = target.path;
    record.query = target.query;
  }
  record.method = jsonText(lookup(entry, 'request.method'));
  const headers = lookup(entry, 'request.headers');
  record.host = header(headers, 'host');
  record.userAgent = header(headers, 'user-agent');
  record.clientIp = jsonText(lookup(entry, 'client_ip'));
  record.requestId = jsonText(lookup(entry, 'request.id')) ?? header(headers, 'x-request-id') ?? jsonText(lookup(entry, 'correlation_id'));
  record.traceId = traceIdOf(lookup(entry, 'trace_id')) ?? (header(headers, 'traceparent') !== null ? normaliseTraceId(header(headers, 'traceparent')!) : null);
  const keys = keyField ? [keyField] : CONSUMER_KEYS;
  for (const key of keys) {
    record.apiKey = jsonText(lookup(entry, key));
    if (record.apiKey !== null) break;
  }
  record.bytesSent = nonNegative(entry, 'response.size');
  // Who produced the response, in newer Kong: `upstream`, `kong` or `exit` (§10: values UNCONFIRMED).
  record.flags = jsonText(lookup(entry, 'source'));
}

function createKongParser(options: ParserOptions): RecordParser {
  return jsonLineParser(options.file, {
    formatId: 'kong',
    // Kong's signature: a request object, a response object and started_at.
    missingField: (entry) => (!isJsonObject(entry['request']) ? 'request' : !isJsonObject(entry['response']) ? 'response'
      : !('started_at' in entry) ? 'started_at' : null),
    notThis: 'not a Kong log entry',
    fill: (record, entry) => fill(record, entry, options.keyField),
  });
}

export const kong: FormatDef = {
  id: 'kong',
  title: 'Kong Gateway file-log (kong.log.serialize JSON)',
  kind: 'proxy',
  traits: { splittable: true, unit: 'line', clientGaveUp: '`499`', backendNeverAnswered: '`upstream_status` `""`, `latencies.proxy` `-1`', flags: null, upstreamTimeout: { setting: 'the Kong service `read_timeout`', defaultSeconds: 60 } },
  url: 'https://developer.konghq.com/plugins/file-log/',
  example:
    '{"request":{"id":"2f6946328ffc4946b8c9120704a4a155","method":"GET","uri":"/v1/orders?limit=20","url":"https://api.example.com:443/v1/orders?limit=20","size":412,"headers":{"host":"api.example.com","user-agent":"okhttp/4.12.0"}},"upstream_uri":"/v1/orders?limit=20","upstream_status":"200","response":{"status":200,"size":2101},"latencies":{"kong":1,"proxy":81,"request":84,"receive":2},"started_at":1736937121373,"client_ip":"203.0.113.24","consumer":{"id":"3391944b-2c84-4eda-95d0-20fb21f16c1b","username":"acme-mobile","custom_id":"cust-42"},"tries":[{"ip":"10.0.3.17","port":8080,"balancer_start":1736937121374,"balancer_latency":0}]}',
  exampleFields: { start: '2025-01-15T10:32:01.373Z', status: 200, method: 'GET', path: '/v1/orders', client: '203.0.113.24', upstreamStatus: 200 },
  createParser: createKongParser,
};
