import { emptyProxyRecord, type ProxyRecord } from '../src/model/records.js';
import { localTimeZone } from '../src/model/time-zone.js';
import { normaliseTraceId } from './fields/trace-context.js';
import type { FormatDef, ParserOptions, RecordParser, RecordSink } from './format.js';
import { parseClfTime } from './fields/clf-time.js';
import { authorityOfUrl } from './fields/request-line.js';
import {
  FieldError, firstPresent, isGoLoggerLine, isJsonObject, jsonNumber, jsonText, parseIsoTimestamp, parseJsonLine, reportIssue, type JsonObject,
} from './proxy-line-kit.js';

/**
 * Tyk Gateway's access log (Tyk 5.8 and later, `access_logs.enabled`; docs/formats.md, Tyk): one
 * logrus entry at info per request, marked `prefix=access-log`, on the gateway's own log stream
 * beside its application log, whose lines are ignored. The record is built after the response,
 * so the entry's time is the END. Two shapes, as the gateway's log format says:
 * - text (the default): `time="Jan 15 10:32:01" level=info api_key=… latency_total=84 … prefix=access-log …`,
 *   logrus's TextFormatter with Tyk's stamp `Jan 02 15:04:05`: the gateway's local time, with no
 *   year and no zone (`--timezone`; the year is the latest that does not put the line in the future);
 * - JSON (`log_format: json`): logrus's JSONFormatter with RFC 3339 stamps (`"time":"2025-01-15T10:32:01Z"`).
 * Fields (TykTechnologies/tyk `internal/httputil/accesslog`), under the names of the releases and
 * of the development versions between them: `status` or `status_code`; `method`; `host`; `path` or
 * `request_url` (the path alone, no query); `client_ip`; `upstream_addr` or `upstream_address` (a
 * URL); `latency_total` or `total_latency` and `upstream_latency` (ms); `user_agent`; `api_key`
 * (obfuscated or hashed by the gateway's settings); `trace_id` (with OpenTelemetry on). As in the
 * analytics record, an upstream latency of 0 means the gateway answered alone.
 */

const FORMAT_ID = 'tyk-access-log';
const MARK = 'access-log';
const CLIENT_CLOSED = 499;
/** Keyless APIs carry this placeholder key (as in the analytics record): no budget holder. */
const PLACEHOLDER_KEY = '00000000';

const KEYS = {
  status: ['status', 'status_code'],
  path: ['path', 'request_url'],
  upstreamAddress: ['upstream_addr', 'upstream_address'],
  total: ['latency_total', 'total_latency'],
} as const;

/** A text stamp more than this ahead of now is last year's (a log read after New Year). */
const FUTURE_SLACK_MS = 24 * 3600_000;

/** Whether a line is an access-log entry of either shape (the analytics parser must not take it for a notice). */
export function isTykAccessLogLine(text: string): boolean {
  return text.includes(' prefix=access-log') || text.includes('"prefix":"access-log"');
}

/**
 * The key=value pairs of a logrus text line. A value is bare (up to the next space) or quoted the
 * way Go's %q quotes, with backslash escapes; one left-to-right pass, no regex. Null when a
 * quoted value never closes.
 */
export function logfmtPairs(text: string): Map<string, string> | null {
  const pairs = new Map<string, string>();
  let at = 0;
  const length = text.length;
  // The next '=' is searched for again only once passed: a line of words without one stays linear.
  let equals = text.indexOf('=');
  while (at < length) {
    while (at < length && text.charCodeAt(at) === 32) at++;
    if (at >= length) break;
    if (equals >= 0 && equals < at) equals = text.indexOf('=', at);
    if (equals < 0) break;
    const space = text.indexOf(' ', at);
    if (space >= 0 && space < equals) {
      // A word without a value: skip it.
      at = space;
      continue;
    }
    const key = text.slice(at, equals);
    at = equals + 1;
    if (text.charCodeAt(at) === 34) {
      let value = '';
      let i = at + 1;
      let closed = false;
      for (; i < length; i++) {
        const c = text.charCodeAt(i);
        if (c === 34) {
          closed = true;
          break;
        }
        if (c === 92 && i + 1 < length) {
          const next = text[++i]!;
          value += next === 'n' ? '\n' : next === 't' ? '\t' : next === 'r' ? '\r' : next;
          continue;
        }
        value += text[i]!;
      }
      if (!closed) return null;
      pairs.set(key, value);
      at = i + 1;
    } else {
      const end = space < 0 ? length : space;
      pairs.set(key, text.slice(at, end));
      at = end;
    }
  }
  return pairs;
}

