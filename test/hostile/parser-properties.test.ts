import fc from 'fast-check';
import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import type { FormatDef } from '../../parsers/format.js';
import { awsAlb } from '../../parsers/aws-alb.js';
import { newRelicCsv } from '../../parsers/newrelic-csv.js';
import { nginxCombined, nginxFormat } from '../../parsers/nginx.js';
import { LogFormatError } from '../../parsers/nginx-log-format.js';
import { FORMATS } from '../../parsers/registry.js';
import type { ApmTransaction, ProxyRecord } from '../../src/model/records.js';
import { parseLines } from '../parsers/parse-lines.js';

/**
 * Every parser in the registry, on any input: a record, a counted rejection or an ignore per line,
 * never an exception. Bytes go through the same decoding as ingest (UTF-8 with replacement, split
 * on \n, CR dropped). Then round trips: a record written back as a line parses to the same record.
 */

/** Formats that read whole documents (several lines per record, or several records per line). */
const DOCUMENT_FORMATS = new Set(['otel-json', 'newrelic-json', 'datadog-json']);
/** Apache duration variants may add one end-of-file warning about implausible units. */
const extraIssues = (id: string): number => (id.startsWith('apache-combined-') ? 1 : 0);

function toLines(bytes: Uint8Array): string[] {
  const text = Buffer.from(bytes).toString('utf8');
  return text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
}

function assertAccounted(format: FormatDef, lines: string[]): void {
  const { records, issues, ignored } = parseLines(format, lines);
  const accounted = records.length + issues.length + ignored;
  if (DOCUMENT_FORMATS.has(format.id)) {
    // A document may span lines or hold many records; still, non-blank input never vanishes.
    if (lines.some((line) => line.trim() !== '')) expect(accounted).toBeGreaterThan(0);
  } else {
    expect(accounted).toBeGreaterThanOrEqual(lines.length);
    expect(accounted).toBeLessThanOrEqual(lines.length + extraIssues(format.id));
  }
  for (const issue of issues) {
    expect(issue.line).toBeGreaterThanOrEqual(1);
    expect(issue.line).toBeLessThanOrEqual(lines.length);
    expect(typeof issue.message).toBe('string');
  }
  for (const record of records) {
    // Whatever the line held, a record's numbers are finite (or null): no NaN or Infinity downstream.
    const times = record.kind === 'proxy' ? [record.endMs, record.startMs] : [record.startMs, record.durationMs];
    for (const t of times) expect(Number.isFinite(t), `${format.id} line ${record.line}`).toBe(true);
  }
}

