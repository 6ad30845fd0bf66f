import { emptyProxyRecord, type ProxyRecord } from '../src/model/records.js';
import { cachedClfTimeParser } from './fields/clf-time.js';
import { parseUnsignedInt } from './fields/numbers.js';
import { parseRequestLine, splitTarget } from './fields/request-line.js';
import { normaliseTraceId } from './fields/trace-context.js';
import type { FormatDef, FormatTraits, ParserOptions, RecordParser } from './format.js';
import {
  FieldError, hostOfHostPort, isGoLoggerLine, isMissing, jsonLineParser, jsonNumber, jsonText, lookup, optionalUnsigned, orNull,
  hasFraction, parseIsoTimestamp, textLineParser, TokenSpans, type JsonObject,
} from './proxy-line-kit.js';

const TRAEFIK_TRAITS: FormatTraits = {
  splittable: true, unit: 'line', clientGaveUp: '`499`', backendNeverAnswered: '`OriginStatus` absent or `0`, or its error handler\'s body (`Bad Gateway`, 11 bytes)', flags: null,
  upstreamTimeout: { setting: 'the Traefik `forwardingTimeouts.responseHeaderTimeout` of the servers transport', defaultSeconds: null },
};

/**
 * Traefik access logs (docs/formats.md, Traefik).
 * JSON (`--accesslog.format=json`): durations are NANOSECONDS (converted to ms here, once);
 * `StartUTC`/`StartLocal` are START; `DownstreamStatus` is client-facing; `OriginStatus` is
 * absent (or 0) when Traefik answered itself; proxy errors map `context.Canceled` to 499.
 * CLF (default): `ClientHost - ClientUsername [StartUTC] "Method Path Protocol" Status Size
 * "Referer" "User-Agent" RequestCount "RouterName" "ServiceURL" <Duration>ms`.
 */

const CLIENT_CLOSED = 499;

/**
 * The bodies Traefik's proxy writes itself when forwarding fails (pkg/proxy/httputil/proxy.go,
 * ErrorHandlerWithContext: the status's text, from ComputeStatusCode), which the access log takes
 * as the origin's answer: `OriginStatus` 502 with an 11-byte body is Traefik's "Bad Gateway" (a
 * connection refused or reset), not a backend's 502. A real Traefik logged three while Grafana
 * was starting (maborak/monitor-stack, MIT): 0.5 ms, 11 bytes, read as the upstream's 502s.
 */
const ERROR_HANDLER_BODIES: ReadonlyMap<number, number> = new Map([
  [502, 'Bad Gateway'.length],
  [504, 'Gateway Timeout'.length],
  [499, 'Client Closed Request'.length],
  [500, 'Internal Server Error'.length],
]);

function madeByErrorHandler(originStatus: number, originBytes: number | null): boolean {
  return originBytes !== null && ERROR_HANDLER_BODIES.get(originStatus) === originBytes;
}

/** ns → ms, rounded to µs so float noise does not leak into records. */
function nsToMs(ns: number): number {
  return Math.round(ns / 1e3) / 1e3;
}

function jsonField(entry: JsonObject, key: string): number | null {
  const value = lookup(entry, key);
  const n = jsonNumber(value);
  if (Number.isNaN(n) || (n !== null && n < 0)) throw new FieldError(key, value);
  return n;
}

