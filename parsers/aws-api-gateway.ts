import { emptyProxyRecord, type ProxyRecord } from '../src/model/records.js';
import { cachedClfTimeParser } from './fields/clf-time.js';
import { parseRequestLine, splitTarget } from './fields/request-line.js';
import { normaliseTraceId } from './fields/trace-context.js';
import type { FormatDef, FormatTraits, ParserOptions, RecordParser } from './format.js';
import {
  FieldError, firstPresent, isMissing, jsonLineParser, jsonNumber, jsonText, optionalUnsigned, parseStatus,
  textLineParser, TokenSpans, type JsonObject,
} from './proxy-line-kit.js';

const API_GATEWAY_TRAITS: FormatTraits = {
  splittable: true, unit: 'line', clientGaveUp: 'unconfirmed', backendNeverAnswered: 'integration status `-`; error type kept', flags: null,
  upstreamTimeout: { setting: 'the API Gateway integration timeout', defaultSeconds: 29 },
};

/**
 * Amazon API Gateway access logs (docs/formats.md, API Gateway). The template is the user's, so the JSON
 * parser accepts the key names of AWS's presets and the common alternatives, nested or dotted.
 * - `requestTime` / `requestTimeEpoch` mark when the request was RECEIVED (start).
 * - `responseLatency` is client-facing, `integrationLatency` the backend's (both ms).
 * - Integration values `-` mean the backend did not answer (e.g. INTEGRATION_TIMEOUT):
 *   upstreamStatus null. Values on timeout lines are UNCONFIRMED (§4, §10).
 * - No documented client-closed signal (§8: UNCONFIRMED), so clientClosed stays false.
 */

/** `identity.sourceIp` -> `identity.source_ip`; null when the name has no capital (nothing to add). */
function snakeCase(key: string): string | null {
  const snake = key.replace(/[A-Z]/g, (capital) => `_${capital.toLowerCase()}`);
  return snake === key ? null : snake;
}

/**
 * Each name list with its snake_case spellings after it: templates in the wild name their keys
 * `request_id`, `source_ip`, `route_key`, `response_latency` (an AWS CDK HTTP API stage found in a
 * public repository: `{"request_id":"$context.requestId","method":"$context.httpMethod","route_key":
 * "$context.routeKey",…,"source_ip":"$context.identity.sourceIp"}`), and with the camelCase names
 * alone none of them read.
 */
function withSnakeCase<T extends Record<string, readonly string[]>>(keys: T): { [K in keyof T]: readonly string[] } {
  const out = {} as { [K in keyof T]: readonly string[] };
  for (const role of Object.keys(keys) as (keyof T)[]) {
    const names = [...keys[role]!];
    for (const name of keys[role]!) {
      const snake = snakeCase(name);
      if (snake !== null && !names.includes(snake)) names.push(snake);
    }
    out[role] = names;
  }
  return out;
}

const KEYS = withSnakeCase({
  requestId: ['requestId', 'request_id', 'context.requestId'],
  extendedRequestId: ['extendedRequestId'],
  epoch: ['requestTimeEpoch', 'context.requestTimeEpoch', 'requestTimeMs'],
  clfTime: ['requestTime', 'context.requestTime'],
  ip: ['ip', 'sourceIp', 'identity.sourceIp', 'context.identity.sourceIp', 'clientIp'],
  method: ['httpMethod', 'method', 'context.httpMethod'],
  path: ['path', 'context.path'],
  resourcePath: ['resourcePath', 'context.resourcePath'],
  routeKey: ['routeKey', 'context.routeKey'],
  status: ['status', 'context.status', 'statusCode', 'httpStatusCode', 'httpStatus'],
  responseLatency: ['responseLatency', 'context.responseLatency'],
  integrationLatency: ['integrationLatency', 'integration.latency', 'context.integrationLatency', 'context.integration.latency'],
  integrationStatus: ['integration.status', 'integrationStatus', 'integration.integrationStatus', 'context.integration.status', 'context.integrationStatus'],
  apiKey: ['apiKeyId', 'identity.apiKeyId', 'context.identity.apiKeyId', 'apiKey', 'identity.apiKey'],
  errorType: ['errorType', 'error.responseType', 'responseType', 'context.error.responseType'],
  userAgent: ['userAgent', 'identity.userAgent', 'context.identity.userAgent', 'user_agent'],
  xrayTraceId: ['xrayTraceId', 'context.xrayTraceId', 'traceId'],
  domainName: ['domainName', 'context.domainName', 'host'],
  responseLength: ['responseLength', 'context.responseLength'],
} as const satisfies Record<string, readonly string[]>);

