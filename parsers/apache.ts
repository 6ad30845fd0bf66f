import { emptyProxyRecord } from '../src/model/records.js';
import { cachedClfTimeParser } from './fields/clf-time.js';
import { parseUnsignedInt } from './fields/numbers.js';
import { parseRequestLine } from './fields/request-line.js';
import type { ExampleFields, FormatDef, RealSample, ParserOptions, RecordParser } from './format.js';
import { isMissing, optionalUnsigned, parseStatus, textLineParser, TokenSpans } from './proxy-line-kit.js';
import { unescapeHttpd } from './fields/httpd-escape.js';

/**
 * Apache httpd mod_log_config: common, combined, and combined with a duration appended
 * (`%D` µs or `%T` whole seconds). Facts: docs/formats.md, Apache httpd and Common rules.
 * - `%t` is when the request was RECEIVED, so startMs = %t and endMs = start + duration.
 * - Apache escapes `"` as `\"` and `\` as `\\` in `%r` and `%i` (unlike nginx's `\x22`).
 * - Stock formats log no backend status or time: upstreamLogged is false.
 * - `%u` (authenticated user) is the only identity in these formats, so it becomes apiKey.
 */

type Duration = 'none' | 'micros' | 'seconds';

interface ApacheVariant {
  id: string;
  referer: boolean;
  duration: Duration;
  /** `%v` (or `%v:%p`, the virtual host and port) before the usual fields: httpd's vhost_common and vhost_combined. */
  vhost?: boolean;
}

/** Token positions shared by every variant: `%h %l %u [%t] "%r" %>s %b`. */
const HOST = 0;
const USER = 2;
const TIME = 3;
const REQUEST = 4;
const STATUS = 5;
const BYTES = 6;
const USER_AGENT = 8;
const DURATION = 9;

/**
 * Lines httpd itself adds to a captured stream, counted as ignored (docs/formats.md, Apache httpd):
 * `docker logs` of the official image merges the error log (stderr) into the access log (stdout).
 * An error-log line in the default ErrorLogFormat starts `[Mon Jan 15 10:32:00.123456 2024]
 * [module:level] [pid N…`; a message from before the log was opened starts with its id, `AH00558: `.
 */
export function isApacheOtherLine(text: string): boolean {
  return ERROR_LOG_LINE.test(text) || STARTUP_MESSAGE.test(text);
}

