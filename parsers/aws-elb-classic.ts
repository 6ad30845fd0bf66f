import { emptyProxyRecord } from '../src/model/records.js';
import { hostOfUrl, parseRequestLine } from './fields/request-line.js';
import type { FormatDef, ParserOptions, RecordParser } from './format.js';
import {
  hostOfHostPort, isMissing, optionalSecondsToMs, optionalUnsigned, orNull, parseIsoTimestamp, parseStatus,
  textLineParser, TokenSpans, unescapeQuoted,
} from './proxy-line-kit.js';

/**
 * AWS Classic Load Balancer access log (docs/formats.md, Classic Load Balancer):
 * `timestamp elb client:port backend:port request_processing_time backend_processing_time
 * response_processing_time elb_status_code backend_status_code received_bytes sent_bytes "request"
 * "user_agent" ssl_cipher ssl_protocol`.
 * - `timestamp` is when the request was RECEIVED (start), unlike ALB's `time`.
 * - Times in seconds, `-1` when not dispatched; `backend:port` and backend status `-` then.
 * - TCP listeners log `"- - - "` and `-` statuses: kept as records without method or status.
 * - Classic ELB has no client-closed status (no 460), so clientClosed stays false.
 */

const F = {
  timestamp: 0, client: 2, backend: 3, requestProcessing: 4, backendProcessing: 5, responseProcessing: 6,
  elbStatus: 7, backendStatus: 8, sentBytes: 10, request: 11, userAgent: 12,
} as const;
/** Logs from before 2015 end after "request"; later ones add "user_agent" ssl_cipher ssl_protocol. */
const MIN_FIELDS = F.request + 1;
const TIME_NAMES = ['request_processing_time', 'backend_processing_time', 'response_processing_time'] as const;

function anyDelimitedBefore(tokens: TokenSpans, end: number): boolean {
  for (let i = 0; i < end; i++) if (tokens.delimited(i) !== null) return true;
  return false;
}

function createElbParser(options: ParserOptions): RecordParser {
  const file = options.file;
  // Fields as offsets into the line, sliced when read (see TokenSpans for the figures).
  const tokens = new TokenSpans();
  return textLineParser(file, (text, lineNumber, sink, fail) => {
    if (!tokens.read(text)) return fail('PARSE_NO_MATCH', 'request', 'unterminated quoted field');
    if (tokens.count < MIN_FIELDS || tokens.count > 15) {
      return fail('PARSE_NO_MATCH', 'line', `expected 12 to 15 fields, found ${tokens.count}`);
    }
    if (tokens.delimited(F.request) !== '"' || anyDelimitedBefore(tokens, F.request)) {
      return fail('PARSE_NO_MATCH', 'request', 'expected eleven bare fields, then "request"');
    }
    const at = (index: number): string => tokens.text(index);
    const startMs = parseIsoTimestamp(at(F.timestamp));
    if (Number.isNaN(startMs)) return fail('PARSE_BAD_TIMESTAMP', 'timestamp', `bad timestamp "${at(F.timestamp)}"`);
    const times = [F.requestProcessing, F.backendProcessing, F.responseProcessing].map((index) => optionalSecondsToMs(at(index)));
    const badTime = times.findIndex((value) => Number.isNaN(value));
    if (badTime >= 0) return fail('PARSE_BAD_FIELD', TIME_NAMES[badTime]!, `bad ${TIME_NAMES[badTime]!} "${at(F.requestProcessing + badTime)}"`);
    const status = isMissing(at(F.elbStatus)) ? null : parseStatus(at(F.elbStatus));
    if (Number.isNaN(status)) return fail('PARSE_BAD_FIELD', 'elb_status_code', `bad elb_status_code "${at(F.elbStatus)}"`);
    const backendStatus = isMissing(at(F.backendStatus)) ? null : parseStatus(at(F.backendStatus));
    if (Number.isNaN(backendStatus)) return fail('PARSE_BAD_FIELD', 'backend_status_code', `bad backend_status_code "${at(F.backendStatus)}"`);
    const sent = optionalUnsigned(at(F.sentBytes));
    if (Number.isNaN(sent)) return fail('PARSE_BAD_FIELD', 'sent_bytes', `bad sent_bytes "${at(F.sentBytes)}"`);

    const record = emptyProxyRecord('aws-elb-classic', file, lineNumber, text);
    record.startMs = startMs;
    record.timeResolutionMs = 1;
    // Total is the sum of the three phases, known only when none is -1 (formats.md §0).
    const [requestMs, backendMs, responseMs] = times;
    record.requestTimeMs = requestMs != null && backendMs != null && responseMs != null
      ? Math.round((requestMs + backendMs + responseMs) * 1000) / 1000
      : null;
    record.endMs = startMs + Math.round(record.requestTimeMs ?? 0);
    record.status = status;
    record.upstreamLogged = true;
    record.upstreamStatus = backendStatus;
    record.upstreamTimeMs = backendMs ?? null;
    record.upstreamAddr = orNull(at(F.backend));
    record.upstreamAttempts = record.upstreamAddr === null ? 0 : 1;
    record.clientIp = hostOfHostPort(at(F.client));
    record.bytesSent = sent;

    const request = orNull(unescapeQuoted(at(F.request)));
    const parsed = request === null ? null : parseRequestLine(request);
    if (parsed !== null && parsed.method !== '-') {
      record.method = parsed.method;
      record.path = parsed.path;
      record.query = parsed.query;
      // HTTP listeners log the URL as absolute (`GET https://api.example.com:443/v1/x HTTP/1.1`): its host is the one asked for.
      const space = request!.indexOf(' ');
      record.host = hostOfUrl(request!.slice(space + 1, request!.lastIndexOf(' ') > space ? request!.lastIndexOf(' ') : request!.length));
    }
    record.userAgent = F.userAgent < tokens.count ? orNull(unescapeQuoted(at(F.userAgent))) : null;
    sink.record(record);
  });
}

export const awsElbClassic: FormatDef = {
  id: 'aws-elb-classic',
  title: 'AWS Classic Load Balancer access log',
  kind: 'proxy',
  traits: { splittable: true, unit: 'line', clientGaveUp: 'not logged', backendNeverAnswered: 'backend status `-`', flags: null, upstreamTimeout: { setting: 'the ELB idle timeout (`ConnectionSettings.IdleTimeout`)', defaultSeconds: 60 } },
  url: 'https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/access-log-collection.html',
  example:
    '2025-01-15T10:32:01.373044Z prod-api-elb 203.0.113.24:53122 10.0.3.17:8080 0.000041 0.081207 0.000023 200 200 0 1834 "GET https://api.example.com:443/v1/orders?limit=20 HTTP/1.1" "okhttp/4.12.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2',
  exampleFields: { start: '2025-01-15T10:32:01.373Z', status: 200, method: 'GET', path: '/v1/orders', client: '203.0.113.24', upstreamStatus: 200 },
  realSamples: [
    {
      source: { project: 'vectordotdev/vector', path: 'website/cue/reference/remap/functions/parse_aws_clb_log.cue', commit: '5c88a9151f736b88289442694aacfcb724f80bcc', licence: 'MPL-2.0' },
      lines: [
        '2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.000073 0.001048 0.000057 200 200 0 29 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.38.0" - -',
      ],
      fields: { start: '2015-05-13T23:39:43.945Z', status: 200, method: 'GET', path: '/', client: '192.168.131.39', upstreamStatus: 200 },
    },
  ],
  createParser: createElbParser,
};
