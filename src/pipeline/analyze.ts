import type { FormatDef } from '../../parsers/format.js';
import { DETECTION_LINES } from '../../parsers/detect.js';
import { APM_FORMATS } from '../../parsers/apm-formats.js';
import { findFormat } from '../../parsers/registry.js';
import { CapRegistry } from '../statistics/bounded-counter.js';
import { DETECTORS } from '../detectors/registry.js';
import type { DetectorSettings } from '../detectors/detector.js';
import type { FileStats } from '../model/file-stats.js';
import type { SplitSettings } from '../parse/workers/byte-ranges.js';
import { isDeferred, mergeByTime, type DeferredStream, type MergeInput } from './merge-by-time.js';
import type { FormatChoice, FormatMemo, ParsedSource } from '../parse/parse-source.js';
import type { PortableFormatChoice } from '../parse/workers/worker-formats.js';
import { totalSize, type ProgressSink } from '../sources/progress.js';
import { autoWorkers } from '../parse/workers/auto-jobs.js';
import { SourceReader, type WorkerSummary } from '../parse/source-reader.js';
import { resolveInputs, type Source } from '../sources/sources.js';
import { candidateFormats } from '../parse/workers/worker-formats.js';
import { emptyJoinStats } from '../join/join-stats.js';
import { joinStreams } from '../join/join-streams.js';
import type { JoinOptions } from '../join/options.js';
import type { Budget } from '../model/budget.js';
import { UsageError } from '../model/errors.js';
import { severityRank } from '../model/finding.js';
import type { Finding } from '../detectors/registry.js';
import { buildVerdict } from '../findings/verdict.js';
import { startChartSummaries } from './chart-summaries.js';
import type { ApmTransaction, JoinedRequest, LogRecord, ProxyRecord } from '../model/records.js';
import { ALF_VERSION } from '../model/version.js';
import type { Analysis } from './analysis.js';
import { Slicer } from './slice.js';
import { describeSlice, isEmptySlice, type SliceSpec } from './slice-spec.js';

/**
 * The one-way pipeline: sources → lines → records → join → detectors → findings.
 *   1. resolve inputs and parse each source (format given or detected from its first lines);
 *   2. merge each layer's files by time;
 *   3. keep the slice asked for (--since, --until, --where), then join proxy records to APM
 *      transactions in a sliding window;
 *   4. let every detector and chart summary observe each joined request once (a detector that
 *      judges sequences also sees, as context, the requests the slice left out);
 *   5. finish detectors in order and rank their findings.
 */

export interface AnalyzeOptions {
  inputs: readonly string[];
  /** Inputs forced to be read as APM exports. */
  apmInputs: readonly string[];
  /** An nginx log_format (string or directive) for the proxy logs. */
  logFormat?: FormatDef;
  /** The directive `logFormat` was compiled from: parse workers compile their own. Without it, no workers. */
  logFormatDirective?: string;
  /**
   * Parse workers (`--jobs N`): up to N threads read and parse files (a big plain file in
   * line-aligned ranges) while this thread merges, joins and detects. 1 (the default): no worker.
   * `auto`: one per core where they pay (src/parse/workers/auto-jobs.ts).
   */
  jobs?: number | 'auto';
  /** When a file is split into ranges for the workers (tests force a split on small files). */
  split?: SplitSettings;
  /** Input below which `--jobs auto` starts no worker (tests lower it; default AUTO_MIN_INPUT_BYTES). */
  autoJobsMinBytes?: number;
  /** Told, at the end of a run with workers, how many ran and which files were read in ranges. */
  onWorkers?: (summary: WorkerSummary) => void;
  /** Force one format id for every positional input. */
  inputFormat?: string;
  keyField?: string;
  /** `--timezone` for formats that log local time without an offset. */
  timeZone?: string;
  budget: Budget | null;
  join: JoinOptions;
  keepGoing: boolean;
  /** The slice of the traffic to analyse (src/pipeline/slice.ts); none or empty: everything. */
  slice?: SliceSpec;
  /**
   * Extra consumers of the joined stream (the `--joined` pairs export, scheduled scans). They see
   * each joined request once, after the detectors, and are closed when the stream ends.
   */
  observers?: readonly JoinedObserver[];
  /** Told how many bytes were read; the CLI passes a TTY progress bar, tests and scans nothing. */
  progress?: ProgressSink;
  /** Files inside input directories that are not logs (a directory's own log_format .conf). */
  excludeFiles?: readonly string[];
  /** `--follow-symlinks`: read symlinks that lead out of an input directory. */
  followSymlinks?: boolean;
  /** Told the symlinks of an input directory that lead out of it and were passed over. */
  onSymlinksSkipped?: (directory: string, links: readonly string[]) => void;
  /** Already-resolved sources (tests, S3); used instead of resolving `inputs`. */
  sources?: { proxyOrAny: Source[]; apm: Source[] };
  /**
   * Read and parse every input, then analyse none of it (the report holds the files' counters
   * only): what reading costs, which the bench sets against the joined run (issue 26).
   */
  parseOnly?: boolean;
}

