import { emptyProxyRecord, type ProxyRecord } from '../src/model/records.js';
import { localTimeZone } from '../src/model/time-zone.js';
import { excerpt } from '../src/model/parse-issue.js';
import { splitTarget } from './fields/request-line.js';
import { normaliseTraceId } from './fields/trace-context.js';
import type { FormatDef, FormatTraits, ParserOptions, RecordParser, RecordSink } from './format.js';
import {
  FieldError, isJsonObject, jsonNumber, jsonText, lookup, parseIsoTimestamp, parseJsonLine, reportIssue, type JsonObject,
} from './proxy-line-kit.js';

/**
 * Caddy 2's access log (docs/formats.md, Caddy): one zap entry per request, from the logger
 * `http.log.access` (or `http.log.access.<name>`), message `handled request`. Its JSON encoder
 * (the default) writes `{"level":"info","ts":1646861401.5241024,"logger":"http.log.access",
 * "msg":"handled request","request":{…},"bytes_read":0,"user_id":"","duration":0.000929675,
 * "size":10900,"status":200,"resp_headers":{…}}`; its console encoder puts the time, level, logger
 * and message first, tab-separated, and the other fields after them as JSON.
 *   - `ts` is when the entry was written, once the response was: the END. Seconds since the epoch
 *     by default; `time_format` may make it text (ISO 8601, or a wall time without a zone).
 *   - `duration` is the whole request in seconds (a Go duration text with `duration_format string`).
 *   - `status` 0: no handler wrote a status. Go's server then answers 200, but older Caddy also
 *     logged 0 for a client that left before the upstream answered (recent Caddy logs 499:
 *     reverseproxy/client_disconnect_test.go). alf reads 0 as unknown.
 * The access log says nothing of the upstream: `reverse_proxy`'s failures come as entries of the
 * logger `http.log.error`, which are Caddy's own lines here, like its start-up and TLS lines.
 */

const TRAITS: FormatTraits = {
  splittable: true, unit: 'line', clientGaveUp: '`499` (recent Caddy; older releases, `0`)', backendNeverAnswered: 'not logged (a `reverse_proxy` failure is a `502` with its error in `http.log.error`)',
  flags: null, upstreamTimeout: { setting: 'the `reverse_proxy` transport\'s `response_header_timeout`', defaultSeconds: null },
};

const ACCESS_LOGGER = 'http.log.access';
const HANDLED = 'handled request';
const CLIENT_CLOSED = 499;

/** The console encoder's head: time, level, logger, message, each followed by a tab (`2024/01/23 23:27:57.060\tinfo\thttp.log.access.log0\thandled request\t{…}`). */
const CONSOLE_HEAD = /^(\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,9})?)\t([a-zA-Z]+)\t/;
/** A wall time zap writes without a zone, as the console encoder does and `time_format wall` gives. */
const WALL_TIME = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/;
const GO_DURATION_PART = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
const GO_DURATION = /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/;
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration text (`1.5ms`, `2m3.5s`) in ms, or NaN. */
function goDurationMs(text: string): number {
  if (!GO_DURATION.test(text)) return NaN;
  let ms = 0;
  for (const part of text.matchAll(GO_DURATION_PART)) ms += Number(part[1]) * UNIT_MS[part[2]!]!;
  return ms;
}

/** ms from a wall time with no zone, as if it were UTC (the caller places it in a zone). */
function wallMs(text: string): number {
  const m = WALL_TIME.exec(text);
  if (m === null) return NaN;
  const fraction = m[7] === undefined ? 0 : Number(`0.${m[7]}`) * 1000;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) + fraction;
}

/** The first value of a header in Caddy's `headers` object (canonical names, each a list). */
function header(headers: unknown, name: string): string | null {
  if (!isJsonObject(headers)) return null;
  const values = headers[name];
  return Array.isArray(values) ? jsonText(values[0]) : jsonText(values);
}

