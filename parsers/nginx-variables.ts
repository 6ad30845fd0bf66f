import { upstreamUsed, type ProxyRecord } from '../src/model/records.js';
import { createStrftimeHandlers, STRFTIME_VARIABLES } from './fields/strftime-parts.js';
import { cachedClfTimeParser } from './fields/clf-time.js';
import { parseIsoTimestamp } from './fields/iso-time.js';
import { sharedInterner } from './fields/string-interner.js';
import { parseDecimal, parseUnsignedInt, secondsToMs } from './fields/numbers.js';
import { parseRequestLine, splitTarget } from './fields/request-line.js';
import { normaliseTraceId } from './fields/trace-context.js';
import { lastUpstreamElement, parseLastUpstreamStatus, parseUpstreamSeconds } from './fields/upstream-list.js';

/**
 * What each nginx variable means for the normalised record. A handler returns false when the
 * value is malformed; "-" (default escaping) and "" (escape=json|none) always mean missing.
 * Variable semantics: docs/formats.md, nginx (Variables, Upstream lists).
 */
export type VariableHandler = (record: ProxyRecord, value: string) => boolean;

const isMissing = (value: string): boolean => value === '-' || value === '';

function optionalString(set: (record: ProxyRecord, value: string) => void): VariableHandler {
  return (record, value) => {
    if (!isMissing(value)) set(record, value);
    return true;
  };
}

function secondsField(set: (record: ProxyRecord, ms: number) => void): VariableHandler {
  return (record, value) => {
    if (isMissing(value)) return true;
    const seconds = parseDecimal(value);
    if (Number.isNaN(seconds) || seconds < 0) return false;
    set(record, secondsToMs(seconds));
    return true;
  };
}

function integerField(set: (record: ProxyRecord, n: number) => void): VariableHandler {
  return (record, value) => {
    if (isMissing(value)) return true;
    const n = parseUnsignedInt(value);
    if (Number.isNaN(n)) return false;
    set(record, n);
    return true;
  };
}

function upstreamSeconds(set: (record: ProxyRecord, ms: number | null, attempts: number) => void): VariableHandler {
  return (record, value) => {
    const parsed = parseUpstreamSeconds(value);
    if (parsed === null) return false;
    set(record, parsed.totalMs, parsed.attempts);
    return true;
  };
}

/**
 * Common key spellings → nginx variable, for JSON lines (nginx-json.ts) and `key=value` text after
 * a known format (nginx-extra-pairs.ts). Keys that already are variable names map to themselves.
 */
const KEY_ALIASES: Record<string, string> = {
  msec: 'msec',
  timestamp: 'time',
  date: 'time',
  '@timestamp': 'time',
  time: 'time',
  method: 'request_method',
  uri: 'request_uri',
  url: 'request_uri',
  path: 'request_uri',
  client_ip: 'remote_addr',
  ip: 'remote_addr',
  user_agent: 'http_user_agent',
  ua: 'http_user_agent',
  referer: 'http_referer',
  referrer: 'http_referer',
  x_request_id: 'http_x_request_id',
  traceparent: 'http_traceparent',
  duration: 'request_time',
  rt: 'request_time',
  urt: 'upstream_response_time',
  uct: 'upstream_connect_time',
  uht: 'upstream_header_time',
  upstream: 'upstream_addr',
  bytes: 'body_bytes_sent',
  size: 'body_bytes_sent',
};

/** The nginx variable a key names: an alias above, else the key itself without `$`, `-` read as `_`. */
export function variableFor(key: string): string {
  const lower = key.toLowerCase();
  return (Object.hasOwn(KEY_ALIASES, lower) ? KEY_ALIASES[lower] : undefined) ?? lower.replace(/^\$/, '').replace(/-/g, '_');
}

/**
 * The variables that are `-` for a request nginx answered without trying an upstream (a static
 * file, a `return`, a limit_req rejection). A format with any of them tells such requests from
 * proxied ones, even without `$upstream_status` (the `rt= uct= uht= urt=` suffix of nginx's
 * "Using NGINX Logging for Application Performance Monitoring" logs no upstream status).
 */
const UPSTREAM_VARIABLES: ReadonlySet<string> = new Set(['upstream_status', 'upstream_addr', 'upstream_response_time', 'upstream_connect_time', 'upstream_header_time']);

