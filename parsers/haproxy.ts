import { emptyProxyRecord, type ProxyRecord } from '../src/model/records.js';
import { findKeyAttribute } from './fields/apm-attributes.js';
import { headerKey } from './fields/header-key.js';
import { parseClfTime } from './fields/clf-time.js';
import { parseUnsignedInt } from './fields/numbers.js';
import { parseRequestLine } from './fields/request-line.js';
import { sharedInterner } from './fields/string-interner.js';
import { normaliseTraceId } from './fields/trace-context.js';
import { LOG_FORMAT_FIELD, type FormatDef, type ParserOptions, type RecordParser, type RecordSink } from './format.js';
import { localTimeZone } from '../src/model/time-zone.js';
import { parseIsoTimestamp } from './fields/iso-time.js';
import { excerpt } from '../src/model/parse-issue.js';
import { hostOfHostPort, isMissing, optionalUnsigned, textLineParser } from './proxy-line-kit.js';
import { compileHaproxyLogFormat, sampleHeaderName, splitHaproxyLine, TIME_VARIABLES, type CompiledHaproxyLogFormat } from './haproxy-log-format.js';

export { headerKey };

/**
 * HAProxy `option httplog` (docs/formats.md, HAProxy), with or without a syslog header:
 * `%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq [{%hr}] [{%hs}] %{+Q}r`
 * - `[%tr]` is when the first request byte arrived (START), local time with ms and NO zone.
 *   It is read as UTC: the log does not say which zone the host was in.
 * - Timers are ms, `-1` when the phase was never reached; `Tr` is the backend's time to headers.
 * - HAProxy logs no backend status: the backend answered when a server was chosen (not `<NOSRV>`)
 *   and `Tr` is not -1; the client then saw its status. A server name in angle brackets is
 *   HAProxy's own: `<NOSRV>` when none was chosen, else the applet that answered in its place
 *   (`<STATS>` the stats page, `<CACHE>` the cache, `<PROMEX>` the Prometheus exporter), so no
 *   backend was tried. (A real log's stats page, polled every 10 minutes, was read as 43 requests
 *   the proxy made up without its backend, at medium.)
 * - Termination state goes to `flags`; a first char `C` (client abort) or `c` (client timeout)
 *   means the client gave up (CH is nginx's 499).
 *
 * Header captures: `{v1|v2|...}` holds the values of the frontend's request captures, in the
 * order the frontend declares them (`capture request header NAME len N` and
 * `http-request capture req.hdr(NAME) len N` share one list), then `{...}` the response captures.
 * The log carries values, never names, so which capture is which comes from a layout:
 * `haproxyFormat(haproxyCaptureLayout(haproxyCfgText))` reads it from the configuration. The
 * built-in format assumes DEFAULT_HAPROXY_CAPTURES: request captures Host, User-Agent, X-Api-Key,
 * in that order (a fourth and later capture is ignored). Roles by header name: User-Agent, Host,
 * X-Request-Id, traceparent, and the API key: the header named by `--key-field` (`x-api-key`,
 * `X-Api-Key` and `http_x_api_key` all name the same header), else the first header whose name
 * looks like a key (X-Api-Key, Api-Key, X-Consumer-Id...). HAProxy writes `#XX` for the bytes
 * it encodes in captures (`"`, `#`, `{`, `|`, `}`, controls, non-ASCII); they are decoded (UTF-8).
 */

/** `<NOSRV>`, `<STATS>`, `<CACHE>`, `<PROMEX>`…: no server of a backend, HAProxy itself. */
const ownServerName = (server: string): boolean => server.charCodeAt(0) === 60 /* < */ && server.endsWith('>');

/** What a frontend's captures hold, by header name, in declaration order. */
export interface HaproxyCaptures {
  readonly request: readonly string[];
  readonly response: readonly string[];
}

/** Captures per frontend (`%ft` without the `~` of TLS), and for frontends not listed. */
export interface HaproxyCaptureLayout {
  readonly frontends: ReadonlyMap<string, HaproxyCaptures>;
  readonly fallback: HaproxyCaptures;
}

export const DEFAULT_HAPROXY_CAPTURES: HaproxyCaptures = { request: ['Host', 'User-Agent', 'X-Api-Key'], response: [] };
export const DEFAULT_HAPROXY_LAYOUT: HaproxyCaptureLayout = { frontends: new Map(), fallback: DEFAULT_HAPROXY_CAPTURES };

/** Where a request capture's value goes; -1 when no capture holds it. */
interface CaptureRoles {
  /** From DEFAULT_HAPROXY_CAPTURES because no haproxy.cfg named this frontend's captures: checked and warned about. */
  assumed: boolean;
  hasRequestBlock: boolean;
  host: number;
  userAgent: number;
  apiKey: number;
  requestId: number;
  traceparent: number;
}


function rolesOf(captures: HaproxyCaptures, keyField: string | undefined, assumed: boolean): CaptureRoles {
  const keys = captures.request.map(headerKey);
  const keyHeader = keyField !== undefined ? headerKey(keyField) : findKeyAttribute(keys);
  return {
    assumed,
    hasRequestBlock: captures.request.length > 0,
    host: keys.indexOf('host'),
    userAgent: keys.indexOf('user-agent'),
    apiKey: keyHeader === null ? -1 : keys.indexOf(keyHeader),
    requestId: keys.indexOf('x-request-id'),
    traceparent: keys.indexOf('traceparent'),
  };
}

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 65 && code <= 70) return code - 55;
  if (code >= 97 && code <= 102) return code - 87;
  return -1;
}

