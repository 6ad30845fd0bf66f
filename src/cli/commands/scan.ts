import { APM_FORMATS } from '../../../parsers/apm-formats.js';
import { FORMATS, findFormat } from '../../../parsers/registry.js';
import type { Budget } from '../../model/budget.js';
import { timeBoundsTest } from '../../pipeline/slice.js';
import { checkWritableDirectory } from '../output-check.js';
import { sliceFromOptions, type SliceOptions } from '../slice-options.js';
import { InputError, UsageError } from '../../model/errors.js';
import { severityRank, type Severity } from '../../model/finding.js';
import { DEFAULT_JOIN_OPTIONS } from '../../join/options.js';
import type { ScanSummary } from '../../scan/run-scan.js';
import { parseShard } from '../../scan/shard.js';
import { ExitCode } from '../exit-codes.js';
import { loadLogFormat } from '../../parse/log-format.js';
import { isInteractive, terminalLine } from '../terminal-text.js';
import { closeTerminalLine, onInterrupt } from '../interrupt.js';
import { formatDuration, formatSeverityCounts, plural } from '../../../reports/format.js';
import { failOnSeverity, type FailOn } from '../shared-options.js';
import { jsonLine } from '../json-line.js';
import type { WindowFormat } from '../../model/window-formats.js';
import { join } from 'node:path';

export interface ScanCommandOptions extends SliceOptions {
  state?: string;
  queue?: string;
  /** False with --no-wait. */
  wait?: boolean;
  splitMinBytes?: string;
  splitRangeBytes?: string;
  out: string;
  /** ms, whole minutes; parsed by commander like every duration here (src/cli/shared-options.ts). */
  window: number;
  failOn: FailOn;
  quiet?: boolean;
  shard?: string;
  endpoint?: string;
  /** ms and a count, parsed by commander (src/cli/shared-options.ts). */
  s3Timeout: number;
  concurrency?: number;
  logFormat?: string;
  keyField?: string;
  /** `--timezone`, checked by commander (src/cli/shared-options.ts). */
  timezone?: string;
  budget?: Budget;
  followSymlinks?: boolean;
  /** ms; 0: do not wait. */
  lockWait: number;
  /** ms. */
  retain?: number;
  /** `--format`, parsed by commander (src/cli/shared-options.ts). */
  format: WindowFormat[];
}

/** A progress line that rewrites itself, only when a person is watching stderr. */
function progressLine(): ((text: string) => void) | null {
  if (!isInteractive(process.stderr)) return null;
  // Ctrl-C mid-scan: the prompt goes on a line of its own (the line is cleared at the end otherwise).
  onInterrupt(() => closeTerminalLine(process.stderr));
  return (text) => process.stderr.write(`\r\u001b[2K${terminalLine(text).slice(0, (process.stderr.columns ?? 120) - 1)}`);
}

/** Names listed in the --quiet JSON line (counts carry the rest; manifest.json has them all). */
const LISTED = 100;

/**
 * Runs `alf scan`; returns the exit code: 2 when any source could not be read or no format fits
 * it, when spool damage was found, or when the run could not finish (after reading the others);
 * else 1 when a finding reaches --fail-on; else 0. With --quiet, stderr gets exactly one JSON
 * line in every case, the error included.
 */
export async function scanCommand(sources: string[], options: ScanCommandOptions): Promise<number> {
  const quiet = options.quiet === true;
  try {
    return await scan(sources, options, quiet);
  } catch (error) {
    const { ScanFailed } = await import('../../scan/run-scan.js');
    const { describeOperational, isOperational } = await import('../../scan/operational.js');
    const cause = error instanceof ScanFailed ? error.cause : error;
    // A bug stays a bug (exit 3 with its stack); everything else is one line and exit 2.
    if (!(cause instanceof UsageError) && !isOperational(cause)) throw cause;
    const message = describeOperational(cause);
    if (!quiet) throw new InputError(message);
    const summary = error instanceof ScanFailed ? error.summary : null;
    process.stderr.write(jsonLine({ alf: 'scan', ...(summary ? listed(summary) : {}), error: message, exitCode: ExitCode.usage }));
    return ExitCode.usage;
  }
}

