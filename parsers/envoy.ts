import { emptyProxyRecord, type ProxyRecord } from '../src/model/records.js';
import { parseUnsignedInt } from './fields/numbers.js';
import { parseRequestLine, splitTarget } from './fields/request-line.js';
import type { FormatDef, ParserOptions, RecordParser } from './format.js';
import { findKeyAttribute } from './fields/apm-attributes.js';
import { headerKey } from './fields/header-key.js';
import { normaliseTraceId } from './fields/trace-context.js';
import { compileEnvoyLogFormat, isStartTime, splitEnvoyLine, type CompiledEnvoyLogFormat } from './envoy-log-format.js';
import { LOG_FORMAT_FIELD } from './format.js';
import { FieldError, firstForwardedFor, firstPresent, hasFraction, hostOfHostPort, isMissing, jsonLineParser, jsonNumber, jsonText, optionalUnsigned, orNull, parseIsoTimestamp, textLineParser, TokenSpans, type JsonObject } from './proxy-line-kit.js';

/**
 * Envoy's default text access-log format (docs/formats.md, Envoy), and Istio's sidecar layouts of it:
 * `[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE%
 * %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%
 * "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"`
 * - START_TIME is the request start; DURATION (ms) runs to the last byte out.
 * - Envoy logs no upstream status. The upstream answered when the router set
 *   x-envoy-upstream-service-time (or picked an upstream host: proxies that strip x-envoy-* headers
 *   log no service time) and no flag says otherwise; then the client saw its status.
 * - Response code 0 (nothing sent) or flag DC: the downstream (client) went away.
 * - Envoy does not escape quotes in header values; the tokenizer closes a quote only before a space.
 */

/** Flags meaning the upstream never produced the response (§5.3): Envoy answered itself. */
const NO_UPSTREAM_FLAGS = new Set([
  'UH', 'UF', 'UO', 'NR', 'URX', 'UT', 'NC', 'LH', 'UC', 'UR', 'LR', 'DF', 'RL', 'UAEX', 'RLSE', 'FI', 'DI', 'SI', 'UPE', 'OM', 'DT', 'IH', 'UMSDR',
]);
/**
 * Of them, those that can also follow an upstream's answer (retries used up with the last answer
 * passed on, a reset or protocol error after the headers, a stream cut by a duration limit): with
 * a service time logged, the upstream's headers came, so it answered.
 */
const AFTER_ANSWER_FLAGS = new Set(['URX', 'UC', 'UR', 'LR', 'UPE', 'SI', 'DT', 'UMSDR', 'DI']);
const CLIENT_CLOSED_FLAG = 'DC';

/**
 * Where the fields sit. Envoy's default has 13 words. Istio's sidecars keep Envoy's words in the
 * same order but put more words after the flags (`gap`: Istio 1.1-1.4 the mixer status, 1.5-1.8
 * also the upstream transport failure reason, or that reason alone without the mixer, 1.9+ the response code details, connection
 * termination details and transport failure reason) and after the upstream host (upstream
 * cluster, upstream local, downstream local and remote addresses, SNI, and from 1.5 the route).
 */
interface Layout {
  readonly tokens: number;
  readonly gap: number;
  /** Index of %DOWNSTREAM_REMOTE_ADDRESS% in the tail, or -1. */
  readonly downstreamRemote: number;
  /** The gap opens with %RESPONSE_CODE_DETAILS%. */
  readonly details: boolean;
}
const LAYOUTS: readonly Layout[] = [
  { tokens: 13, gap: 0, downstreamRemote: -1, details: false },
  // Envoy's default with %RESPONSE_CODE_DETAILS% after the flags, as operators add it to tell
  // Envoy's own replies from the upstream's (renuka-fernando/examples envoy/simple, MIT).
  { tokens: 14, gap: 1, downstreamRemote: -1, details: true },
  { tokens: 19, gap: 1, downstreamRemote: 17, details: false },
  // Istio 1.3+ without the mixer (its EnvoyTextLogFormat): the transport failure reason, and the route at the end.
  { tokens: 20, gap: 1, downstreamRemote: 17, details: false },
  { tokens: 21, gap: 2, downstreamRemote: 18, details: false },
  { tokens: 22, gap: 3, downstreamRemote: 19, details: true },
];
const T = { start: 0, request: 1, code: 2, flags: 3 } as const;
/** After the gap, relative to the byte counts. */
const A = { bytesSent: 1, duration: 2, upstreamServiceTime: 3, forwardedFor: 4, userAgent: 5, requestId: 6, authority: 7, upstreamHost: 8 } as const;
const QUOTED_AFTER_GAP: readonly number[] = [A.forwardedFor, A.userAgent, A.requestId, A.authority, A.upstreamHost];


