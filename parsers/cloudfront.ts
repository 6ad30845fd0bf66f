import { emptyProxyRecord } from '../src/model/records.js';
import type { FormatDef, ParserOptions, RecordParser, RecordSink } from './format.js';
import {
  backToBackEntries, firstForwardedFor, isJsonObject, isMissing, optionalSecondsToMs, optionalUnsigned, parseIsoTimestamp, parseJsonLine, parseStatus, reportIssue, type JsonObject,
} from './proxy-line-kit.js';

/**
 * Amazon CloudFront standard (legacy) access logs: W3C extended, TAB-separated, with
 * `#Version:` and `#Fields:` header lines (docs/formats.md, CloudFront). Columns are read from
 * `#Fields`; without it (a file cut from the middle, or its header stripped), from the documented
 * order, which AWS only ever extends at the end: a line of N fields holds its first N (19 in the
 * oldest logs, then 24, 26, 31 and 33), so 26- and 31-field lines from older distributions read too.
 * - `date`+`time` is when the edge finished responding (END), UTC, whole seconds.
 * - `time-taken` (s, ms precision) is client-facing, measured at the edge.
 * - CloudFront logs nothing about the origin's status or time: upstreamLogged is false.
 * - `sc-status 000`: the viewer closed before the response; `x-edge-result-type Error` while the
 *   response result was not an error: the viewer disconnected mid-download. Both are clientClosed.
 * - Fields are URL-encoded (RFC 1738, `%20` for space); the user agent is decoded here.
 * - Standard logging v2 can write JSON instead: an object per line under the same field names,
 *   with `timestamp(ms)` (epoch ms) beside date and time; its values are not URL-encoded.
 */

const DEFAULT_FIELDS = (
  'date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) ' +
  'cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken ' +
  'x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version fle-status ' +
  'fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len ' +
  'sc-range-start sc-range-end'
).split(' ');

const FIELDS_PREFIX = '#Fields:';
/** The oldest documented layout ends at time-taken. */
const MIN_DEFAULT_FIELDS = DEFAULT_FIELDS.indexOf('time-taken') + 1;

