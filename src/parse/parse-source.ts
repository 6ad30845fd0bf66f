import type { FormatDef, RecordParser, RecordSink } from '../../parsers/format.js';
import { closestText, jsonShapeHint, detectFirstLines, looksLikeRequestRecord, nonRequestFormat, SERVER_OWN_LINES, type Detection } from '../../parsers/detect.js';
import { withSiblings } from '../../parsers/siblings.js';
import type { LogRecord } from '../model/records.js';
import { InputError } from '../model/errors.js';
import { excerpt } from '../model/parse-issue.js';
import { countIssue, emptyFileStats, noteWarning, type FileStats } from '../model/file-stats.js';
import { MAX_LINE_BYTES } from '../lines/line-cap.js';
import { readLineBatches } from '../lines/lines.js';
import { ContainerLogReader, detectContainerWrapper, FALLBACK_WRAPPERS, looksWrapped, sampleInsideWrapper, type FallbackWrapper, type UnwrapEvents, type UnwrappedLine } from '../lines/container-log.js';
import type { Source } from '../sources/sources.js';

/**
 * One source to a stream of record batches, in file order. The format is either given or
 * detected from the first batch of lines; the first batch is then parsed like any other.
 */

export interface FormatChoice {
  /** Forced format for this source, if the user named one. */
  forced?: FormatDef;
  /** Candidates for detection, most specific first. */
  candidates: readonly FormatDef[];
  keyField?: string;
  /** `--timezone`, for formats that log local time without an offset. */
  timeZone?: string;
  /** Record a read error in the file's stats and go on, instead of failing the run. */
  keepGoing?: boolean;
  /** Lines already consumed before this read (a scan resuming mid-file), so evidence keeps file line numbers. */
  lineOffset?: number;
  /** Stop reading once no format fits the first lines (a scan retries such a file whole on its next run). */
  stopWhenUndetected?: boolean;
  /** The run's last detected format, tried first on this file and updated by its detection (FormatMemo). */
  memo?: FormatMemo;
  /**
   * Lines of the first batch (default BATCH_LINES): a look at a file's first record decodes no
   * more lines than detection reads first (DETECTION_LINES), and stops (stopWhenUndetected) where
   * those are not enough to tell.
   */
  firstBatchLines?: number;
}

/**
 * The format a run's previous file was detected in. A run's files are mostly one log's rotations
 * or one bucket's objects, so that format is tried first on the next file (detectFirstLines).
 * One per run (or per scan), shared by its sources; a worker thread detects without one.
 */
export interface FormatMemo {
  last: FormatDef | null;
}

export interface ParsedSource {
  stats: FileStats;
  /** Record batches in file order. `stats.format` and `stats.kind` are known after the first step. */
  batches: AsyncGenerator<LogRecord[]>;
}

/** Holds the batch being filled; swapped for a fresh array after each yield. */
interface Outbox {
  records: LogRecord[];
}

function statsSink(stats: FileStats, outbox: Outbox): RecordSink {
  return {
    record(record) {
      stats.records++;
      outbox.records.push(record);
    },
    issue(issue) { countIssue(stats, issue); },
    ignore() { stats.ignored++; },
    warn(warning) { noteWarning(stats, warning); },
  };
}

function recordTime(record: LogRecord): number {
  return record.kind === 'proxy' ? record.startMs : record.startMs;
}