function layoutOf(tokens: TokenSpans): Layout | string {
  const layout = LAYOUTS.find((candidate) => candidate.tokens === tokens.count);
  if (layout === undefined) return `expected 13 fields (14 with the response code details, or Istio's 19, 20, 21 or 22), found ${tokens.count}`;
  if (tokens.delimited(T.start) !== '[') return 'expected [START_TIME] first';
  if (tokens.delimited(T.request) !== '"') return 'field 2 should be quoted';
  const base = 4 + layout.gap;
  if (layout.details && tokens.delimited(T.flags + 1) === '"') return 'field 5 should be the response code details, a bare word';
  for (const offset of QUOTED_AFTER_GAP) if (tokens.delimited(base + offset) !== '"') return `field ${base + offset + 1} should be quoted`;
  // The tail is bare words: a quoted one means another layout that happens to have as many words.
  for (let index = base + A.upstreamHost + 1; index < tokens.count; index++) if (tokens.delimited(index) === '"') return `field ${index + 1} should not be quoted`;
  return layout;
}

/**
 * What Envoy's fields mean, in its text and JSON logs alike: when, how long, who answered, whether
 * the client left. `viaUpstream`: what %RESPONSE_CODE_DETAILS% says (`via_upstream` or not), where
 * it is logged; without it the upstream answered when the router set its service time or picked
 * an upstream host, and no flag says otherwise. Envoy Gateway strips the x-envoy-* headers by
 * default, so its service time is always null.
 */
function fillOutcome(record: ProxyRecord, startMs: number, startHasFraction: boolean, duration: number | null, code: number, flags: string | null,
  serviceTime: number | null, upstreamHost: string | null, bytesSent: number | null, viaUpstream: boolean | null = null): void {
  const flagList = flags === null ? [] : flags.split(',');
  // Without the details: a service time or an upstream host, and no flag of a failure (the service
  // time alone would misread a proxy that strips x-envoy-* headers, Envoy Gateway's default, as
  // answering nothing). The router sets the service time on an upstream's response headers, so with
  // one a flag that can follow an answer (AFTER_ANSWER_FLAGS) does not say Envoy answered: a real
  // Istio sidecar's `503 URX` lines with a service time, its server side's circuit breaker
  // answering, were read as made up by the client's side, and as refused connections.
  const answered = viaUpstream ?? ((serviceTime !== null || upstreamHost !== null) &&
    !flagList.some((flag) => NO_UPSTREAM_FLAGS.has(flag) && (serviceTime === null || !AFTER_ANSWER_FLAGS.has(flag))));
  record.startMs = startMs;
  record.timeResolutionMs = startHasFraction ? 1 : 1000;
  record.requestTimeMs = duration;
  record.endMs = startMs + (duration ?? 0);
  record.status = code;
  record.flags = flags;
  // A 101 is the upstream's switch to a WebSocket (Envoy makes no 101 itself); the client closing
  // it, hours later, is how such a connection ends, not a request given up (a real Envoy logs
  // `101 DC downstream_remote_disconnect` after 13 s).
  const upgraded = code === 101;
  record.clientClosed = !upgraded && (code === 0 || flagList.includes(CLIENT_CLOSED_FLAG));
  record.upstreamLogged = true;
  record.upstreamTimeMs = serviceTime;
  record.upstreamStatus = (answered || upgraded) && code > 0 ? code : null;
  record.upstreamAddr = upstreamHost;
  record.upstreamAttempts = upstreamHost === null ? 0 : 1;
  record.bytesSent = bytesSent;
}

/** The request, or (method null) a TCP proxy session. */
function fillRequest(record: ProxyRecord, method: string | null, path: string | null, query: string | null): void {
  if (method !== null) {
    record.method = method;
    record.path = path === '-' ? null : path;
    record.query = query;
  } else {
    // A TCP proxy session (`"- - -" 0 - ...`): no HTTP request, so no status, no client abort and
    // no upstream answer to miss; code 0 and DC are how every such session ends.
    record.status = null;
    record.clientClosed = false;
    record.upstreamLogged = false;
  }
}

const EMISSARY_PREFIX = 'ACCESS [';

