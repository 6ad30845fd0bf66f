import type { ProxyRecord } from '../src/model/records.js';
import { splitTarget } from './fields/request-line.js';
import type { FormatDef, ParserOptions, RecordParser } from './format.js';
import { isTykAccessLogLine } from './tyk-access-log.js';
import {
  FieldError, firstPresent, hasFraction, isGoLoggerLine, jsonLineParser, jsonNumber, jsonText, parseIsoTimestamp, type JsonObject,
} from './proxy-line-kit.js';

/**
 * Tyk analytics records as written by tyk-pump JSON sinks (docs/formats.md, Tyk).
 * Sinks differ in naming: JSON tags (`response_code`), Go names (`ResponseCode`), SQL columns
 * (`responsecode`); all three are accepted.
 * - `timestamp` is taken after proxying (END); start = end − request_time.
 * - `latency.total` (= request_time) is client-facing, `latency.upstream` the backend's (ms).
 * - Tyk logs no upstream status. Gateway-made answers (auth 403, rate limit 429, 499 client
 *   closed, 504 hard timeout) carry no upstream latency, so upstream latency 0 or absent means
 *   the backend never answered (inference, UNCONFIRMED per pump version).
 * - Identity: `api_key` (may be hashed by config, §10), else `alias`, else `oauth_id`; the
 *   placeholder `00000000` of keyless APIs is no key.
 * - The stdout pump (`type: stdout`, JSON log format) wraps each record in a logrus line under
 *   `tyk-analytics-record`; it is read the same way.
 */

const KEYS = {
  timestamp: ['timestamp', 'TimeStamp', 'Timestamp'],
  responseCode: ['response_code', 'ResponseCode', 'responsecode'],
  requestTime: ['request_time', 'RequestTime', 'requesttime', 'latency.total', 'Latency.Total'],
  upstreamLatency: ['latency.upstream', 'Latency.Upstream'],
  method: ['method', 'Method'],
  rawPath: ['raw_path', 'RawPath', 'rawpath'],
  path: ['path', 'Path'],
  host: ['host', 'Host'],
  userAgent: ['user_agent', 'UserAgent', 'useragent'],
  ip: ['ip_address', 'IPAddress', 'ipaddress'],
  apiKey: ['api_key', 'APIKey', 'apikey', 'alias', 'Alias', 'oauth_id', 'OauthID', 'oauthid'],
} as const satisfies Record<string, readonly string[]>;

const CLIENT_CLOSED = 499;

function text(record: JsonObject, keys: readonly string[]): string | null {
  for (const key of keys) {
    const value = jsonText(firstPresent(record, [key]));
    if (value !== null) return value;
  }
  return null;
}

function number(record: JsonObject, keys: readonly string[]): number | null {
  const value = firstPresent(record, keys);
  const n = jsonNumber(value);
  if (Number.isNaN(n) || (n !== null && n < 0)) throw new FieldError(keys[0]!, value);
  return n;
}

function fill(record: ProxyRecord, entry: JsonObject, keyField?: string): void {
  const stamp = firstPresent(entry, KEYS.timestamp);
  const endMs = typeof stamp === 'string' ? parseIsoTimestamp(stamp) : NaN;
  if (Number.isNaN(endMs)) throw new FieldError('timestamp', stamp, 'PARSE_BAD_TIMESTAMP');
  const status = number(entry, KEYS.responseCode);
  if (status !== null && (!Number.isInteger(status) || status > 999)) throw new FieldError('response_code', firstPresent(entry, KEYS.responseCode));

  record.endMs = endMs;
  record.timeResolutionMs = hasFraction(stamp as string) ? 1 : 1000;
  record.requestTimeMs = number(entry, KEYS.requestTime);
  record.startMs = endMs - Math.round(record.requestTimeMs ?? 0);
  record.status = status;
  record.clientClosed = status === CLIENT_CLOSED;

  const upstreamMs = number(entry, KEYS.upstreamLatency);
  record.upstreamLogged = true;
  const answered = upstreamMs !== null && upstreamMs > 0 && status !== CLIENT_CLOSED;
  record.upstreamTimeMs = upstreamMs !== null && upstreamMs > 0 ? upstreamMs : null;
  record.upstreamStatus = answered ? status : null;
  record.upstreamAttempts = answered ? 1 : 0;

  record.method = text(entry, KEYS.method);
  const target = text(entry, KEYS.rawPath) ?? text(entry, KEYS.path);
  if (target !== null) {
    const split = splitTarget(target);
    record.path = split.path;
    record.query = split.query;
  }
  record.host = text(entry, KEYS.host);
  record.userAgent = text(entry, KEYS.userAgent);
  record.clientIp = text(entry, KEYS.ip);
  record.apiKey = keyField ? text(entry, [keyField]) : identity(entry);
}