function fillFromJson(record: ProxyRecord, entry: JsonObject, keyField?: string): void {
  const status = jsonField(entry, 'DownstreamStatus');
  const originStatus = jsonField(entry, 'OriginStatus');
  const duration = jsonField(entry, 'Duration');
  const originDuration = jsonField(entry, 'OriginDuration');
  record.requestTimeMs = duration === null ? null : nsToMs(duration);
  const startValue = lookup(entry, 'StartUTC') ?? lookup(entry, 'StartLocal');
  if (startValue !== undefined) {
    const startMs = typeof startValue === 'string' ? parseIsoTimestamp(startValue) : NaN;
    if (Number.isNaN(startMs)) throw new FieldError('StartUTC', startValue, 'PARSE_BAD_TIMESTAMP');
    record.startMs = startMs;
    record.timeResolutionMs = 1;
    record.endMs = startMs + Math.round(record.requestTimeMs ?? 0);
  } else {
    // `accessLog.fields.defaultMode: drop` keeps only the fields named: often no Start*, but the
    // logger's own `time`, written when the request ended (to the second, with the host's zone).
    const timeValue = lookup(entry, 'time');
    const endMs = typeof timeValue === 'string' ? parseIsoTimestamp(timeValue) : NaN;
    if (Number.isNaN(endMs)) throw new FieldError('time', timeValue, 'PARSE_BAD_TIMESTAMP');
    record.endMs = endMs;
    record.timeResolutionMs = hasFraction(timeValue as string) ? 1 : 1000;
    record.startMs = endMs - Math.round(record.requestTimeMs ?? 0);
  }
  record.status = status;
  record.clientClosed = status === CLIENT_CLOSED;

  record.upstreamLogged = true;
  // Traefik 1.x named the service a backend: BackendAddr, BackendURL, BackendName (a real v1 log's
  // errors read "unknown upstream" beside their BackendAddr).
  record.upstreamAddr = jsonText(lookup(entry, 'ServiceAddr')) ?? jsonText(lookup(entry, 'ServiceURL')) ??
    jsonText(lookup(entry, 'BackendAddr')) ?? jsonText(lookup(entry, 'BackendURL'));
  const originBytes = jsonField(entry, 'OriginContentSize');
  // No router matched: Go's "404 page not found\n" (19 bytes), with no router or service named, is
  // Traefik's own answer, though it logs it as an OriginStatus with an OriginDuration of
  // microseconds. A real Traefik's 404s for a host it had no router for yet were read as the
  // backend's (maborak/monitor-stack). (A backend written in Go answers the same text, but through a router.)
  const noRouter = originStatus === 404 && originBytes === 19 && lookup(entry, 'RouterName') === undefined && record.upstreamAddr === null;
  const ownAnswer = noRouter || (originStatus !== null && madeByErrorHandler(originStatus, originBytes));
  record.upstreamStatus = originStatus === null || originStatus === 0 || ownAnswer ? null : originStatus;
  record.upstreamTimeMs = noRouter || originDuration === null || originDuration === 0 ? null : nsToMs(originDuration);
  const retries = jsonField(entry, 'RetryAttempts') ?? 0;
  record.upstreamAttempts = record.upstreamStatus === null && record.upstreamTimeMs === null ? 0 : 1 + retries;

  record.method = jsonText(lookup(entry, 'RequestMethod'));
  const target = jsonText(lookup(entry, 'RequestPath'));
  if (target !== null) {
    const split = splitTarget(target);
    record.path = split.path;
    record.query = split.query;
  }
  record.host = jsonText(lookup(entry, 'RequestHost'));
  record.clientIp = jsonText(lookup(entry, 'ClientHost')) ?? hostOfHostPort(jsonText(lookup(entry, 'ClientAddr')) ?? '');
  record.userAgent = jsonText(lookup(entry, 'request_User-Agent'));
  record.requestId = jsonText(lookup(entry, 'request_X-Request-Id'));
  const trace = jsonText(lookup(entry, 'TraceId')) ?? jsonText(lookup(entry, 'trace_id')) ?? jsonText(lookup(entry, 'request_Traceparent'));
  record.traceId = trace === null ? null : normaliseTraceId(trace);
  record.apiKey = jsonText(lookup(entry, keyField ?? 'ClientUsername'));
  record.bytesSent = jsonField(entry, 'DownstreamContentSize');
}

function createJsonParser(options: ParserOptions): RecordParser {
  return jsonLineParser(options.file, {
    formatId: 'traefik-json',
    // Without a Start* field (kept out by `fields.defaultMode: drop`), the logger's `time` with
    // DownstreamStatus, Traefik's own name: `time` and `Duration` alone are many a Go program's log.
    missingField: (entry) => (!('StartUTC' in entry || 'StartLocal' in entry || ('time' in entry && 'DownstreamStatus' in entry)) ? 'StartUTC'
      : !('DownstreamStatus' in entry || 'Duration' in entry) ? 'DownstreamStatus' : null),
    notThis: 'not a Traefik access-log entry',
    fill: (record, entry) => fillFromJson(record, entry, options.keyField),
    otherLines: isTraefikOtherLine,
  });
}

/**
 * Which status the CLF prints depends on the Traefik version: older releases print
 * OriginStatus (`-` when Traefik answered itself, §5.4), newer ones DownstreamStatus. So a
 * number is taken as the client-facing status without claiming it came from the backend
 * (upstreamLogged false), while `-` does say no backend answered.
 */