/** START_TIME as logged: ISO 8601 (the default), or a number of seconds (`%s`, `%s.%3f`) or ms; NaN otherwise. */
function startTimeOf(text: string): { ms: number; fraction: boolean } {
  const iso = parseIsoTimestamp(text);
  if (!Number.isNaN(iso)) return { ms: iso, fraction: hasFraction(text) };
  if (!/^\d{9,13}(?:\.\d{1,9})?$/.test(text)) return { ms: NaN, fraction: false };
  const value = Number(text);
  return value >= 1e11 ? { ms: value, fraction: true } : { ms: Math.round(value * 1000), fraction: text.includes('.') };
}

/** The commands a custom format's values come from, by what they say. */
const PATH_COMMANDS = ['REQ(X-ENVOY-ORIGINAL-PATH?:PATH)', 'REQ(:PATH)', 'REQ(X-ENVOY-ORIGINAL-PATH)'];
const AUTHORITY_COMMANDS = ['REQ(:AUTHORITY)', 'REQ(HOST)'];
const REMOTE_COMMANDS = ['DOWNSTREAM_REMOTE_ADDRESS', 'DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT', 'DOWNSTREAM_DIRECT_REMOTE_ADDRESS', 'DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT'];

/**
 * A line in the operator's own format string (`--log-format`): the record, a value that is there
 * but wrong, or why the line has another layout (a string: the default layouts are tried next).
 */
function customEnvoyReader(format: CompiledEnvoyLogFormat, file: string, keyField: string | undefined) {
  const names = [...format.names];
  const first = (commands: readonly string[]): string | null => commands.find((command) => format.names.has(command)) ?? null;
  const startCommand = names.find(isStartTime)!;
  const pathCommand = first(PATH_COMMANDS);
  const authorityCommand = first(AUTHORITY_COMMANDS);
  const remoteCommand = first(REMOTE_COMMANDS);
  const headers = names.filter((name) => name.startsWith('REQ(')).map((name) => headerKey(name.slice(4, -1)));
  const keyHeader = keyField !== undefined ? headerKey(keyField) : findKeyAttribute(headers);
  const keyCommand = keyHeader === null || !headers.includes(keyHeader) ? null : `REQ(${keyHeader.toUpperCase()})`;
  return (text: string, lineNumber: number): ProxyRecord | { field: string; message: string } | string => {
    const values = splitEnvoyLine(format, text);
    if (typeof values === 'string') return values;
    const value = (command: string | null): string | null => {
      const found = command === null ? undefined : values.get(command);
      return found === undefined || isMissing(found) ? null : found;
    };
    const startText = values.get(startCommand)!;
    const start = startTimeOf(startText);
    if (Number.isNaN(start.ms)) return { field: 'START_TIME', message: `bad START_TIME "${startText}"` };
    const code = parseUnsignedInt(values.get('RESPONSE_CODE')!);
    if (Number.isNaN(code) || code > 999) return { field: 'RESPONSE_CODE', message: `bad RESPONSE_CODE "${values.get('RESPONSE_CODE')!}"` };
    const counted = (command: string): number | null => {
      const found = values.get(command);
      return found === undefined ? null : optionalUnsigned(found);
    };
    const duration = counted('DURATION');
    const serviceTime = counted('RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)');
    const bytesSent = counted('BYTES_SENT');
    for (const [command, n] of [['DURATION', duration], ['RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)', serviceTime], ['BYTES_SENT', bytesSent]] as const) {
      if (Number.isNaN(n)) return { field: command, message: `bad ${command} "${values.get(command)!}"` };
    }
    const record = emptyProxyRecord('envoy', file, lineNumber, text);
    const details = value('RESPONSE_CODE_DETAILS');
    fillOutcome(record, start.ms, start.fraction, duration, code, value('RESPONSE_FLAGS'), serviceTime, value('UPSTREAM_HOST'), bytesSent,
      details === null ? null : details === 'via_upstream');
    if (!format.names.has('RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)') && !format.names.has('UPSTREAM_HOST') && !format.names.has('RESPONSE_CODE_DETAILS')) {
      // Nothing in this format says whether an upstream answered.
      record.upstreamLogged = false;
      record.upstreamStatus = null;
    }
    const target = value(pathCommand);
    const split = target === null ? null : splitTarget(target);
    const method = value('REQ(:METHOD)');
    if (format.names.has('REQ(:METHOD)')) {
      // `-`: a TCP proxy session, no HTTP request.
      fillRequest(record, method, split?.path ?? null, split?.query ?? null);
    } else {
      record.path = split?.path ?? null;
      record.query = split?.query ?? null;
    }
    const remote = value(remoteCommand);
    record.clientIp = firstForwardedFor(value('REQ(X-FORWARDED-FOR)') ?? '') ?? (remote === null ? null : remoteCommand!.endsWith('WITHOUT_PORT') ? remote : hostOfHostPort(remote));
    record.userAgent = value('REQ(USER-AGENT)');
    record.requestId = value('REQ(X-REQUEST-ID)');
    record.host = value(authorityCommand);
    record.apiKey = value(keyCommand);
    const traceparent = value('REQ(TRACEPARENT)');
    if (traceparent !== null) record.traceId = normaliseTraceId(traceparent);
    return record;
  };
}