/** A capture value with HAProxy's `#XX` byte encoding undone (read as UTF-8). */
export function decodeCapture(value: string): string {
  if (value.indexOf('#') < 0) return value;
  const bytes = Buffer.from(value, 'utf8');
  const out = Buffer.allocUnsafe(bytes.length);
  let length = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte === 35 /* # */ && i + 2 < bytes.length) {
      const high = hexValue(bytes[i + 1]!);
      const low = hexValue(bytes[i + 2]!);
      if (high >= 0 && low >= 0) {
        out[length++] = high * 16 + low;
        i += 2;
        continue;
      }
    }
    out[length++] = byte;
  }
  return out.toString('utf8', 0, length);
}

/**
 * The `{…}` blocks after the fixed fields: their contents, or null when the text is not a run of
 * blocks. Captured values cannot hold `}` (HAProxy encodes it), so each block ends at the next `}`.
 */
function captureBlocks(text: string): string[] | null {
  const blocks: string[] = [];
  let at = 0;
  while (at < text.length) {
    if (text.charCodeAt(at) !== 123 /* { */) return null;
    const close = text.indexOf('}', at + 1);
    if (close < 0) return null;
    blocks.push(text.slice(at + 1, close));
    at = close + 1;
    if (at < text.length && text.charCodeAt(at) === 32) at++;
  }
  return blocks;
}

/** The header a capture sample reads (`req.hdr(User-Agent)`, `hdr(X-Api-Key,1),lower`), else the sample itself. */
function sampleHeader(sample: string): string {
  const open = sample.indexOf('hdr(');
  if (open < 0) return sample;
  const start = open + 4;
  let end = start;
  while (end < sample.length && sample[end] !== ',' && sample[end] !== ')') end++;
  return sample.slice(start, end);
}

const SECTIONS = new Set(['global', 'defaults', 'frontend', 'backend', 'listen', 'peers', 'resolvers', 'userlist', 'mailers', 'program', 'http-errors', 'ring', 'cache', 'crt-store', 'traces']);

/** The words of a config line, comments dropped (`#` at the start of a word). */
function configWords(line: string): string[] {
  const words: string[] = [];
  for (const word of line.trim().split(/\s+/)) {
    if (word === '') continue;
    if (word.startsWith('#')) break;
    words.push(word);
  }
  return words;
}

/**
 * The capture layout of each frontend (and `listen` section) of a haproxy.cfg, in declaration
 * order: `capture request|response header NAME len N`, `declare capture request|response len N`
 * (a slot named by a later `http-request|http-response capture SAMPLE id I`) and
 * `http-request capture SAMPLE len N`. Frontends without captures are listed with none.
 */
export function haproxyCaptureLayout(config: string, fallback: HaproxyCaptures = DEFAULT_HAPROXY_CAPTURES): HaproxyCaptureLayout {
  const frontends = new Map<string, { request: string[]; response: string[] }>();
  let current: { request: string[]; response: string[] } | null = null;
  // `… capture SAMPLE id I` may name a slot declared further down: applied once every slot is known.
  const named: { slots: string[]; slot: number; header: string }[] = [];
  for (const line of config.split('\n')) {
    const words = configWords(line);
    const first = words[0];
    if (first === undefined) continue;
    if (SECTIONS.has(first)) {
      current = (first === 'frontend' || first === 'listen') && words[1] !== undefined ? { request: [], response: [] } : null;
      if (current) frontends.set(words[1]!, current);
      continue;
    }
    if (current === null) continue;
    const lenAt = words.indexOf('len');
    const idAt = words.indexOf('id');
    if (first === 'capture' && words[2] === 'header' && words[3] !== undefined) {
      if (words[1] === 'request') current.request.push(words[3]);
      else if (words[1] === 'response') current.response.push(words[3]);
    } else if (first === 'declare' && words[1] === 'capture' && lenAt > 0) {
      if (words[2] === 'request') current.request.push('');
      else if (words[2] === 'response') current.response.push('');
    } else if ((first === 'http-request' || first === 'http-response') && words[1] === 'capture' && words[2] !== undefined) {
      const slots = first === 'http-request' ? current.request : current.response;
      const header = sampleHeader(words[2]);
      if (idAt > 0) named.push({ slots, slot: Number(words[idAt + 1]), header });
      else if (lenAt > 0 && first === 'http-request') slots.push(header);
    }
  }
  for (const { slots, slot, header } of named) {
    if (Number.isInteger(slot) && slot >= 0 && slot < slots.length && slots[slot] === '') slots[slot] = header;
  }
  return { frontends, fallback };
}

/** A timer: an integer, `-1`, or `+n` (logasap). null for -1, NaN when malformed. */
export function haproxyTimer(text: string): number | null {
  if (text === '-1') return null;
  return parseUnsignedInt(text.charCodeAt(0) === 43 /* + */ ? text.slice(1) : text);
}

const TIMER_NAMES = ['TR', 'Tw', 'Tc', 'Tr', 'Ta'] as const;
/** The end of a syslog header HAProxy wrote: its program tag, `haproxy[8]: `. */
const HAPROXY_TAG = /haproxy\[\d+\]: $/;