export interface JoinedObserver {
  observe(request: JoinedRequest): void;
  /** Called once after the last request; may flush output. */
  close?(): Promise<void> | void;
}

async function* prepend<T>(first: T, rest: AsyncIterator<T>): AsyncGenerator<T> {
  yield first;
  for (;;) {
    const next = await rest.next();
    if (next.done) return;
    yield next.value;
  }
}

interface OpenedSource {
  /** The file's counters; a deferred file's are replaced by its reading's when the merge opens it. */
  stats: FileStats;
  stream: AsyncGenerator<LogRecord[]> | DeferredStream<LogRecord> | null;
}

async function openSource(parsed: ParsedSource): Promise<OpenedSource> {
  const first = await parsed.batches.next();
  if (first.done) return { stats: parsed.stats, stream: null };
  return { stats: parsed.stats, stream: prepend(first.value, parsed.batches) };
}

/**
 * A regular file of a run of several, read up to its first record (which decides its layer and its
 * place in the merge) and closed again, to be read from its start when the merge reaches that
 * record. Open, every file waiting for its turn held a file handle, a 512 KiB read buffer and a
 * batch of up to 2,048 lines: a directory of more files than the handle limit failed with EMFILE
 * (250 files of 4,000 lines under `ulimit -n 200`), and a bucket of small files was held whole (200
 * ALB files of 500 lines: 237 MB peak RSS against 146 MB for the same lines in one file, and
 * twice the collector's time). The probe reads only the file's first chunk.
 */
async function openDeferred(probe: ParsedSource, memo: FormatMemo, reopen: (format: FormatDef | null) => Promise<ParsedSource>): Promise<OpenedSource | null> {
  const first = await probe.batches.next();
  // Detection on the first batch has set the memo to this file's format: read again, it is tried first.
  const format = memo.last;
  // Closes the file: the probe's generator ends, and readLineBatches destroys its stream.
  await probe.batches.return(undefined);
  // No record (a file no format fits on its first lines, an empty or unreadable one): read as before.
  if (first.done) return null;
  const opened: OpenedSource = { stats: probe.stats, stream: null };
  opened.stream = {
    deferred: true,
    first: first.value[0]!,
    open: () => (async function* reread(): AsyncGenerator<LogRecord[]> {
      const parsed = await reopen(format);
      opened.stats = parsed.stats;
      yield* parsed.batches;
    })(),
  };
  return opened;
}

