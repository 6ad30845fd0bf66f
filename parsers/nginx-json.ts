import { emptyProxyRecord } from '../src/model/records.js';
import type { FormatDef, ParserOptions, RecordParser } from './format.js';
import { NGINX_UPSTREAM_TIMEOUT } from './nginx.js';
import { createVariableHandlers, guessKeyVariable, inferUpstreamStatus, placeTime, upstreamEvidence, variableFor, type VariableHandler } from './nginx-variables.js';
import { hasFraction, parseIsoTimestamp, readJsonObject, reportIssue } from './proxy-line-kit.js';

/**
 * nginx JSON lines (`log_format name escape=json '{"time":"$msec",...}'`): one object per line
 * with keys the user chose (docs/formats.md, nginx). Values are nginx variable values, so
 * each key is mapped to a variable name and handed to the same handlers the nginx text parser
 * uses; JSON.parse has already undone escape=json.
 * - Time keys mark the log write (END); start = end − request_time.
 * - `upstream_status` present means backends are logged; `""`/`-` there = no backend answered.
 * - Unquoted numbers (`"status":200`) are accepted and read as their decimal text.
 */

/**
 * A generic time key (`time`, `timestamp`, `@timestamp`) holding an RFC 3339 stamp other than
 * nginx's own `$time_iso8601` (`…+00:00`, 25 characters): a shipper's or another logger's, in `Z`
 * or with a fraction. Not an nginx variable name, so no log_format can name it.
 */
const RFC3339_STAMP = 'time (RFC 3339)';
const TIME_VARIABLES = new Set(['time_local', 'time_iso8601', 'msec', 'time', RFC3339_STAMP]);

/** `time` may hold any of nginx's three clocks, or a stamp another program rewrote; pick the handler from the value's shape. */
function timeVariableFor(value: string): string {
  if (value.includes('/')) return 'time_local';
  if (value.includes('T')) return value.length === 25 ? 'time_iso8601' : RFC3339_STAMP;
  return 'msec';
}

const readRfc3339: VariableHandler = (record, value) => placeTime(record, parseIsoTimestamp(value), hasFraction(value) ? 1 : 1000);


function createNginxJsonParser(options: ParserOptions): RecordParser {
  const file = options.file;
  const handlers: Record<string, VariableHandler> = { ...createVariableHandlers(), [RFC3339_STAMP]: readRfc3339 };
  const keyField = options.keyField ?? null;
  /** Key → variable, resolved once per distinct key set (files keep one layout). */
  const variables = new Map<string, string>();

  return {
    line(line, lineNumber, sink) {
      if (line.trim().length === 0) {
        sink.ignore(lineNumber);
        return;
      }
      const object = readJsonObject(line, lineNumber, file, sink);
      if (object === null) return;
      const keys = Object.keys(object);
      for (const key of keys) if (!variables.has(key)) variables.set(key, variableFor(key));
      const named = keys.map((key) => variables.get(key)!);
      const missing = !named.some((name) => TIME_VARIABLES.has(name)) ? 'time'
        : !named.includes('status') ? 'status' : null;
      if (missing !== null) {
        return reportIssue(sink, file, lineNumber, 'PARSE_NO_MATCH', missing, `no ${missing} key: not an nginx JSON access-log line`, line);
      }
      const keyVariable = keyField ?? guessKeyVariable(keys);

      const record = emptyProxyRecord('nginx-json', file, lineNumber, line);
      const upstream = upstreamEvidence(named);
      record.upstreamLogged = upstream !== null;
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        const raw = object[key];
        if (raw === null || raw === undefined) continue;
        if (typeof raw !== 'string' && !(typeof raw === 'number' && Number.isFinite(raw))) {
          return reportIssue(sink, file, lineNumber, 'PARSE_BAD_FIELD', key, `key ${key} holds a ${typeof raw}, expected an nginx value`, line);
        }
        const value = typeof raw === 'number' ? String(raw) : raw;
        if (key === keyVariable) {
          if (value !== '' && value !== '-') record.apiKey = value;
          continue;
        }
        let variable = named[i]!;
        if (variable === 'time') variable = timeVariableFor(value);
        const handler = Object.hasOwn(handlers, variable) ? handlers[variable] : undefined;
        if (handler === undefined) continue;
        if (!handler(record, value)) {
          const code = TIME_VARIABLES.has(variable) ? 'PARSE_BAD_TIMESTAMP' : 'PARSE_BAD_FIELD';
          return reportIssue(sink, file, lineNumber, code, key, `bad value for ${key} ($${variable}): "${value.slice(0, 80)}"`, line);
        }
      }
      if (upstream === 'attempt') inferUpstreamStatus(record);
      record.startMs = record.endMs - Math.round(record.requestTimeMs ?? 0);
      record.clientClosed = record.status === 499;
      sink.record(record);
    },
    end() {},
  };
}

export const nginxJson: FormatDef = {
  id: 'nginx-json',
  title: 'nginx JSON lines (log_format escape=json)',
  kind: 'proxy',
  traits: { splittable: true, unit: 'line', clientGaveUp: '`499`', backendNeverAnswered: '`upstream_status` `""` or `-`; without it, `upstream_addr` and the upstream times', flags: null, upstreamTimeout: NGINX_UPSTREAM_TIMEOUT, limiterAnswers503: true },
  url: 'https://nginx.org/en/docs/http/ngx_http_log_module.html#log_format',
  example:
    '{"msec":"1736937121.457","request_id":"7bbf528f3944f25005b1a4c8d33e8184","remote_addr":"203.0.113.24","api_client":"key_7H2","request":"GET /v1/orders?limit=20 HTTP/1.1","status":"200","request_time":"0.084","upstream_connect_time":"0.001","upstream_header_time":"0.081","upstream_response_time":"0.083","upstream_status":"200","upstream_addr":"10.0.3.17:8080","body_bytes_sent":"1834","http_user_agent":"okhttp/4.12.0"}',
  exampleFields: { start: '2025-01-15T10:32:01.373Z', status: 200, method: 'GET', path: '/v1/orders', client: '203.0.113.24', upstreamStatus: 200 },
  createParser: createNginxJsonParser,
};