/** Where the httplog body starts: the `[` that opens `dd/Mon/yyyy:` after the client address. */
export function findAcceptDate(line: string): number {
  let at = line.indexOf(' [');
  while (at >= 0) {
    const code = line.charCodeAt(at + 2);
    if (code >= 48 && code <= 57 && line.charCodeAt(at + 4) === 47 /* / */) return at + 1;
    at = line.indexOf(' [', at + 2);
  }
  return -1;
}

/**
 * Lines HAProxy writes into the same log that are no HTTP request, counted as ignored (not as
 * malformed) so that a real syslog stream, where they are common, is read as HAProxy at all
 * (docs/formats.md, HAProxy: its other lines):
 * - its process's messages, sent with the proxies' log settings: `Proxy fe started.`, `Stopping
 *   frontend fe in 0 ms.`, `Proxy fe stopped (…)`, `Pausing`/`Resuming …`, `Server be/s1 is DOWN, …`,
 *   `backend be has no server available!`, health and agent checks, `[WARNING] …`-style messages,
 *   the `Connect from a:p to b:p (fe/HTTP)` line of a proxy without option httplog, and a stream
 *   offload agent's `SPOE: [agent] <EVENT:…> sid=… st=…` line;
 * - an option tcplog line: `%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq`
 *   (a TCP session, no HTTP request);
 * - a connection error before any request: `%ci:%cp [%t] %ft/%b: SSL handshake failure`.
 * Each is matched whole or by its fixed start, so a damaged request line is still reported.
 */
export function isHaproxyOtherLine(text: string): boolean {
  const open = findAcceptDate(text);
  if (open < 0) {
    // The message follows a syslog header (RFC 3164 `… haproxy[7]: `, RFC 5424 `… - - `) or stands alone.
    const afterPid = text.indexOf(']: ');
    const afterSd = text.indexOf(' - - ');
    for (const start of [0, afterPid < 0 ? -1 : afterPid + 3, afterSd < 0 ? -1 : afterSd + 5]) {
      if (start >= 0 && PROCESS_MESSAGES.some((pattern) => pattern.test(text.slice(start, start + 200)))) return true;
    }
    return false;
  }
  const close = text.indexOf(']', open);
  if (close < 0) return false;
  const rest = text.slice(close + 2);
  if (CONNECTION_ERROR.test(rest)) return true;
  const fields = rest.split(' ');
  return fields.length === 7 && TCP_FIELDS.every((pattern, i) => pattern.test(fields[i]!));
}

/** The starts of HAProxy's own messages (src/proxy.c, src/server.c, src/check.c, src/backend.c). */
const PROCESS_MESSAGES: readonly RegExp[] = [
  /^Proxy [^ ]+ (?:started\.|stopped \()/,
  /^Stopping [a-z-]+ [^ ]+ in \d+ ms\./,
  /^(?:Pausing|Resuming) [a-z-]+ [^ ]+\./,
  /^Server [^ /]+\/[^ ]+ /,
  /^backend [^ ]+ has no server available!/,
  /^(?:Health|Agent) check for (?:backup )?server [^ /]+\/[^ ]+ /,
  /^\[(?:NOTICE|WARNING|ALERT|ERROR|INFO|DEBUG)\] /,
  /^Connect from [^ ]+ to [^ ]+ \([^ /]+\/[^ )]+\)$/,
  // A stream offload agent's per-stream line (src/flt_spoe.c): `SPOE: [agent] <EVENT:name> sid=3 st=2 …`.
  /^SPOE: \[[^\]]*\] <(?:EVENT|GROUP):[^>]*> sid=\d+ /,
];

/** `fe/bind: message` right after the accept date: an error before any request. */
const CONNECTION_ERROR = /^[^ /]+\/[^ :]*: [A-Za-z]/;

/** option tcplog's seven fields after the accept date; `+` marks a figure logged early (logasap). */
const TCP_FIELDS: readonly RegExp[] = [
  /^[^ ]+$/, /^[^ /]+\/[^ ]+$/, /^-?\d+\/-?\d+\/\+?-?\d+$/, /^\+?\d+$/, /^[A-Za-z-]{2}$/, /^\d+\/\d+\/\d+\/\d+\/\+?\d+$/, /^\d+\/\d+$/,
];

/** A Host header value: a name or address with an optional port; no spaces, slashes or parentheses. */
function looksLikeHost(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code === 32 || code === 47 /* / */ || code === 40 /* ( */ || code === 59 /* ; */) return false;
  }
  return value.length > 0;
}

/**
 * The zone of a syslog header before the client address, as `+hhmm` for parseClfTime: RFC 5424
 * (`<134>1 2025-01-15T10:32:01.123+01:00 host haproxy 2211 - - …`) or an RFC 3339 stamp first
 * (rsyslog's precise template). null when the header has none (RFC 3164 `Jan 15 10:32:01`).
 */
function syslogZone(text: string, clientStart: number): string | null {
  let at = 0;
  if (text.charCodeAt(0) === 60 /* < */) {
    at = text.indexOf('>');
    if (at < 0 || at > 5) return null;
    at++;
    if (text.startsWith('1 ', at)) at += 2;
  }
  const end = text.indexOf(' ', at);
  if (end < 0 || end >= clientStart) return null;
  const stamp = text.slice(at, end);
  if (Number.isNaN(parseIsoTimestamp(stamp))) return null;
  if (stamp.endsWith('Z')) return '+0000';
  return `${stamp.slice(-6, -3)}${stamp.slice(-2)}`;
}