function createClfParser(options: ParserOptions): RecordParser {
  const file = options.file;
  const parseTime = cachedClfTimeParser();
  // Fields as offsets into the line, sliced when read (see TokenSpans for the figures).
  const tokens = new TokenSpans();
  return textLineParser(file, (line, lineNumber, sink, fail) => {
    if (!tokens.read(line)) return fail('PARSE_NO_MATCH', 'request', 'unterminated quote or bracket');
    if (tokens.count !== 13) return fail('PARSE_NO_MATCH', 'line', `expected 13 fields, found ${tokens.count}`);
    const durationText = tokens.text(12);
    if (tokens.delimited(3) !== '[' || tokens.delimited(4) !== '"' || tokens.delimited(12) !== null || !durationText.endsWith('ms')) {
      return fail('PARSE_NO_MATCH', 'Duration', 'expected `[StartUTC] "request" ... <n>ms`');
    }
    const startMs = parseTime(tokens.text(3));
    if (Number.isNaN(startMs)) return fail('PARSE_BAD_TIMESTAMP', 'StartUTC', `bad time "${tokens.text(3)}"`);
    const duration = parseUnsignedInt(durationText.slice(0, -2));
    if (Number.isNaN(duration)) return fail('PARSE_BAD_FIELD', 'Duration', `bad duration "${durationText}"`);
    const statusText = tokens.text(5);
    const status = isMissing(statusText) ? null : parseUnsignedInt(statusText);
    // `0`: no status was written, as for a WebSocket Traefik handed over (traefik/traefik#10064,
    // "expected"); the JSON log says `DownstreamStatus: 0` for the same. Real logs hold Grafana's
    // live WebSockets open for an hour so; they were skipped as bad lines.
    if (Number.isNaN(status) || (status !== null && statusText.length !== 3 && statusText !== '0')) return fail('PARSE_BAD_FIELD', 'OriginStatus', `bad status "${statusText}"`);
    const size = optionalUnsigned(tokens.text(6));
    if (Number.isNaN(size)) return fail('PARSE_BAD_FIELD', 'OriginContentSize', `bad size "${tokens.text(6)}"`);

    const record = emptyProxyRecord('traefik-clf', file, lineNumber, line);
    record.startMs = startMs;
    record.timeResolutionMs = 1000;
    record.requestTimeMs = duration;
    record.endMs = startMs + duration;
    record.status = status;
    record.clientClosed = status === CLIENT_CLOSED;
    record.upstreamLogged = status === null;
    record.bytesSent = size;
    record.clientIp = orNull(tokens.text(0));
    record.apiKey = orNull(tokens.text(2));
    const request = orNull(tokens.text(4));
    const parsed = request === null ? null : parseRequestLine(request);
    if (parsed !== null && parsed.method !== '-') {
      record.method = parsed.method;
      record.path = parsed.path;
      record.query = parsed.query;
    }
    record.userAgent = orNull(tokens.text(8));
    record.upstreamAddr = orNull(tokens.text(11));
    sink.record(record);
  }, undefined, isTraefikOtherLine);
}

/**
 * Traefik's own log lines, which go to the same stdout as the access log unless `log.filePath`
 * is set, so `docker logs`/`kubectl logs` hold both (docs/formats.md, Traefik): v2's logrus text
 * (`time="2024-01-15T10:32:00Z" level=info msg="Configuration loaded from flags."`), v3's console
 * format (`2024-01-15T10:32:00Z INF Traefik version 3.0.0 …`), and either as JSON
 * (`{"level":"info",…`). Counted as ignored, not skipped.
 */
export function isTraefikOtherLine(text: string): boolean {
  return isGoLoggerLine(text) || CONSOLE_LINE.test(text) || STATS_MESSAGE_LINES.has(text);
}

/**
 * The one message Traefik writes over several lines, at start-up when anonymous stats are off
 * (cmd/traefik/traefik.go, `Stats collection is disabled.` and two lines, a newline first and
 * last). v3's console format prints it after a bare `… INF`; these continuation lines are known
 * by their whole text, which no request line can be.
 */
const STATS_MESSAGE_LINES = new Set([
  'Stats collection is disabled.',
  'Help us improve Traefik by turning this feature on :)',
  'More details on: https://doc.traefik.io/traefik/contributing/data-collection/',
]);

const CONSOLE_LINE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}) (?:TRC|DBG|INF|WRN|ERR|FTL|PNC)(?: |$)/;