/**
 * How a format's variables say whether a backend answered: `status` ($upstream_status is
 * logged), `attempt` (only an address or an upstream time: see inferUpstreamStatus), or null
 * (nothing of the upstream is logged: `combined`).
 */
export function upstreamEvidence(variables: Iterable<string>): 'status' | 'attempt' | null {
  let evidence: 'attempt' | null = null;
  for (const variable of variables) {
    if (variable === 'upstream_status') return 'status';
    if (UPSTREAM_VARIABLES.has(variable)) evidence = 'attempt';
  }
  return evidence;
}

/**
 * The upstream's status where the format logs an attempt but not `$upstream_status`: a request
 * nginx passed upstream (an address or a time logged) that the client did not close (499) got
 * the status nginx logged, as nginx sets `$upstream_status` to the upstream's status or, for an
 * attempt that failed, to the 502 or 504 it answers. It differs only where nginx rewrites the
 * upstream's status (`error_page` with `proxy_intercept_errors`, `post_action`). A request not
 * passed upstream has none: the proxy answered it alone.
 */
export function inferUpstreamStatus(record: ProxyRecord): void {
  const passed = upstreamUsed(record);
  record.upstreamStatus = passed && record.status !== 499 ? record.status : null;
}

/**
 * `$remote_addr` as found in real files: an address, or (where a config logs `$host` and an
 * X-Forwarded-For chain before it, as Filebeat's nginx fixtures show) `example.com 10.0.0.2,
 * 10.0.0.1, 127.0.0.1` or `"10.5.102.222, 199.96.1.1" 10.2.1.185`. A first word that does not end
 * a list element (no comma) and is followed by more is the host; the client is the first address
 * of the rest, the one the chain started from. A first word that is an RFC 3339 time is no host:
 * the line carries a prefix nginx did not write (`docker logs --timestamps`), and is refused; so is
 * any other run of words that is no such chain: a syslog header (`Feb  7 11:48:01 web1 nginx:
 * 203.0.113.24 - - […`, nginx's `access_log syslog:` as a syslog file holds it) was read as host
 * `Feb` and client `7`.
 */
function readRemoteAddr(record: ProxyRecord, value: string): boolean {
  if (value.indexOf(' ') < 0) {
    record.clientIp = value;
    return true;
  }
  const words = value.split(' ').filter((word) => word !== '');
  const first = words[0]!;
  if (RFC3339_START.test(first)) return false;
  let from = 0;
  if (words.length > 1 && !first.endsWith(',') && !first.startsWith('"')) from = 1;
  // After the host, a chain and at most one word more (`2a03:…:8000, 10.225.192.17 10.2.2.121`: the
  // forwarded chain, then the address nginx saw): each word but the chain's last ends an element.
  let chainEnds = 0;
  for (let i = from; i < words.length - 1; i++) {
    const word = words[i]!;
    if (!word.endsWith(',') && !word.endsWith('"') && ++chainEnds > 1) return false;
  }
  if (from === 1) record.host ??= first;
  const word = words[from]!;
  let start = 0;
  let end = word.length;
  while (start < end && word.charCodeAt(start) === 34 /* " */) start++;
  while (end > start && (word.charCodeAt(end - 1) === 34 || word.charCodeAt(end - 1) === 44 /* , */)) end--;
  record.clientIp = start === end ? null : word.slice(start, end);
  return true;
}

const RFC3339_START = /^\d{4}-\d{2}-\d{2}T\d{2}:/;

