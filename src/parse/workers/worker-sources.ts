import type { LogRecord } from '../../model/records.js';
import type { ByteRange, SplitPlan } from './byte-ranges.js';
import { BATCH_LINES } from '../../lines/lines.js';
import { emptyFileStats, ISSUE_EXAMPLES_PER_FILE, noteWarning, type FileStats } from '../../model/file-stats.js';
import type { ParsePool, TaskChannel } from './parse-pool.js';
import { readFailure, type ParsedSource } from '../parse-source.js';
import { BatchDecoder } from './record-codec.js';
import type { PortableFormatChoice } from './worker-formats.js';

/**
 * Sources read by parse workers, as ParsedSource: the same record batches and the same FileStats
 * a single-threaded parseSource gives, so the rest of the pipeline cannot tell the difference.
 */

export interface WorkerSourceOptions {
  /** Without --keep-going a read error fails the run, with the single-threaded run's message. */
  keepGoing: boolean;
  /** Raw bytes read, for the progress bar. */
  onBytes?: (bytes: number) => void;
}

/**
 * Batches a whole-file task may run ahead of the main thread: 8 rides out a slow batch on either
 * side; with many files, fewer each, so that all of them together hold about as much as 32 batches
 * (~25 MB encoded for combined lines). Never below 2: the main thread merges files by time and
 * needs each one's next batch at hand.
 */
export function fileCredit(files: number): number {
  return Math.max(2, Math.min(8, Math.floor(32 / Math.max(1, files))));
}

/** A whole file (or a gzip file, or a named pipe) parsed by one worker. */
export function parseFileInWorker(
  pool: ParsePool, path: string, name: string, format: PortableFormatChoice, credit: number, options: WorkerSourceOptions, listed?: boolean,
): ParsedSource {
  const stats = emptyFileStats(name);
  // Started now, not on the first pull: the main thread opens sources one after another.
  const channel = pool.startFile({ path, name, format, credit, listed });
  async function* batches(): AsyncGenerator<LogRecord[]> {
    const decoder = new BatchDecoder();
    try {
      for (;;) {
        const message = await channel.next();
        options.onBytes?.(message.bytes);
        if (message.type === 'done') {
          Object.assign(stats, message.stats);
          break;
        }
        stats.format = message.format;
        stats.kind = message.kind;
        const records = decoder.decode(message.batch);
        channel.ack();
        yield records;
      }
    } finally {
      channel.cancel();
    }
    const unread = stats.error ?? (stats.format === null ? stats.undetected : null);
    if (unread !== null && !options.keepGoing) throw readFailure(name, unread);
  }
  return { stats, batches: batches() };
}

/**
 * One big plain file read as line-aligned ranges by several workers and put back in file order.
 * At most `window` ranges are parsed or waiting at once: memory stays at about window × range
 * size, however large the file.
 */
export function parseRangesInWorkers(
  pool: ParsePool, path: string, name: string, plan: SplitPlan, format: PortableFormatChoice, window: number, options: WorkerSourceOptions,
): ParsedSource {
  const stats = emptyFileStats(name);
  // Known before any range is read: the main thread detected it (or it was given).
  stats.format = plan.format.id;
  stats.kind = plan.format.kind;
  const forced: PortableFormatChoice = { ...format, forced: plan.format.id };

  const channels: TaskChannel[] = [];
  const startUpTo = (last: number): void => {
    while (channels.length <= last && channels.length < plan.ranges.length) {
      const range: ByteRange = plan.ranges[channels.length]!;
      channels.push(pool.startRange({ path, name, start: range.start, end: range.end, format: forced, credit: Infinity }));
    }
  };
  startUpTo(window - 1);

  async function* batches(): AsyncGenerator<LogRecord[]> {
    // Lines in the ranges already read: added to each record's and issue's line number.
    let lineBase = 0;
    // Batches are cut where a single-threaded read cuts them (every BATCH_LINES lines of the file),
    // not where ranges end: the join pulls proxy and APM batches in turn, so its result depends on them.
    let batch: LogRecord[] = [];
    let batchIndex = 0;
    try {
      for (let k = 0; k < plan.ranges.length && stats.error === null; k++) {
        startUpTo(k + window - 1);
        const channel = channels[k]!;
        const decoder = new BatchDecoder();
        for (;;) {
          const message = await channel.next();
          options.onBytes?.(message.bytes);
          if (message.type === 'done') {
            addRangeStats(stats, message.stats, lineBase);
            lineBase += message.stats.linesRead;
            break;
          }
          for (const record of decoder.decode(message.batch, lineBase)) {
            const index = Math.floor((record.line - 1) / BATCH_LINES);
            if (index !== batchIndex && batch.length > 0) {
              yield batch;
              batch = [];
            }
            batchIndex = index;
            batch.push(record);
          }
        }
      }
      if (batch.length > 0) yield batch;
    } finally {
      // After a read error a single-threaded read stops there: so do the ranges after it.
      for (const channel of channels) channel.cancel();
    }
    const unread = stats.error ?? (stats.format === null ? stats.undetected : null);
    if (unread !== null && !options.keepGoing) throw readFailure(name, unread);
  }
  return { stats, batches: batches() };
}

/** Adds a range's stats to its file's, in file order, moving its line numbers by the lines before it. */
export function addRangeStats(into: FileStats, range: FileStats, lineBase: number): void {
  if (range.container !== undefined) into.container ??= range.container;
  into.linesRead += range.linesRead;
  into.records += range.records;
  into.skipped += range.skipped;
  into.ignored += range.ignored;
  // Codes keep the order of their first occurrence in the file, as single-threaded counting does.
  for (const [code, count] of Object.entries(range.issuesByCode) as [keyof FileStats['issuesByCode'], number][]) {
    into.issuesByCode[code] = (into.issuesByCode[code] ?? 0) + count;
  }
  for (const issue of range.firstIssues) {
    if (into.firstIssues.length < ISSUE_EXAMPLES_PER_FILE) into.firstIssues.push({ ...issue, line: issue.line + lineBase });
  }
  for (const warning of range.warnings) noteWarning(into, { ...warning, line: warning.line + lineBase });
  into.lateRecords += range.lateRecords;
  if (range.firstTimeMs !== null && (into.firstTimeMs === null || range.firstTimeMs < into.firstTimeMs)) into.firstTimeMs = range.firstTimeMs;
  if (range.lastTimeMs !== null && (into.lastTimeMs === null || range.lastTimeMs > into.lastTimeMs)) into.lastTimeMs = range.lastTimeMs;
  into.error ??= range.error;
}