function createEnvoyParser(options: ParserOptions, custom: CompiledEnvoyLogFormat | null = null): RecordParser {
  const file = options.file;
  // Fields as offsets into the line, sliced when read (see TokenSpans for the figures).
  const tokens = new TokenSpans();
  const readCustom = custom === null ? null : customEnvoyReader(custom, file, options.keyField);
  return textLineParser(file, (text, lineNumber, sink, fail) => {
    // The operator's own format first: a line of the default layouts falls through to them.
    // A line that fits it but holds a bad value may still be a default-layout line: that is tried
    // before the bad value is reported.
    let customMiss: string | null = null;
    let customBad: { field: string; message: string } | null = null;
    if (readCustom !== null) {
      const read = readCustom(text, lineNumber);
      if (typeof read === 'string') {
        customMiss = read;
      } else if ('kind' in read) {
        sink.record(read);
        return;
      } else {
        customBad = read;
      }
    }
    const layoutFail: typeof fail = customBad !== null ? () => fail('PARSE_BAD_FIELD', customBad.field, customBad.message)
      : customMiss === null ? fail
        : (code, field, message) => fail(code, code === 'PARSE_NO_MATCH' ? LOG_FORMAT_FIELD : field, code === 'PARSE_NO_MATCH' ? `not in the given format (${customMiss}), nor Envoy's default layouts (${message})` : message);
    // Emissary-ingress (Ambassador) logs Envoy's default format after a word of its own:
    // `ACCESS [%START_TIME%] "…` (emissary python/ambassador/envoy/v3/v3listener.py).
    const line = text.startsWith(EMISSARY_PREFIX) ? text.slice(EMISSARY_PREFIX.length - 1) : text;
    if (!tokens.read(line)) return layoutFail('PARSE_NO_MATCH', 'REQ', 'unterminated quote or bracket');
    const layout = layoutOf(tokens);
    if (typeof layout === 'string') return layoutFail('PARSE_NO_MATCH', 'line', layout);
    const at = (index: number): string => tokens.text(index);
    const base = 4 + layout.gap;
    const after = (offset: number): string => tokens.text(base + offset);

    const startMs = parseIsoTimestamp(at(T.start));
    if (Number.isNaN(startMs)) return layoutFail('PARSE_BAD_TIMESTAMP', 'START_TIME', `bad START_TIME "${at(T.start)}"`);
    const code = parseUnsignedInt(at(T.code));
    if (Number.isNaN(code) || code > 999) return layoutFail('PARSE_BAD_FIELD', 'RESPONSE_CODE', `bad RESPONSE_CODE "${at(T.code)}"`);
    const duration = optionalUnsigned(after(A.duration));
    if (Number.isNaN(duration)) return layoutFail('PARSE_BAD_FIELD', 'DURATION', `bad DURATION "${after(A.duration)}"`);
    const serviceTime = optionalUnsigned(after(A.upstreamServiceTime));
    if (Number.isNaN(serviceTime)) {
      return layoutFail('PARSE_BAD_FIELD', 'X-ENVOY-UPSTREAM-SERVICE-TIME', `bad upstream service time "${after(A.upstreamServiceTime)}"`);
    }
    const bytesSent = optionalUnsigned(after(A.bytesSent));
    if (Number.isNaN(bytesSent)) return layoutFail('PARSE_BAD_FIELD', 'BYTES_SENT', `bad BYTES_SENT "${after(A.bytesSent)}"`);

    const record = emptyProxyRecord('envoy', file, lineNumber, text);
    // Istio 1.9+ (and operators' own formats) log %RESPONSE_CODE_DETAILS% first after the flags.
    const details = layout.details ? orNull(at(T.flags + 1)) : null;
    fillOutcome(record, startMs, hasFraction(at(T.start)), duration, code, orNull(at(T.flags)), serviceTime, orNull(after(A.upstreamHost)), bytesSent,
      details === null ? null : details === 'via_upstream');
    const request = orNull(at(T.request));
    const parsed = request === null ? null : parseRequestLine(request);
    fillRequest(record, parsed !== null && parsed.method !== '-' ? parsed.method : null, parsed?.path ?? null, parsed?.query ?? null);
    // Istio's tail names the peer: the client when no X-Forwarded-For was sent.
    record.clientIp = firstForwardedFor(after(A.forwardedFor))
      ?? (layout.downstreamRemote < 0 ? null : hostOfHostPort(at(layout.downstreamRemote)));
    record.userAgent = orNull(after(A.userAgent));
    record.requestId = orNull(after(A.requestId));
    record.host = isMissing(after(A.authority)) ? null : after(A.authority);
    sink.record(record);
  }, undefined, isEnvoyOtherLine);
}

