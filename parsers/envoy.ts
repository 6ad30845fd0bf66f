import { emptyProxyRecord } from '../src/model/records.js';
import { parseUnsignedInt } from './fields/numbers.js';
import { parseRequestLine } from './fields/request-line.js';
import type { FormatDef, ParserOptions, RecordParser } from './format.js';
import { hasFraction, hostOfHostPort, isMissing, optionalUnsigned, orNull, parseIsoTimestamp, textLineParser, TokenSpans } from './proxy-line-kit.js';

/**
 * Envoy's default text access-log format (docs/formats.md, Envoy), and Istio's sidecar layouts of it:
 * `[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE%
 * %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%
 * "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"`
 * - START_TIME is the request start; DURATION (ms) runs to the last byte out.
 * - Envoy logs no upstream status. The upstream answered when the router set
 *   x-envoy-upstream-service-time and no flag says otherwise; then the client saw its status.
 * - Response code 0 (nothing sent) or flag DC: the downstream (client) went away.
 * - Envoy does not escape quotes in header values; the tokenizer closes a quote only before a space.
 */

/** Flags meaning the upstream never produced the response (§5.3): Envoy answered itself. */
const NO_UPSTREAM_FLAGS = new Set([
  'UH', 'UF', 'UO', 'NR', 'URX', 'UT', 'NC', 'LH', 'UC', 'UR', 'LR', 'DF', 'RL', 'UAEX', 'RLSE', 'FI', 'DI', 'SI', 'UPE', 'OM', 'DT', 'IH', 'UMSDR',
]);
const CLIENT_CLOSED_FLAG = 'DC';

/**
 * Where the fields sit. Envoy's default has 13 words. Istio's sidecars keep Envoy's words in the
 * same order but put more words after the flags (`gap`: Istio 1.1-1.4 the mixer status, 1.5-1.8
 * also the upstream transport failure reason, 1.9+ the response code details, connection
 * termination details and transport failure reason) and after the upstream host (upstream
 * cluster, upstream local, downstream local and remote addresses, SNI, and from 1.5 the route).
 */
interface Layout {
  readonly tokens: number;
  readonly gap: number;
  /** Index of %DOWNSTREAM_REMOTE_ADDRESS% in the tail, or -1. */
  readonly downstreamRemote: number;
}
const LAYOUTS: readonly Layout[] = [
  { tokens: 13, gap: 0, downstreamRemote: -1 },
  { tokens: 19, gap: 1, downstreamRemote: 17 },
  { tokens: 21, gap: 2, downstreamRemote: 18 },
  { tokens: 22, gap: 3, downstreamRemote: 19 },
];
const T = { start: 0, request: 1, code: 2, flags: 3 } as const;
/** After the gap, relative to the byte counts. */
const A = { bytesSent: 1, duration: 2, upstreamServiceTime: 3, forwardedFor: 4, userAgent: 5, requestId: 6, authority: 7, upstreamHost: 8 } as const;
const QUOTED_AFTER_GAP: readonly number[] = [A.forwardedFor, A.userAgent, A.requestId, A.authority, A.upstreamHost];

/** The original client is the first X-Forwarded-For element. */
function firstForwardedFor(value: string): string | null {
  const comma = value.indexOf(',');
  return orNull((comma < 0 ? value : value.slice(0, comma)).trim());
}

function layoutOf(tokens: TokenSpans): Layout | string {
  const layout = LAYOUTS.find((candidate) => candidate.tokens === tokens.count);
  if (layout === undefined) return `expected 13 fields (or Istio's 19, 21 or 22), found ${tokens.count}`;
  if (tokens.delimited(T.start) !== '[') return 'expected [START_TIME] first';
  if (tokens.delimited(T.request) !== '"') return 'field 2 should be quoted';
  const base = 4 + layout.gap;
  for (const offset of QUOTED_AFTER_GAP) if (tokens.delimited(base + offset) !== '"') return `field ${base + offset + 1} should be quoted`;
  // The tail is bare words: a quoted one means another layout that happens to have as many words.
  for (let index = base + A.upstreamHost + 1; index < tokens.count; index++) if (tokens.delimited(index) === '"') return `field ${index + 1} should not be quoted`;
  return layout;
}

