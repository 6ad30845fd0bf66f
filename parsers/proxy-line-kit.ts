import { emptyProxyRecord, type ProxyRecord } from '../src/model/records.js';
import type { ParseIssueCode } from '../src/model/parse-issue.js';
import { excerpt } from '../src/model/parse-issue.js';
import { parseDecimal, parseUnsignedInt } from './fields/numbers.js';
import type { RecordParser, RecordSink } from './format.js';
import { isJsonObject, type JsonObject } from './fields/json-object.js';

export { hasFraction, parseIsoTimestamp } from './fields/iso-time.js';

/**
 * Small pieces shared by the proxy/gateway parsers (ALB, Envoy, HAProxy, Apache, Kong...):
 * a quote-aware space tokenizer, strict ISO timestamps, JSON-line guards and issue reporting.
 * Nothing here uses a backtracking regex: every scan is a single left-to-right pass.
 */

/** `-`, `""` and `null` mean "not logged" in every format (docs/formats.md, Common rules: Missing values). */
export function isMissing(value: string | null | undefined): value is '-' | '' | null | undefined {
  return value === undefined || value === null || value === '-' || value === '';
}

export function orNull(value: string | null | undefined): string | null {
  return isMissing(value) ? null : value;
}

/** The original client of an X-Forwarded-For chain: its first element. */
export function firstForwardedFor(value: string): string | null {
  const comma = value.indexOf(',');
  return orNull((comma < 0 ? value : value.slice(0, comma)).trim());
}

/** How a field was delimited: `"…"` (quoted), `[…]` (bracketed) or bare; lets formats check the layout, not just the count. */
export type Delimiter = '"' | '[' | null;

/**
 * Splits a line on single spaces, keeping `"…"` and `[…]` fields whole. A quote closes only
 * when it is not backslash-escaped and is followed by a space or the end of the line, so
 * Apache's `\"` and the odd unescaped quote inside a user agent (Envoy does not escape) both
 * survive; `read` is false when a quote or bracket never closes.
 * Fields are kept as offsets into the line, in arrays reused from line to line, and a parser
 * slices only the fields it reads. It replaced a tokenizer that made a Token object and a slice
 * for every field: ALB logs 30 fields and alf reads 16, and those were the largest item of an ALB
 * run's profile (11%). 400 k ALB lines end to end: 4.77 -> 3.90 s CPU (medians of 5); 1.2 M
 * lines read and parsed, medians of 5 to 9: Apache %D 2.59 -> 2.14 s, Envoy 2.90 -> 2.48 s, ELB
 * classic 4.08 -> 3.31 s, API Gateway CLF 2.30 -> 2.09 s, Traefik CLF 2.9-4.1 -> 2.3 s (noisy).
 */
export class TokenSpans {
  count = 0;
  private line = '';
  private starts = new Int32Array(64);
  private ends = new Int32Array(64);
  /** 0 bare, 34 quoted, 91 bracketed (the opening character). */
  private kinds = new Uint8Array(64);

  /** Splits `line`; false when a quote or bracket never closes. */
  read(line: string): boolean {
    this.line = line;
    this.count = 0;
    const length = line.length;
    let i = 0;
    while (i < length) {
      const code = line.charCodeAt(i);
      if (code === 32 /* space */) {
        i++;
        continue;
      }
      if (code === 34 /* " */) {
        const close = closingQuote(line, i + 1);
        if (close < 0) return false;
        this.push(i + 1, close, 34);
        i = close + 1;
        continue;
      }
      if (code === 91 /* [ */) {
        const close = line.indexOf(']', i + 1);
        if (close < 0) return false;
        // `[2001:db8::7]:443` is a bare token that happens to start with a bracket.
        if (close + 1 === length || line.charCodeAt(close + 1) === 32) {
          this.push(i + 1, close, 91);
          i = close + 1;
          continue;
        }
      }
      let end = line.indexOf(' ', i);
      if (end < 0) end = length;
      this.push(i, end, 0);
      i = end;
    }
    return true;
  }

  /** Field `index` without its quotes or brackets (escapes left as logged); "" past the last field. */
  text(index: number): string {
    return index < this.count ? this.line.slice(this.starts[index]!, this.ends[index]!) : '';
  }