/**
 * Envoy's own (component) log lines, on stderr beside an access log on stdout, merged by `docker
 * logs`/`kubectl logs` (docs/formats.md, Envoy): the default `[%Y-%m-%d %T.%e][%t][%l][%n] [%g:%#] %v`
 * (`[2021-11-03 17:22:43.361][1678][info][main] [source/server/server.cc:370] …`), and Istio's
 * sidecar format, tab-separated after an RFC 3339 time (`2024-01-15T10:32:00.123456Z\tinfo\t…`).
 * Counted as ignored, not skipped.
 */
export function isEnvoyOtherLine(text: string): boolean {
  return COMPONENT_LINE.test(text) || ISTIO_LINE.test(text);
}

const COMPONENT_LINE = /^\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}\]\[\d+\]\[(?:trace|debug|info|warning|error|critical)\]/;
const ISTIO_LINE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z\t(?:debug|info|warn|warning|error|fatal|critical)\t/;

/**
 * Envoy with the operator's own format string (`--log-format`): lines are read in it first, then
 * in the default layouts (docs/formats.md, Envoy).
 */
export function envoyFormat(formatString: string): FormatDef {
  const custom = compileEnvoyLogFormat(formatString);
  return { ...envoy, realSamples: [], createParser: (options) => createEnvoyParser(options, custom) };
}