export async function analyze(options: AnalyzeOptions): Promise<Analysis> {
  // 1. Sources and formats.
  const listing = { followSymlinks: options.followSymlinks, onSymlinksSkipped: options.onSymlinksSkipped };
  const proxyOrAny = options.sources?.proxyOrAny ?? (await resolveInputs(options.inputs, { ...listing, exclude: new Set(options.excludeFiles) }));
  const apmSources = options.sources?.apm ?? (await resolveInputs(options.apmInputs, listing));
  const progress = options.progress;
  progress?.start(totalSize([...proxyOrAny, ...apmSources]), proxyOrAny.length + apmSources.length);
  let forced: FormatDef | undefined;
  if (options.inputFormat) {
    forced = findFormat(options.inputFormat);
    if (!forced) throw new UsageError(`unknown --input-format "${options.inputFormat}" (see \`alf formats\`)`);
  }
  const candidates = candidateFormats(options.logFormat);
  const memo: FormatMemo = { last: null };
  const common = { keyField: options.keyField, timeZone: options.timeZone, keepGoing: options.keepGoing, memo };
  const auto = options.jobs === 'auto' ? await autoWorkers([...proxyOrAny, ...apmSources], options.autoJobsMinBytes) : null;
  const jobs = auto?.workers ?? (options.jobs === 'auto' ? 1 : options.jobs ?? 1);
  const reader = new SourceReader({
    // Workers compile the log_format from its text; a caller that gave only the compiled format gets none.
    jobs: options.logFormat === undefined || options.logFormatDirective !== undefined ? jobs : 1,
    auto: auto === null ? undefined : { noneBecause: auto.noneBecause },
    workerFiles: [...proxyOrAny, ...apmSources].filter((source) => source.path !== undefined).length,
    split: options.split, keepGoing: options.keepGoing, progress,
  });
  const portable = { logFormat: options.logFormatDirective, keyField: options.keyField, timeZone: options.timeZone };
  try {
    const opened: OpenedSource[] = [];
    const several = proxyOrAny.length + apmSources.length > 1;
    const open = async (source: Source, choice: FormatChoice, portableChoice: PortableFormatChoice): Promise<OpenedSource> => {
      if (!several || source.rereadable !== true || !reader.readsOnMainThread(source)) return openSource(await reader.read(source, choice, portableChoice));
      // Detected on its first DETECTION_LINES lines, as every file is first; when those do not tell, the file is read as before.
      const probe = reader.probe(source, { ...choice, firstBatchLines: DETECTION_LINES, stopWhenUndetected: true });
      // Read again with the format the probe found tried first: the same answer, sooner, whatever files came between.
      const deferred = await openDeferred(probe, memo, (format) => reader.read(source, { ...choice, memo: { last: format } }, portableChoice));
      return deferred ?? openSource(await reader.read(source, choice, portableChoice));
    };
    for (const source of proxyOrAny) opened.push(await open(source, { ...common, candidates, forced }, { ...portable, forced: forced?.id, candidates: 'any' }));
    for (const source of apmSources) opened.push(await open(source, { ...common, candidates: APM_FORMATS }, { ...portable, candidates: 'apm' }));

    if (options.parseOnly === true) {
      for (const source of opened) if (source.stream) for await (const batch of isDeferred(source.stream) ? source.stream.open() : source.stream) void batch;
      return await analyzeRecords({
        proxyStreams: [], apmStreams: [], files: () => opened.map((o) => o.stats),
        budget: options.budget, keyField: options.keyField, join: options.join,
      });
    }

    // 2. Each layer's files merged by time.
    const proxyStreams = opened.filter((o) => o.stats.kind === 'proxy' && o.stream).map((o) => o.stream as MergeInput<ProxyRecord>);
    const apmStreams = opened.filter((o) => o.stats.kind === 'apm' && o.stream).map((o) => o.stream as MergeInput<ApmTransaction>);
    return await analyzeRecords({
      proxyStreams, apmStreams, files: () => opened.map((o) => o.stats),
      budget: options.budget, keyField: options.keyField, join: options.join, observers: options.observers, slice: options.slice,
    });
  } finally {
    progress?.stop();
    const workers = reader.summary();
    if (workers !== null) options.onWorkers?.(workers);
    await reader.close();
  }
}

/** Steps 2 to 5 on already-parsed record streams (scheduled scans replay spooled records through here). */
export interface RecordStreams {
  proxyStreams: MergeInput<ProxyRecord>[];
  apmStreams: MergeInput<ApmTransaction>[];
  /** Read after the streams end: per-file counters are only complete then. */
  files: () => FileStats[];
  budget: Budget | null;
  keyField?: string;
  join: JoinOptions;
  observers?: readonly JoinedObserver[];
  slice?: SliceSpec;
}

async function* keepOnly<T>(batches: AsyncIterable<T[]>, keep: (record: T) => boolean): AsyncGenerator<T[]> {
  for await (const batch of batches) {
    const kept = batch.filter(keep);
    if (kept.length > 0) yield kept;
  }
}