/** `option httpslog`'s words after the request: ` 0/0/0/0/0 sni/TLSv1.3/CIPHER`; null when the tail is something else. */
function httpsTail(tail: string): { sni: string | null } | null {
  const words = tail.split(' ');
  if (words.length !== 3 || words[0] !== '') return null;
  if (words[1]!.split('/').length !== 5) return null;
  const ssl = words[2]!.split('/');
  if (ssl.length !== 3) return null;
  return { sni: isMissing(ssl[0]) ? null : ssl[0]! };
}

/**
 * Where a line's message may start after a syslog header: after an RFC 5424 header (`<134>1 TIME
 * HOST APP PID MSGID - `), after a bare priority (`format short`), after `haproxy[8]: ` (RFC 3164),
 * then the line's start (`log stdout format raw`). A header first: a format that opens with a value
 * (`%ci:%cp …`) would otherwise take the header's words for its first values.
 */
function bodyStarts(text: string): number[] {
  const starts: number[] = [];
  if (text.charCodeAt(0) === 60 /* < */) {
    const close = text.indexOf('>');
    if (close > 1 && close <= 4) {
      if (text.startsWith('1 ', close + 1)) {
        let at = close + 3;
        for (let word = 0; word < 6 && at > 0; word++) at = text.indexOf(' ', at) + 1;
        if (at > 0) starts.push(at);
      } else {
        starts.push(close + 1);
      }
    }
  }
  const tag = text.indexOf(']: ');
  if (tag > 0 && tag < 256) starts.push(tag + 3);
  starts.push(0);
  return starts;
}

/** TR (Tq before 1.9), Tw, Tc, Tr, Ta (Tt): ms, null for -1. */
export type HaproxyTimers = [request: number | null, queue: number | null, connect: number | null, response: number | null, total: number | null];

/** What an HTTP log line says about one request, in any of HAProxy's HTTP layouts (httplog, httplog clf). */
export interface HaproxyOutcome {
  startMs: number;
  timeResolutionMs: number;
  timers: HaproxyTimers;
  status: number | null;
  bytes: number | null;
  client: string;
  termination: string;
  /** `backend/server`, as httplog writes it. */
  upstream: string;
  server: string;
  retries: number;
  /** The request line as logged; `<BADREQ>` and the like are none. */
  request: string;
}

/**
 * Fills when, how long, who answered and who gave up, from the timers, the server and the
 * termination state (the meanings above), and the request. Shared by every HTTP layout, so each
 * reads them alike.
 */
export function fillHaproxyOutcome(record: ProxyRecord, outcome: HaproxyOutcome): void {
  const { startMs, status, termination, server, retries } = outcome;
  const [requestMs, queueMs, connectMs, responseMs, totalMs] = outcome.timers;
  record.startMs = startMs;
  record.timeResolutionMs = outcome.timeResolutionMs;
  record.requestTimeMs = totalMs;
  record.endMs = startMs + (totalMs ?? 0);
  record.status = status;
  record.bytesSent = outcome.bytes;
  record.clientIp = hostOfHostPort(outcome.client);
  record.flags = termination === '----' ? null : termination;
  const cause = termination[0];
  record.clientClosed = cause === 'C' || cause === 'c';

  const dispatched = !ownServerName(server);
  record.upstreamLogged = true;
  record.upstreamAddr = dispatched ? outcome.upstream : null;
  record.upstreamAttempts = dispatched ? 1 + retries : 0;
  record.upstreamConnectTimeMs = dispatched ? connectMs : null;
  record.upstreamHeaderTimeMs = dispatched ? responseMs : null;
  // Tr -1: no response headers came (HAProxy's `timeout server`, the client's hang-up). The server
  // had the request for what is left of Ta after the client's request, the queue and the connect,
  // as nginx logs $upstream_response_time up to the moment it gave up: a limiter counting the log
  // charges that, not nothing. (It counted 0: a real HAProxy's 3 s `timeout server` read as an 86%
  // under-count where nginx's log of the same incident, 3.000 s a timeout, gave 35%.)
  const waitedMs = responseMs === null && connectMs !== null && totalMs !== null ? Math.max(0, totalMs - (requestMs ?? 0) - (queueMs ?? 0) - connectMs) : responseMs;
  record.upstreamTimeMs = dispatched ? waitedMs : null;
  record.upstreamStatus = dispatched && responseMs !== null ? status : null;

  const request = outcome.request;
  const parsed = request.charCodeAt(0) === 60 /* < */ ? null : parseRequestLine(request);
  if (parsed !== null) {
    record.method = parsed.method;
    record.path = parsed.path;
    record.query = parsed.query;
  }
}