  delimited(index: number): Delimiter {
    const kind = index < this.count ? this.kinds[index]! : 0;
    return kind === 34 ? '"' : kind === 91 ? '[' : null;
  }

  private push(start: number, end: number, kind: number): void {
    if (this.count === this.starts.length) {
      const grown = this.count * 2;
      const grow = <T extends Int32Array | Uint8Array>(from: T, to: T): T => (to.set(from), to);
      this.starts = grow(this.starts, new Int32Array(grown));
      this.ends = grow(this.ends, new Int32Array(grown));
      this.kinds = grow(this.kinds, new Uint8Array(grown));
    }
    this.starts[this.count] = start;
    this.ends[this.count] = end;
    this.kinds[this.count] = kind;
    this.count++;
  }
}

function closingQuote(line: string, from: number): number {
  let at = line.indexOf('"', from);
  while (at >= 0) {
    let backslashes = 0;
    for (let j = at - 1; j >= from && line.charCodeAt(j) === 92; j--) backslashes++;
    const next = line.charCodeAt(at + 1);
    if (backslashes % 2 === 0 && (at + 1 === line.length || next === 32)) return at;
    at = line.indexOf('"', at + 1);
  }
  return -1;
}

/** Apache (and ALB, defensively) escape `"` as `\"` and `\` as `\\` inside quoted fields (formats.md §2). */
export function unescapeQuoted(text: string): string {
  if (!text.includes('\\')) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    const next = text[i + 1];
    if (ch === '\\' && (next === '"' || next === '\\')) {
      out += next;
      i++;
    } else {
      out += ch;
    }
  }
  return out;
}

/** `host:port` split on the LAST colon, so bare IPv6 (`2001:db8::7:53122`) and `[::1]:80` both work. */
export function hostOfHostPort(text: string): string | null {
  if (isMissing(text)) return null;
  const colon = text.lastIndexOf(':');
  let host = colon > 0 ? text.slice(0, colon) : text;
  if (host.charCodeAt(0) === 91 /* [ */ && host.endsWith(']')) host = host.slice(1, -1);
  return host === '' ? null : host;
}

/** Seconds field with `-1`/`-` as "not measured" (ALB, ELB, CloudFront); NaN when malformed. */
export function optionalSecondsToMs(text: string): number | null {
  if (isMissing(text) || text === '-1') return null;
  const seconds = parseDecimal(text);
  if (Number.isNaN(seconds) || seconds < 0) return NaN;
  return Math.round(seconds * 1e6) / 1e3;
}

/** Integer field where `-`/`""` mean missing; NaN when malformed. */
export function optionalUnsigned(text: string): number | null {
  if (isMissing(text)) return null;
  return parseUnsignedInt(text);
}

/** An HTTP status: three digits (`000` allowed: CloudFront and nginx log it for "nothing sent"). */
export function parseStatus(text: string): number {
  if (text.length !== 3) return NaN;
  return parseUnsignedInt(text);
}

/** Reports a line that did not become a record. Every parser goes through here so issues look alike. */
export function reportIssue(
  sink: RecordSink,
  file: string,
  line: number,
  code: ParseIssueCode,
  field: string | null,
  message: string,
  text: string,
): void {
  sink.issue({ code, file, line, field, message, sample: excerpt(text) });
}

/** Reports an issue naming a field of the line being parsed. */
export type LineFail = (code: 'PARSE_NO_MATCH' | 'PARSE_BAD_FIELD' | 'PARSE_BAD_TIMESTAMP', field: string, message: string) => void;

/**
 * The frame shared by the line-per-record text formats: a blank line is ignored, and `parse`
 * gets every other line with a `fail` that reports an issue for that line. `end` is for formats
 * that judge the file as a whole (Apache's %D/%T units).
 *
 * `otherLines` knows the lines the same software writes to the same stream that hold no request
 * (a proxy's own notices and error log, `docker logs` merging stderr into stdout): a line that
 * does not have the record's shape (PARSE_NO_MATCH) and is one of those is counted as ignored,
 * not skipped. A line of the right shape with a bad value is always an issue. Only failing lines
 * are tested, so it costs nothing on records.
 */