export async function analyzeRecords(input: RecordStreams): Promise<Analysis> {
  const hasApm = input.apmStreams.length > 0;
  // No slice, no wrapper: the usual run pays nothing for the option.
  const slicer = input.slice && !isEmptySlice(input.slice) ? new Slicer(input.slice, input.join) : null;
  const mergedProxy = mergeByTime(input.proxyStreams, (record) => record.endMs);
  const mergedApm = hasApm ? mergeByTime(input.apmStreams, (record) => record.startMs) : null;
  const proxyRecords = slicer ? keepOnly(mergedProxy, (record) => slicer.mayCompete(record)) : mergedProxy;
  const apmRecords = slicer && mergedApm ? keepOnly(mergedApm, (record) => slicer.mayJoin(record)) : mergedApm;

  // 3 + 4. Join, and let detectors and summaries observe.
  const settings: DetectorSettings = { budget: input.budget, hasApm };
  // Counters a detector makes in `start` register with the run's CapRegistry, so the report can say
  // which caps were hit without any detector reporting its own.
  const caps = new CapRegistry();
  const running = DETECTORS.map((detector) => caps.collect(detector.id, () => detector.start(settings)));
  const charts = startChartSummaries();
  const joinStats = emptyJoinStats();
  const observers = input.observers ?? [];
  // Detector by detector over each batch, not record by record through every detector: each one's
  // tables stay in cache for a whole batch (2,048 joined requests) instead of being evicted by the
  // others' at every record. Same order of requests for each, so the same findings. `alf analyze`
  // of the bench's 1 M high-cardinality extended lines: 6.61 -> 6.27 s CPU (medians of 4,
  // alternating); combined, 2.88 -> 2.80 s.
  for await (const joined of joinStreams(proxyRecords, apmRecords, input.join, joinStats)) {
    let batch = joined;
    let kept: Uint8Array | null = null;
    if (slicer !== null) {
      batch = [];
      kept = new Uint8Array(joined.length);
      for (let i = 0; i < joined.length; i++) {
        if (slicer.keepJoined(joined[i]!)) {
          kept[i] = 1;
          batch.push(joined[i]!);
        }
      }
    }
    for (const detector of running) {
      if (kept !== null && detector.observeOutside !== undefined) {
        for (let i = 0; i < joined.length; i++) {
          if (kept[i] === 1) detector.observe(joined[i]!);
          else detector.observeOutside(joined[i]!);
        }
      } else {
        for (const request of batch) detector.observe(request);
      }
    }
    charts.observeBatch(batch);
    for (const observer of observers) for (const request of batch) observer.observe(request);
  }
  for (const observer of observers) await observer.close?.();
  if (slicer !== null) Object.assign(joinStats, slicer.joinFigures());

  // 5. Findings, ranked by severity (stable: registry order breaks ties).
  const files = input.files();
  const findings: Finding[] = [];
  for (const detector of running) {
    findings.push(...detector.finish({ ...settings, files, join: joinStats, earlier: findings }));
  }
  findings.sort((a, b) => severityRank(b.severity) - severityRank(a.severity));
  const inputs = { files, totals: totals(files), timeRange: timeRange(files) };

  return {
    schemaVersion: 2,
    alfVersion: ALF_VERSION,
    generatedAt: new Date().toISOString(),
    inputs,
    settings: { budget: input.budget?.text ?? null, keyField: input.keyField ?? null, hasApm },
    slice: slicer === null ? null : {
      description: describeSlice(slicer.spec),
      since: slicer.spec.since === null ? null : new Date(slicer.spec.since.ms).toISOString(),
      until: slicer.spec.until === null ? null : new Date(slicer.spec.until.ms).toISOString(),
      where: slicer.spec.where.map((clause) => clause.text),
      ...slicer.counts,
    },
    join: joinStats,
    verdict: buildVerdict({ findings, timeRange: inputs.timeRange, totals: inputs.totals, hasApm, slice: slicer === null ? null : slicer.counts }),
    findings,
    limits: caps.hits(),
    charts: charts.finish(),
  };
}

function totals(files: readonly FileStats[]): Analysis['inputs']['totals'] {
  const sum = { linesRead: 0, records: 0, skipped: 0, ignored: 0, proxyRecords: 0, apmRecords: 0 };
  for (const file of files) {
    sum.linesRead += file.linesRead;
    sum.records += file.records;
    sum.skipped += file.skipped;
    sum.ignored += file.ignored;
    if (file.kind === 'proxy') sum.proxyRecords += file.records;
    if (file.kind === 'apm') sum.apmRecords += file.records;
  }
  return sum;
}

function timeRange(files: readonly FileStats[]): Analysis['inputs']['timeRange'] {
  const firsts = files.map((f) => f.firstTimeMs).filter((t): t is number => t !== null);
  const lasts = files.map((f) => f.lastTimeMs).filter((t): t is number => t !== null);
  if (firsts.length === 0 || lasts.length === 0) return null;
  return { from: new Date(Math.min(...firsts)).toISOString(), to: new Date(Math.max(...lasts)).toISOString() };
}