function createHaproxyParser(options: ParserOptions, layout: HaproxyCaptureLayout, custom: readonly CompiledHaproxyLogFormat[]): RecordParser {
  const file = options.file;
  const fallbackRoles = rolesOf(layout.fallback, options.keyField, layout.fallback === DEFAULT_HAPROXY_CAPTURES);
  const frontendRoles = new Map([...layout.frontends].map(([name, captures]) => [name, rolesOf(captures, options.keyField, false)]));
  const toUtc = options.timeZone === undefined ? null : localTimeZone(options.timeZone);
  const warned = new Set<string>();
  let sink: RecordSink | null = null;
  /** One warning of each kind per file, with the line it was first seen on. */
  function warnOnce(kind: string, lineNumber: number, text: string, message: string): void {
    if (warned.has(kind) || sink === null) return;
    warned.add(kind);
    sink.warn({ code: 'PARSE_SUSPECT_CAPTURES', file, line: lineNumber, field: 'hr', message, sample: excerpt(text) });
  }
  const strings = sharedInterner();

  /** Fills user agent, key, host and ids from the request captures; false when the blocks are malformed. */
  function readCaptures(record: ProxyRecord, frontend: string, text: string, lineNumber: number, line: string): boolean {
    const blocks = captureBlocks(text);
    if (blocks === null) return false;
    const roles = frontendRoles.get(frontend.endsWith('~') ? frontend.slice(0, -1) : frontend) ?? fallbackRoles;
    if (!roles.hasRequestBlock || blocks.length === 0) return true;
    const values = blocks[0]!.split('|');
    if (roles.assumed) {
      const assumedLayout = `{${DEFAULT_HAPROXY_CAPTURES.request.join('|')}}`;
      const first = values[roles.host] ?? '';
      if (!isMissing(first) && !looksLikeHost(decodeCapture(first))) {
        // A user agent (lnav's haproxy fixture captures it first) is no host: read none of the values.
        warnOnce('misfit', lineNumber, line, `header captures do not fit the assumed layout ${assumedLayout} (the first, "${excerpt(decodeCapture(first))}", is no host name): not read; give the haproxy.cfg with --log-format to name them`);
        return true;
      }
      warnOnce('assumed', lineNumber, line, `header captures read as ${assumedLayout}, the assumed layout: no haproxy.cfg names them; give it with --log-format to be sure`);
    }
    const value = (index: number): string | null => {
      const raw = index < 0 ? undefined : values[index];
      return isMissing(raw) ? null : decodeCapture(raw);
    };
    const userAgent = value(roles.userAgent);
    if (userAgent !== null) record.userAgent = strings.intern(userAgent);
    const apiKey = value(roles.apiKey);
    if (apiKey !== null) record.apiKey = strings.intern(apiKey);
    const host = value(roles.host);
    if (host !== null) record.host = strings.intern(host);
    const requestId = value(roles.requestId);
    if (requestId !== null) record.requestId = requestId;
    const traceparent = value(roles.traceparent);
    if (traceparent !== null) record.traceId = normaliseTraceId(traceparent);
    return true;
  }

  /** Header roles of the samples a custom format logs (`%[capture.req.hdr(1)]`, `%[req.hdr(host)]`), per frontend. */
  const sampleRolesByFrontend = new Map<string, Map<string, string>>();
  function sampleRoles(format: CompiledHaproxyLogFormat, frontend: string): Map<string, string> {
    const cacheKey = `${custom.indexOf(format)}\u0000${frontend}`;
    let roles = sampleRolesByFrontend.get(cacheKey);
    if (roles !== undefined) return roles;
    const captures = (layout.frontends.get(frontend) ?? layout.fallback).request;
    const headers = new Map<string, string>();
    for (const name of format.names) {
      const header = name.startsWith('[') ? sampleHeaderName(name, captures) : null;
      if (header !== null) headers.set(name, headerKey(header));
    }
    const keyHeader = options.keyField !== undefined ? headerKey(options.keyField) : findKeyAttribute([...headers.values()]);
    roles = new Map();
    for (const [name, header] of headers) {
      const role = header === keyHeader ? 'apiKey' : header === 'user-agent' ? 'userAgent' : header === 'host' ? 'host'
        : header === 'x-request-id' ? 'requestId' : header === 'traceparent' ? 'traceparent' : null;
      if (role !== null) roles.set(name, role);
    }
    for (const name of format.names) if (name === '[unique-id]') roles.set(name, 'requestId');
    sampleRolesByFrontend.set(cacheKey, roles);
    return roles;
  }

  /**
   * A line in one of the configuration's own log-formats: the record, a field that is there but
   * wrong, or why the line has another layout (a string: the next format is tried).
   */
  function readCustom(format: CompiledHaproxyLogFormat, text: string, lineNumber: number): ProxyRecord | { field: string; message: string } | string {
    let values: Map<string, string> | string = 'no syslog header fits';
    let bodyStart = 0;
    for (const start of bodyStarts(text)) {
      values = splitHaproxyLine(format, start === 0 ? text : text.slice(start));
      bodyStart = start;
      if (typeof values !== 'string') break;
    }
    if (typeof values === 'string') return values;
    const value = (name: string): string | null => {
      const found = values.get(name);
      return found === undefined || isMissing(found) ? null : found;
    };
    // The request's date when the format logs it (%tr: local, to the ms), else the connection's.
    const zone = syslogZone(text, bodyStart);
    const local = value('tr') ?? value('t');
    const dated = value('trg') ?? value('trl') ?? value('T') ?? value('Tl');
    let startMs: number;
    let timeResolutionMs = 1;
    if (local !== null) {
      const wall = parseClfTime(`${local} ${zone ?? '+0000'}`);
      startMs = zone === null && toUtc !== null ? toUtc(wall) : wall;
    } else if (dated !== null) {
      startMs = parseClfTime(dated);
      timeResolutionMs = 1000;
    } else {
      const seconds = parseUnsignedInt(value('Ts') ?? '');
      const millis = value('ms');
      startMs = seconds * 1000 + (millis === null ? 0 : parseUnsignedInt(millis));
      if (millis === null) timeResolutionMs = 1000;
    }
    const dateField = [...TIME_VARIABLES].find((name) => format.names.has(name))!;
    if (Number.isNaN(startMs)) return { field: dateField, message: `bad date "${values.get(dateField) ?? ''}"` };
    const timerNames = [format.names.has('TR') ? 'TR' : 'Tq', 'Tw', 'Tc', 'Tr', format.names.has('Ta') ? 'Ta' : 'Tt'];
    const timers = timerNames.map((name) => {
      const text = values.get(name);
      return text === undefined || text === '-' ? null : haproxyTimer(text);
    });
    const badTimer = timers.findIndex((timer) => Number.isNaN(timer));
    if (badTimer >= 0) return { field: timerNames[badTimer]!, message: `bad timer "${values.get(timerNames[badTimer]!)!}"` };
    const statusText = values.get('ST');
    const status = statusText === undefined || statusText === '-1' || statusText === '-' ? null : parseUnsignedInt(statusText);
    if (Number.isNaN(status) || (status !== null && status > 999)) return { field: 'ST', message: `bad status "${statusText ?? ''}"` };
    const bytes = values.has('B') ? optionalUnsigned(values.get('B')!) : null;
    if (Number.isNaN(bytes)) return { field: 'B', message: `bad byte count "${values.get('B')!}"` };
    const retriesText = value('rc') ?? '0';
    const retries = parseUnsignedInt(retriesText.charCodeAt(0) === 43 ? retriesText.slice(1) : retriesText);
    if (Number.isNaN(retries)) return { field: 'rc', message: `bad retry count "${retriesText}"` };
    const termination = value('tsc') ?? value('ts') ?? '----';
    const backend = value('b');
    const server = value('s') ?? '';
    const client = value('ci') ?? value('[src]');

    const record = emptyProxyRecord('haproxy', file, lineNumber, text);
    fillHaproxyOutcome(record, {
      startMs, timeResolutionMs, timers: timers as HaproxyTimers, status, bytes,
      // An address without its port: hostOfHostPort reads up to the last colon (IPv6 has several).
      client: client === null ? '' : `${client}:${value('cp') ?? '0'}`,
      termination: termination.padEnd(4, '-'), upstream: backend !== null && server !== '' ? `${backend}/${server}` : server || (backend ?? ''), server, retries,
      request: value('r') ?? '',
    });
    if (!format.names.has('s') && !format.names.has('Tr')) {
      // Neither the server nor its time: whether a backend answered is not in the log.
      record.upstreamLogged = false;
      record.upstreamAddr = null;
      record.upstreamAttempts = 0;
      record.upstreamStatus = null;
    }
    if (!format.names.has('Ta') && !format.names.has('Tt')) record.requestTimeMs = null;
    if (record.path === null) {
      // The request's parts on their own: %HM, %HU (path and query) or %HP with %HQ.
      record.method = value('HM');
      const uri = value('HU') ?? value('HPO') ?? value('HP');
      if (uri !== null) {
        const question = uri.indexOf('?');
        record.path = question < 0 ? uri : uri.slice(0, question);
        const query = question < 0 ? value('HQ') : uri.slice(question);
        record.query = query === null || query === '' ? null : query.startsWith('?') ? query.slice(1) : query;
      }
    }
    const frontend = value('ft') ?? value('f') ?? '';
    const captures = values.get('hr');
    if (captures !== undefined && !isMissing(captures) && !readCaptures(record, frontend, captures, lineNumber, text)) return { field: 'hr', message: 'unterminated {header captures}' };
    for (const [name, role] of sampleRoles(format, frontend.endsWith('~') ? frontend.slice(0, -1) : frontend)) {
      const found = value(name);
      if (found === null) continue;
      const decoded = decodeCapture(found);
      if (role === 'apiKey') record.apiKey = strings.intern(decoded);
      else if (role === 'userAgent') record.userAgent = strings.intern(decoded);
      else if (role === 'host') record.host = strings.intern(decoded);
      else if (role === 'requestId') record.requestId = decoded;
      else if (role === 'traceparent') record.traceId = normaliseTraceId(decoded);
    }
    record.requestId ??= value('ID');
    return record;
  }

  return textLineParser(file, (text, lineNumber, lineSink, lineFail) => {
    sink = lineSink;
    let fail = lineFail;
    // The configuration's own log-formats first: a line of another layout falls through to httplog.
    // One that fits a format but holds a bad value may still be an httplog line: that is tried
    // before the bad value is reported.
    let firstMisfit: string | null = null;
    let firstBad: { field: string; message: string } | null = null;
    for (const format of custom) {
      const read = readCustom(format, text, lineNumber);
      if (typeof read === 'string') {
        firstMisfit ??= read;
      } else if ('kind' in read) {
        lineSink.record(read);
        return;
      } else {
        firstBad ??= read;
      }
    }
    if (firstBad !== null) {
      const bad = firstBad;
      fail = () => lineFail('PARSE_BAD_FIELD', bad.field, bad.message);
    }
    const open = findAcceptDate(text);
    const customMiss = (): void => fail('PARSE_NO_MATCH', LOG_FORMAT_FIELD, `not in the configuration's log-format: ${firstMisfit!}`);
    if (open < 0) return firstMisfit !== null ? customMiss() : fail('PARSE_NO_MATCH', 'tr', 'no [accept date] found');
    const close = text.indexOf(']', open);
    if (close < 0) return firstMisfit !== null ? customMiss() : fail('PARSE_NO_MATCH', 'tr', 'unterminated [accept date]');
    const clientStart = text.lastIndexOf(' ', open - 2) + 1;
    const client = text.slice(clientStart, open - 1);
    // A line HAProxy's syslog tag names as its own, in a layout other than httplog's (a custom
    // log-format), says so: detection then names HAProxy as the closest format, not a 0% nginx one.
    const ownLine = HAPROXY_TAG.test(text.slice(Math.max(0, clientStart - 32), clientStart));
    const layoutMiss = (field: string, message: string): void => firstMisfit !== null
      ? fail('PARSE_NO_MATCH', LOG_FORMAT_FIELD, `not in the configuration's log-format (${firstMisfit}), nor option httplog's layout (${message})`)
      : ownLine
      ? fail('PARSE_NO_MATCH', LOG_FORMAT_FIELD, `${message}: an HAProxy line in a log-format alf does not read (it reads option httplog and httpslog)`)
      : fail('PARSE_NO_MATCH', field, message);
    // The request is the last quoted field; HAProxy encodes `"` inside it, so lastIndexOf is safe.
    // `option httpslog` (2.5+) adds two words after it: TLS error codes and `sni/version/cipher`.
    let requestClose = text.lastIndexOf('"');
    // A line HAProxy cut at its length limit (`log … len`, 1024 bytes by default) ends inside the
    // request: its only quote after the date opens it. Everything before the request is whole.
    const cut = requestClose > close && text.indexOf('"', close) === requestClose && requestClose < text.length - 1;
    if (cut) requestClose = text.length;
    const tls = cut || requestClose === text.length - 1 ? null : httpsTail(text.slice(requestClose + 1));
    if (!cut && requestClose !== text.length - 1 && tls === null) return layoutMiss('r', 'expected the quoted request last (or, with option httpslog, its TLS fields)');
    const requestOpen = cut ? text.indexOf('"', close) : text.lastIndexOf('"', requestClose - 1);
    if (requestOpen <= close) return layoutMiss('r', 'expected the quoted request last');
    const request = text.slice(requestOpen + 1, requestClose);
    // Fixed fields between the date and the request; header captures `{…}` (may hold spaces) follow them.
    const middle = text.slice(close + 2, requestOpen - 1);
    const fields = middle.split(' ', 10);
    if (fields.length < 10) return layoutMiss('line', `expected 10 fields between [date] and the request, found ${fields.length}`);
    const [frontend, backendServer, timers, statusText, bytesText, , , termination, connections] = fields as [
      string, string, string, string, string, string, string, string, string, string,
    ];
    const captures = middle.slice(fields.join(' ').length).trim();
    if (captures !== '' && !captures.startsWith('{')) return layoutMiss('hr', 'unexpected text before the request');

    // [%tr] has no zone: the syslog header's (RFC 5424, or an RFC 3339 stamp), else --timezone, else UTC.
    const zone = syslogZone(text, clientStart);
    const wall = parseClfTime(`${text.slice(open + 1, close)} ${zone ?? '+0000'}`);
    const startMs = zone === null && toUtc !== null ? toUtc(wall) : wall;
    if (Number.isNaN(startMs)) return fail('PARSE_BAD_TIMESTAMP', 'tr', `bad accept date "${text.slice(open + 1, close)}"`);
    const slash = backendServer.indexOf('/');
    if (slash <= 0) return layoutMiss('b/s', `expected backend/server, got "${backendServer}"`);
    const timerParts = timers.split('/');
    if (timerParts.length !== 5) return layoutMiss('TR/Tw/Tc/Tr/Ta', `expected five timers, got "${timers}"`);
    const timerValues = timerParts.map(haproxyTimer);
    const badTimer = timerValues.findIndex((value) => Number.isNaN(value));
    if (badTimer >= 0) return fail('PARSE_BAD_FIELD', TIMER_NAMES[badTimer]!, `bad timer "${timerParts[badTimer]!}"`);
    // A status of -1 when nothing was produced is UNCONFIRMED (§5.5); tolerate it as "none".
    const status = statusText === '-1' ? null : parseUnsignedInt(statusText);
    if (Number.isNaN(status) || (status !== null && status > 999)) return fail('PARSE_BAD_FIELD', 'ST', `bad status "${statusText}"`);
    const bytes = optionalUnsigned(bytesText);
    if (Number.isNaN(bytes)) return fail('PARSE_BAD_FIELD', 'B', `bad byte count "${bytesText}"`);
    if (termination.length < 2) return fail('PARSE_BAD_FIELD', 'tsc', `bad termination state "${termination}"`);
    const connectionParts = connections.split('/');
    const retriesText = connectionParts[4] ?? '';
    const retries = parseUnsignedInt(retriesText.charCodeAt(0) === 43 ? retriesText.slice(1) : retriesText);
    if (connectionParts.length !== 5 || Number.isNaN(retries)) return fail('PARSE_BAD_FIELD', 'ac/fc/bc/sc/rc', `bad connection counts "${connections}"`);

    const record = emptyProxyRecord('haproxy', file, lineNumber, text);
    if (captures !== '' && !readCaptures(record, frontend, captures, lineNumber, text)) return fail('PARSE_BAD_FIELD', 'hr', 'unterminated {header captures}');
    fillHaproxyOutcome(record, {
      startMs, timeResolutionMs: 1, timers: timerValues as HaproxyTimers, status, bytes, client,
      termination, upstream: backendServer, server: backendServer.slice(slash + 1), retries, request,
    });

    if (tls !== null && tls.sni !== null) record.host ??= strings.intern(tls.sni);
    if (cut && !warned.has('cut')) {
      warned.add('cut');
      lineSink.warn({
        code: 'PARSE_TRUNCATED', file, line: lineNumber, field: 'r',
        message: `a line HAProxy cut short at its log length limit (\`log … len\`, 1024 bytes by default; first seen here, ${text.length} characters): read, with the request's path as far as it goes`,
        sample: excerpt(text),
      });
    }
    lineSink.record(record);
  }, undefined, isHaproxyOtherLine);
}

