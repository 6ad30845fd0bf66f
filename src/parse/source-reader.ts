import { workerPaysFor } from './workers/auto-jobs.js';
import { DEFAULT_SPLIT, fileFormat, planSplit, type SplitSettings } from './workers/byte-ranges.js';
import { ParsePool } from './workers/parse-pool.js';
import { parseSource, type FormatChoice, type ParsedSource } from './parse-source.js';
import { countingSource, type ProgressSink } from '../sources/progress.js';
import type { Source } from '../sources/sources.js';
import type { PortableFormatChoice } from './workers/worker-formats.js';
import { fileCredit, parseFileInWorker, parseRangesInWorkers } from './workers/worker-sources.js';

/**
 * Where each source of a run is parsed: on the main thread (`--jobs 1`, stdin, sources without a
 * path), or in parse workers, a big plain file in line-aligned ranges. Either way the caller gets
 * the same ParsedSource: the same batches and the same FileStats.
 */

export interface WorkerSummary {
  workers: number;
  splitFiles: { file: string; ranges: number }[];
  /** `--jobs auto` was asked for, and why it started no worker (null when it may have). */
  auto: { noneBecause: string | null } | null;
  /** Files `--jobs auto` parsed on the main thread, their format being cheaper to parse than to hand over. */
  mainThreadFiles: { file: string; format: string }[];
}

export interface SourceReaderOptions {
  /** Parse workers at most; 1 means none. */
  jobs: number;
  /** `--jobs auto`: a file whose format is cheap to parse stays on the main thread (auto-jobs.ts). */
  auto?: { noneBecause: string | null };
  /** How many of the run's sources a worker could read (those with a path). */
  workerFiles: number;
  split?: SplitSettings;
  keepGoing: boolean;
  progress?: ProgressSink;
}

/**
 * Ranges of a split file parsed or waiting at once: one per worker and one more, so a worker that
 * finishes its range starts the next while the main thread still reads an earlier one. Peak RSS
 * hardly moved between 2 and 6 (2 M combined lines, --jobs 2: 369-380 MB): the workers' own
 * heaps, not the waiting ranges, are what --jobs costs in memory.
 */
const rangeWindow = (jobs: number): number => jobs + 1;

export class SourceReader {
  private readonly pool: ParsePool | null;
  private readonly split: SplitSettings;
  /**
   * Big files are split only when there are fewer files for the workers than workers: otherwise
   * a worker per file already keeps them all busy, and ranges of several files at once would
   * multiply the memory held by waiting ranges.
   */
  private readonly splitAllowed: boolean;
  private readonly fileCredit: number;
  private readonly splitFiles: WorkerSummary['splitFiles'] = [];
  private readonly mainThreadFiles: WorkerSummary['mainThreadFiles'] = [];

  constructor(private readonly options: SourceReaderOptions) {
    this.pool = options.jobs > 1 ? new ParsePool(options.jobs) : null;
    this.split = options.split ?? DEFAULT_SPLIT;
    this.splitAllowed = options.workerFiles < options.jobs;
    this.fileCredit = fileCredit(options.workerFiles);
  }

  async read(source: Source, choice: FormatChoice, portable: PortableFormatChoice): Promise<ParsedSource> {
    const progress = this.options.progress;
    const onBytes = progress ? (bytes: number): void => progress.advance(bytes) : undefined;
    const onMainThread = (): ParsedSource => parseSource(onBytes ? countingSource(source, onBytes) : source, choice);
    if (this.pool === null || source.path === undefined) return onMainThread();
    if (this.options.auto !== undefined) {
      // An unreadable file goes to a worker, which reports it as a single-threaded run would.
      const format = await fileFormat(source.path, source.name, choice).catch(() => null);
      if (format !== null && !workerPaysFor(format)) {
        this.mainThreadFiles.push({ file: source.name, format: format.id });
        return onMainThread();
      }
      if (format !== null) choice = { ...choice, forced: format };
    }
    const options = { keepGoing: this.options.keepGoing, onBytes };
    const plan = this.splitAllowed && portable.candidates === 'any' ? await planSplit(source.path, source.name, source.size, choice, this.split) : null;
    if (plan === null) return parseFileInWorker(this.pool, source.path, source.name, portable, this.fileCredit, options, source.listed);
    this.splitFiles.push({ file: source.name, ranges: plan.ranges.length });
    return parseRangesInWorkers(this.pool, source.path, source.name, plan, portable, rangeWindow(this.options.jobs), options);
  }

  /**
   * Whether `read` parses this source on the main thread whatever its format: no worker pool, or a
   * source without a path (with `--jobs auto`, a cheap format may keep a file there too).
   */
  readsOnMainThread(source: Source): boolean {
    return this.pool === null || source.path === undefined;
  }

  /**
   * The source parsed on the main thread, its bytes not counted as read: a look at its first
   * records (src/pipeline/analyze.ts, openDeferred), before `read` reads it for the run.
   */
  probe(source: Source, choice: FormatChoice): ParsedSource {
    return parseSource(source, choice);
  }

  /** How many workers ran and which files were split; null without a pool, unless `--jobs auto` was asked for. */
  summary(): WorkerSummary | null {
    const auto = this.options.auto ?? null;
    if (this.pool === null && auto === null) return null;
    return { workers: this.pool?.workerCount ?? 0, splitFiles: this.splitFiles, auto, mainThreadFiles: this.mainThreadFiles };
  }

  /** Ends every worker: after the last batch, or on the first error. No thread outlives the run. */
  async close(): Promise<void> {
    await this.pool?.close();
  }
}