function createEnvoyParser(options: ParserOptions): RecordParser {
  const file = options.file;
  // Fields as offsets into the line, sliced when read (see TokenSpans for the figures).
  const tokens = new TokenSpans();
  return textLineParser(file, (text, lineNumber, sink, fail) => {
    if (!tokens.read(text)) return fail('PARSE_NO_MATCH', 'REQ', 'unterminated quote or bracket');
    const layout = layoutOf(tokens);
    if (typeof layout === 'string') return fail('PARSE_NO_MATCH', 'line', layout);
    const at = (index: number): string => tokens.text(index);
    const base = 4 + layout.gap;
    const after = (offset: number): string => tokens.text(base + offset);

    const startMs = parseIsoTimestamp(at(T.start));
    if (Number.isNaN(startMs)) return fail('PARSE_BAD_TIMESTAMP', 'START_TIME', `bad START_TIME "${at(T.start)}"`);
    const code = parseUnsignedInt(at(T.code));
    if (Number.isNaN(code) || code > 999) return fail('PARSE_BAD_FIELD', 'RESPONSE_CODE', `bad RESPONSE_CODE "${at(T.code)}"`);
    const duration = optionalUnsigned(after(A.duration));
    if (Number.isNaN(duration)) return fail('PARSE_BAD_FIELD', 'DURATION', `bad DURATION "${after(A.duration)}"`);
    const serviceTime = optionalUnsigned(after(A.upstreamServiceTime));
    if (Number.isNaN(serviceTime)) {
      return fail('PARSE_BAD_FIELD', 'X-ENVOY-UPSTREAM-SERVICE-TIME', `bad upstream service time "${after(A.upstreamServiceTime)}"`);
    }
    const bytesSent = optionalUnsigned(after(A.bytesSent));
    if (Number.isNaN(bytesSent)) return fail('PARSE_BAD_FIELD', 'BYTES_SENT', `bad BYTES_SENT "${after(A.bytesSent)}"`);

    const flags = orNull(at(T.flags));
    const flagList = flags === null ? [] : flags.split(',');
    const upstreamFailed = flagList.some((flag) => NO_UPSTREAM_FLAGS.has(flag));

    const record = emptyProxyRecord('envoy', file, lineNumber, text);
    record.startMs = startMs;
    record.timeResolutionMs = hasFraction(at(T.start)) ? 1 : 1000;
    record.requestTimeMs = duration;
    record.endMs = startMs + (duration ?? 0);
    record.status = code;
    record.flags = flags;
    record.clientClosed = code === 0 || flagList.includes(CLIENT_CLOSED_FLAG);
    record.upstreamLogged = true;
    record.upstreamTimeMs = serviceTime;
    record.upstreamStatus = serviceTime !== null && !upstreamFailed && code > 0 ? code : null;
    record.upstreamAddr = orNull(after(A.upstreamHost));
    record.upstreamAttempts = record.upstreamAddr === null ? 0 : 1;
    record.bytesSent = bytesSent;

    const request = orNull(at(T.request));
    const parsed = request === null ? null : parseRequestLine(request);
    if (parsed !== null && parsed.method !== '-') {
      record.method = parsed.method;
      record.path = parsed.path === '-' ? null : parsed.path;
      record.query = parsed.query;
    } else {
      // A TCP proxy session (`"- - -" 0 - ...`): no HTTP request, so no status, no client abort and
      // no upstream answer to miss; code 0 and DC are how every such session ends.
      record.status = null;
      record.clientClosed = false;
      record.upstreamLogged = false;
    }
    // Istio's tail names the peer: the client when no X-Forwarded-For was sent.
    record.clientIp = firstForwardedFor(after(A.forwardedFor))
      ?? (layout.downstreamRemote < 0 ? null : hostOfHostPort(at(layout.downstreamRemote)));
    record.userAgent = orNull(after(A.userAgent));
    record.requestId = orNull(after(A.requestId));
    record.host = isMissing(after(A.authority)) ? null : after(A.authority);
    sink.record(record);
  });
}

export const envoy: FormatDef = {
  id: 'envoy',
  title: 'Envoy access log (default text format, and Istio\'s)',
  kind: 'proxy',
  traits: { splittable: true, unit: 'line', clientGaveUp: 'code `0` or flag `DC`', backendNeverAnswered: 'upstream service time `-`, or flags UH/UF/UO/NR/URX/UT/NC/UC/RL…', flags: 'envoy-response-flags', upstreamTimeout: { setting: 'the Envoy route `timeout`', defaultSeconds: 15 } },
  url: 'https://www.envoyproxy.io/docs/envoy/latest/configuration/observability/access_log/usage',
  example:
    '[2025-01-15T10:31:31.901Z] "POST /v1/reports HTTP/1.1" 504 UT 612 24 15001 - "198.51.100.7" "python-requests/2.31.0" "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f" "api.example.com" "10.0.3.17:8080"',
  exampleFields: { start: '2025-01-15T10:31:31.901Z', status: 504, method: 'POST', path: '/v1/reports', client: '198.51.100.7', upstreamStatus: null },
  createParser: createEnvoyParser,
};