export function parseSource(source: Source, choice: FormatChoice): ParsedSource {
  const stats = emptyFileStats(source.name);

  async function* batches(): AsyncGenerator<LogRecord[]> {
    let parser: RecordParser | null = null;
    let undetectable = false;
    /** Set while every line so far is one its server writes besides its requests (see NonRequestLines). */
    let nonRequests: NonRequestLines | null = null;
    const outbox: Outbox = { records: [] };
    const sink = statsSink(stats, outbox);
    const shift = choice.lineOffset ?? 0;
    // Lines inside a container runtime's wrapper (decided on the first batch): what the parsers see.
    let container: ContainerLogReader | null | undefined;
    let unwrapped: UnwrappedLine[] = [];
    const events = unwrapEvents(stats, source.name, shift);
    // Unparseable stderr lines are the application's diagnostics (nginx's error log), not skipped requests.
    const stderrSink: RecordSink = { ...sink, issue() { stats.ignored++; } };
    try {
      for await (const batch of readLineBatches(source.open(), MAX_LINE_BYTES, choice.firstBatchLines)) {
        if (container === undefined) {
          const wrapper = detectContainerWrapper(batch.lines);
          container = wrapper === null ? null : new ContainerLogReader(wrapper, MAX_LINE_BYTES);
          if (wrapper !== null) stats.container = wrapper;
        }
        if (container !== null) {
          unwrapped = [];
          container.unwrap(batch.lines, batch.firstLine, batch.tooLong === undefined ? null : new Set(batch.tooLong), unwrapped, events);
        }
        if (parser === null && !undetectable && container === null && choice.forced === undefined && batch.lines.every(isBlank)) {
          // Blank lines before any content say nothing of the format: a file of them is an empty
          // file (no format, nothing skipped), not one no format fits.
          stats.linesRead += batch.lines.length;
          stats.ignored += batch.lines.length;
          continue;
        }
        // The lines detection sees, while it is pending (not for every batch of a wrapped file once a format is set).
        const texts = parser !== null || undetectable ? [] : container === null ? batch.lines : unwrapped.map((u) => u.text);
        if (parser === null && !undetectable && nonRequests !== null && nonRequests.holdsOnlyOwn(texts, batch.firstLine + shift)) {
          // Still only the server's lines without a request: ignored, and detection waits on.
          stats.linesRead += batch.lines.length;
          stats.ignored += texts.length;
          continue;
        }
        if (parser === null && !undetectable) {
          const detected: DetectedBatch | null = choice.forced === undefined ? detectBatch(source.name, texts, choice.candidates, stats, choice.memo?.last ?? null) : null;
          let format = choice.forced ?? detected!.format;
          const wrapped = format === null && container === null ? unwrapIfItFits(source.name, batch.lines, choice.candidates, stats) : null;
          if (wrapped !== null) {
            format = wrapped.format;
            container = new ContainerLogReader(wrapped.wrapper, MAX_LINE_BYTES);
            stats.container = wrapped.wrapper;
            unwrapped = [];
            container.unwrap(batch.lines, batch.firstLine, batch.tooLong === undefined ? null : new Set(batch.tooLong), unwrapped, events);
          }
          if (format === null && detected?.nonRequests != null) {
            stats.undetected = null;
            nonRequests ??= new NonRequestLines(detected.nonRequests, source.name, texts, (i) => (container === null ? batch.firstLine + i : unwrapped[i]!.line) + shift);
            stats.linesRead += batch.lines.length;
            stats.ignored += texts.length;
            continue;
          }
          if (format === null) {
            undetectable = true;
            if (choice.stopWhenUndetected) return;
            // A file no format fits is unread, like one that cannot be opened: it fails the run
            // unless --keep-going, rather than giving a report that silently lacks it.
            if (!choice.keepGoing) throw readFailure(source.name, stats.undetected ?? 'no known format fits');
          } else {
            stats.format = format.id;
            stats.kind = format.kind;
            if (choice.memo !== undefined && choice.forced === undefined) choice.memo.last = format;
            const options = { file: source.name, keyField: choice.keyField, timeZone: choice.timeZone };
            parser = withSiblings(format, format.createParser(options), options);
          }
        }
        const lines = batch.lines;
        stats.linesRead += lines.length;
        if (container !== null) {
          parseUnwrapped(unwrapped, parser, sink, stderrSink, stats, source.name, shift);
        } else if (parser === null) {
          // Without a format nothing can be parsed: every line is counted as skipped, none vanish,
          // and the first ones are kept as examples like any other skipped line.
          for (let i = 0; i < lines.length; i++) countUnformatted(stats, source.name, batch.firstLine + i + shift, lines[i]!);
        } else if (batch.tooLong === undefined) {
          let i = 0;
          if (stats.records === 0) {
            // A file's first records wait in the merge until its time comes: hand over one now and
            // keep the rest of the batch as lines (see FIRST_YIELD_RECORDS).
            for (; i < lines.length && outbox.records.length < FIRST_YIELD_RECORDS; i++) parser.line(lines[i]!, batch.firstLine + i + shift, sink);
            if (outbox.records.length > 0) yield takeRecords(outbox, stats);
          }
          for (; i < lines.length; i++) parser.line(lines[i]!, batch.firstLine + i + shift, sink);
        } else {
          // Cut lines (over the ingest cap) are never parsed: a truncated line could pass for a record.
          const cut = new Set(batch.tooLong);
          for (let i = 0; i < lines.length; i++) {
            if (!cut.has(batch.firstLine + i)) parser.line(lines[i]!, batch.firstLine + i + shift, sink);
            else events.tooLong(batch.firstLine + i, lines[i]!);
          }
        }
        if (outbox.records.length > 0) yield takeRecords(outbox, stats);
      }
      if (container) {
        unwrapped = [];
        container.end(unwrapped, events);
        parseUnwrapped(unwrapped, parser, sink, stderrSink, stats, source.name, shift);
      }
      if (parser === null && !undetectable && nonRequests !== null) {
        // Nothing but such lines: an error log or a stream of notices, with no request to read.
        const why = nonRequests.describe();
        if (source.listed === true) {
          // Found by listing a directory or a bucket, beside the access logs: passed over, said once.
          noteWarning(stats, { code: 'PARSE_NO_REQUESTS', file: source.name, line: nonRequests.firstLine, field: null, message: why, sample: nonRequests.sample });
        } else {
          // Named as an input: nothing of it parses, which is an error, not an all-clear.
          stats.undetected = why;
          if (!choice.keepGoing && !choice.stopWhenUndetected) throw readFailure(source.name, why);
        }
      }
      if (parser) {
        parser.end(sink);
        if (outbox.records.length > 0) {
          noteTimes(stats, outbox.records);
          yield outbox.records;
        }
        if (stats.kind === 'apm' && stats.records === 0 && stats.skipped === 0 && stats.linesRead > 0) {
          // An export of the format's events, none a transaction (an OTLP document of internal spans,
          // detected on its spans: parsers/detect.ts): nothing to join, which is no all-clear. It
          // fails the run as a file no format fits does, unless --keep-going.
          const why = `${stats.format} holds no transaction (no server or entry span among its ${stats.ignored === 1 ? 'one line' : `${stats.ignored.toLocaleString('en-US')} lines`})`;
          stats.error = why;
          if (!choice.keepGoing) throw readFailure(source.name, why);
        }
      }
    } catch (error) {
      if (error instanceof InputError) throw error;
      const message = describeReadError(error);
      stats.error = message;
      if (!choice.keepGoing) throw readFailure(source.name, message);
    }
  }

  return { stats, batches: batches() };
}