/** `Jan 15 10:32:01` as wall-clock ms of the given year (read as UTC), or NaN: the CLF parser's, re-laid. */
function wallTime(stamp: string, year: number): number {
  if (stamp.length !== 15 || stamp[3] !== ' ' || stamp[6] !== ' ') return NaN;
  return parseClfTime(`${stamp.slice(4, 6)}/${stamp.slice(0, 3)}/${year}:${stamp.slice(7)} +0000`);
}

type Read = (key: string) => string | number | null;

function numberOf(read: Read, keys: readonly string[]): number | null {
  for (const key of keys) {
    const value = read(key);
    if (value === null) continue;
    const n = jsonNumber(value);
    if (n === null || Number.isNaN(n) || n < 0) throw new FieldError(key, value);
    return n;
  }
  return null;
}

function textOf(read: Read, keys: readonly string[]): string | null {
  for (const key of keys) {
    const value = jsonText(read(key));
    if (value !== null) return value;
  }
  return null;
}

function fill(record: ProxyRecord, read: Read, endMs: number, keyField: string | undefined): void {
  const status = numberOf(read, KEYS.status);
  if (status !== null && (!Number.isInteger(status) || status > 999)) throw new FieldError('status', read('status') ?? read('status_code'));
  const totalMs = numberOf(read, KEYS.total);
  const upstreamMs = numberOf(read, ['upstream_latency']);
  record.endMs = endMs;
  record.timeResolutionMs = 1000;
  record.requestTimeMs = totalMs;
  record.startMs = endMs - Math.round(totalMs ?? 0);
  record.status = status;
  record.clientClosed = status === CLIENT_CLOSED;
  record.upstreamLogged = true;
  const answered = upstreamMs !== null && upstreamMs > 0 && status !== CLIENT_CLOSED;
  record.upstreamTimeMs = upstreamMs !== null && upstreamMs > 0 ? upstreamMs : null;
  record.upstreamStatus = answered ? status : null;
  record.upstreamAttempts = answered ? 1 : 0;
  const upstream = textOf(read, KEYS.upstreamAddress);
  // host:port of the URL Tyk writes (`http://10.0.3.17:8080/v1/orders`), or the text as it is.
  record.upstreamAddr = upstream === null ? null : authorityOfUrl(upstream) ?? upstream;
  record.method = textOf(read, ['method']);
  record.path = textOf(read, KEYS.path);
  record.host = textOf(read, ['host']);
  record.clientIp = textOf(read, ['client_ip']);
  record.userAgent = textOf(read, ['user_agent']);
  const key = textOf(read, [keyField ?? 'api_key']);
  record.apiKey = key === PLACEHOLDER_KEY && keyField === undefined ? null : key;
  const trace = textOf(read, ['trace_id']);
  record.traceId = trace === null ? null : normaliseTraceId(trace);
}

