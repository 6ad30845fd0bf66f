import type { ProxyRecord } from '../src/model/records.js';
import { splitTarget } from './fields/request-line.js';
import { normaliseTraceId } from './fields/trace-context.js';
import { parseLastUpstreamStatus } from './fields/upstream-list.js';
import type { FormatDef, ParserOptions, RecordParser } from './format.js';
import { FieldError, isJsonObject, jsonLineParser, jsonNumber, jsonText, lookup, type JsonObject } from './proxy-line-kit.js';
import { nginxOtherLines } from './nginx.js';

/**
 * Kong `kong.log.serialize()` as written by the file-log plugin, one JSON object per line, or as
 * http-log posts it: one object, or an array of them when batching (docs/formats.md, Kong).
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
    // Kong is nginx: its error log (stderr) joins a captured stdout in nginx's own shape.
    otherLines: nginxOtherLines(),
    // http-log with a batch size above 1 (2.x `queue_size`, 3.x `queue.max_batch_size`) posts an array of entries.
    batches: true,
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
  realSamples: [
    {
      source: { project: 'Kong/docs.konghq.com', path: 'app/_includes/md/plugins-hub/log-format.md', commit: '0b427aa7c9fdf955e96bb23bf76f67403cbdc1d4', licence: 'MIT' },
      lines: [
        '{"service":{"host":"httpbin.org","created_at":1614232642,"connect_timeout":60000,"id":"167290ee-c682-4ebf-bdea-e49a3ac5e260","protocol":"http","read_timeout":60000,"port":80,"path":"/anything","updated_at":1614232642,"write_timeout":60000,"retries":5,"ws_id":"54baa5a9-23d6-41e0-9c9a-02434b010b25"},"route":{"id":"78f79740-c410-4fd9-a998-d0a60a99dc9b","paths":["/log"],"protocols":["http"],"strip_path":true,"created_at":1614232648,"ws_id":"54baa5a9-23d6-41e0-9c9a-02434b010b25","request_buffering":true,"updated_at":1614232648,"preserve_host":false,"regex_priority":0,"response_buffering":true,"https_redirect_status_code":426,"path_handling":"v0","service":{"id":"167290ee-c682-4ebf-bdea-e49a3ac5e260"}},"request":{"querystring":{},"size":138,"uri":"/log","url":"http://localhost:8000/log","headers":{"host":"localhost:8000","accept-encoding":"gzip, deflate","user-agent":"HTTPie/2.4.0","accept":"*/*","connection":"keep-alive"},"method":"GET"},"response":{"headers":{"content-type":"application/json","date":"Thu, 25 Feb 2021 05:57:48 GMT","connection":"close","access-control-allow-credentials":"true","content-length":"503","server":"gunicorn/19.9.0","via":"kong/2.2.1.0-enterprise-edition","x-kong-proxy-latency":"57","x-kong-upstream-latency":"457","access-control-allow-origin":"*"},"status":200,"size":827},"latencies":{"request":515,"kong":58,"proxy":457},"tries":[{"balancer_latency":0,"port":80,"balancer_start":1614232668399,"ip":"18.211.130.98"}],"client_ip":"192.168.144.1","workspace":"54baa5a9-23d6-41e0-9c9a-02434b010b25","upstream_uri":"/anything","authenticated_entity":{"id":"c62c1455-9b1d-4f2d-8797-509ba83b8ae8"},"consumer":{"id":"ae974d6c-0f8a-4dc5-b701-fa0aa38592bd","created_at":1674035962,"username_lower":"foo","username":"foo","type":0},"started_at":1614232668342}',
      ],
      fields: { start: '2021-02-25T05:57:48.342Z', status: 200, method: 'GET', path: '/log', client: '192.168.144.1', upstreamStatus: 200 },
    },
    {
      source: { project: 'Kong/docs.konghq.com', path: 'app/plugins/file-log.md', commit: '0973d0f3cea61c25d12fc50379d4f6c04fa1aeb9', licence: 'MIT' },
      lines: [
        '{"request":{"method":"GET","uri":"/get","url":"http://httpbin.org:8000/get","size":"75","querystring":{},"headers":{"accept":"*/*","host":"httpbin.org","user-agent":"curl/7.37.1"}},"upstream_uri":"/","response":{"status":200,"size":"434","headers":{"Content-Length":"197","via":"kong/0.3.0","Connection":"close","access-control-allow-credentials":"true","Content-Type":"application/json","server":"nginx","access-control-allow-origin":"*"}},"tries":[{"state":"next","code":502,"ip":"127.0.0.1","port":8000},{"ip":"127.0.0.1","port":8000}],"authenticated_entity":{"consumer_id":"80f74eef-31b8-45d5-c525-ae532297ea8e","id":"eaa330c0-4cff-47f5-c79e-b2e4f355207e"},"api":{"created_at":1488830759000,"hosts":["example.org"],"http_if_terminated":true,"https_only":false,"id":"6378122c-a0a1-438d-a5c6-efabae9fb969","name":"example-api","preserve_host":false,"retries":5,"strip_uri":true,"upstream_connect_timeout":60000,"upstream_read_timeout":60000,"upstream_send_timeout":60000,"upstream_url":"http://httpbin.org"},"consumer":{"username":"demo","created_at":1491847011000,"id":"35b03bfc-7a5b-4a23-a594-aa350c585fa8"},"latencies":{"proxy":1430,"kong":9,"request":1921},"client_ip":"127.0.0.1","started_at":1433209822425}',
      ],
      fields: { start: '2015-06-02T01:50:22.425Z', status: 200, method: 'GET', path: '/get', client: '127.0.0.1', upstreamStatus: 200 },
    },
  ],
  createParser: createKongParser,
};