const ERROR_LOG_LINE = /^\[[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}(?:\.\d{1,6})? \d{4}\] \[[a-z0-9_]*:[a-z0-9]+\] \[pid \d+/;
const STARTUP_MESSAGE = /^AH\d{5}: /;

/**
 * `%D` and `%T` both append a bare integer, so the syntax cannot tell them apart. A file
 * whose durations are mostly below 100 µs is almost certainly `%T` (seconds, mostly 0 or 1),
 * and one whose durations are mostly 1000 s or more is almost certainly `%D`. The parser says
 * so once, at the end, as an issue: no record is dropped, and format detection (which scores
 * issues) prefers the right variant.
 */
const IMPLAUSIBLE_MICROS = 100;
const IMPLAUSIBLE_SECONDS = 1000;

/**
 * Durations in µs hardly repeat; a number that takes a few values again and again is no %D but a
 * port or a code. A honeypot's nginx log, `… "$http_user_agent" $server_port`, read as
 * apache-combined-d: 445, 22, 80, 3389 as durations of 0.4, 0.02, 0.08, 3.4 ms, with no word said.
 * Values are tallied up to REPEATED_VALUES_TRACKED distinct ones (past that, they vary as durations do).
 */
const REPEATED_VALUES_TRACKED = 64;
const REPEATED_MIN_DURATIONS = 50;
/** The three commonest values hold at least this share of the durations. */
const REPEATED_TOP_SHARE = 0.5;
const REPEATED_SECONDS_MIN = 10;

function createApacheParser(variant: ApacheVariant, options: ParserOptions): RecordParser {
  const parseTime = cachedClfTimeParser();
  const file = options.file;
  // The vhost formats put `%v` first: every other field one place on.
  const shift = variant.vhost === true ? 1 : 0;
  const expectedTokens = (variant.duration !== 'none' ? 10 : variant.referer ? 9 : 7) + shift;
  const [host, user, time, request, status, bytes, referer, userAgent, duration] =
    [HOST, USER, TIME, REQUEST, STATUS, BYTES, 7, USER_AGENT, DURATION].map((position) => position + shift) as [number, number, number, number, number, number, number, number, number];
  let implausible = 0;
  let plausible = 0;
  let firstDurationLine = 0;
  let durations = 0;
  let durationValues: Map<number, number> | null = variant.duration === 'none' ? null : new Map();
  // Fields as offsets into the line, sliced when read (see TokenSpans for the figures).
  const tokens = new TokenSpans();

  return textLineParser(
    file,
    (text, lineNumber, sink, fail) => {
      if (!tokens.read(text)) return fail('PARSE_NO_MATCH', '%r', 'unterminated quote or bracket');
      if (tokens.count !== expectedTokens) {
        return fail('PARSE_NO_MATCH', 'line', `expected ${expectedTokens} fields for ${variant.id}, found ${tokens.count}`);
      }
      if (tokens.delimited(time) !== '[' || tokens.delimited(request) !== '"') {
        return fail('PARSE_NO_MATCH', '%t', 'expected `[time] "request"` after the third field');
      }
      if (variant.referer && (tokens.delimited(referer) !== '"' || tokens.delimited(userAgent) !== '"')) {
        return fail('PARSE_NO_MATCH', '%{User-agent}i', 'expected quoted referer and user agent');
      }
      const record = emptyProxyRecord(variant.id, file, lineNumber, text);
      const timeText = tokens.text(time);
      const startMs = parseTime(timeText);
      if (Number.isNaN(startMs)) return fail('PARSE_BAD_TIMESTAMP', '%t', `bad time "${timeText}"`);
      const statusText = tokens.text(status);
      // httpd writes `-` for a status of 0 (mod_log_config's pfmt): a request with no status set, not damage.
      const statusCode = statusText === '-' ? null : parseStatus(statusText);
      if (Number.isNaN(statusCode)) return fail('PARSE_BAD_FIELD', '%>s', `bad status "${statusText}"`);
      const bytesText = tokens.text(bytes);
      const byteCount = optionalUnsigned(bytesText);
      if (Number.isNaN(byteCount)) return fail('PARSE_BAD_FIELD', '%b', `bad byte count "${bytesText}"`);

      if (variant.duration !== 'none') {
        if (tokens.delimited(duration) !== null) return fail('PARSE_NO_MATCH', variant.duration === 'micros' ? '%D' : '%T', 'expected a bare number after the user agent');
        const durationText = tokens.text(duration);
        const field = variant.duration === 'micros' ? '%D' : '%T';
        if (isMissing(durationText)) {
          record.requestTimeMs = null;
        } else {
          const value = parseUnsignedInt(durationText);
          if (Number.isNaN(value)) return fail('PARSE_BAD_FIELD', field, `bad duration "${durationText}"`);
          // Units converted once, here: %D is µs, %T whole seconds (formats.md §0).
          record.requestTimeMs = variant.duration === 'micros' ? value / 1000 : value * 1000;
          const suspicious = variant.duration === 'micros' ? value < IMPLAUSIBLE_MICROS : value >= IMPLAUSIBLE_SECONDS;
          if (suspicious) implausible++;
          else plausible++;
          durations++;
          if (durationValues !== null) {
            durationValues.set(value, (durationValues.get(value) ?? 0) + 1);
            if (durationValues.size > REPEATED_VALUES_TRACKED) durationValues = null;
          }
          if (firstDurationLine === 0) firstDurationLine = lineNumber;
        }
      }

      record.startMs = startMs;
      // Instants stay whole ms; the duration keeps its µs.
      record.endMs = startMs + Math.round(record.requestTimeMs ?? 0);
      record.timeResolutionMs = 1000;
      record.status = statusCode;
      record.bytesSent = byteCount;
      const client = tokens.text(host);
      record.clientIp = isMissing(client) ? null : client;
      const userText = tokens.text(user);
      record.apiKey = isMissing(userText) ? null : userText;
      if (shift === 1) {
        // `%v:%p`: the virtual host, without the port.
        const vhost = tokens.text(0);
        const colon = vhost.lastIndexOf(':');
        record.host = isMissing(vhost) ? null : colon > 0 && !vhost.includes(']', colon) ? vhost.slice(0, colon) : vhost;
      }
      const requestText = unescapeHttpd(tokens.text(request));
      if (!isMissing(requestText)) {
        // Scanners send junk request lines; they are still requests, just pathless.
        const parsed = parseRequestLine(requestText);
        if (parsed !== null) {
          record.method = parsed.method;
          record.path = parsed.path;
          record.query = parsed.query;
        }
      }
      if (variant.referer) {
        const userAgentText = unescapeHttpd(tokens.text(userAgent));
        record.userAgent = isMissing(userAgentText) ? null : userAgentText;
      }
      sink.record(record);
    },
    (sink) => {
      if (implausible > plausible) {
        const unit = variant.duration === 'micros' ? '%D (µs)' : '%T (s)';
        const other = variant.duration === 'micros' ? 'apache-combined-t' : 'apache-combined-d';
        sink.warn({
          code: 'PARSE_SUSPECT_UNITS', file, line: firstDurationLine, field: variant.duration === 'micros' ? '%D' : '%T',
          message: `most durations are implausible as ${unit}; is this ${other}?`, sample: '',
        });
      } else if (durationValues !== null && durations >= REPEATED_MIN_DURATIONS) {
        const top = [...durationValues].sort((a, b) => b[1] - a[1]).slice(0, 3);
        const topCount = top.reduce((sum, [, n]) => sum + n, 0);
        // Whole seconds do repeat, but as 0 and 1 s mostly; a few values of 10 s and more, far apart
        // (445, 22, 3389), are no %T either. Close ones (29, 30, 31 s) are a long poll's hold.
        const values = top.map(([value]) => value);
        const repeatedAsNoDuration = variant.duration === 'micros' ||
          (Math.min(...values) >= REPEATED_SECONDS_MIN && Math.max(...values) >= 2 * Math.min(...values));
        if (topCount >= REPEATED_TOP_SHARE * durations && repeatedAsNoDuration) {
          const field = variant.duration === 'micros' ? '%D' : '%T';
          sink.warn({
            code: 'PARSE_SUSPECT_UNITS', file, line: firstDurationLine, field,
            message: `the last field, read as ${field} (${variant.duration === 'micros' ? 'µs' : 's'}), repeats a few values (${top.map(([value, n]) => `${value} × ${n}`).join(', ')} of ${durations}): ` +
              'durations do not, so it is likely a port or a code, and the durations wrong; give the real format with --log-format',
            sample: '',
          });
        }
      }
    },
    isApacheOtherLine,
  );
}

function apacheFormat(variant: ApacheVariant, title: string, example: string, exampleFields: ExampleFields, realSamples?: readonly RealSample[]): FormatDef {
  return {
    id: variant.id,
    title,
    kind: 'proxy',
    url: 'https://httpd.apache.org/docs/current/mod/mod_log_config.html',
    example,
    exampleFields,
    ...(realSamples === undefined ? {} : { realSamples }),
    traits: {
      // %D/%T files are judged as a whole (one units warning from every duration): not split.
      splittable: false, unit: 'line', clientGaveUp: 'not logged', backendNeverAnswered: 'not logged', flags: null,
      // httpd 2.4 answers its own ProxyTimeout with 502 (AH01102, "The timeout specified has expired"),
      // as a real httpd 2.4 in front of a slower backend showed (docs/formats.md, Apache httpd).
      upstreamTimeout: { setting: 'Apache `ProxyTimeout` (it defaults to `Timeout`)', defaultSeconds: 60, status: 502 },
    },
    // --jobs 2 ran 300 k lines of each Apache variant 0.89-0.95× as fast, 1.2 M lines 0.94-1.03×.
    cheapToParse: true,
    createParser: (options) => createApacheParser(variant, options),
  };
}

export const apacheCommon = apacheFormat(
  { id: 'apache-common', referer: false, duration: 'none' },
  'Apache common log format (%h %l %u %t "%r" %>s %b)',
  '198.51.100.7 - alice [15/Jan/2025:10:32:01 +0000] "GET /v1/orders?limit=20 HTTP/1.1" 200 1834',
  { start: '2025-01-15T10:32:01.000Z', status: 200, method: 'GET', path: '/v1/orders', client: '198.51.100.7', upstreamStatus: null },
  [
  {
    source: { project: 'apache/httpd', path: 'docs/manual/logs.xml', commit: '00bc210116e7ac9f2877b3c8156ebdbb9549af86', licence: 'Apache-2.0' },
    lines: [
      '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326',
    ],
    fields: { start: '2000-10-10T20:55:36.000Z', status: 200, method: 'GET', path: '/apache_pb.gif', client: '127.0.0.1', upstreamStatus: null },
  },
  ],
);

/**
 * Byte-for-byte the same layout as nginx combined; only Apache's `\"` escaping tells them apart,
 * so the example carries one (a scanner's request) and detection lists nginx first.
 */
export const apacheCombined = apacheFormat(
  { id: 'apache-combined', referer: true, duration: 'none' },
  'Apache combined log format',
  '192.0.2.44 - - [15/Jan/2025:10:32:05 +0000] "GET /login.php?user=admin\\" OR \\"1\\"=\\"1 HTTP/1.1" 400 226 "-" "sqlmap/1.7.2#stable (https://sqlmap.org)"',
  { start: '2025-01-15T10:32:05.000Z', status: 400, method: 'GET', path: '/login.php', client: '192.0.2.44', upstreamStatus: null },
  [
  {
    source: { project: 'apache/httpd', path: 'docs/manual/logs.xml', commit: '00bc210116e7ac9f2877b3c8156ebdbb9549af86', licence: 'Apache-2.0' },
    lines: [
      '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"',
    ],
    fields: { start: '2000-10-10T20:55:36.000Z', status: 200, method: 'GET', path: '/apache_pb.gif', client: '127.0.0.1', upstreamStatus: null },
    detectedAs: 'nginx-combined',
  },
  {
    source: { project: 'elastic/beats', path: 'filebeat/module/apache/access/test/test.log', commit: '1e901c44129a6e821650fce6685e5b1bd6205d9a', licence: 'Apache-2.0' },
    lines: [
      '192.168.33.1 - - [26/Dec/2016:16:22:13 +0000] "GET /hello HTTP/1.1" 404 499 "-" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.12; rv:50.0) Gecko/20100101 Firefox/50.0"',
    ],
    fields: { start: '2016-12-26T16:22:13.000Z', status: 404, method: 'GET', path: '/hello', client: '192.168.33.1', upstreamStatus: null },
    detectedAs: 'nginx-combined',
  },
  ],
);

export const apacheCombinedMicros = apacheFormat(
  { id: 'apache-combined-d', referer: true, duration: 'micros' },
  'Apache combined with %D (request time in µs) appended',
  '198.51.100.7 - alice [15/Jan/2025:10:32:01 +0000] "GET /v1/orders?limit=20 HTTP/1.1" 200 1834 "-" "okhttp/4.12.0" 84213',
  { start: '2025-01-15T10:32:01.000Z', status: 200, method: 'GET', path: '/v1/orders', client: '198.51.100.7', upstreamStatus: null },
);

export const apacheCombinedSeconds = apacheFormat(
  { id: 'apache-combined-t', referer: true, duration: 'seconds' },
  'Apache combined with %T (request time in whole seconds) appended',
  '198.51.100.7 - alice [15/Jan/2025:10:32:01 +0000] "POST /v1/reports HTTP/1.1" 200 202 "-" "python-requests/2.31.0" 0',
  { start: '2025-01-15T10:32:01.000Z', status: 200, method: 'POST', path: '/v1/reports', client: '198.51.100.7', upstreamStatus: null },
);


/** httpd's vhost_common: `%v %h %l %u %t "%r" %>s %b`, the virtual host first. */
export const apacheVhostCommon = apacheFormat(
  { id: 'apache-vhost-common', referer: false, duration: 'none', vhost: true },
  'Apache vhost_common (%v %h %l %u %t "%r" %>s %b)',
  'api.example.com 198.51.100.7 - alice [15/Jan/2025:10:32:01 +0000] "GET /v1/orders?limit=20 HTTP/1.1" 200 1834',
  { start: '2025-01-15T10:32:01.000Z', status: 200, method: 'GET', path: '/v1/orders', client: '198.51.100.7', upstreamStatus: null },
);

/**
 * httpd's vhost_combined as Debian and Ubuntu define it (`%v:%p %h %l %u %t "%r" %>s %O
 * "%{Referer}i" "%{User-Agent}i"`, their apache2.conf), the format of their
 * other_vhosts_access.log: read as nginx combined, its first field, the virtual host, was the client.
 */
export const apacheVhostCombined = apacheFormat(
  { id: 'apache-vhost-combined', referer: true, duration: 'none', vhost: true },
  'Apache vhost_combined (%v:%p, then combined)',
  'api.example.com:443 198.51.100.7 - - [15/Jan/2025:10:32:01 +0000] "GET /v1/orders?limit=20 HTTP/1.1" 200 1834 "-" "okhttp/4.12.0"',
  { start: '2025-01-15T10:32:01.000Z', status: 200, method: 'GET', path: '/v1/orders', client: '198.51.100.7', upstreamStatus: null },
);
