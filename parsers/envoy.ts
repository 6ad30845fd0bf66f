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
  realSamples: [
    {
      source: { project: 'envoyproxy/envoy', path: 'docs/root/configuration/observability/access_log/usage.rst', commit: '8165dda80df0c7b031cd824b80416858c6c42f1b', licence: 'Apache-2.0' },
      lines: [
        '[2016-04-15T20:17:00.310Z] "POST /api/v1/locations HTTP/2" 204 - 154 0 226 100 "10.0.35.28" "nsq2http" "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2" "locations" "tcp://10.0.2.1:80"',
      ],
      fields: { start: '2016-04-15T20:17:00.310Z', status: 204, method: 'POST', path: '/api/v1/locations', client: '10.0.35.28', upstreamStatus: 204 },
    },
    {
      source: { project: 'istio/istio.io', path: 'content/en/docs/tasks/observability/logs/access-log/index.md', commit: '000dbcb375392aa3e1278f0bea910c78f04ab320', licence: 'Apache-2.0' },
      lines: [
        '[2020-11-25T21:26:18.409Z] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 4 4 "-" "curl/7.73.0-DEV" "84961386-6d84-929d-98bd-c5aee93b5c88" "httpbin:8000" "10.44.1.27:80" outbound|8000||httpbin.foo.svc.cluster.local 10.44.1.23:37652 10.0.45.184:8000 10.44.1.23:46520 - default',
      ],
      fields: { start: '2020-11-25T21:26:18.409Z', status: 418, method: 'GET', path: '/status/418', client: '10.44.1.23', upstreamStatus: 418 },
    },
    {
      source: { project: 'DataDog/integrations-core', path: 'envoy/assets/logs/envoy_tests.yaml', commit: '762b5a63fd43e92d0f0b81f523d0aba44adabb83', licence: 'BSD-3-Clause' },
      lines: [
        '[2018-07-13T15:56:58.312Z] "GET /v1/gifs/search?q=totalmete+s&api_key=FyzFCUcvrJXvG&limit=20&offset=0&rating=pg&lang=en&country_code=US HTTP/1.1" 200 - 0 11187 107 107 "173.252.99.154, 23.235.39.44, 23.235.46.35" "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)" "820b432a-32c1-98d5-b5e2-310f824f940f" "api.giphy.com" "127.0.0.1:8000"',
      ],
      fields: { start: '2018-07-13T15:56:58.312Z', status: 200, method: 'GET', path: '/v1/gifs/search', client: '173.252.99.154', upstreamStatus: 200 },
    },
  ],
  createParser: createEnvoyParser,
};
