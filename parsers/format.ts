import type { LogRecord } from '../src/model/records.js';
import type { ParseIssue } from '../src/model/parse-issue.js';

/**
 * What every input format provides. A format is mostly data (an id, a title, an example);
 * `createParser` compiles it once into a per-line parser that allocates as little as it can.
 */
/**
 * What a format is like, declared in its own module so nothing elsewhere keeps a list of formats:
 * byte-range splitting (src/parse/workers/byte-ranges.ts), the detectors' reading of flags and timeouts,
 * and the README's format table (test/generators/format-table.ts) all read these.
 */
export interface FormatTraits {
  /** No state from line to line: a byte range of a big file can be parsed on its own. */
  readonly splittable: boolean;
  /** `line`: a record per line; `document`: records (or the header naming the columns) span lines. */
  readonly unit: 'line' | 'document';
  /** How the format says the client gave up (README). */
  readonly clientGaveUp: string;
  /** How it says the backend never answered (README). */
  readonly backendNeverAnswered: string;
  /** Termination flags with a vocabulary of their own: HAProxy's two-letter session state. */
  readonly flags: 'haproxy-termination' | 'envoy-response-flags' | null;
  /**
   * A 503 answered without trying a backend is this software's own limiter: nginx's `limit_req`
   * and `limit_conn` answer 503 unless `limit_req_status` says otherwise. Elsewhere such a 503 is
   * a missing backend (an ALB with no healthy target, HAProxy's `<NOSRV>`), which is trouble.
   */
  readonly limiterAnswers503?: true;
  /**
   * The setting that bounds the wait for the backend, and its default, for timeout walls; null for
   * APM exports. `status`: what the software answers when that wait runs out, where it is not 504
   * and so reads like the backend's own failure (Apache httpd's mod_proxy_http: 502).
   */
  readonly upstreamTimeout: { readonly setting: string; readonly defaultSeconds: number | null; readonly status?: number } | null;
}

/** Fields every record has, as a format's example must read: start in UTC ISO, status, method, path, client (proxies). */
export interface ExampleFields {
  readonly start: string;
  readonly status: number | null;
  readonly method: string | null;
  readonly path: string | null;
  readonly client?: string | null;
  readonly upstreamStatus?: number | null;
  readonly durationMs?: number;
}

/**
 * Lines the real software wrote, copied from a public source whose licence allows it (the same
 * sources as test/fixtures/real/, which holds more of them with every field): a format's own
 * evidence that it reads what it claims. test/parsers/format-samples.test.ts reads each.
 */
export interface RealSample {
  readonly source: { readonly project: string; readonly path: string; readonly commit: string; readonly licence: string };
  /** The lines of one record (a document format's record may span several). */
  readonly lines: readonly string[];
  /** What its first record holds. */
  readonly fields: ExampleFields;
  /** The format `alf detect` names for these lines when it is not this one (Apache combined reads as nginx combined). */
  readonly detectedAs?: string;
}

export interface FormatDef {
  /** Stable id used on the command line (`--input-format nginx-combined`). */
  readonly id: string;
  readonly title: string;
  /** `proxy` formats produce ProxyRecords, `apm` formats ApmTransactions. */
  readonly kind: 'proxy' | 'apm';
  /** The spec this format follows. */
  readonly url?: string;
  /** One realistic line (or document) shown by `alf formats`. */
  readonly example: string;
  /**
   * What the example's first record holds; every built-in format has it (test/parsers/format-samples.test.ts
   * reads it and checks detection picks this format). A format compiled from `--log-format` has no example line.
   */
  readonly exampleFields?: ExampleFields;
  /**
   * The user named this format (`--log-format`): detection takes it for any file it reads well
   * enough to detect at all, even where a built-in format scores higher (a `combined` that reads
   * every line of a file whose later lines lack the named format's last field).
   */
  readonly named?: true;
  /** Real lines from other projects, with provenance (none where no licence-compatible source exists: test/fixtures/real/README.md). */
  readonly realSamples?: readonly RealSample[];
  /**
   * Parsing a line costs less than handing its record to another thread (encode, copy, decode):
   * `alf analyze --jobs auto` parses such a file on the main thread (src/parse/workers/auto-jobs.ts).
   */
  readonly cheapToParse?: boolean;
  /**
   * Ids of the other line formats the same software writes to the same file when its operator
   * changes the setting (Traefik's CLF and JSON): a line of their shape is read by them, not skipped
   * (parsers/siblings.ts).
   */
  readonly siblings?: readonly string[];
  readonly traits: FormatTraits;
  createParser(options: ParserOptions): RecordParser;
}

/**
 * The field of an issue on a line a parser knows for its own software's (HAProxy's syslog tag) in a
 * layout it does not read (a custom log-format): detection ranks such a miss closest, so the
 * message for an unreadable file names the software that wrote it.
 */
export const LOG_FORMAT_FIELD = 'log-format';

export interface ParserOptions {
  /** Source name used in records and issues. */
  file: string;
  /** Name of the field that identifies the budget holder (API key), when the user names one. */
  keyField?: string;
  /** `--timezone`: the zone of local times a format writes without an offset (HAProxy's [%tr]). */
  timeZone?: string;
}

/** Receives what a parser produces. Callbacks, not arrays, so the hot path allocates nothing extra. */
export interface RecordSink {
  record(record: LogRecord): void;
  issue(issue: ParseIssue): void;
  /** A line that is not a record and not an error (blank line, CSV header, `#Fields:`). */
  ignore(line: number): void;
  /**
   * A doubt about the file as a whole (Apache %D values that look like seconds): reported with
   * the file, never counted as a skipped line, since every line still became what it should.
   */
  warn(warning: ParseIssue): void;
  /**
   * The record of this line was read from fields the format names, but the line carries more text
   * (reported once per file through `warn`). Detection holds it against the format, so a format
   * that reads the whole line wins over one that reads a prefix of it.
   */
  extra?(line: number): void;
  /**
   * An event of the format's own shape that is, by design, no record: a span that is not a
   * transaction (its lines are ignored too). Detection takes such events as the format's mark
   * where a sample of a long document holds no transaction yet.
   */
  declined?(line: number): void;
}

/**
 * Stateful per-file parser. Line formats emit at most one record per line; document formats
 * (OTLP/JSON, NRQL results) may buffer lines and emit at `end`.
 */
export interface RecordParser {
  line(text: string, lineNumber: number, sink: RecordSink): void;
  end(sink: RecordSink): void;
}

/** APM exports: transactions, not proxy lines; they say nothing of clients giving up or of backends not answering. */
export const APM_TRAITS: FormatTraits = {
  splittable: false, unit: 'document', clientGaveUp: '–', backendNeverAnswered: '–', flags: null, upstreamTimeout: null,
};