export const envoy: FormatDef = {
  id: 'envoy',
  // A mesh moved to JSON access logs (Istio's accessLogEncoding) writes both to one pod's log.
  siblings: ['envoy-json'],
  title: 'Envoy access log (default text format, and Istio\'s)',
  kind: 'proxy',
  traits: { splittable: true, unit: 'line', clientGaveUp: 'code `0` or flag `DC`', backendNeverAnswered: 'no service time and no upstream host, or flags UH/UF/UO/NR/URX/UT/NC/UC/RL…', flags: 'envoy-response-flags', upstreamTimeout: { setting: 'the Envoy route `timeout`', defaultSeconds: 15 } },
  url: 'https://www.envoyproxy.io/docs/envoy/latest/configuration/observability/access_log/usage',
  example:
    '[2025-01-15T10:31:31.901Z] "POST /v1/reports HTTP/1.1" 504 UT 612 24 15001 - "198.51.100.7" "python-requests/2.31.0" "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f" "api.example.com" "10.0.3.17:8080"',
  exampleFields: { start: '2025-01-15T10:31:31.901Z', status: 504, method: 'POST', path: '/v1/reports', client: '198.51.100.7', upstreamStatus: null },
  realSamples: [
    {
      source: { project: 'envoyproxy/envoy', path: 'docs/root/configuration/observability/access_log/usage.rst', commit: '8165dda80df0c7b031cd824b80416858c6c42f1b', licence: 'Apache-2.0' },
      lines: [
        '[2016-04-15T20:17:00.310Z] "POST /api/v1/locations HTTP/2" 204 - 154 0 226 100 "10.0.35.28" "nsq2http" "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2" "locations" "tcp://10.0.2.1:80"',
      ],
      fields: { start: '2016-04-15T20:17:00.310Z', status: 204, method: 'POST', path: '/api/v1/locations', client: '10.0.35.28', upstreamStatus: 204 },
    },
    {
      // Envoy's default with %RESPONSE_CODE_DETAILS% after the flags; each line one of Envoy's answers (UT, UH, UF, UO, NC) or the upstream's.
      source: { project: 'renuka-fernando/examples', path: 'envoy/simple/README.md', commit: '5863853d4744a4f0a85757589545769a1894000e', licence: 'MIT, Copyright (c) 2023 Renuka Piyumal Fernando' },
      lines: [
        '[2024-07-20T07:05:54.173Z] "GET /gateway-timeout?delayMs=5000 HTTP/1.1" 504 UT response_timeout 0 24 4497 - "-" "curl/8.4.0" "6d67d674-2122-4a2d-b172-0be70c674371" "localhost:8000" "172.27.0.2:8080"',
        '[2024-07-20T07:06:24.729Z] "GET /no-healthy-upstream HTTP/1.1" 503 UH no_healthy_upstream 0 19 0 - "-" "curl/8.4.0" "2f22e5c6-2387-49b8-96c4-7b3a1678dbb0" "localhost:8000" "-"',
        '[2024-07-20T07:09:48.470Z] "GET /upstream-connection-failure HTTP/1.1" 503 UF upstream_reset_before_response_started{connection_failure,delayed_connect_error:_111} 0 145 0 - "-" "curl/8.4.0" "44898dba-8d8e-48f4-93f7-23e4b4c592c0" "localhost:8000" "172.28.0.2:801"',
      ],
      fields: { start: '2024-07-20T07:05:54.173Z', status: 504, method: 'GET', path: '/gateway-timeout', client: null, upstreamStatus: null },
    },
    {
      // Retries used up (URX) on the upstream's 500s, passed on: via_upstream.
      source: { project: 'renuka-fernando/examples', path: 'envoy/simple/README.md', commit: '5863853d4744a4f0a85757589545769a1894000e', licence: 'MIT, Copyright (c) 2023 Renuka Piyumal Fernando' },
      lines: [
        '[2024-07-20T07:45:34.828Z] "GET /upstream-retry-exceeds?statusCode=500 HTTP/1.1" 500 URX via_upstream 0 680 59 59 "-" "curl/8.4.0" "0df38f52-08eb-4b67-a097-ece7427c7238" "localhost:8000" "192.168.48.2:8080"',
        '[2024-07-21T08:32:59.547Z] "GET /ws HTTP/1.1" 101 DC downstream_remote_disconnect 61 105 13342 - "-" "-" "e5248829-b318-443a-a763-e2460530f070" "localhost:8000" "192.168.5.2:8080"',
      ],
      fields: { start: '2024-07-20T07:45:34.828Z', status: 500, method: 'GET', path: '/upstream-retry-exceeds', client: null, upstreamStatus: 500 },
    },
    {
      source: { project: 'istio/istio.io', path: 'content/en/docs/tasks/observability/logs/access-log/index.md', commit: '000dbcb375392aa3e1278f0bea910c78f04ab320', licence: 'Apache-2.0' },
      lines: [
        '[2020-11-25T21:26:18.409Z] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 4 4 "-" "curl/7.73.0-DEV" "84961386-6d84-929d-98bd-c5aee93b5c88" "httpbin:8000" "10.44.1.27:80" outbound|8000||httpbin.foo.svc.cluster.local 10.44.1.23:37652 10.0.45.184:8000 10.44.1.23:46520 - default',
      ],
      fields: { start: '2020-11-25T21:26:18.409Z', status: 418, method: 'GET', path: '/status/418', client: '10.44.1.23', upstreamStatus: 418 },
    },
    {
      // Istio's 20-word format (a mesh without the mixer): the TLS failure of an outbound call, retried.
      source: { project: 'Cray-HPE/docs-csm', path: 'install/csm_installation_failure.md', commit: '6f4bfb97325eb7eb7ae53a492726a773cfbaccf7', licence: 'MIT' },
      lines: [
        '[2022-05-27T13:21:24.535Z] "POST /keycloak/realms/master/protocol/openid-connect/token HTTP/1.1" 503 UF,URX "TLS error: Secret is not supplied by SDS" 96 159 16 - "-" "python-requests/2.27.1" "19fe9b72-d887-4649-b934-9dc7bc76cc21" "keycloak.services:8080" "10.44.0.31:8080" outbound|8080||keycloak.services.svc.cluster.local - 10.28.81.125:8080 10.32.0.25:60032 - default',
        '[2022-05-27T13:21:34.573Z] "POST /keycloak/realms/master/protocol/openid-connect/token HTTP/1.1" 503 UF,URX "TLS error: Secret is not supplied by SDS" 96 159 61 - "-" "python-requests/2.27.1" "ef0255b4-260b-47b5-8077-3e17e9371baf" "keycloak.services:8080" "10.44.0.31:8080" outbound|8080||keycloak.services.svc.cluster.local - 10.28.81.125:8080 10.32.0.25:60964 - default',
      ],
      fields: { start: '2022-05-27T13:21:24.535Z', status: 503, method: 'POST', path: '/keycloak/realms/master/protocol/openid-connect/token', client: '10.32.0.25', upstreamStatus: null },
    },
    {
      source: { project: 'DataDog/integrations-core', path: 'envoy/assets/logs/envoy_tests.yaml', commit: '762b5a63fd43e92d0f0b81f523d0aba44adabb83', licence: 'BSD-3-Clause' },
      lines: [
        '[2018-07-13T15:56:58.312Z] "GET /v1/gifs/search?q=totalmete+s&api_key=FyzFCUcvrJXvG&limit=20&offset=0&rating=pg&lang=en&country_code=US HTTP/1.1" 200 - 0 11187 107 107 "173.252.99.154, 23.235.39.44, 23.235.46.35" "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)" "820b432a-32c1-98d5-b5e2-310f824f940f" "api.giphy.com" "127.0.0.1:8000"',
      ],
      fields: { start: '2018-07-13T15:56:58.312Z', status: 200, method: 'GET', path: '/v1/gifs/search', client: '173.252.99.154', upstreamStatus: 200 },
    },
  ],
  createParser: (options) => createEnvoyParser(options),
};