function createCaddyParser(options: ParserOptions): RecordParser {
  const file = options.file;
  const toUtc = options.timeZone === undefined ? null : localTimeZone(options.timeZone);
  let wallTimeWarned = false;

  /** End time from `ts` (or the console head's wall time); a zone-less time is read in --timezone, else UTC (said once). */
  function endMsOf(value: unknown, lineNumber: number, text: string, sink: RecordSink): { ms: number; resolution: number } {
    if (typeof value === 'number' && Number.isFinite(value) && value > 0) return { ms: Math.round(value * 1e6) / 1e3, resolution: 1 };
    if (typeof value === 'string') {
      const iso = parseIsoTimestamp(value);
      if (!Number.isNaN(iso)) return { ms: iso, resolution: 1 };
      const wall = wallMs(value);
      if (!Number.isNaN(wall)) {
        if (toUtc !== null) return { ms: toUtc(wall), resolution: value.includes('.') ? 1 : 1000 };
        if (!wallTimeWarned) {
          wallTimeWarned = true;
          sink.warn({ code: 'PARSE_TIME_GUESSED', file, line: lineNumber, field: 'ts', message: 'Caddy\'s times have no zone here (console encoder, or a wall `time_format`): read as UTC; give the server\'s zone with --timezone', sample: excerpt(text) });
        }
        return { ms: wall, resolution: value.includes('.') ? 1 : 1000 };
      }
    }
    throw new FieldError('ts', value, 'PARSE_BAD_TIMESTAMP');
  }

  function fill(record: ProxyRecord, entry: JsonObject, ts: unknown, lineNumber: number, text: string, sink: RecordSink): void {
    const end = endMsOf(ts, lineNumber, text, sink);
    const durationValue = lookup(entry, 'duration');
    const durationMs = typeof durationValue === 'string' && durationValue !== '' && Number.isNaN(Number(durationValue))
      ? goDurationMs(durationValue)
      : (jsonNumber(durationValue) ?? NaN) * 1000;
    if (durationValue !== undefined && (Number.isNaN(durationMs) || durationMs < 0)) throw new FieldError('duration', durationValue);
    const status = jsonNumber(lookup(entry, 'status'));
    if (status === null || Number.isNaN(status) || !Number.isInteger(status) || status < 0 || status > 999) throw new FieldError('status', lookup(entry, 'status'));
    record.endMs = end.ms;
    record.timeResolutionMs = end.resolution;
    record.requestTimeMs = durationValue === undefined ? null : Math.round(durationMs * 1000) / 1000;
    record.startMs = record.endMs - (record.requestTimeMs ?? 0);
    record.status = status === 0 ? null : status;
    record.clientClosed = status === CLIENT_CLOSED;
    record.upstreamLogged = false;
    const request = lookup(entry, 'request');
    const req: JsonObject = isJsonObject(request) ? request : {};
    record.method = jsonText(req['method']);
    const uri = jsonText(req['uri']);
    if (uri !== null) {
      const split = splitTarget(uri);
      record.path = split.path;
      record.query = split.query;
    }
    record.host = jsonText(req['host']);
    record.clientIp = jsonText(req['client_ip']) ?? jsonText(req['remote_ip']);
    const headers = req['headers'];
    record.userAgent = header(headers, 'User-Agent');
    record.requestId = header(headers, 'X-Request-Id');
    const trace = jsonText(lookup(entry, 'traceID')) ?? header(headers, 'Traceparent');
    record.traceId = trace === null ? null : normaliseTraceId(trace);
    record.apiKey = options.keyField !== undefined
      ? jsonText(lookup(entry, options.keyField)) ?? header(headers, options.keyField)
      : jsonText(lookup(entry, 'user_id'));
    const size = jsonNumber(lookup(entry, 'size'));
    record.bytesSent = size === null || Number.isNaN(size) || size < 0 ? null : size;
  }

  /** Reads one entry: a record when it is an access entry, ignored when it is another of Caddy's lines. */
  function entryLine(entry: JsonObject, logger: unknown, msg: unknown, ts: unknown, text: string, lineNumber: number, sink: RecordSink): void {
    const isAccess = typeof logger === 'string' && (logger === ACCESS_LOGGER || logger.startsWith(`${ACCESS_LOGGER}.`)) && msg === HANDLED;
    if (!isAccess) {
      // Caddy's other loggers (http.log.error, tls.obtain, admin…): ignored if they look like its own.
      if (typeof logger === 'string' || typeof msg === 'string') sink.ignore(lineNumber);
      else reportIssue(sink, file, lineNumber, 'PARSE_NO_MATCH', 'logger', 'not a Caddy log entry', text);
      return;
    }
    if (!isJsonObject(lookup(entry, 'request'))) return reportIssue(sink, file, lineNumber, 'PARSE_NO_MATCH', 'request', 'no request: not a Caddy access entry', text);
    const record = emptyProxyRecord('caddy', file, lineNumber, text);
    try {
      fill(record, entry, ts, lineNumber, text, sink);
    } catch (error) {
      if (!(error instanceof FieldError)) throw error;
      return reportIssue(sink, file, lineNumber, error.code, error.field, error.describe(), text);
    }
    sink.record(record);
  }

  return {
    line(text, lineNumber, sink) {
      if (text.trim() === '') {
        sink.ignore(lineNumber);
        return;
      }
      if (text.charCodeAt(0) === 123 /* { */) {
        const value = parseJsonLine(text);
        if (!isJsonObject(value)) return reportIssue(sink, file, lineNumber, 'PARSE_BAD_JSON', null, 'line is not a JSON object', text);
        return entryLine(value, value['logger'], value['msg'], value['ts'], text, lineNumber, sink);
      }
      const head = CONSOLE_HEAD.exec(text);
      if (head === null) return reportIssue(sink, file, lineNumber, 'PARSE_NO_MATCH', 'ts', 'not a Caddy log line', text);
      // Console encoder: logger and message, tab-separated, then the fields as JSON (a line of
      // Caddy's own may have no logger, or no fields).
      const rest = text.slice(head[0].length).split('\t');
      const jsonAt = rest.findIndex((part) => part.startsWith('{'));
      const names = jsonAt < 0 ? rest : rest.slice(0, jsonAt);
      const logger = names.length >= 2 ? names[0] : null;
      const msg = names.length >= 2 ? names[1] : names[0];
      const fields = jsonAt < 0 ? {} : parseJsonLine(rest.slice(jsonAt).join('\t'));
      if (!isJsonObject(fields)) return reportIssue(sink, file, lineNumber, 'PARSE_BAD_JSON', null, 'the fields after the message are not a JSON object', text);
      return entryLine(fields, logger, msg, head[1], text, lineNumber, sink);
    },
    end() {},
  };
}