/** decodeURIComponent throws on stray `%` or non-UTF-8 bytes; a log value must never abort parsing. */
function urlDecode(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * The viewer when it came through a proxy: CloudFront then logs the proxy as `c-ip` and the
 * viewer first in `x-forwarded-for` (Amazon CloudFront Developer Guide, standard log file
 * fields). Elements are comma-separated, the space after the comma written `\x20` or `%20` (grafana/loki's
 * lambda-promtail test data); anything but an address is not taken.
 */
function viewerBehindProxy(forwardedFor: string | null): string | null {
  const first = forwardedFor === null ? null : firstForwardedFor(forwardedFor);
  return first !== null && ADDRESS.test(first) ? first : null;
}

const ADDRESS = /^[0-9A-Fa-f.:]{2,45}$/;

interface Columns {
  count: number;
  index: (name: string) => number;
}

function columnsOf(names: readonly string[]): Columns {
  const positions = new Map(names.map((name, position) => [name, position]));
  return { count: names.length, index: (name) => positions.get(name) ?? -1 };
}

type Fail = (code: 'PARSE_NO_MATCH' | 'PARSE_BAD_FIELD' | 'PARSE_BAD_TIMESTAMP', field: string, message: string) => void;

/** A v2 JSON object is CloudFront's by its `x-edge-*` fields. */
const isCloudFrontObject = (entry: JsonObject): boolean => Object.keys(entry).some((key) => key.startsWith('x-edge-'));

function createCloudFrontParser(options: ParserOptions): RecordParser {
  const file = options.file;
  let header: Columns | null = null;
  const byCount = new Map<number, Columns>();
  /** The documented columns for a header-less line of `count` fields (at least through time-taken). */
  const defaultColumns = (count: number): Columns | null => {
    if (count < MIN_DEFAULT_FIELDS) return null;
    const known = Math.min(count, DEFAULT_FIELDS.length);
    let columns = byCount.get(known);
    if (columns === undefined) {
      columns = columnsOf(DEFAULT_FIELDS.slice(0, known));
      byCount.set(known, columns);
    }
    return columns;
  };
  return {
    line(text, lineNumber, sink) {
      if (text.trim().length === 0) {
        sink.ignore(lineNumber);
        return;
      }
      if (text.charCodeAt(0) === 35 /* # */) {
        if (text.startsWith(FIELDS_PREFIX)) {
          header = columnsOf(text.slice(FIELDS_PREFIX.length).trim().split(/\s+/));
        }
        sink.ignore(lineNumber);
        return;
      }
      const fail: Fail = (code, field, message) => reportIssue(sink, file, lineNumber, code, field, message, text);
      if (text.charCodeAt(0) === 123 /* { */) {
        const value = parseJsonLine(text);
        // v2 logs delivered by Firehose to S3 without a delimiter.
        const joined = value === undefined ? backToBackEntries(text, isCloudFrontObject) : null;
        if (joined === null) return readJsonLine(value, text, lineNumber, sink, fail);
        joined.texts.forEach((part, i) => {
          readJsonLine(joined.values[i], part, lineNumber, sink, (code, field, message) => reportIssue(sink, file, lineNumber, code, field, message, part));
        });
        return;
      }
      const values = text.split('\t');
      // New columns are appended over time, and real files hold lines shorter than their #Fields
      // (a 33-field header over 31-field lines): a missing trailing column was not logged. Fewer
      // than the oldest layout's fields is a broken line.
      const shortest = header === null ? MIN_DEFAULT_FIELDS : Math.min(header.count, MIN_DEFAULT_FIELDS);
      const columns = values.length < shortest ? null : header ?? defaultColumns(values.length);
      if (columns === null) return fail('PARSE_NO_MATCH', 'line', `expected at least ${shortest} tab-separated fields, found ${values.length}`);
      const get = (name: string): string | null => {
        const at = columns.index(name);
        const value = at < 0 ? undefined : values[at];
        return value === undefined || isMissing(value) ? null : value;
      };

      emit(get, null, text, lineNumber, sink, fail, true);
    },
    end() {},
  };

  /**
   * Standard logging v2 in JSON (to CloudWatch Logs, Firehose or S3): an object per line whose
   * keys are the W3C field names, plus `timestamp(ms)` (epoch ms, END); values are not URL-encoded.
   */
  function readJsonLine(value: unknown, text: string, lineNumber: number, sink: RecordSink, fail: Fail): void {
    if (!isJsonObject(value)) return fail('PARSE_NO_MATCH', 'line', 'not a JSON object');
    const entry = value as JsonObject;
    if (!isCloudFrontObject(entry)) return fail('PARSE_NO_MATCH', 'x-edge-location', 'no x-edge-* field: not a CloudFront log object');
    const get = (name: string): string | null => {
      const field = Object.hasOwn(entry, name) ? entry[name] : undefined;
      const text = typeof field === 'string' ? field : typeof field === 'number' && Number.isFinite(field) ? String(field) : null;
      return text === null || isMissing(text) ? null : text;
    };
    // A CloudFront object all the same (detection names CloudFront as closest): v2 logs only the fields selected.
    if (get('sc-status') === null) return fail('PARSE_BAD_FIELD', 'sc-status', 'no sc-status: the distribution\'s v2 log holds no status field (add it to the fields selected)');
    const epochMs = get('timestamp(ms)');
    emit(get, epochMs === null ? null : Number(epochMs), text, lineNumber, sink, fail, false);
  }

  /** The record from a line's fields by W3C name; `endFromEpochMs` when the line gives the end in epoch ms. */
  function emit(get: (name: string) => string | null, endFromEpochMs: number | null, text: string, lineNumber: number, sink: RecordSink, fail: Fail, urlEncoded: boolean): void {
    const date = get('date');
    const time = get('time');
    const endMs = endFromEpochMs !== null && Number.isSafeInteger(endFromEpochMs) && endFromEpochMs > 0 ? endFromEpochMs
      : date === null || time === null ? NaN : parseIsoTimestamp(`${date}T${time}Z`);
    if (Number.isNaN(endMs)) return fail('PARSE_BAD_TIMESTAMP', 'date', `bad date/time "${date ?? '-'} ${time ?? '-'}"`);
    const statusText = get('sc-status');
    const status = statusText === null ? null : parseStatus(statusText);
    if (Number.isNaN(status)) return fail('PARSE_BAD_FIELD', 'sc-status', `bad sc-status "${statusText ?? ''}"`);
    const timeTaken = optionalSecondsToMs(get('time-taken') ?? '-');
    if (Number.isNaN(timeTaken)) return fail('PARSE_BAD_FIELD', 'time-taken', `bad time-taken "${get('time-taken') ?? ''}"`);
    const bytes = optionalUnsigned(get('sc-bytes') ?? '-');
    if (Number.isNaN(bytes)) return fail('PARSE_BAD_FIELD', 'sc-bytes', `bad sc-bytes "${get('sc-bytes') ?? ''}"`);

    const record = emptyProxyRecord('cloudfront', file, lineNumber, text);
    record.endMs = endMs;
    record.timeResolutionMs = endFromEpochMs !== null ? 1 : 1000;
    record.requestTimeMs = timeTaken;
    record.startMs = endMs - Math.round(timeTaken ?? 0);
    record.status = status;
    record.bytesSent = bytes;
    record.method = get('cs-method');
    record.path = get('cs-uri-stem');
    record.query = get('cs-uri-query');
    record.host = get('x-host-header') ?? get('cs(Host)');
    record.clientIp = viewerBehindProxy(get('x-forwarded-for')) ?? get('c-ip');
    const userAgent = get('cs(User-Agent)');
    record.userAgent = userAgent === null || !urlEncoded ? userAgent : urlDecode(userAgent);
    record.requestId = get('x-edge-request-id');
    const resultType = get('x-edge-result-type');
    const detailed = get('x-edge-detailed-result-type');
    record.flags = detailed ?? resultType;
    const abortedDownload = resultType === 'Error' && get('x-edge-response-result-type') !== 'Error' &&
      status !== null && status >= 200 && status < 300;
    record.clientClosed = status === 0 || abortedDownload;
    sink.record(record);
  }
}

export const cloudfront: FormatDef = {
  id: 'cloudfront',
  title: 'Amazon CloudFront standard access log (W3C tab-separated, or v2 JSON)',
  kind: 'proxy',
  traits: { splittable: false, unit: 'document', clientGaveUp: '`sc-status 000`, or result `Error` on a 2xx', backendNeverAnswered: 'not logged', flags: null, upstreamTimeout: { setting: 'the CloudFront origin response timeout (`OriginReadTimeout`)', defaultSeconds: 30 } },
  url: 'https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/AccessLogs.html',
  example:
    '2025-01-15\t10:32:01\tFRA56-P3\t2188\t198.51.100.7\tGET\td1234abcdef8.cloudfront.net\t/v1/catalog\t200\t-\tMozilla/5.0%20(X11;%20Linux%20x86_64)\tlimit=20\t-\tMiss\tq2Vw3XyZ-7a1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvWxYz12345w==\tapi.example.com\thttps\t311\t0.087\t-\tTLSv1.3\tTLS_AES_128_GCM_SHA256\tMiss\tHTTP/2.0\t-\t-\t53122\t0.085\tMiss\tapplication/json\t1834\t-\t-',
  exampleFields: { start: '2025-01-15T10:32:00.913Z', status: 200, method: 'GET', path: '/v1/catalog', client: '198.51.100.7', upstreamStatus: null },
  realSamples: [
    {
      source: { project: 'linz/basemaps', path: 'packages/lambda-analytics/src/__tests__/file.process.test.ts', commit: '3f66402fe6e18a8692a51eae444fbb8b25c088be', licence: 'BSD-3-Clause' },
      // The file's two header lines and its first record.
      lines: [
        '#Version: 1.0',
        '#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start sc-range-end',
        '2020-07-28	01:11:25	AKL50-C1	20753	255.255.255.141	GET	d1mez8rta20vo0.cloudfront.net	/v1/tiles/aerial/EPSG:3857/19/516588/320039.webp	200	https://bar.com/	Mozilla/5.0%20(X11;%20Linux%20x86_64)%20AppleWebKit/537.36%20(KHTML,%20like%20Gecko)%20Chrome/85.0.4183.101%20Safari/537.36	api=dThisIsNotAKey	-	Hit	sBUoz03SwR_hVZkdj0LVC1s_bKakd9ONcKTYRrQLuIR3VPBQUx5xog==	basemaps.linz.govt.nz	https	82	0.049	-	TLSv1.3	TLS_AES_128_GCM_SHA256	Hit	HTTP/2.0	--	21780	0.049	Hit	image/webp	20320	-	-',
      ],
      fields: { start: '2020-07-28T01:11:24.951Z', status: 200, method: 'GET', path: '/v1/tiles/aerial/EPSG:3857/19/516588/320039.webp', client: '255.255.255.141', upstreamStatus: null },
    },
  ],
  createParser: createCloudFrontParser,
};