/** A fresh handler table per compiled format: the time parsers keep a per-format cache. */
export function createVariableHandlers(): Record<string, VariableHandler> {
  const parseTimeLocal = cachedClfTimeParser();
  const strings = sharedInterner();
  /** `[15/Jan/2025:10:32:01 +0000]`'s inside, whole seconds: nginx's time of logging, or httpd's %t (a start: nginx.ts says which). */
  const clfTime: VariableHandler = (record, value) => placeTime(record, parseTimeLocal(value), 1000);
  return {
    // Not interned either (see http_user_agent): an address is short, so hashing a fresh one where
    // a detector looks it up costs less than interning every one. 2 M combined lines 3.63-3.65 ->
    // 3.53-3.57 s wall; 1 M extended 5.96-6.07 -> 5.57-5.62 s (medians of 3, twice).
    remote_addr: (record, value) => isMissing(value) || readRemoteAddr(record, value),
    realip_remote_addr: optionalString((r, v) => { r.clientIp ??= v; }),
    // ingress-nginx's client address: X-Forwarded-For's when it trusts forwarded headers, else $remote_addr.
    the_real_ip: (record, value) => isMissing(value) || record.clientIp !== null || readRemoteAddr(record, value),
    time_local: clfTime,
    time_iso8601: (record, value) => {
      // 2025-01-15T10:32:01+00:00: whole seconds. By position, not a Date.parse per line (500 k
      // combined lines with $time_iso8601, read and parsed: 768 -> 730 ms CPU, medians of 5).
      if (value.length !== 25) return false;
      return placeTime(record, parseIsoTimestamp(value), 1000);
    },
    msec: (record, value) => {
      const seconds = parseDecimal(value);
      return seconds >= 0 && placeTime(record, Math.round(seconds * 1000), 1);
    },
    request: (record, value) => {
      if (isMissing(value)) return true;
      const line = parseRequestLine(value);
      // A garbage request line (scanners send them) is still a request: keep it, pathless.
      if (line === null) return true;
      record.method ??= line.method;
      record.path ??= line.path;
      record.query ??= line.query;
      return true;
    },
    request_method: optionalString((r, v) => { r.method = strings.intern(v); }),
    request_uri: optionalString((r, v) => {
      const { path, query } = splitTarget(v);
      r.path = path;
      r.query = query;
    }),
    uri: optionalString((r, v) => { r.path ??= v; }),
    document_uri: optionalString((r, v) => { r.path ??= v; }),
    args: optionalString((r, v) => { r.query ??= v; }),
    query_string: optionalString((r, v) => { r.query ??= v; }),
    host: optionalString((r, v) => { r.host = v; }),
    http_host: optionalString((r, v) => { r.host ??= v; }),
    server_name: optionalString((r, v) => { r.host ??= v; }),
    status: (record, value) => {
      // nginx never writes `-` here, but httpd does for a status of 0, in the layout nginx's combined shares.
      if (value === '-') return true;
      const status = parseUnsignedInt(value);
      if (Number.isNaN(status) || value.length !== 3) return false;
      record.status = status;
      return true;
    },
    request_time: secondsField((r, ms) => { r.requestTimeMs = ms; }),
    upstream_response_time: upstreamSeconds((r, ms, attempts) => {
      r.upstreamTimeMs = ms;
      r.upstreamAttempts = Math.max(r.upstreamAttempts, attempts);
    }),
    upstream_connect_time: upstreamSeconds((r, ms, attempts) => {
      r.upstreamConnectTimeMs = ms;
      r.upstreamAttempts = Math.max(r.upstreamAttempts, attempts);
    }),
    upstream_header_time: upstreamSeconds((r, ms, attempts) => {
      r.upstreamHeaderTimeMs = ms;
      r.upstreamAttempts = Math.max(r.upstreamAttempts, attempts);
    }),
    upstream_status: (record, value) => {
      const status = parseLastUpstreamStatus(value);
      if (status === undefined) return false;
      record.upstreamStatus = status;
      return true;
    },
    upstream_addr: (record, value) => {
      const address = lastUpstreamElement(value);
      record.upstreamAddr = address === null ? null : strings.intern(address);
      return true;
    },
    // Not interned: at ~110 ns a call (hash and compare of a ~100-character slice) it cost more
    // than it saved. On `combined` nothing looks a user agent up per request (2 M lines: 3.94 ->
    // 3.67 s wall, medians of 3, twice); where the knee does, hashing the fresh slice costs about
    // what interning did (1 M extended lines: 5.56 s both ways). What keeps one copies it.
    http_user_agent: optionalString((r, v) => { r.userAgent = v; }),
    request_id: optionalString((r, v) => { r.requestId = v; }),
    // ingress-nginx's name for its request id ($request_id, or the incoming X-Request-ID).
    req_id: optionalString((r, v) => { r.requestId ??= v; }),
    http_x_request_id: optionalString((r, v) => { r.requestId ??= v; }),
    http_traceparent: optionalString((r, v) => { r.traceId ??= normaliseTraceId(v); }),
    http_x_amzn_trace_id: optionalString((r, v) => { r.traceId ??= normaliseTraceId(v); }),
    bytes_sent: integerField((r, n) => { r.bytesSent = n; }),
    body_bytes_sent: integerField((r, n) => { r.bytesSent ??= n; }),
    connection_requests: integerField((r, n) => { r.connectionRequests = n; }),
    // alf's own variables for Apache httpd formats read through a log_format (apache-log-format.ts).
    // The time is when the request was received: the parser makes it the start (START_TIME_VARIABLES).
    apache_time: clfTime,
    apache_epoch_s: epochField(1000),
    apache_epoch_ms: epochField(1),
    apache_epoch_us: epochField(0.001),
    apache_duration_us: integerField((r, n) => { r.requestTimeMs = n / 1000; }),
    apache_duration_ms: integerField((r, n) => { r.requestTimeMs = n; }),
    apache_duration_s: integerField((r, n) => { r.requestTimeMs = n * 1000; }),
    // %k counts the requests before this one on its connection; $connection_requests counts this one too.
    apache_keepalive: integerField((r, n) => { r.connectionRequests = n + 1; }),
    // %X: `X` the connection was aborted before the response completed (the client went away).
    apache_connection: (record, value) => readConnectionState(record, value),
    // `%X%k` logged with nothing between them: the state's one character, then the count.
    apache_connection_keepalive: (record, value) => {
      const count = parseUnsignedInt(value.slice(1));
      if (!readConnectionState(record, value.slice(0, 1)) || Number.isNaN(count)) return false;
      record.connectionRequests = count + 1;
      return true;
    },
    // `%{%Y-%m-%d %H:%M:%S}t` and the like: one variable per conversion (fields/strftime-parts.ts).
    ...createStrftimeHandlers(),
  };
}