/**
 * Envoy's JSON access logs (`json_format`): Envoy Gateway's default, whose keys are the operators'
 * header names (`x-envoy-origin-path`, `:authority`, `x-envoy-upstream-service-time`), and
 * Istio's `accessLogEncoding: JSON`, the same operators under snake_case keys (`path`,
 * `authority`, `upstream_service_time`). Values are typed where the operator is a number
 * (`"response_code":500`, `"duration":0`), strings for header values (`"upstream_service_time":"2"`;
 * Istio before 1.9 quoted every value), and null where the text format writes `-`. The same
 * meaning as the text format: START_TIME is the start, DURATION the whole request; whether the
 * upstream answered is read from `response_code_details` where logged (see fillOutcome).
 */
const JSON_KEYS = {
  // Contour names START_TIME `@timestamp` in its default JSON fields, or `ts` (projectcontour/contour
  // apis/projectcontour/v1alpha1/accesslog.go); its other default keys are Istio's.
  start: ['start_time', '@timestamp', 'ts'],
  method: ['method'],
  path: ['x-envoy-origin-path', 'path'],
  code: ['response_code'],
  flags: ['response_flags'],
  details: ['response_code_details'],
  bytesSent: ['bytes_sent'],
  duration: ['duration'],
  serviceTime: ['x-envoy-upstream-service-time', 'upstream_service_time'],
  forwardedFor: ['x-forwarded-for', 'x_forwarded_for'],
  userAgent: ['user-agent', 'user_agent'],
  requestId: ['x-request-id', 'request_id'],
  authority: [':authority', 'authority'],
  upstreamHost: ['upstream_host'],
  downstreamRemote: ['downstream_remote_address'],
} as const;

/** A non-negative number (or a missing marker: null) under the first of `keys` present; else a FieldError naming it. */
function jsonCount(entry: JsonObject, keys: readonly string[]): number | null {
  const value = firstPresent(entry, keys);
  const n = jsonNumber(value);
  if (Number.isNaN(n) || (n !== null && n < 0)) throw new FieldError(keys[0]!, value);
  return n;
}

function fillFromEnvoyJson(record: ProxyRecord, entry: JsonObject): void {
  const startValue = firstPresent(entry, JSON_KEYS.start);
  const startText = typeof startValue === 'string' ? startValue : '';
  const startMs = parseIsoTimestamp(startText);
  if (Number.isNaN(startMs)) throw new FieldError('start_time', startValue, 'PARSE_BAD_TIMESTAMP');
  const code = jsonCount(entry, JSON_KEYS.code);
  if (code === null || code > 999 || !Number.isInteger(code)) throw new FieldError('response_code', firstPresent(entry, JSON_KEYS.code));
  const details = jsonText(firstPresent(entry, JSON_KEYS.details));
  fillOutcome(record, startMs, hasFraction(startText), jsonCount(entry, JSON_KEYS.duration), code, jsonText(firstPresent(entry, JSON_KEYS.flags)),
    jsonCount(entry, JSON_KEYS.serviceTime), jsonText(firstPresent(entry, JSON_KEYS.upstreamHost)), jsonCount(entry, JSON_KEYS.bytesSent),
    details === null ? null : details === 'via_upstream');
  const target = jsonText(firstPresent(entry, JSON_KEYS.path));
  const split = target === null ? null : splitTarget(target);
  fillRequest(record, jsonText(firstPresent(entry, JSON_KEYS.method)), split?.path ?? null, split?.query ?? null);
  const remote = jsonText(firstPresent(entry, JSON_KEYS.downstreamRemote));
  record.clientIp = firstForwardedFor(jsonText(firstPresent(entry, JSON_KEYS.forwardedFor)) ?? '') ?? (remote === null ? null : hostOfHostPort(remote));
  record.userAgent = jsonText(firstPresent(entry, JSON_KEYS.userAgent));
  record.requestId = jsonText(firstPresent(entry, JSON_KEYS.requestId));
  record.host = jsonText(firstPresent(entry, JSON_KEYS.authority));
}

