import type { Budget } from '../../model/budget.js';
import type { WhereClause } from '../../pipeline/slice-spec.js';
import type { Severity } from '../../model/finding.js';
import type { WindowSummary } from '../manifest.js';
import type { WindowFormat } from '../../model/window-formats.js';

/**
 * The work of a queued scan as BullMQ jobs, and what each returns. Job data is plain JSON: any
 * worker on any machine rebuilds what it needs from it (the out directory is a shared path).
 *
 *   plan   (parent of every map)    once the maps are done: groups their segments by window and
 *                                   enqueues one reduce per window under one index job
 *   map    (one object or range)    parses it into spool segments of its own
 *   reduce (one window)             replays the window's segments (and a margin of its
 *                                   neighbours') and writes that window's reports
 *   index  (parent of every reduce) writes the index page and manifest from the reduces' summaries
 */

export const QUEUE_NAME = 'alf-scan';
/** Directory under --out that holds a queued run's partial results: `<out>/queue/<run id>/`. */
export const QUEUE_DIR = 'queue';

/** What the scan command was told, in a form every worker can rebuild its settings from. */
export interface TaskSettings {
  windowMs: number;
  keyField?: string;
  /** `--timezone`. */
  timeZone?: string;
  budget: Budget | null;
  /** The --log-format value (a preset name, format string, or a path every worker can read). */
  logFormat?: string;
  where: WhereClause[];
  sinceMs: number | null;
  untilMs: number | null;
  endpoint?: string;
  s3TimeoutMs: number;
  /** `--format`: report files per window; absent: json and html. */
  formats?: WindowFormat[];
  /** `--retain`: windows that ended longer ago go, with their reports and segments; absent or null: all kept. */
  retainMs?: number | null;
}

export type MapSource =
  /**
   * `settledTail`: the range ends the file, untouched for SETTLED_TAIL_MS: its last line counts without a newline.
   * `named`: the file was a source itself, not found in a directory or by a glob (Source.listed).
   */
  | { kind: 'file'; path: string; gzip: boolean; from: number; end: number; formatId?: string; settledTail?: boolean; named?: boolean }
  | { kind: 's3'; bucket: string; key: string; etag: string; size: number; lastModifiedMs: number };

/**
 * An object as listed, which the object ledger (src/scan/queue/object-ledger.ts) remembers once
 * it is read: a file by its path and the hash of its first bytes, an S3 object by its key and ETag.
 */
export interface ObjectVersion {
  /** The file's absolute path, or `s3://bucket/key`. */
  id: string;
  /** SHA-1 of the file's first `headLength` bytes (decompressed), or the S3 object's ETag. */
  head: string;
  /** 0 for S3 objects. */
  headLength: number;
  /** Bytes on disk or in the bucket when listed. */
  size: number;
  mtimeMs: number;
  gzip: boolean;
}

export interface RunTask {
  runId: string;
  outDir: string;
  settings: TaskSettings;
}

export interface MapTask extends RunTask {
  taskId: string;
  source: MapSource;
  object: ObjectVersion;
  /**
   * The ledger entry whose parts this read continues (the same object grown, or renamed by a log
   * rotation), or null: the object is read whole and replaces any entry of its id.
   */
  continues: string | null;
}

/** A segment a map wrote, relative to `<out>/queue/<run id>/`. */
export interface MapSegment {
  path: string;
  window: string;
  records: number;
  /** Its records a window before may borrow (src/scan/queue/edges.ts); null: none. */
  head: string | null;
  /** Its records the windows after may borrow; null: none. */
  tail: string | null;
}

export interface MapResult {
  source: string;
  object: ObjectVersion;
  continues: string | null;
  /** Where the next read of the object starts: past the last complete line read (decompressed bytes). */
  end: number;
  /** Read to its end, or to its last complete line, without an error: the ledger may remember it. */
  complete: boolean;
  /** Where in the source this task started (byte offset; 0 but for byte ranges of a file). */
  from: number;
  segments: MapSegment[];
  linesRead: number;
  records: number;
  skipped: number;
  /** The source could not be read (named in the outcome, exit 2), or null. */
  failure: string | null;
  /** No format fits the source (named, exit 2), or null. */
  unparsed: string | null;
}