export const traefikJson: FormatDef = {
  id: 'traefik-json',
  // An operator who switches the access log's format leaves a file of both (parsers/siblings.ts).
  siblings: ['traefik-clf'],
  title: 'Traefik access log (JSON)',
  kind: 'proxy',
  traits: TRAEFIK_TRAITS,
  url: 'https://doc.traefik.io/traefik/observability/access-logs/',
  example:
    '{"ClientHost":"203.0.113.24","DownstreamStatus":200,"OriginStatus":200,"Duration":84213577,"OriginDuration":81907112,"Overhead":2306465,"RequestMethod":"GET","RequestPath":"/v1/orders?limit=20","RouterName":"orders@docker","ServiceURL":"http://10.0.3.17:8080","StartUTC":"2025-01-15T10:32:01.373044Z","request_User-Agent":"okhttp/4.12.0","RetryAttempts":0}',
  exampleFields: { start: '2025-01-15T10:32:01.373Z', status: 200, method: 'GET', path: '/v1/orders', client: '203.0.113.24', upstreamStatus: 200 },
  realSamples: [
    {
      source: { project: 'crowdsecurity/hub', path: '.tests/traefik_json/traefik_json.log', commit: '10459f92cb86fdd02a33bbf9960abf544b59d639', licence: 'MIT' },
      lines: [
        '{"ClientAddr":"172.17.0.1:39496","ClientHost":"172.17.0.1","ClientPort":"39496","ClientUsername":"-","DownstreamContentSize":357,"DownstreamStatus":200,"Duration":357313,"OriginContentSize":357,"OriginDuration":324669,"OriginStatus":200,"Overhead":32644,"RequestAddr":"test.docker.localhost","RequestContentSize":0,"RequestCount":190,"RequestHost":"test.docker.localhost","RequestMethod":"GET","RequestPath":"/594VAEoi.save","RequestPort":"-","RequestProtocol":"HTTP/1.1","RequestScheme":"http","RetryAttempts":0,"RouterName":"test@docker","ServiceAddr":"172.17.0.3:80","ServiceName":"test@docker","ServiceURL":{"Scheme":"http","Opaque":"","User":null,"Host":"172.17.0.3:80","Path":"","RawPath":"","ForceQuery":false,"RawQuery":"","Fragment":"","RawFragment":""},"StartLocal":"2021-12-08T14:02:43.587782192Z","StartUTC":"2021-12-08T14:02:43.587782192Z","downstream_Content-Length":"357","downstream_Content-Type":"text/plain; charset=utf-8","downstream_Date":"Wed, 08 Dec 2021 14:02:43 GMT","entryPointName":"http","level":"info","msg":"","origin_Content-Length":"357","origin_Content-Type":"text/plain; charset=utf-8","origin_Date":"Wed, 08 Dec 2021 14:02:43 GMT","request_Connection":"Keep-Alive","request_User-Agent":"Nikto","request_X-Forwarded-Host":"test.docker.localhost","request_X-Forwarded-Port":"80","request_X-Forwarded-Proto":"http","request_X-Forwarded-Server":"8f4adf27f2ad","request_X-Real-Ip":"172.17.0.1","time":"2021-12-08T14:02:43Z"}',
      ],
      fields: { start: '2021-12-08T14:02:43.587Z', status: 200, method: 'GET', path: '/594VAEoi.save', client: '172.17.0.1', upstreamStatus: 200 },
    },
  ],
  createParser: createJsonParser,
};

export const traefikClf: FormatDef = {
  id: 'traefik-clf',
  siblings: ['traefik-json'],
  title: 'Traefik access log (default CLF with duration)',
  kind: 'proxy',
  traits: TRAEFIK_TRAITS,
  url: 'https://doc.traefik.io/traefik/observability/access-logs/',
  example:
    '203.0.113.24 - - [15/Jan/2025:10:32:01 +0000] "GET /v1/orders?limit=20 HTTP/1.1" 200 1834 "-" "okhttp/4.12.0" 88123 "orders@docker" "http://10.0.3.17:8080" 84ms',
  exampleFields: { start: '2025-01-15T10:32:01.000Z', status: 200, method: 'GET', path: '/v1/orders', client: '203.0.113.24', upstreamStatus: null },
  realSamples: [
    {
      source: { project: 'elastic/beats', path: 'filebeat/module/traefik/access/test/test.log', commit: '057ae5676f6187643c18b7f7e6e008cde7053b18', licence: 'Apache-2.0' },
      lines: [
        '192.168.33.1 - - [02/Oct/2017:20:22:07 +0000] "GET /ui/favicons/favicon-16x16.png HTTP/1.1" 304 0 "http://example.com/login" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/61.0.3163.100 Safari/537.36" 262 "Host-host-1" "http://172.19.0.3:5601" 2ms',
      ],
      fields: { start: '2017-10-02T20:22:07.000Z', status: 304, method: 'GET', path: '/ui/favicons/favicon-16x16.png', client: '192.168.33.1', upstreamStatus: null },
    },
    {
      source: { project: 'crowdsecurity/hub', path: '.tests/traefik_clf/traefik_clf.log', commit: '195fc3f1a554ed18988dad2dc23f97585d3f1e65', licence: 'MIT' },
      lines: [
        '172.17.1.2 - - [24/Nov/2024:13:38:04 +0000] "GET /birthday HTTP/2" 200 352 "-" "Nikto" 244 "test@docker -> leaf@docker" "http://172.17.0.3:80" 42ms',
      ],
      fields: { start: '2024-11-24T13:38:04.000Z', status: 200, method: 'GET', path: '/birthday', client: '172.17.1.2', upstreamStatus: null },
    },
  ],
  createParser: createClfParser,
};