function createEnvoyJsonParser(options: ParserOptions): RecordParser {
  return jsonLineParser(options.file, {
    formatId: 'envoy-json',
    missingField: (entry) => (!JSON_KEYS.start.some((key) => Object.hasOwn(entry, key)) ? 'start_time'
      : !Object.hasOwn(entry, 'response_code') ? 'response_code'
        : JSON_KEYS.path.some((key) => Object.hasOwn(entry, key)) ? null : 'x-envoy-origin-path'),
    notThis: 'not an Envoy JSON access-log entry',
    fill: fillFromEnvoyJson,
    otherLines: isEnvoyOtherLine,
  });
}

/** One line of Envoy Gateway's troubleshooting guide, as Envoy writes it (the guide shows it through `jq`). */
const ENVOY_GATEWAY_DIRECT_RESPONSE = JSON.stringify({
  ':authority': 'www.example.com', bytes_received: 0, bytes_sent: 0, connection_termination_details: null, downstream_local_address: '10.1.21.65:10080',
  downstream_remote_address: '192.168.65.4:45050', duration: 0, method: 'GET', protocol: 'HTTP/1.1', requested_server_name: null, response_code: 500,
  response_code_details: 'direct_response', response_flags: '-', route_name: 'httproute/default/backend/rule/0/match/0/www_example_com',
  start_time: '2025-03-08T02:25:32.588Z', upstream_cluster: null, upstream_host: null, upstream_local_address: null, upstream_transport_failure_reason: null,
  'user-agent': 'curl/8.7.1', 'x-envoy-origin-path': '/get', 'x-envoy-upstream-service-time': null, 'x-forwarded-for': '192.168.65.4',
  'x-request-id': '54c4c2f9-d209-4aa0-8870-342bc6622d1a',
});

export const envoyJson: FormatDef = {
  id: 'envoy-json',
  siblings: ['envoy'],
  title: 'Envoy JSON access log (Envoy Gateway\'s default, Istio\'s JSON encoding)',
  kind: 'proxy',
  traits: { splittable: true, unit: 'line', clientGaveUp: 'response_code `0` or flag `DC`', backendNeverAnswered: '`response_code_details` other than `via_upstream`; without it, upstream service time null or flags UH/UF/NR/UT…', flags: 'envoy-response-flags', upstreamTimeout: { setting: 'the route `timeout` (Envoy Gateway: BackendTrafficPolicy `timeout.http.requestTimeout`)', defaultSeconds: 15 } },
  url: 'https://gateway.envoyproxy.io/docs/tasks/observability/proxy-accesslog/',
  example: JSON.stringify({
    ':authority': 'api.example.com', bytes_received: 612, bytes_sent: 24, downstream_remote_address: '10.244.0.7:51234', duration: 15001, method: 'POST',
    protocol: 'HTTP/1.1', response_code: 504, response_code_details: 'upstream_response_timeout', response_flags: 'UT', start_time: '2025-01-15T10:31:31.901Z',
    upstream_host: '10.0.3.17:8080', 'user-agent': 'python-requests/2.31.0', 'x-envoy-origin-path': '/v1/reports', 'x-envoy-upstream-service-time': null,
    'x-forwarded-for': '198.51.100.7', 'x-request-id': '0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f',
  }),
  exampleFields: { start: '2025-01-15T10:31:31.901Z', status: 504, method: 'POST', path: '/v1/reports', client: '198.51.100.7', upstreamStatus: null },
  realSamples: [
    {
      source: { project: 'envoyproxy/gateway', path: 'site/content/en/latest/troubleshooting/configuration.md', commit: 'd32f28294245e454d20f81d323d626a90e660c1e', licence: 'Apache-2.0' },
      lines: [ENVOY_GATEWAY_DIRECT_RESPONSE],
      fields: { start: '2025-03-08T02:25:32.588Z', status: 500, method: 'GET', path: '/get', client: '192.168.65.4', upstreamStatus: null },
    },
  ],
  createParser: createEnvoyJsonParser,
};