export interface PlanTask extends RunTask {
  /** The out directory's run lock in Redis (src/scan/queue/run-lock.ts), given back by the index task. */
  lockKey: string;
  listed: number;
  /** Objects the ledger holds as they are now: not read again. */
  unchanged: number;
  /** Ledger entries found under another name (a log rotation) with nothing new to read. */
  renamed: { from: string; to: ObjectVersion }[];
  /** Sources that failed while listing (named in the outcome). */
  listFailures: { source: string; error: string }[];
}

/**
 * A segment for a reduce, relative to `<out>/queue/` (it may be an earlier run's, kept by the object
 * ledger). A byte range's records count lines from the range's start: `lineOffset` is the lines
 * of the ranges before it, known once every map is done.
 */
export interface SegmentRef {
  path: string;
  lineOffset: number;
}

export interface ReduceTask extends RunTask {
  label: string;
  /** The window's own segments (their counters are the window's). */
  own: SegmentRef[];
  /** Segments of neighbouring windows within the join's reach: records only, counters not counted. */
  margin: SegmentRef[];
}

export interface ReduceResult {
  summary: WindowSummary;
  worst: Severity | null;
  seconds: number;
}

export interface IndexTask extends RunTask {
  lockKey: string;
  listed: number;
  unchanged: number;
  /** What the run adds to the object ledger once its reports are written. */
  ledger: LedgerUpdate;
  /** Windows reduced although --since or --until cut through them (no earlier report to keep): marked incomplete. */
  partialWindows: string[];
  /** Windows --since or --until cut through whose earlier report this run kept rather than rewrote. */
  keptWindows: string[];
  maps: number;
  failures: { source: string; error: string }[];
  unparsed: { source: string; reason: string }[];
  linesRead: number;
  records: number;
  skipped: number;
}

/** The outcome `alf scan --queue` reports, returned by the index job. */
export interface QueueOutcome {
  runId: string;
  sourcesListed: number;
  /** Sources listed that the object ledger says were read whole already: not read again. */
  sourcesUnchanged: number;
  /** Tasks the run took: maps, reduces, the plan and the index. */
  tasks: number;
  /** Of those, map tasks: one per object or byte range read. */
  maps: number;
  failures: { source: string; error: string }[];
  unparsed: { source: string; reason: string }[];
  linesRead: number;
  records: number;
  skippedLines: number;
  windows: string[];
  /** Windows the run's --since or --until cut through whose earlier report it kept (see IndexTask). */
  keptWindows: string[];
  /** Windows past --retain removed, with their reports and segments. */
  prunedWindows: number;
  findings: Partial<Record<Severity, number>>;
  worst: Severity | null;
  /** Seconds each window's reduce took, by label (the bench reads them). */
  reduceSeconds: Record<string, number>;
}

/** One read of an object: a map task's result, kept by the ledger with paths relative to `<out>/queue/`. */
export interface LedgerPart {
  from: number;
  end: number;
  linesRead: number;
  segments: MapSegment[];
}

/** An object the ledger remembers: the version last read, and every part read of it. */
export interface LedgerEntry extends Omit<ObjectVersion, 'id'> {
  /** Where the next read starts (decompressed bytes). */
  read: number;
  /** The --since/--until the parts were read within (records outside were not spooled). */
  sinceMs: number | null;
  untilMs: number | null;
  parts: LedgerPart[];
}

/** Entries to write (replacing any of the same id) and ids to drop (renamed away). */
export interface LedgerUpdate {
  set: Record<string, LedgerEntry>;
  remove: string[];
}

export const planJobId = (runId: string): string => `${runId}-plan`;
export const indexJobId = (runId: string): string => `${runId}-index`;