/** Parses lines taken out of a container wrapper; without a format each is a skipped line, as in a plain file. */
function parseUnwrapped(lines: readonly UnwrappedLine[], parser: RecordParser | null, sink: RecordSink, stderrSink: RecordSink, stats: FileStats, file: string, shift: number): void {
  for (const u of lines) {
    if (parser !== null) parser.line(u.text, u.line + shift, u.stderr ? stderrSink : sink);
    else countUnformatted(stats, file, u.line + shift, u.text);
  }
}

/** A line of a file no format fits: skipped, and kept as an example like any other skipped line. */
function countUnformatted(stats: FileStats, file: string, line: number, text: string): void {
  countIssue(stats, { code: 'PARSE_NO_MATCH', file, line, field: null, message: 'no known format fits this file', sample: excerpt(text) });
}

/** How held (continued or blank), bad and over-long lines are counted: read = records + skipped + ignored, wrapped or not. */
function unwrapEvents(stats: FileStats, file: string, shift: number): UnwrapEvents {
  return {
    held() { stats.ignored++; },
    bad(line, text, why) { countIssue(stats, { code: 'PARSE_NO_MATCH', file, line: line + shift, field: null, message: why, sample: excerpt(text) }); },
    tooLong(line, sample) {
      countIssue(stats, { code: 'PARSE_LINE_TOO_LONG', file, line: line + shift, field: null, message: `line longer than ${MAX_LINE_BYTES / 1024 / 1024} MiB: not parsed`, sample: excerpt(sample) });
    },
  };
}

/**
 * Records a file's first step yields at most. Every source of a run takes its first step before any
 * is read on (the format decides the layer), and a rotated file's first records then wait until
 * the merge reaches its hour: with a whole batch each (2,048 records), 24 rotated files of the
 * bench's 1 M high-profile `combined` lines peaked at 227-229 MB RSS in `alf analyze`, with one
 * record each at 199-211 MB (CPU within noise; these records had also tipped V8 into allocating
 * every record in the old generation, see src/cli/heap-policy.ts).
 */
const FIRST_YIELD_RECORDS = 1;

function takeRecords(outbox: Outbox, stats: FileStats): LogRecord[] {
  const records = outbox.records;
  outbox.records = [];
  noteTimes(stats, records);
  return records;
}

function noteTimes(stats: FileStats, records: LogRecord[]): void {
  for (const record of records) {
    const time = recordTime(record);
    if (stats.firstTimeMs === null || time < stats.firstTimeMs) stats.firstTimeMs = time;
    if (stats.lastTimeMs === null || time > stats.lastTimeMs) stats.lastTimeMs = time;
  }
}

/** The error that ends a run on an unreadable file without --keep-going (also for files read by workers). */
export function readFailure(file: string, message: string): InputError {
  return new InputError(`cannot read ${file}: ${message} (use --keep-going to analyse the other files)`);
}

/** Detection on a file's first batch of lines; exported so a file split for workers is detected the same way. */
export function pickFormat(file: string, lines: readonly string[], candidates: readonly FormatDef[], stats: FileStats, preferred: FormatDef | null = null): FormatDef | null {
  return detectBatch(file, lines, candidates, stats, preferred).format;
}

