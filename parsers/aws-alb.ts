import { emptyProxyRecord } from '../src/model/records.js';
import { parseRequestLine, hostOfUrl } from './fields/request-line.js';
import { sharedInterner } from './fields/string-interner.js';
import { normaliseTraceId } from './fields/trace-context.js';
import type { FormatDef, ParserOptions, RecordParser } from './format.js';
import {
  hostOfHostPort, isMissing, optionalSecondsToMs, optionalUnsigned, orNull, parseIsoTimestamp, parseStatus,
  textLineParser, TokenSpans, unescapeQuoted,
} from './proxy-line-kit.js';

/**
 * AWS Application Load Balancer access log (docs/formats.md, Application Load Balancer), read by position:
 * a positional tokenizer, no big regex. AWS appends columns over time, so anything after
 * the fields we know is ignored; older logs end after `request_creation_time`.
 * - `time` is when the response was generated (END); `request_creation_time` is START.
 * - `-1` processing times: not dispatched / target closed / idle timeout.
 * - `target_status_code` `-`: no connection or no answer from the target → upstreamStatus null.
 * - 460: the client closed the connection before the idle timeout.
 */

const TYPES = new Set(['http', 'https', 'h2', 'grpcs', 'ws', 'wss']);

const F = {
  type: 0, time: 1, client: 3, target: 4,
  requestProcessing: 5, targetProcessing: 6, responseProcessing: 7,
  elbStatus: 8, targetStatus: 9, sentBytes: 11, request: 12, userAgent: 13,
  traceId: 17, domainName: 18, requestCreationTime: 21, actions: 22, errorReason: 24,
} as const;
const MIN_FIELDS = F.requestCreationTime + 1;
/** The three fields from F.requestProcessing on, in log order. */
const PROCESSING_TIMES = ['request_processing_time', 'target_processing_time', 'response_processing_time'] as const;
/** Fields logged inside quotes (§3.1 table); checked so another space-separated format cannot pass. */
const QUOTED: readonly number[] = [F.request, F.userAgent, F.traceId, F.domainName];

export const ALB_CLIENT_CLOSED = 460;

function quoted(tokens: TokenSpans, index: number): string | null {
  return index < tokens.count ? orNull(unescapeQuoted(tokens.text(index))) : null;
}

function createAlbParser(options: ParserOptions): RecordParser {
  const file = options.file;
  // Client addresses, targets, user agents and hosts repeat: one string object each (see StringInterner).
  const strings = sharedInterner();
  const tokens = new TokenSpans();
  return textLineParser(file, (text, lineNumber, sink, fail) => {
    if (!tokens.read(text)) return fail('PARSE_NO_MATCH', 'request', 'unterminated quoted field');
    if (tokens.count < MIN_FIELDS) return fail('PARSE_NO_MATCH', 'line', `expected at least ${MIN_FIELDS} fields, found ${tokens.count}`);
    if (!TYPES.has(tokens.text(F.type))) return fail('PARSE_NO_MATCH', 'type', `unknown request type "${tokens.text(F.type)}"`);
    for (const index of QUOTED) {
      if (tokens.delimited(index) !== '"') return fail('PARSE_NO_MATCH', 'line', `field ${index + 1} should be quoted`);
    }
    const at = (index: number): string => tokens.text(index);

    const endMs = parseIsoTimestamp(at(F.time));
    if (Number.isNaN(endMs)) return fail('PARSE_BAD_TIMESTAMP', 'time', `bad time "${at(F.time)}"`);
    const startMs = parseIsoTimestamp(at(F.requestCreationTime));
    if (Number.isNaN(startMs)) {
      return fail('PARSE_BAD_TIMESTAMP', 'request_creation_time', `bad request_creation_time "${at(F.requestCreationTime)}"`);
    }
    // The three processing times are checked; only the target's is kept (upstream time).
    let targetProcessingMs: number | null = null;
    for (let k = 0; k < PROCESSING_TIMES.length; k++) {
      const ms = optionalSecondsToMs(at(F.requestProcessing + k));
      if (Number.isNaN(ms)) return fail('PARSE_BAD_FIELD', PROCESSING_TIMES[k]!, `bad ${PROCESSING_TIMES[k]!} "${at(F.requestProcessing + k)}"`);
      if (F.requestProcessing + k === F.targetProcessing) targetProcessingMs = ms;
    }
    const status = parseStatus(at(F.elbStatus));
    if (Number.isNaN(status) && !isMissing(at(F.elbStatus))) return fail('PARSE_BAD_FIELD', 'elb_status_code', `bad elb_status_code "${at(F.elbStatus)}"`);
    const targetStatus = isMissing(at(F.targetStatus)) ? null : parseStatus(at(F.targetStatus));
    if (Number.isNaN(targetStatus)) return fail('PARSE_BAD_FIELD', 'target_status_code', `bad target_status_code "${at(F.targetStatus)}"`);
    const sent = optionalUnsigned(at(F.sentBytes));
    if (Number.isNaN(sent)) return fail('PARSE_BAD_FIELD', 'sent_bytes', `bad sent_bytes "${at(F.sentBytes)}"`);

    const record = emptyProxyRecord('aws-alb', file, lineNumber, text);
    record.startMs = startMs;
    record.endMs = endMs;
    record.timeResolutionMs = 1;
    // Client-facing time = time − request_creation_time: it also covers `-1` rows (§3.1).
    record.requestTimeMs = endMs >= startMs ? endMs - startMs : null;
    record.status = Number.isNaN(status) ? null : status;
    record.upstreamLogged = true;
    record.upstreamStatus = targetStatus;
    record.upstreamTimeMs = targetProcessingMs;
    const target = at(F.target);
    record.upstreamAddr = isMissing(target) ? null : strings.intern(target);
    // A Lambda target is logged as `-` (AWS's access-log docs) with its answer's status: tried once.
    record.upstreamAttempts = record.upstreamAddr === null && targetStatus === null ? 0 : 1;
    const clientIp = hostOfHostPort(at(F.client));
    record.clientIp = clientIp === null ? null : strings.intern(clientIp);
    record.bytesSent = sent;
    record.clientClosed = status === ALB_CLIENT_CLOSED;

    const request = quoted(tokens, F.request);
    if (request !== null) {
      const parsed = parseRequestLine(request);
      // A request ALB could not parse is logged as `- http://host:80- -`: keep what is usable.
      const space = request.indexOf(' ');
      const end = request.lastIndexOf(' ');
      const url = request.slice(space + 1, end > space ? end : request.length);
      if (parsed !== null && parsed.method !== '-') {
        record.method = parsed.method;
        record.path = parsed.path;
        record.query = parsed.query;
        record.host = hostOfUrl(url);
      } else if (space > 0) {
        // Its URL then ends in the `-` of the path ALB could not read (`http://host:80-`).
        record.host = hostOfUrl(url.endsWith('-') ? url.slice(0, -1) : url);
      }
    }
    record.host ??= quoted(tokens, F.domainName);
    if (record.host !== null) record.host = strings.intern(record.host);
    const userAgent = quoted(tokens, F.userAgent);
    record.userAgent = userAgent === null ? null : strings.intern(userAgent);
    const traceHeader = quoted(tokens, F.traceId);
    record.traceId = traceHeader === null ? null : normaliseTraceId(traceHeader);
    // Why ALB answered itself (e.g. TargetConnectionErrorCode, WAF*), else the non-forward actions.
    const errorReason = quoted(tokens, F.errorReason);
    const actions = quoted(tokens, F.actions);
    record.flags = errorReason ?? (actions !== null && actions !== 'forward' ? actions : null);
    sink.record(record);
  });
}