export function textLineParser(
  file: string,
  parse: (text: string, lineNumber: number, sink: RecordSink, fail: LineFail) => void,
  end: (sink: RecordSink) => void = () => {},
  otherLines: ((text: string) => boolean) | null = null,
): RecordParser {
  return {
    line(text, lineNumber, sink) {
      if (text.length === 0) {
        sink.ignore(lineNumber);
        return;
      }
      parse(text, lineNumber, sink, (code, field, message) => {
        if (code === 'PARSE_NO_MATCH' && otherLines !== null && otherLines(text)) sink.ignore(lineNumber);
        else reportIssue(sink, file, lineNumber, code, field, message, text);
      });
    },
    end,
  };
}

// ---- JSON lines ----

export { isJsonObject, type JsonObject } from './fields/json-object.js';

/** JSON.parse that never throws: undefined for invalid JSON. */
export function parseJsonLine(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Reads `a.b.c` from nested objects, also accepting a flat key with dots in it
 * (API Gateway templates often write `"integration.status"` literally).
 */
export function lookup(object: JsonObject, path: string): unknown {
  // Own keys only: a log line's `constructor` or `__proto__` key must not reach the prototype.
  if (Object.hasOwn(object, path)) return object[path];
  if (!path.includes('.')) return undefined;
  let current: unknown = object;
  for (const part of path.split('.')) {
    if (!isJsonObject(current) || !Object.hasOwn(current, part)) return undefined;
    current = current[part];
  }
  return current;
}

/** The first of several alternative keys that is present (even if its value means "missing"). */
export function firstPresent(object: JsonObject, paths: readonly string[]): unknown {
  for (const path of paths) {
    const value = lookup(object, path);
    if (value !== undefined) return value;
  }
  return undefined;
}

/** A JSON value as text: strings as-is, finite numbers printed; missing markers and other types give null. */
export function jsonText(value: unknown): string | null {
  if (typeof value === 'string') return isMissing(value) ? null : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

/**
 * A JSON value as a number: numbers, or strings holding a plain decimal (API Gateway quotes
 * everything). Missing markers (`-`, `""`, null, absent) give null; anything else NaN.
 */
export function jsonNumber(value: unknown): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'number') return Number.isFinite(value) ? value : NaN;
  if (typeof value === 'string') {
    if (isMissing(value)) return null;
    return parseDecimal(value.trim());
  }
  return NaN;
}

/** A malformed JSON field: which one, and what it held, for the issue message. */
export class FieldError {
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly code: ParseIssueCode = 'PARSE_BAD_FIELD',
  ) {}

  describe(): string {
    let shown: string;
    try {
      shown = JSON.stringify(this.value) ?? String(this.value);
    } catch {
      shown = String(this.value);
    }
    return `bad value for ${this.field}: ${excerpt(shown)}`;
  }
}

/** Parses a JSON line into an object, or reports PARSE_BAD_JSON / PARSE_NO_MATCH. */
export function readJsonObject(text: string, lineNumber: number, file: string, sink: RecordSink): JsonObject | null {
  const value = parseJsonLine(text);
  if (isJsonObject(value)) return value;
  reportNotAnObject(value, text, lineNumber, file, sink);
  return null;
}

/** Reports a parsed line (`undefined`: not JSON at all) that is no JSON object. */
function reportNotAnObject(value: unknown, text: string, lineNumber: number, file: string, sink: RecordSink): void {
  const message = value === undefined ? 'line is not valid JSON'
    : `expected a JSON object per line, got ${Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'null' : typeof value}`;
  reportIssue(sink, file, lineNumber, 'PARSE_BAD_JSON', null, message, text);
}

/** A JSON-lines gateway format: its signature fields and how an entry maps to a record. */
export interface JsonLineFormat {
  formatId: string;
  /** The first signature field the entry lacks, or null when it has them all. */
  missingField(entry: JsonObject): string | null;
  /** Said when a signature field is missing, e.g. `not a Kong log entry`. */
  notThis: string;
  /** Maps the entry; throws FieldError for a malformed value. */
  fill(record: ProxyRecord, entry: JsonObject): void;
  /** The software's other lines on the same stream, ignored rather than skipped (see textLineParser). */
  otherLines?: (text: string) => boolean;
  /**
   * A line may also be a JSON array of entries, one record each (Kong's http-log with a batch size
   * above 1 posts its entries as one array): each keeps the line's number and its own JSON as raw,
   * and each element that is not an entry is an issue of that line.
   */
  batches?: boolean;
}