export const caddy: FormatDef = {
  id: 'caddy',
  title: 'Caddy 2 access log (JSON or console encoder)',
  kind: 'proxy',
  traits: TRAITS,
  url: 'https://caddyserver.com/docs/logging',
  example:
    '{"level":"info","ts":1736937121.457,"logger":"http.log.access.log0","msg":"handled request","request":{"remote_ip":"203.0.113.24","remote_port":"53122","client_ip":"203.0.113.24","proto":"HTTP/2.0","method":"GET","host":"api.example.com","uri":"/v1/orders?limit=20","headers":{"User-Agent":["okhttp/4.12.0"]}},"bytes_read":0,"user_id":"","duration":0.084,"size":1834,"status":200,"resp_headers":{"Server":["Caddy"]}}',
  exampleFields: { start: '2025-01-15T10:32:01.373Z', status: 200, method: 'GET', path: '/v1/orders', client: '203.0.113.24', upstreamStatus: null },
  realSamples: [
    {
      source: { project: 'crowdsecurity/hub', path: '.tests/caddy-logs/caddy-logs.log', commit: '01fba836aa4eb7dc62db041a7c16fb4fa0ef6aa5', licence: 'MIT' },
      lines: [
        '{"level":"info","ts":1711741864.947103,"logger":"http.log.access.log0","msg":"handled request","request":{"remote_ip":"127.0.0.1","remote_port":"43498","client_ip":"127.0.0.1","proto":"HTTP/1.1","method":"GET","host":"localhost:9080","uri":"/","headers":{"Authorization":[],"User-Agent":["curl/7.88.1"],"Accept":["*/*"]}},"bytes_read":0,"user_id":"Bob","duration":0.794682124,"size":18630,"status":200,"resp_headers":{"Content-Type":["text/html; charset=utf-8"],"Last-Modified":["Fri, 08 Dec 2023 00:28:15 GMT"],"Accept-Ranges":["bytes"],"Content-Length":["18630"],"Server":["Caddy"],"Etag":["\\"s5bnz3edi\\""]}}',
      ],
      fields: { start: '2024-03-29T19:51:04.152Z', status: 200, method: 'GET', path: '/', client: '127.0.0.1', upstreamStatus: null },
    },
  ],
  createParser: createCaddyParser,
};