function createTykAccessLogParser(options: ParserOptions): RecordParser {
  const file = options.file;
  const toUtc = localTimeZone(options.timeZone ?? 'UTC');
  const nowMs = Date.now();
  let warnedYear = false;

  /** A text stamp's instant: the latest year that does not put it more than a day ahead of now. */
  function textTime(stamp: string): number {
    const year = new Date(nowMs).getUTCFullYear();
    const thisYear = toUtc(wallTime(stamp, year));
    return thisYear > nowMs + FUTURE_SLACK_MS ? toUtc(wallTime(stamp, year - 1)) : thisYear;
  }

  function emit(read: Read, raw: string, endMs: number, lineNumber: number, sink: RecordSink): void {
    const record = emptyProxyRecord(FORMAT_ID, file, lineNumber, raw);
    try {
      fill(record, read, endMs, options.keyField);
    } catch (error) {
      if (!(error instanceof FieldError)) throw error;
      reportIssue(sink, file, lineNumber, error.code, error.field, error.describe(), raw);
      return;
    }
    if (record.status === null) {
      reportIssue(sink, file, lineNumber, 'PARSE_NO_MATCH', 'status', 'no status: not a Tyk access-log entry', raw);
      return;
    }
    sink.record(record);
  }

  return {
    line(text, lineNumber, sink) {
      if (text.trim().length === 0) return sink.ignore(lineNumber);
      if (text.charCodeAt(0) === 123) {
        const value = parseJsonLine(text);
        if (!isJsonObject(value) || value.prefix !== MARK) {
          if (isGoLoggerLine(text)) return sink.ignore(lineNumber);
          return reportIssue(sink, file, lineNumber, 'PARSE_NO_MATCH', 'prefix', 'not a Tyk access-log entry (no "prefix":"access-log")', text);
        }
        const entry = value as JsonObject;
        const stamp = entry.time;
        const endMs = typeof stamp === 'string' ? parseIsoTimestamp(stamp) : NaN;
        if (Number.isNaN(endMs)) return reportIssue(sink, file, lineNumber, 'PARSE_BAD_TIMESTAMP', 'time', `bad time ${JSON.stringify(stamp)}`, text);
        const read: Read = (key) => {
          const v = firstPresent(entry, [key]);
          return typeof v === 'string' || typeof v === 'number' ? v : null;
        };
        return emit(read, text, endMs, lineNumber, sink);
      }
      if (!text.startsWith('time="')) {
        return reportIssue(sink, file, lineNumber, 'PARSE_NO_MATCH', 'line', 'not a Tyk log line (expected time="…" or a JSON object)', text);
      }
      const pairs = logfmtPairs(text);
      if (pairs === null) return reportIssue(sink, file, lineNumber, 'PARSE_BAD_FIELD', 'line', 'a quoted value never closes', text);
      if (pairs.get('prefix') !== MARK) {
        if (isGoLoggerLine(text)) return sink.ignore(lineNumber);
        return reportIssue(sink, file, lineNumber, 'PARSE_NO_MATCH', 'prefix', 'not a Tyk access-log entry (no prefix=access-log)', text);
      }
      const stamp = pairs.get('time')!;
      // A text stamp may also be RFC 3339 (logrus's own default, where Tyk's is not set).
      const endMs = stamp.length === 15 ? textTime(stamp) : parseIsoTimestamp(stamp);
      if (Number.isNaN(endMs)) return reportIssue(sink, file, lineNumber, 'PARSE_BAD_TIMESTAMP', 'time', `bad time "${stamp}"`, text);
      if (stamp.length === 15 && !warnedYear) {
        warnedYear = true;
        sink.warn({
          code: 'PARSE_TIME_GUESSED', file, line: lineNumber, field: 'time',
          message: `Tyk's text log writes no year: ${stamp} read as ${new Date(endMs).getUTCFullYear()} (the latest year not in the future) in ${options.timeZone ?? 'UTC'} (--timezone); the gateway's JSON log format writes full stamps`,
          sample: text.slice(0, 200),
        });
      }
      return emit((key) => pairs.get(key) ?? null, text, endMs, lineNumber, sink);
    },
    end() {},
  };
}

export const tykAccessLog: FormatDef = {
  id: FORMAT_ID,
  title: 'Tyk Gateway access log (5.8+, logrus text or JSON)',
  kind: 'proxy',
  traits: {
    splittable: true, unit: 'line', clientGaveUp: '`499`', backendNeverAnswered: '`upstream_latency` 0', flags: null,
    upstreamTimeout: { setting: 'the Tyk `proxy_default_timeout` (or the endpoint\'s `hard_timeouts`)', defaultSeconds: null },
  },
  url: 'https://tyk.io/docs/api-management/logs/access-logs',
  example:
    '{"api_key":"00000000","client_ip":"203.0.113.24","host":"api.example.com","latency_total":84,"level":"info","method":"GET","path":"/v1/orders",' +
    '"prefix":"access-log","protocol":"HTTP/1.1","remote_addr":"203.0.113.24:53122","status":200,"time":"2025-01-15T10:32:01Z",' +
    '"upstream_addr":"http://10.0.3.17:8080/v1/orders","upstream_latency":81,"user_agent":"okhttp/4.12.0"}',
  exampleFields: { start: '2025-01-15T10:32:00.916Z', status: 200, method: 'GET', path: '/v1/orders', client: '203.0.113.24', upstreamStatus: 200 },
  createParser: createTykAccessLogParser,
};