async function scan(sources: string[], options: ScanCommandOptions, quiet: boolean): Promise<number> {
  if (sources.length === 0) throw new UsageError('no source: give directories, globs or s3://bucket/prefix/ (see alf scan --help)');
  const windowMs = options.window;
  const concurrency = options.concurrency;
  const s3TimeoutMs = options.s3Timeout;
  if (!(s3TimeoutMs >= 100)) throw new UsageError(`--s3-timeout must be at least 100ms, not ${s3TimeoutMs}ms`);
  const lockWaitMs = options.lockWait;
  const retainMs = options.retain ?? null;
  if (retainMs !== null && retainMs < windowMs) throw new UsageError(`--retain (${formatDuration(retainMs / 1000)}) must be at least one --window (${formatDuration(windowMs / 1000)})`);
  const failOn = failOnSeverity(options.failOn);
  if (options.queue !== undefined) return queuedScan(sources, options, { windowMs, s3TimeoutMs, failOn }, quiet);
  if (options.state === undefined) throw new UsageError('--state is required (or --queue redis://… to run the scan on alf worker processes)');
  const statePath = options.state;
  // Shared with alf analyze: --since and --until keep what is read (and a window's report must not
  // shrink when a later run's relative --since moves on), --where is applied at each window's replay.
  const slice = sliceFromOptions(options);
  checkWritableDirectory(options.out, '--out');
  const nowMs = Date.now();
  const { format: logFormat, configFiles } = loadLogFormat(options.logFormat, options.keyField, sources.filter((s) => !s.startsWith('s3://')));
  const candidates = logFormat ? [...APM_FORMATS, logFormat, ...FORMATS.filter((f) => f.kind === 'proxy')] : FORMATS;
  const progress = quiet ? null : progressLine();
  // Loaded only for scans: the AWS SDK and the HTML renderer behind it take ~0.4 s to import.
  const { runScan, scanComplete } = await import('../../scan/run-scan.js');
  const summary = await runScan({
    sources, exclude: configFiles, statePath, outDir: options.out, windowMs,
    sinceMs: slice.since?.ms ?? null, nowMs,
    shard: options.shard ? parseShard(options.shard) : null, endpoint: options.endpoint, s3TimeoutMs, concurrency,
    followSymlinks: options.followSymlinks === true, lockWaitMs, retainMs,
    parse: {
      candidates, formatById: (id) => (logFormat?.id === id ? logFormat : findFormat(id)), keyField: options.keyField, timeZone: options.timezone,
      keep: timeBoundsTest(slice, DEFAULT_JOIN_OPTIONS) ?? undefined,
    },
    replay: {
      budget: options.budget ?? null, keyField: options.keyField, join: DEFAULT_JOIN_OPTIONS,
      slice: { since: null, until: null, where: slice.where },
      formats: options.format,
    },
    progress,
  }).finally(() => {
    if (progress) process.stderr.write('\r\u001b[2K');
  });
  const exitCode = !scanComplete(summary) ? ExitCode.usage
    : failOn !== null && summary.worst !== null && severityRank(summary.worst) >= severityRank(failOn) ? ExitCode.findings : ExitCode.ok;
  // --quiet: one JSON line per run, for log shippers; otherwise a few lines for people.
  if (quiet) process.stderr.write(jsonLine({ alf: 'scan', ...listed(summary), exitCode }));
  else process.stderr.write(humanSummary(summary, options.out));
  return exitCode;
}

/**
 * `alf scan --queue`: the run as map and reduce tasks on Redis for `alf worker` processes; waits
 * for the outcome (unless --no-wait) and exits as a local scan would: 2 when a source could not be
 * read or fits no format, or a task failed; else 1 when a finding reaches --fail-on; else 0.
 */