const INTEGRATION_KEYS: readonly string[] = [...KEYS.integrationLatency, ...KEYS.integrationStatus];

function text(object: JsonObject, keys: readonly string[]): string | null {
  return jsonText(firstPresent(object, keys));
}

function number(object: JsonObject, keys: readonly string[]): number | null {
  const value = firstPresent(object, keys);
  const n = jsonNumber(value);
  if (Number.isNaN(n) || (n !== null && n < 0)) throw new FieldError(keys[0]!, value);
  return n;
}

function httpStatus(object: JsonObject, keys: readonly string[]): number | null {
  const n = number(object, keys);
  if (n !== null && (!Number.isInteger(n) || n > 999)) throw new FieldError(keys[0]!, firstPresent(object, keys));
  return n;
}

function fillFromJson(record: ProxyRecord, object: JsonObject, parseClf: (text: string) => number, keyField?: string): void {
  const epoch = number(object, KEYS.epoch);
  if (epoch !== null) {
    // REST documents ms; HTTP API units are UNCONFIRMED (§10), so a seconds-sized value is scaled.
    record.startMs = epoch < 1e11 ? Math.round(epoch * 1000) : epoch;
    record.timeResolutionMs = epoch < 1e11 ? 1000 : 1;
  } else {
    const clf = text(object, KEYS.clfTime);
    const ms = clf === null ? NaN : parseClf(clf);
    if (Number.isNaN(ms)) throw new FieldError('requestTime', firstPresent(object, KEYS.clfTime), 'PARSE_BAD_TIMESTAMP');
    record.startMs = ms;
    record.timeResolutionMs = 1000;
  }
  record.status = httpStatus(object, KEYS.status);
  record.requestTimeMs = number(object, KEYS.responseLatency);
  record.endMs = record.startMs + Math.round(record.requestTimeMs ?? 0);

  record.upstreamLogged = INTEGRATION_KEYS.some((key) => firstPresent(object, [key]) !== undefined);
  record.upstreamStatus = httpStatus(object, KEYS.integrationStatus);
  record.upstreamTimeMs = number(object, KEYS.integrationLatency);
  record.upstreamAttempts = record.upstreamStatus === null && record.upstreamTimeMs === null ? 0 : 1;

  record.method = text(object, KEYS.method);
  const path = text(object, KEYS.path) ?? text(object, KEYS.resourcePath);
  if (path !== null) {
    const target = splitTarget(path);
    record.path = target.path;
    record.query = target.query;
  } else {
    // HTTP APIs: routeKey is `GET /v1/orders` (or `$default`).
    const routeKey = text(object, KEYS.routeKey);
    const space = routeKey === null ? -1 : routeKey.indexOf(' ');
    if (routeKey !== null && space > 0) {
      record.method ??= routeKey.slice(0, space);
      record.path = splitTarget(routeKey.slice(space + 1)).path;
    }
  }
  record.clientIp = text(object, KEYS.ip);
  record.userAgent = text(object, KEYS.userAgent);
  record.host = text(object, KEYS.domainName);
  record.requestId = text(object, KEYS.requestId) ?? text(object, KEYS.extendedRequestId);
  const xray = text(object, KEYS.xrayTraceId);
  record.traceId = xray === null ? null : normaliseTraceId(xray);
  // apiKeyId, not the key value itself (§4: the value is a secret).
  record.apiKey = text(object, keyField ? [keyField] : KEYS.apiKey);
  record.flags = text(object, KEYS.errorType);
  record.bytesSent = number(object, KEYS.responseLength);
}

function createJsonParser(options: ParserOptions): RecordParser {
  const parseClf = cachedClfTimeParser();
  return jsonLineParser(options.file, {
    formatId: 'aws-api-gateway-json',
    // API Gateway requires a request id in every template; with a time and status it is our signature.
    missingField: (object) => (firstPresent(object, [...KEYS.requestId, ...KEYS.extendedRequestId]) === undefined ? 'requestId'
      : firstPresent(object, [...KEYS.epoch, ...KEYS.clfTime]) === undefined ? 'requestTimeEpoch'
        : firstPresent(object, KEYS.status) === undefined ? 'status' : null),
    notThis: 'not an API Gateway access-log object',
    fill: (record, object) => fillFromJson(record, object, parseClf, options.keyField),
  });
}

