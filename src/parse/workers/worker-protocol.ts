import type { FileStats } from '../../model/file-stats.js';
import type { EncodedBatch } from './record-codec.js';
import type { PortableFormatChoice } from './worker-formats.js';

/** Messages between the main thread and the parse workers (src/parse/workers/parse-worker.ts, parse-pool.ts). */

/** Read one file, or one line-aligned byte range of it, and send its records back. */
export interface ParseTask {
  id: number;
  /** What to open. */
  path: string;
  /** The source's name in records, issues and stats (as the single-threaded run names it). */
  name: string;
  /** Byte range [start, end); a range starts on a line. Absent: the whole file (end: to EOF). */
  start?: number;
  end?: number;
  format: PortableFormatChoice;
  /** The file was found by listing a directory (Source.listed). */
  listed?: boolean;
  /**
   * Batches the worker may send before the main thread has consumed them; each consumed batch
   * gives one back. Infinity for a byte range: its size bounds it, and the pool bounds how many run.
   */
  credit: number;
}

export type ToWorker =
  | { type: 'task'; task: ParseTask }
  | { type: 'credit'; id: number }
  | { type: 'cancel'; id: number };

export interface BatchMessage {
  type: 'batch';
  id: number;
  batch: EncodedBatch;
  /** Known once the first lines are read; the main thread needs `kind` to route the stream. */
  format: string | null;
  kind: 'proxy' | 'apm' | null;
  /** Raw bytes read since the previous message (progress bar). */
  bytes: number;
}

export interface DoneMessage {
  type: 'done';
  id: number;
  /** The source's (or range's) final counters, issue examples and read error, as parseSource left them. */
  stats: FileStats;
  bytes: number;
}

/**
 * The task has sent every batch its credit allows and waits for the main thread to take one.
 * Sent after those batches on the same port, so whoever receives it has received them all.
 */
export interface WaitingMessage {
  type: 'waiting';
  id: number;
}

/** Something other than the input went wrong in the worker: a bug, reported as an internal error. */
export interface FailedMessage {
  type: 'failed';
  id: number;
  message: string;
}

export type FromWorker = BatchMessage | WaitingMessage | DoneMessage | FailedMessage;