/**
 * A Go service's own log line: logrus text (`time="…" level=info msg="…"`) or a JSON logger's
 * line that leads with its level (`{"level":"info",…`: logrus sorts its keys, zerolog writes the
 * level first). Traefik and Tyk write theirs to the stream their access or analytics records go to.
 */
export function isGoLoggerLine(text: string): boolean {
  return LOGRUS_LINE.test(text) || text.startsWith('{"level":"');
}

const LOGRUS_LINE = /^time="[^"]*" level=(?:trace|debug|info|warning|error|fatal|panic) /;

/**
 * The texts of JSON objects written back to back on one line (`{…}{…}`, with or without spaces
 * between them), or null when the line is not that: one object, broken structure, or text outside
 * the objects. One pass; braces inside strings do not count.
 */
export function backToBackObjects(text: string): string[] | null {
  const parts: string[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 34) {
      if (depth === 0) return null;
      inString = true;
    } else if (c === 123) {
      if (depth === 0) start = i;
      depth++;
    } else if (c === 125) {
      if (depth === 0) return null;
      if (--depth === 0) parts.push(text.slice(start, i + 1));
    } else if (depth === 0 && c !== 32 && c !== 9) {
      return null;
    }
  }
  return depth === 0 && !inString && parts.length > 1 ? parts : null;
}

/**
 * A line that is not one JSON value but objects back to back (Kinesis Data Firehose delivers
 * records to S3 without a delimiter unless told to add one), each parsed, when every one is an
 * entry of the format (one source's records); else null, and the line is one that is not.
 */
export function backToBackEntries(line: string, isEntry: (value: JsonObject) => boolean): { texts: string[]; values: JsonObject[] } | null {
  const texts = backToBackObjects(line);
  if (texts === null) return null;
  const values = texts.map(parseJsonLine);
  return values.every((value) => isJsonObject(value) && isEntry(value)) ? { texts, values: values as JsonObject[] } : null;
}

/**
 * The frame shared by the JSON-lines gateway formats (Kong, Tyk, Traefik, API Gateway): a blank
 * line is ignored, a line must be a JSON object with the format's signature, and a FieldError
 * from `fill` becomes an issue naming the field.
 */
export function jsonLineParser(file: string, format: JsonLineFormat): RecordParser {
  /** One entry: a record of the format, one of the software's other lines, or an issue. */
  function readEntry(value: unknown, raw: string, lineNumber: number, sink: RecordSink): void {
    const missing = isJsonObject(value) ? format.missingField(value) : undefined;
    if (missing !== null) {
      if (format.otherLines?.(raw)) return sink.ignore(lineNumber);
      if (missing === undefined) return reportNotAnObject(value, raw, lineNumber, file, sink);
      return reportIssue(sink, file, lineNumber, 'PARSE_NO_MATCH', missing, `no ${missing}: ${format.notThis}`, raw);
    }
    const record = emptyProxyRecord(format.formatId, file, lineNumber, raw);
    try {
      format.fill(record, value as JsonObject);
    } catch (error) {
      if (!(error instanceof FieldError)) throw error;
      return reportIssue(sink, file, lineNumber, error.code, error.field, error.describe(), raw);
    }
    sink.record(record);
  }
  return {
    line(line, lineNumber, sink) {
      if (line.trim().length === 0) {
        sink.ignore(lineNumber);
        return;
      }
      const value = parseJsonLine(line);
      // `{…}{…}`: an API Gateway access log sent through Firehose.
      const joined = value === undefined ? backToBackEntries(line, (entry) => format.missingField(entry) === null) : null;
      if (joined !== null) {
        joined.texts.forEach((text, i) => readEntry(joined.values[i], text, lineNumber, sink));
        return;
      }
      // A batch holds at least one entry of the format; any other array is one line that is not.
      if (format.batches === true && Array.isArray(value) && value.some((element) => isJsonObject(element) && format.missingField(element) === null)) {
        for (const element of value) readEntry(element, JSON.stringify(element) ?? String(element), lineNumber, sink);
        return;
      }
      readEntry(value, line, lineNumber, sink);
    },
    end() {},
  };
}