/**
 * The CLF preset: `$context.identity.sourceIp $context.identity.caller $context.identity.user
 * [$context.requestTime] "$context.httpMethod $context.resourcePath $context.protocol"
 * $context.status $context.responseLength $context.requestId [$context.extendedRequestId]`.
 * HTTP APIs log `routeKey` (`GET /v1/orders`) where REST logs the path, and no extendedRequestId.
 * No latencies and no integration fields: upstreamLogged is false.
 */
function createClfParser(options: ParserOptions): RecordParser {
  const file = options.file;
  const parseClf = cachedClfTimeParser();
  // Fields as offsets into the line, sliced when read (see TokenSpans for the figures).
  const tokens = new TokenSpans();
  return textLineParser(file, (line, lineNumber, sink, fail) => {
    if (!tokens.read(line)) return fail('PARSE_NO_MATCH', 'request', 'unterminated quote or bracket');
    if (tokens.count !== 8 && tokens.count !== 9) return fail('PARSE_NO_MATCH', 'line', `expected 8 or 9 fields, found ${tokens.count}`);
    if (tokens.delimited(3) !== '[' || tokens.delimited(4) !== '"' || tokens.delimited(7) !== null || tokens.delimited(8)) {
      return fail('PARSE_NO_MATCH', 'requestId', 'expected `[requestTime] "request" status length requestId`');
    }
    const startMs = parseClf(tokens.text(3));
    if (Number.isNaN(startMs)) return fail('PARSE_BAD_TIMESTAMP', 'requestTime', `bad requestTime "${tokens.text(3)}"`);
    const status = parseStatus(tokens.text(5));
    if (Number.isNaN(status)) return fail('PARSE_BAD_FIELD', 'status', `bad status "${tokens.text(5)}"`);
    const length = optionalUnsigned(tokens.text(6));
    if (Number.isNaN(length)) return fail('PARSE_BAD_FIELD', 'responseLength', `bad responseLength "${tokens.text(6)}"`);

    const record = emptyProxyRecord('aws-api-gateway-clf', file, lineNumber, line);
    record.startMs = startMs;
    record.endMs = startMs;
    record.timeResolutionMs = 1000;
    record.status = status;
    record.bytesSent = length;
    record.clientIp = isMissing(tokens.text(0)) ? null : tokens.text(0);
    record.requestId = tokens.text(7);
    const request = tokens.text(4);
    const parsed = isMissing(request) ? null : parseRequestLine(request);
    if (parsed !== null) {
      record.method = parsed.method;
      // HTTP API: "GET GET /v1/orders HTTP/1.1" — the route key repeats the method.
      const target = parsed.path.startsWith(`${parsed.method} `) ? splitTarget(parsed.path.slice(parsed.method.length + 1)) : parsed;
      record.path = target.path;
      record.query = target.query;
    }
    sink.record(record);
  });
}

export const awsApiGatewayJson: FormatDef = {
  id: 'aws-api-gateway-json',
  // A stage whose access-log template was changed from CLF to JSON, or back, in one log group.
  siblings: ['aws-api-gateway-clf'],
  title: 'Amazon API Gateway access log (JSON template)',
  kind: 'proxy',
  traits: API_GATEWAY_TRAITS,
  url: 'https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html',
  example:
    '{"requestId":"c6af9ac6-7b61-4e2a-9f3d-8a4b2c1d0e9f","requestTimeEpoch":"1736937091901","ip":"198.51.100.7","httpMethod":"POST","resourcePath":"/v1/reports","status":"504","responseLatency":"29012","integrationLatency":"-","integrationStatus":"-","apiKeyId":"a1b2c3d4e5","errorType":"INTEGRATION_TIMEOUT","errorMessage":"Endpoint request timed out"}',
  exampleFields: { start: '2025-01-15T10:31:31.901Z', status: 504, method: 'POST', path: '/v1/reports', client: '198.51.100.7', upstreamStatus: null },
  createParser: createJsonParser,
};

export const awsApiGatewayClf: FormatDef = {
  id: 'aws-api-gateway-clf',
  siblings: ['aws-api-gateway-json'],
  title: 'Amazon API Gateway access log (CLF template)',
  kind: 'proxy',
  traits: API_GATEWAY_TRAITS,
  url: 'https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html',
  example:
    '198.51.100.7 - - [15/Jan/2025:10:31:31 +0000] "POST /v1/reports HTTP/1.1" 504 41 c6af9ac6-7b61-4e2a-9f3d-8a4b2c1d0e9f Xk3PQF2MoAMEbVw=',
  exampleFields: { start: '2025-01-15T10:31:31.000Z', status: 504, method: 'POST', path: '/v1/reports', client: '198.51.100.7', upstreamStatus: null },
  createParser: createClfParser,
};