/** httpd's `%X`: `X` aborted before the response completed (the client went away), `+` kept alive, `-` closed. */
function readConnectionState(record: ProxyRecord, value: string): boolean {
  if (value === 'X') record.clientClosed = true;
  return value === 'X' || value === '+' || value === '-';
}

/**
 * The line's time, read by every time variable: false when `ms` is no time. A format may log the
 * time twice (`$time_iso8601` and `$msec`), and the finer one wins whichever comes first: a time
 * to the second does not replace one to the millisecond already read (a JSON log_format with
 * `$msec` before `$time_iso8601` read its times to the second).
 */
export function placeTime(record: ProxyRecord, ms: number, resolutionMs: number): boolean {
  if (Number.isNaN(ms)) return false;
  if (resolutionMs >= 1000 && record.endMs !== 0 && record.timeResolutionMs < 1000) return true;
  record.endMs = ms;
  record.timeResolutionMs = resolutionMs;
  return true;
}

/** An httpd epoch time (`%{sec}t`, `%{msec}t`, `%{usec}t`) in units of `ms` milliseconds. */
function epochField(ms: number): VariableHandler {
  return (record, value) => placeTime(record, Math.round(parseUnsignedInt(value) * ms), Math.max(1, ms));
}

/** Variables that are free text: they may contain any separator, so one of them absorbs the slack. */
export function isFreeTextVariable(name: string): boolean {
  return (
    name === 'request' || name === 'request_uri' || name === 'uri' || name === 'args' ||
    name === 'query_string' || name === 'remote_user' || name.startsWith('http_') ||
    name.startsWith('sent_http_') || name.startsWith('cookie_') || name.startsWith('arg_')
  );
}

/** Variables that look like an API key or consumer identity, when the user names none. */
const KEY_VARIABLE = /(?:^|_)(?:api_?key(?:_id)?|apikey|api_client|api_consumer|consumer(?:_id)?|client_id|key_id)$/;

export function guessKeyVariable(variables: readonly string[]): string | null {
  return variables.find((name) => KEY_VARIABLE.test(name)) ?? null;
}

export const TIME_VARIABLES: readonly string[] = ['time_local', 'time_iso8601', 'msec', 'apache_time', 'apache_epoch_s', 'apache_epoch_ms', 'apache_epoch_us', ...STRFTIME_VARIABLES];
/** Times that say when the request was received, not when it was logged (httpd's `%t`). */
export const START_TIME_VARIABLES: ReadonlySet<string> = new Set(['apache_time', 'apache_epoch_s', 'apache_epoch_ms', 'apache_epoch_us', ...STRFTIME_VARIABLES]);