interface DetectedBatch {
  format: FormatDef | null;
  nonRequests: FormatDef | null;
}

/**
 * The format of a batch of lines, or null with why in `stats.undetected`; and when no format fits
 * because every line is one a server writes besides its requests, that server's format
 * (nonRequestFormat).
 */
function detectBatch(file: string, lines: readonly string[], candidates: readonly FormatDef[], stats: FileStats, preferred: FormatDef | null): DetectedBatch {
  const detection = detectFirstLines(candidates, file, lines, preferred);
  if (detection.best) return { format: detection.best.format, nonRequests: null };
  stats.undetected = `no known format fits${closestText(detection, lines, 'was')}${jsonShapeHint(lines, detection)}`;
  return { format: null, nonRequests: nonRequestFormat(detection, lines) };
}

/**
 * A file whose lines so far are all ones its server writes besides its requests: nginx's error log
 * (or `docker logs` of nginx, which begins with its start-up notices), HAProxy's notices, Envoy's
 * component log. Such a line says which server wrote it, not how its requests are laid out, so
 * detection waits for a line that holds one: before, the notices at a log's start failed the file
 * (no format fits), and so did an error log in a directory of access logs, which failed every
 * `alf analyze /var/log/nginx` and every scan of that directory unless told to keep going.
 */
class NonRequestLines {
  private readonly parser: RecordParser;
  private lines = 0;
  readonly firstLine: number;
  readonly sample: string;

  /** `lineOf`: the file's line number of each of `first` (in a container's wrapper, not their index). */
  constructor(format: FormatDef, file: string, first: readonly string[], lineOf: (index: number) => number) {
    this.parser = format.createParser({ file });
    const at = Math.max(0, first.findIndex((line) => !isBlank(line)));
    this.firstLine = lineOf(at);
    this.sample = excerpt(first[at] ?? '');
    this.lines = first.length;
  }

  /** Whether every line of the batch is again one of the format's lines without a request. */
  holdsOnlyOwn(lines: readonly string[], firstLine: number): boolean {
    let other = false;
    const sink: RecordSink = {
      record() { other = true; },
      issue() { other = true; },
      ignore() {},
      warn() {},
    };
    for (let i = 0; i < lines.length && !other; i++) {
      if (looksLikeRequestRecord(lines[i]!)) return false;
      this.parser.line(lines[i]!, firstLine + i, sink);
    }
    if (!other) this.lines += lines.length;
    return !other;
  }

  describe(): string {
    // The sample says which server and what kind of line better than a format's id: nginx's error
    // lines are read as such by kong's, ingress-nginx's and nginx's formats alike.
    const lines = this.lines === 1 ? 'its one line is' : `all ${this.lines.toLocaleString('en-US')} lines are`;
    return `holds no request: ${lines} ${SERVER_OWN_LINES}, as line ${this.firstLine}: ${this.sample}`;
  }
}

/**
 * For a file no format fits as it is: if its lines carry `docker logs --timestamps` times, or a
 * syslog header (a file syslog wrote, `journalctl`), and a format fits the lines inside them, that
 * detection, those lines and the wrapper; else null. Only tried after the plain lines failed,
 * since some formats start with such a time or header themselves (container-log.ts,
 * parseTimestampedLine, parseSyslogLine). `alf detect` and parseSource share it, so they never disagree.
 */
export function detectInsideWrapper(candidates: readonly FormatDef[], file: string, lines: readonly string[]): { detection: Detection; lines: readonly string[]; wrapper: FallbackWrapper } | null {
  for (const wrapper of FALLBACK_WRAPPERS) {
    if (!looksWrapped(lines, wrapper)) continue;
    const inside = sampleInsideWrapper(lines, MAX_LINE_BYTES, wrapper).lines;
    const detection = detectFirstLines(candidates, file, inside);
    if (detection.best) return { detection, lines: inside, wrapper };
  }
  return null;
}

/** parseSource's use of detectInsideWrapper: the format and wrapper inside, with the plain lines' failure cleared. */
function unwrapIfItFits(file: string, lines: readonly string[], candidates: readonly FormatDef[], stats: FileStats): { format: FormatDef; wrapper: FallbackWrapper } | null {
  const inside = detectInsideWrapper(candidates, file, lines);
  if (inside === null) return null;
  stats.undetected = null;
  return { format: inside.detection.best!.format, wrapper: inside.wrapper };
}

export function describeReadError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'Z_BUF_ERROR' || code === 'Z_DATA_ERROR') return `corrupt or truncated gzip data (${(error as Error).message})`;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return (error as Error).message;
}

function isBlank(line: string): boolean {
  return line.trim() === '';
}