/**
 * The HAProxy format with a capture layout (from haproxyCaptureLayout) and the configuration's own
 * `log-format` strings (haproxyLogFormats), as `nginxFormat` takes a log_format. Lines are read in
 * those formats first, then as option httplog's.
 */
export function haproxyFormat(layout: HaproxyCaptureLayout = DEFAULT_HAPROXY_LAYOUT, logFormats: readonly string[] = []): FormatDef {
  const custom = logFormats.map(compileHaproxyLogFormat);
  return {
    id: 'haproxy',
    // One syslog file collects every frontend's lines: httplog and httplog clf side by side.
    siblings: ['haproxy-clf'],
    title: 'HAProxy option httplog (with or without syslog header)',
    kind: 'proxy',
    url: 'https://docs.haproxy.org/2.8/configuration.html#8.2.3',
    traits: {
      splittable: true, unit: 'line', clientGaveUp: 'termination state `C*`/`c*`', backendNeverAnswered: '`<NOSRV>` (or an applet: `<STATS>`, `<CACHE>`) or `Tr` = `-1`',
      flags: 'haproxy-termination', upstreamTimeout: { setting: 'HAProxy `timeout server` of the backend', defaultSeconds: null },
    },
    example:
      'Jan 15 10:32:01 lb1 haproxy[2211]: 198.51.100.7:53122 [15/Jan/2025:10:31:31.901] fe_api~ be_api/app3 0/0/1/-1/30004 504 198 - - sH-- 312/298/41/12/0 0/0 "POST /v1/reports HTTP/1.1"',
    exampleFields: { start: '2025-01-15T10:31:31.901Z', status: 504, method: 'POST', path: '/v1/reports', client: '198.51.100.7', upstreamStatus: null },
    realSamples: [
      {
        source: { project: 'DataDog/integrations-core', path: 'haproxy/assets/logs/haproxy_tests.yaml', commit: '2e7fbd4ce574b49274dda6aec43e39bf22717887', licence: 'BSD-3-Clause' },
        lines: [
          'Feb  1 18:34:10 localhost haproxy[42471]: 73.18.215.121:50886 [01/Feb/2018:18:34:10.200] fr_proxy.lirn.net-HTTP bk_UnivOfThePeople-9797/bk_mp01-UnivOfThePeople-9797 0/0/0/121/122 200 938 - - --VN 4/4/3/3/0 0/0 "GET /MuseProxyID=mp01/MuseSessionID=0000fx7/MuseProtocol=http/MuseHost=go.galegroup.com/MusePath/ps/browseIndex?inPS=true&prodId=PPCA&userGroupName=lirn17237&tabID=T003&topicId=&searchId=R3&searchType=AdvancedSearchForm&searchResultsType=SingleTab&sort=&browseIndex=TY&browsePagination=50&displayFormat=LIST&isMultiSelect=false&initPageSize=3&buildLimiterValues=true&userGroupName=lirn17237&prodId=PPCA HTTP/1.1"',
        ],
        fields: { start: '2018-02-01T18:34:10.200Z', status: 200, method: 'GET', path: '/MuseProxyID=mp01/MuseSessionID=0000fx7/MuseProtocol=http/MuseHost=go.galegroup.com/MusePath/ps/browseIndex', client: '73.18.215.121', upstreamStatus: 200 },
      },
      {
        source: { project: 'DataDog/integrations-core', path: 'haproxy/assets/logs/haproxy_tests.yaml', commit: '2e7fbd4ce574b49274dda6aec43e39bf22717887', licence: 'BSD-3-Clause' },
        lines: [
          'Apr 16 13:37:08 haproxy-test-fri4 haproxy[4720]: 127.0.0.1:34902 [16/Apr/2018:13:37:08.576] stats stats/<STATS> 0/0/0/0/0 200 1316 - - LR-- 1/1/0/0/0 0/0 "GET /haproxy_stats/;csv;norefresh HTTP/1.1"',
        ],
        // The stats page answered (`<STATS>`), not a backend.
        fields: { start: '2018-04-16T13:37:08.576Z', status: 200, method: 'GET', path: '/haproxy_stats/;csv;norefresh', client: '127.0.0.1', upstreamStatus: null },
      },
    ],
    createParser: (options) => createHaproxyParser(options, layout, custom),
  };
}

export const haproxy: FormatDef = haproxyFormat();