/** Lines that look like the format (its example, cut and spliced) mixed with raw bytes. */
const anyBytes = fc.uint8Array({ maxLength: 400 });
const hostileLine = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.stringMatching(/^[ "[\]{}\\:,|-]{0,120}$/),
  fc.constantFrom('', '-', '""', '[]', '{}', 'null', '1e309', 'NaN', '-1', '0x10', 'Infinity', '\u0000', '\ufeff'),
);

describe('every registered parser on any input', () => {
  it.each(FORMATS.map((format) => [format.id, format] as const))('%s: any bytes give records or counted rejections', (_id, format) => {
    fc.assert(fc.property(anyBytes, (bytes) => assertAccounted(format, toLines(bytes))), { numRuns: 60 });
  });

  it.each(FORMATS.map((format) => [format.id, format] as const))('%s: its example, mutated, never throws', (_id, format) => {
    const example = format.example.split('\n');
    fc.assert(fc.property(
      fc.nat(example.length - 1), fc.nat(400), fc.nat(400), hostileLine,
      (which, cut, at, insert) => {
        const line = example[which]!;
        const mutated = [...example];
        mutated[which] = line.slice(0, at % (line.length + 1)) + insert + line.slice(at % (line.length + 1));
        assertAccounted(format, mutated);
        assertAccounted(format, [...example.slice(0, which), line.slice(0, cut % (line.length + 1))]);
      },
    ), { numRuns: 60 });
  });

  it.each(FORMATS.map((format) => [format.id, format] as const))('%s: JSON values of any shape never throw', (_id, format) => {
    fc.assert(fc.property(fc.array(fc.jsonValue({ maxDepth: 4 }), { maxLength: 4 }), (values) => {
      assertAccounted(format, values.map((value) => JSON.stringify(value) ?? 'null'));
      // The same values as one pretty-printed document (document formats read these).
      assertAccounted(format, JSON.stringify(values, null, 2).split('\n'));
    }), { numRuns: 40 });
  });
});

// ---- The nginx compiler with random log_formats ----

const VARIABLES = [
  'remote_addr', 'remote_user', 'time_local', 'time_iso8601', 'msec', 'request', 'request_method', 'request_uri', 'uri', 'args',
  'status', 'request_time', 'upstream_response_time', 'upstream_connect_time', 'upstream_header_time', 'upstream_status',
  'upstream_addr', 'http_user_agent', 'http_referer', 'http_x_api_key', 'request_id', 'http_traceparent', 'bytes_sent',
  'body_bytes_sent', 'connection_requests', 'host', 'http_x_forwarded_for', 'unknown_var',
];
const SEPARATORS = [' ', '|', ' "', '" "', '"', ' [', '] ', ',', '\t', ' - ', ';', '::', '" ', ' |'];

const randomLogFormat = fc.record({
  variables: fc.array(fc.constantFrom(...VARIABLES), { minLength: 1, maxLength: 10 }),
  separators: fc.array(fc.constantFrom(...SEPARATORS), { minLength: 12, maxLength: 12 }),
  prefix: fc.constantFrom('', '[', '"', 'x='),
  suffix: fc.constantFrom('', ']', '"', ';'),
  escape: fc.constantFrom('', 'escape=json ', 'escape=none '),
}).map(({ variables, separators, prefix, suffix, escape }) => {
  const body = prefix + variables.map((name, i) => `$${name}${i < variables.length - 1 ? separators[i]! : ''}`).join('') + suffix;
  return { text: escape ? `log_format random ${escape}'${body}';` : body, variables };
});

const VALUES: Record<string, fc.Arbitrary<string>> = {
  time_local: fc.constantFrom('15/Jan/2025:10:32:01 +0000', '29/Feb/2024:23:59:60 -1200', '31/Dec/9999:23:59:59 +1400', '00/Jan/2025:10:32:01 +0000'),
  time_iso8601: fc.constantFrom('2025-01-15T10:32:01+00:00', '2025-13-45T99:99:99+25:00', '+275760-09-13T00:00:00Z'),
  msec: fc.constantFrom('1736937121.457', '0.000', '-1', '1e309', '99999999999999999999.9'),
  status: fc.constantFrom('200', '499', '000', '1e3', '-10', 'NaN'),
  upstream_status: fc.constantFrom('200', '502, 200', '200 : 504', '-', '502, -', ' : , : ', 'x'),
  upstream_response_time: fc.constantFrom('0.081', '-, 0.001', '0.001 : 0.000', '-', ', , ,', '1e309', ' : '),
};

describe('the nginx log_format compiler on random formats', () => {
  it('compiles or refuses with a LogFormatError, and the parser never throws on any line', () => {
    let compiled = 0;
    fc.assert(fc.property(
      randomLogFormat,
      fc.array(fc.oneof(hostileLine, fc.constant('')), { maxLength: 4 }),
      fc.array(fc.string({ unit: 'binary', maxLength: 30 }), { minLength: 10, maxLength: 10 }),
      fc.array(fc.nat(), { minLength: 10, maxLength: 10 }),
      (spec, lines, randomValues, picks) => {
        let format: FormatDef;
        try {
          format = nginxFormat(spec.text, 'nginx-random');
        } catch (error) {
          // Bad formats are refused at the boundary with a message, never with a TypeError.
          expect(error).toBeInstanceOf(LogFormatError);
          return;
        }
        compiled++;
        // A line written with this very format, from plausible and hostile values.
        const made = spec.text.replace(/^log_format random (?:escape=\w+ )?'|';$/g, '').replace(/\$(\w+)/g, (_m, name: string) => {
          const i = spec.variables.indexOf(name);
          const pick = picks[i % 10]!;
          const plausible = VALUES[name];
          return plausible && pick % 3 !== 0 ? fc.sample(plausible, { numRuns: 1, seed: pick })[0]! : randomValues[i % 10]!.replace(/[\r\n]/g, '');
        });
        assertAccounted(format, [...lines, made]);
      },
    ), { numRuns: 300 });
    // The property is about compiled parsers: make sure the generator produces enough of them.
    expect(compiled).toBeGreaterThan(60);
  });
});

// ---- Round trips: record → line → record ----

const token = (chars: string, min: number, max: number): fc.Arbitrary<string> =>
  fc.array(fc.constantFrom(...chars.split('')), { minLength: min, maxLength: max }).map((a) => a.join(''));
const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
/** Free text without line breaks: any code point, quotes, pipes and backslashes included. */
const freeText = fc.string({ unit: 'binary', minLength: 1, maxLength: 60 }).map((s) => s.replace(/[\r\n]/g, ' '))
  .filter((s) => s !== '-' && s.trim() === s && s !== '');
const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
const path = token(`${ALNUM}/-._~%!$&'()*+,;=:@`, 0, 40).map((p) => `/${p}`);
const query = fc.option(token(`${ALNUM}=&-._%`, 1, 30), { nil: null });
const method = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'PROPFIND');
const status = fc.integer({ min: 100, max: 599 });
/** Whole seconds, 2000 to 2099. */
const epochSeconds = fc.integer({ min: 946_684_800, max: 4_102_444_799 });
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** nginx `$time_local` for an instant, in a zone `offsetMinutes` east of UTC. */
function timeLocal(epochMs: number, offsetMinutes: number): string {
  const d = new Date(epochMs + offsetMinutes * 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
}

/** nginx default escaping (formats.md §1.2): `"`, `\`, control bytes and bytes >= 0x80 as \xHH. */
function nginxEscape(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    out += byte < 0x20 || byte === 0x22 || byte === 0x5c || byte >= 0x7f ? `\\x${byte.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(byte);
  }
  return out;
}

function pick(record: ProxyRecord | ApmTransaction, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((key) => [key, (record as unknown as Record<string, unknown>)[key]]));
}

function only<T>(format: FormatDef, lines: string[]): T {
  const { records, issues } = parseLines(format, lines);
  expect(issues).toEqual([]);
  expect(records).toHaveLength(1);
  return records[0] as T;
}

describe('round trips', () => {
  it('nginx combined: record → line → the same record', () => {
    fc.assert(fc.property(
      ipv4, epochSeconds, fc.integer({ min: -720, max: 840 }), method, path, query, status, fc.nat(1e12), freeText,
      (clientIp, seconds, offset, m, p, q, s, bytes, ua) => {
        const target = q === null ? p : `${p}?${q}`;
        const line = `${clientIp} - - [${timeLocal(seconds * 1000, offset)}] "${m} ${target} HTTP/1.1" ${s} ${bytes} "-" "${nginxEscape(ua)}"`;
        const record = only<ProxyRecord>(nginxCombined, [line]);
        expect(pick(record, ['clientIp', 'endMs', 'method', 'path', 'query', 'status', 'bytesSent', 'userAgent'])).toEqual({
          // Escaped as nginx does, read back as sent (a lone surrogate was never valid UTF-8, so it reads as U+FFFD).
          clientIp, endMs: seconds * 1000, method: m, path: p, query: q, status: s, bytesSent: bytes, userAgent: Buffer.from(ua, 'utf8').toString('utf8'),
        });
      },
    ), { numRuns: 400 });
  });

  it('a custom pipe log_format: record → line → the same record (the last free-text field may hold pipes)', () => {
    const format = nginxFormat(
      '$msec|$status|$request_time|$upstream_status|$upstream_response_time|$upstream_addr|$request_method|$request_uri|$http_x_api_key|$http_user_agent',
      'nginx-pipe',
    );
    fc.assert(fc.property(
      fc.integer({ min: 946_684_800_000, max: 4_102_444_799_999 }), status, fc.nat(600_000), fc.option(status, { nil: null }),
      fc.nat(600_000), fc.option(fc.tuple(ipv4, fc.integer({ min: 1, max: 65535 })).map(([ip, port]) => `${ip}:${port}`), { nil: null }),
      method, path, query, fc.option(token(`${ALNUM}_-`, 1, 20).filter((k) => k !== '-'), { nil: null }), freeText,
      (endMs, s, requestMs, upstreamStatus, upstreamMs, addr, m, p, q, key, ua) => {
        const seconds = (ms: number): string => (ms / 1000).toFixed(3);
        const line = [
          seconds(endMs), s, seconds(requestMs), upstreamStatus ?? '-', upstreamStatus === null ? '-' : seconds(upstreamMs), addr ?? '-',
          m, q === null ? p : `${p}?${q}`, key ?? '-', ua,
        ].join('|');
        const record = only<ProxyRecord>(format, [line]);
        expect(pick(record, ['endMs', 'startMs', 'status', 'requestTimeMs', 'upstreamStatus', 'upstreamTimeMs', 'upstreamAddr', 'method', 'path', 'query', 'apiKey', 'userAgent'])).toEqual({
          endMs, startMs: endMs - requestMs, status: s, requestTimeMs: requestMs, upstreamStatus,
          upstreamTimeMs: upstreamStatus === null ? null : upstreamMs, upstreamAddr: addr, method: m, path: p, query: q, apiKey: key, userAgent: ua,
        });
      },
    ), { numRuns: 400 });
  });

  it('AWS ALB: record → line → the same record (quotes and backslashes escaped in quoted fields)', () => {
    const quote = (text: string): string => `"${text.replace(/[\\"]/g, (ch) => `\\${ch}`)}"`;
    const iso = (ms: number, micros: number): string => `${new Date(ms).toISOString().slice(0, 23)}${pad(micros, 3)}Z`;
    fc.assert(fc.property(
      fc.integer({ min: 946_684_800_000, max: 4_102_444_799_000 }), fc.nat(600_000), fc.nat(999), ipv4, fc.integer({ min: 1, max: 65535 }),
      fc.option(ipv4, { nil: null }), status, fc.option(status, { nil: null }), fc.nat(1e12), method, path, query, freeText,
      token('0123456789abcdef', 24, 24),
      (startMs, durationMs, micros, client, port, target, s, targetStatus, sent, m, p, q, ua, traceHex) => {
        const endMs = startMs + durationMs;
        const line = [
          'https', iso(endMs, micros), 'app/prod-api/5d1e3f0a9b8c7d6e', `${client}:${port}`, target === null ? '-' : `${target}:8080`,
          '0.001', target === null ? '-1' : (durationMs / 1000).toFixed(3), '0.000', String(s), targetStatus === null ? '-' : String(targetStatus),
          '300', String(sent), quote(`${m} https://api.example.com:443${q === null ? p : `${p}?${q}`} HTTP/1.1`), quote(ua),
          'ECDHE-RSA-AES128-GCM-SHA256', 'TLSv1.2', 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api-tg/0a1b2c3d4e5f6a7b',
          quote(`Root=1-67878e80-${traceHex}`), '"api.example.com"', '"session-reused"', '0', iso(startMs, 0), '"forward"', '"-"', '"-"',
        ].join(' ');
        const record = only<ProxyRecord>(awsAlb, [line]);
        expect(pick(record, ['startMs', 'endMs', 'requestTimeMs', 'clientIp', 'upstreamAddr', 'status', 'upstreamStatus', 'bytesSent', 'method', 'path', 'query', 'host', 'userAgent', 'upstreamTimeMs'])).toEqual({
          startMs, endMs, requestTimeMs: durationMs, clientIp: client, upstreamAddr: target === null ? null : `${target}:8080`,
          status: s, upstreamStatus: targetStatus, bytesSent: sent, method: m, path: p, query: q, host: 'api.example.com', userAgent: ua,
          upstreamTimeMs: target === null ? null : durationMs,
        });
      },
    ), { numRuns: 400 });
  });

  it('New Relic CSV: transaction → row → the same transaction (commas, quotes and newlines in cells)', () => {
    const header = 'timestamp,duration,name,request.uri,request.method,httpResponseCode,request.headers.userAgent';
    const multiline = fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }).filter((s) => s !== '-' && !/\r/.test(s) && s.trim() === s);
    fc.assert(fc.property(
      fc.array(fc.record({
        startMs: fc.integer({ min: 946_684_800_000, max: 4_102_444_799_999 }), durationMs: fc.nat(600_000),
        name: multiline, path, method, status, userAgent: multiline,
      }), { minLength: 1, maxLength: 5 }),
      (transactions) => {
        const rows = transactions.map((t) => Papa.unparse([[String(t.startMs), (t.durationMs / 1000).toFixed(3), t.name, t.path, t.method, String(t.status), t.userAgent]], { quotes: false, newline: '\n' }));
        const lines = `${header}\n${rows.join('\n')}`.split('\n');
        const { records, issues } = parseLines(newRelicCsv, lines);
        expect(issues).toEqual([]);
        expect(records.map((r) => pick(r, ['startMs', 'durationMs', 'name', 'path', 'method', 'status', 'userAgent']))).toEqual(transactions);
      },
    ), { numRuns: 300 });
  });
});