export const awsAlb: FormatDef = {
  id: 'aws-alb',
  title: 'AWS Application Load Balancer access log',
  kind: 'proxy',
  traits: { splittable: true, unit: 'line', clientGaveUp: '`460`', backendNeverAnswered: 'target status `-` (times `-1`: missing)', flags: null, upstreamTimeout: { setting: 'the ALB idle timeout (`idle_timeout.timeout_seconds`)', defaultSeconds: 60 } },
  url: 'https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html',
  example:
    'https 2025-01-15T10:32:31.904112Z app/prod-api/5d1e3f0a9b8c7d6e 198.51.100.7:53122 10.0.3.17:8080 -1 -1 -1 504 - 612 202 "POST https://api.example.com:443/v1/reports HTTP/1.1" "python-requests/2.31.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api-tg/0a1b2c3d4e5f6a7b "Root=1-67878e83-2a74f8ab018a417c94c55391" "api.example.com" "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555" 3 2025-01-15T10:31:31.901000Z "forward" "-" "-" "10.0.3.17:8080" "-" "-" "-" TID_7bbf528f3944f25005b1a4c8d33e8184',
  exampleFields: { start: '2025-01-15T10:31:31.901Z', status: 504, method: 'POST', path: '/v1/reports', client: '198.51.100.7', upstreamStatus: null },
  realSamples: [
    {
      source: { project: 'vectordotdev/vector', path: 'website/cue/reference/remap/functions/parse_aws_alb_log.cue', commit: '069447651c6626764fec44480b27a250924c38e0', licence: 'MPL-2.0' },
      lines: [
        'http 2018-11-30T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 - 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337364-23a8c76965a2ef7629b185e3" "-" "-" 0 2018-11-30T22:22:48.364000Z "forward" "-" "-" "-" "-" "-" "-"',
      ],
      fields: { start: '2018-11-30T22:22:48.364Z', status: 200, method: 'GET', path: '/', client: '192.168.131.39', upstreamStatus: 200 },
    },
    {
      source: { project: 'crowdsecurity/hub', path: '.tests/aws-alb-logs/aws-alb-logs.log', commit: '39d7c4c7b754a06029c53a6bf379a8eea59a316f', licence: 'MIT' },
      lines: [
        'https 2023-04-26T19:53:46.679895Z app/546213e5-apiexamplecom-api-94aa/490d68edf04676fe 192.168.1.13:44740 - -1 -1 -1 404 - 204 167 "GET https://api.example.com:443/%%32%65%%32%65/ HTTP/1.1" "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/74.0.3729.169 Safari/537.36" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 - "Root=1-6449814a-01d4cd3e280010e00ac46641" "api.example.com" "arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012" 0 2023-04-26T19:53:46.678000Z "waf,fixed-response" "-" "-" "-" "-" "-" "-"',
      ],
      fields: { start: '2023-04-26T19:53:46.678Z', status: 404, method: 'GET', path: '/%%32%65%%32%65/', client: '192.168.1.13', upstreamStatus: null },
    },
  ],
  createParser: createAlbParser,
};