async function queuedScan(sources: string[], options: ScanCommandOptions, parsed: { windowMs: number; s3TimeoutMs: number; failOn: Severity | null }, quiet: boolean): Promise<number> {
  for (const [given, name] of [[options.shard, '--shard'], [options.state, '--state']] as const) {
    if (given !== undefined) throw new UsageError(`${name} does not go with --queue: a queued run keeps what it read in --out, for every worker to see (docs/queue.md)`);
  }
  const { parseQueueUrl } = await import('../../scan/queue/redis-url.js');
  const connection = parseQueueUrl(options.queue!);
  const slice = sliceFromOptions(options);
  checkWritableDirectory(options.out, '--out');
  // Fails here, before anything is enqueued, when the format cannot be loaded.
  loadLogFormat(options.logFormat, options.keyField, sources.filter((s) => !s.startsWith('s3://')));
  const { enqueueScan, waitForRun, QUEUE_SPLIT } = await import('../../scan/queue/enqueue.js');
  const split = { minBytes: Number(options.splitMinBytes ?? QUEUE_SPLIT.minBytes), rangeBytes: Number(options.splitRangeBytes ?? QUEUE_SPLIT.rangeBytes) };
  if (!(split.minBytes >= 1 && split.rangeBytes >= 1)) throw new UsageError('--split-min-bytes and --split-range-bytes must be positive numbers');
  const settings = {
    windowMs: parsed.windowMs, keyField: options.keyField, timeZone: options.timezone, budget: options.budget ?? null, logFormat: options.logFormat, where: slice.where,
    sinceMs: slice.since?.ms ?? null, untilMs: slice.until?.ms ?? null, endpoint: options.endpoint, s3TimeoutMs: parsed.s3TimeoutMs,
    formats: options.format, retainMs: options.retain ?? null,
  };
  // Runs into one --out add up (the index task adds this run's windows to the manifest's): its
  // windows must be of this --window, and a manifest that cannot be read must not be replaced.
  const { loadManifest, MANIFEST } = await import('../../scan/manifest.js');
  const loaded = await loadManifest(options.out);
  if (loaded.corrupt !== null) throw new InputError(`${join(options.out, MANIFEST)} is ${loaded.corrupt}: restore it, or move it aside (the reports stay) to start the index over`);
  if (loaded.manifest !== null && loaded.manifest.windowMs !== parsed.windowMs) {
    throw new UsageError(`${options.out} holds windows of --window ${loaded.manifest.windowMs / 60_000}m; use the same window or another --out`);
  }
  const { mkdir } = await import('node:fs/promises');
  await mkdir(options.out, { recursive: true });
  const run = await enqueueScan({ sources, outDir: options.out, connection, settings, followSymlinks: options.followSymlinks === true, split });
  if (run.ledgerNote !== null && !quiet) process.stderr.write(`${terminalLine(`alf: scan: ${run.ledgerNote}`)}\n`);
  if (options.wait === false) {
    if (quiet) process.stderr.write(jsonLine({ alf: 'scan', queued: run, exitCode: ExitCode.ok }));
    else process.stderr.write(`alf: scan: run ${run.runId} enqueued: ${plural(run.listed, 'source')} (${run.unchanged} read before, unchanged), ${plural(run.tasks, 'map task')}; alf worker processes take it from here\n`);
    process.stdout.write(`${run.runId}\n`);
    return ExitCode.ok;
  }
  const progress = quiet ? null : progressLine();
  const outcome = await waitForRun(connection, run.runId, progress && ((counts) => progress(
    `alf scan: run ${run.runId}: ${counts.completed ?? 0} tasks done, ${counts.active ?? 0} running, ${counts.waiting ?? 0} waiting`)))
    .finally(() => { if (progress) process.stderr.write('\r\u001b[2K'); });
  const complete = outcome.failures.length === 0 && outcome.unparsed.length === 0;
  const exitCode = !complete ? ExitCode.usage
    : parsed.failOn !== null && outcome.worst !== null && severityRank(outcome.worst) >= severityRank(parsed.failOn) ? ExitCode.findings : ExitCode.ok;
  if (quiet) {
    process.stderr.write(jsonLine({ alf: 'scan', ...outcome, ledgerNote: run.ledgerNote, failures: outcome.failures.slice(0, LISTED), unparsed: outcome.unparsed.slice(0, LISTED), exitCode }));
  } else {
    const lines: string[] = [];
    for (const f of outcome.failures.slice(0, 10)) lines.push(`alf: scan: could not read ${f.source}: ${f.error}`);
    for (const u of outcome.unparsed.slice(0, 10)) lines.push(`alf: scan: no format fits ${u.source}: ${u.reason}`);
    if (outcome.keptWindows.length > 0) lines.push(`alf: scan: kept the earlier reports of ${plural(outcome.keptWindows.length, 'window')} --since/--until cut through: ${outcome.keptWindows.slice(0, 5).join(', ')}${outcome.keptWindows.length > 5 ? ', …' : ''}`);
    if (outcome.failures.length + outcome.unparsed.length > 20) lines.push(`alf: scan: more problems listed in ${options.out}/manifest.json`);
    lines.push(`alf: scan run ${outcome.runId} (queued): ${plural(outcome.sourcesListed, 'source')} (${outcome.sourcesUnchanged} read before, unchanged) in ${plural(run.tasks, 'map task')}, ${outcome.failures.length} failed, ` +
      `${outcome.unparsed.length} unparsed; ${plural(outcome.linesRead, 'line')}, ${plural(outcome.records, 'record')}, ${outcome.skippedLines} skipped; ` +
      `${plural(outcome.windows.length, 'window')} written in ${options.out}; findings: ${formatSeverityCounts(outcome.findings)}`);
    process.stderr.write(`${lines.map(terminalLine).join('\n')}\n`);
  }
  return exitCode;
}