/** Tyk records keyless APIs with the placeholder key `00000000`: no budget holder, so the alias or OAuth id, if any. */
const PLACEHOLDER_KEY = '00000000';

function identity(entry: JsonObject): string | null {
  for (const key of KEYS.apiKey) {
    const value = text(entry, [key]);
    if (value !== null && value !== PLACEHOLDER_KEY) return value;
  }
  return null;
}

/** tyk-pump's stdout pump logs each record under this key of a logrus JSON line. */
const STDOUT_KEY = 'tyk-analytics-record';

/** The record itself: the entry, or what the stdout pump wrapped in it. */
function unwrap(entry: JsonObject): JsonObject {
  const inner = entry[STDOUT_KEY];
  return inner !== null && typeof inner === 'object' && !Array.isArray(inner) ? inner as JsonObject : entry;
}

function createTykParser(options: ParserOptions): RecordParser {
  return jsonLineParser(options.file, {
    formatId: 'tyk',
    missingField: (entry) => (firstPresent(unwrap(entry), KEYS.responseCode) === undefined ? 'response_code'
      : firstPresent(unwrap(entry), KEYS.timestamp) === undefined ? 'timestamp' : null),
    notThis: 'not a Tyk analytics record',
    fill: (record, entry) => fill(record, unwrap(entry), options.keyField),
    // The gateway's and the pump's own logrus lines, text or JSON, on the stdout pump's stream; not
    // the gateway's access log (a request each: tyk-access-log.ts), which counts as unread here.
    otherLines: (text) => isGoLoggerLine(text) && !isTykAccessLogLine(text),
  });
}

export const tyk: FormatDef = {
  id: 'tyk',
  title: 'Tyk analytics record (tyk-pump JSON)',
  kind: 'proxy',
  traits: { splittable: true, unit: 'line', clientGaveUp: '`499`', backendNeverAnswered: 'no upstream latency', flags: null, upstreamTimeout: { setting: 'the Tyk `proxy_default_timeout` (or the endpoint\'s `hard_timeouts`)', defaultSeconds: null } },
  url: 'https://github.com/TykTechnologies/tyk-pump',
  example:
    '{"method":"GET","host":"api.example.com","path":"/orders","raw_path":"/v1/orders?limit=20","content_length":0,"user_agent":"okhttp/4.12.0","day":15,"month":1,"year":2025,"hour":10,"response_code":200,"api_key":"5d1e3f0a9b8c7d6e00a1b2c3","timestamp":"2025-01-15T10:32:01.457123456Z","api_version":"Default","api_name":"Orders API","api_id":"orders-api","org_id":"5e9d9544a1dcd60001d0ed20","request_time":84,"latency":{"total":84,"upstream":81},"ip_address":"203.0.113.24","tags":["pol-acme-mobile"],"alias":"acme-mobile"}',
  exampleFields: { start: '2025-01-15T10:32:01.373Z', status: 200, method: 'GET', path: '/v1/orders', client: '203.0.113.24', upstreamStatus: 200 },
  createParser: createTykParser,
};
