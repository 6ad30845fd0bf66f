import { APM_FORMATS } from '../../../parsers/apm-formats.js';
import { FORMATS, findFormat } from '../../../parsers/registry.js';
import { parseBudget } from '../../model/budget.js';
import { parseDuration } from '../../model/duration.js';
import { timeBoundsTest } from '../../pipeline/slice.js';
import { checkWritableDirectory } from '../output-check.js';
import { sliceFromOptions, type SliceOptions } from '../slice-options.js';
import { UsageError } from '../../model/errors.js';
import { severityRank } from '../../model/finding.js';
import { DEFAULT_JOIN_OPTIONS } from '../../join/options.js';
import type { ScanSummary } from '../../scan/run-scan.js';
import { parseShard } from '../../scan/shard.js';
import { ExitCode } from '../exit-codes.js';
import { loadLogFormat } from '../log-format-option.js';
import { isInteractive, terminalSafe } from '../terminal-text.js';
import { closeTerminalLine, onInterrupt } from '../interrupt.js';
import { formatSeverityCounts, plural } from '../../../reports/format.js';
import { failOnSeverity } from './analyze.js';

export interface ScanCommandOptions extends SliceOptions {
  state: string;
  out: string;
  window: string;
  failOn: string;
  quiet?: boolean;
  shard?: string;
  endpoint?: string;
  concurrency: string;
  logFormat?: string;
  keyField?: string;
  budget?: string;
}

/** A progress line that rewrites itself, only when a person is watching stderr. */
function progressLine(): ((text: string) => void) | null {
  if (!isInteractive(process.stderr)) return null;
  // Ctrl-C mid-scan: the prompt goes on a line of its own (the line is cleared at the end otherwise).
  onInterrupt(() => closeTerminalLine(process.stderr));
  return (text) => process.stderr.write(`\r\u001b[2K${terminalSafe(text).slice(0, (process.stderr.columns ?? 120) - 1)}`);
}

/** Runs `alf scan`; returns the exit code. */
export async function scanCommand(sources: string[], options: ScanCommandOptions): Promise<number> {
  if (sources.length === 0) throw new UsageError('no source: give directories, globs or s3://bucket/prefix/ (see alf scan --help)');
  const windowMs = parseDuration(options.window, '--window');
  if (windowMs % 60_000 !== 0) throw new UsageError(`--window must be whole minutes, not "${options.window}"`);
  const concurrency = Number(options.concurrency);
  if (!(Number.isInteger(concurrency) && concurrency >= 1 && concurrency <= 256)) throw new UsageError(`--concurrency must be an integer from 1 to 256, not "${options.concurrency}"`);
  const failOn = failOnSeverity(options.failOn);
  // Shared with alf analyze: --since and --until keep what is read (and a window's report must not
  // shrink when a later run's relative --since moves on), --where is applied at each window's replay.
  const slice = sliceFromOptions(options);
  checkWritableDirectory(options.out, '--out');
  const nowMs = Date.now();
  const { format: logFormat, configFiles } = loadLogFormat(options.logFormat, options.keyField, sources.filter((s) => !s.startsWith('s3://')));
  const candidates = logFormat ? [...APM_FORMATS, logFormat, ...FORMATS.filter((f) => f.kind === 'proxy')] : FORMATS;
  const quiet = options.quiet === true;
  const progress = quiet ? null : progressLine();
  // Loaded only for scans: the AWS SDK and the HTML renderer behind it take ~0.4 s to import.
  const { runScan } = await import('../../scan/run-scan.js');
  const summary = await runScan({
    sources, exclude: configFiles, statePath: options.state, outDir: options.out, windowMs,
    sinceMs: slice.since?.ms ?? null, nowMs,
    shard: options.shard ? parseShard(options.shard) : null, endpoint: options.endpoint, concurrency,
    parse: {
      candidates, formatById: (id) => (logFormat?.id === id ? logFormat : findFormat(id)), keyField: options.keyField,
      keep: timeBoundsTest(slice, DEFAULT_JOIN_OPTIONS) ?? undefined,
    },
    replay: {
      budget: options.budget ? parseBudget(options.budget) : null, keyField: options.keyField, join: DEFAULT_JOIN_OPTIONS,
      slice: { since: null, until: null, where: slice.where },
    },
    progress,
  });
  if (progress) process.stderr.write('\r\u001b[2K');
  const exitCode = failOn !== null && summary.worst !== null && severityRank(summary.worst) >= severityRank(failOn) ? ExitCode.findings : ExitCode.ok;
  // --quiet: one JSON line per run, for log shippers; otherwise a few lines for people.
  if (quiet) process.stderr.write(`${JSON.stringify({ alf: 'scan', ...summary, exitCode })}\n`);
  else process.stderr.write(humanSummary(summary, options.out));
  return exitCode;
}

function humanSummary(summary: ScanSummary, out: string): string {
  const lines = summary.failures.slice(0, 10).map((f) => `alf: scan: could not read ${f.source}: ${f.error} (retried next run)`);
  const bySeverity = formatSeverityCounts(summary.findings);
  lines.push(
    `alf: scan run ${summary.run}${summary.shard ? ` (shard ${summary.shard})` : ''}: ${plural(summary.sourcesListed, 'source')}, ${summary.sourcesRead} read, ` +
      `${summary.sourcesUnchanged} unchanged, ${summary.sourcesFailed} failed; ${plural(summary.linesRead, 'line')}, ${plural(summary.records, 'record')}, ` +
      `${summary.skippedLines} skipped; ${plural(summary.windows.length, 'window')} updated in ${out}; findings: ${bySeverity}`,
  );
  return `${lines.map(terminalSafe).join('\n')}\n`;
}