/** The summary with its lists of names cut to LISTED entries (their counts stay whole). */
function listed(summary: ScanSummary): Record<string, unknown> {
  return {
    ...summary,
    failures: summary.failures.slice(0, LISTED),
    unparsed: summary.unparsed.slice(0, LISTED),
    integrity: summary.integrity.slice(0, LISTED),
    symlinksSkipped: summary.symlinksSkipped.slice(0, LISTED),
    counts: { failures: summary.failures.length, unparsed: summary.unparsed.length, integrity: summary.integrity.length, symlinksSkipped: summary.symlinksSkipped.length },
  };
}


function humanSummary(summary: ScanSummary, out: string): string {
  const lines: string[] = [];
  const list = <T>(items: T[], line: (item: T) => string, more: string): void => {
    for (const item of items.slice(0, 10)) lines.push(line(item));
    if (items.length > 10) lines.push(`alf: scan: ${items.length - 10} more ${more} (see ${out}/manifest.json)`);
  };
  list(summary.failures, (f) => `alf: scan: could not read ${f.source}: ${f.error} (tried again next run)`, 'sources could not be read');
  list(summary.unparsed, (u) => `alf: scan: no format fits ${u.source}: ${u.reason} (not marked read; tried again each run)`, 'sources fit no format');
  list(summary.integrity, (i) => `alf: scan: ${i.file}: ${i.problem}`, 'integrity problems');
  if (summary.incompleteWindows.length > 0) lines.push(`alf: scan: ${plural(summary.incompleteWindows.length, 'window')} incomplete until their sources are read again: ${summary.incompleteWindows.slice(0, 5).join(', ')}`);
  if (summary.symlinksSkipped.length > 0) {
    lines.push(`alf: scan: ${plural(summary.symlinksSkipped.length, 'symlink')} lead out of their source and were not followed (--follow-symlinks follows them): ${summary.symlinksSkipped.slice(0, 3).join(', ')}`);
  }
  const bySeverity = formatSeverityCounts(summary.findings);
  lines.push(
    `alf: scan run ${summary.run}${summary.shard ? ` (shard ${summary.shard})` : ''}: ${plural(summary.sourcesListed, 'source')}, ${summary.sourcesRead} read, ` +
      `${summary.sourcesUnchanged} unchanged, ${summary.sourcesFailed} failed, ${summary.unparsed.length} unparsed; ${plural(summary.linesRead, 'line')}, ${plural(summary.records, 'record')}, ` +
      `${summary.skippedLines} skipped; ${plural(summary.windows.length, 'window')} updated in ${out}${summary.prunedWindows ? `, ${summary.prunedWindows} pruned` : ''}; findings: ${bySeverity}`,
  );
  // Each line is one line: a newline in a file name or key must not start a forged one.
  return `${lines.map(terminalLine).join('\n')}\n`;
}
