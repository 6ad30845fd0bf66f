import { writeFile } from 'node:fs/promises';
import { AUTO_MIN_INPUT_BYTES } from '../../parse/workers/auto-jobs.js';
import { DEFAULT_SPLIT, type SplitSettings } from '../../parse/workers/byte-ranges.js';
import { fileProblem, formatLabel } from '../../model/file-stats.js';
import { extname } from 'node:path';
import { renderJson } from '../../../reports/json.js';
import { renderMarkdown } from '../../../reports/markdown.js';
import { describeLimits } from '../../../reports/limits-note.js';
import type { Budget } from '../../model/budget.js';
import { UsageError } from '../../model/errors.js';
import { severityRank } from '../../model/finding.js';
import { DEFAULT_JOIN_OPTIONS, type JoinOptions } from '../../join/options.js';
import { JoinedCsvExport } from '../../../reports/joined-csv-export.js';
import { analyze } from '../../pipeline/analyze.js';
import type { WorkerSummary } from '../../parse/source-reader.js';
import type { Analysis } from '../../pipeline/analysis.js';
import { ExitCode } from '../exit-codes.js';
import { loadLogFormat } from '../../parse/log-format.js';
import { paintSeverity, terminalLine, terminalSafe, useColor } from '../terminal-text.js';
import { progressBar } from '../progress-bar.js';
import { checkWritableFile } from '../output-check.js';
import { failOnSeverity, type FailOn, type ReportFormat } from '../shared-options.js';
import { sliceFromOptions, type SliceOptions } from '../slice-options.js';
import { countBySeverity, formatNumber, formatSeverityCounts, plural } from '../../../reports/format.js';
import { ignoredPart, renderTerminal, renderVerdictAndFindings } from '../../../reports/terminal.js';

export interface AnalyzeCommandOptions extends SliceOptions {
  apm?: string[];
  logFormat?: string;
  inputFormat?: string;
  keyField?: string;
  /** `--timezone`: the zone of local times written without an offset (checked by commander: src/cli/shared-options.ts). */
  timezone?: string;
  budget?: Budget;
  format?: ReportFormat;
  out?: string;
  failOn: FailOn;
  /** Durations in ms, parsed by commander (src/cli/shared-options.ts), as are the numbers below. */
  maxSkew: number;
  clockOffset?: number;
  routeTemplate?: string[];
  minConfidence: number;
  horizon: number;
  keepGoing?: boolean;
  followSymlinks?: boolean;
  jobs: number | 'auto';
  splitMinBytes?: string;
  splitRangeBytes?: string;
  autoJobsMinBytes?: string;
  quiet?: boolean;
  /** `--joined FILE`: the pairs export (reports/joined-csv-export.ts). */
  joined?: string;
  /** Hidden: parse every input and stop there (the bench times the join against it). */
  parseOnly?: boolean;
}

const FORMAT_BY_EXTENSION: Record<string, ReportFormat> = {
  '.html': 'html', '.htm': 'html', '.md': 'md', '.markdown': 'md', '.json': 'json', '.txt': 'text',
};

/**
 * The report format: `--format`; else the `--out` extension (an unknown one is an error, not a
 * JSON file called report.pdf); else, on stdout, the terminal summary for a person at a
 * terminal and JSON for a pipe (as the README documents).
 */
export function chooseReportFormat(format: ReportFormat | undefined, out: string | undefined, stdoutIsTerminal = false): ReportFormat {
  if (format !== undefined) return format;
  if (out === undefined) return stdoutIsTerminal ? 'text' : 'json';
  const extension = extname(out).toLowerCase();
  const chosen = FORMAT_BY_EXTENSION[extension];
  if (chosen === undefined) {
    throw new UsageError(`--out ${out}: ${extension === '' ? 'no extension' : `unknown extension ${extension}`}; use .html, .md, .json or .txt, or say which with --format`);
  }
  return chosen;
}

function joinOptions(options: AnalyzeCommandOptions): JoinOptions {
  const join: JoinOptions = { ...DEFAULT_JOIN_OPTIONS, maxSkewMs: options.maxSkew, horizonMs: options.horizon, minConfidence: options.minConfidence };
  if (options.clockOffset !== undefined) join.offsetMs = options.clockOffset;
  if (options.routeTemplate) join.routeTemplates = options.routeTemplate.map(checkRouteTemplate);
  return join;
}

/**
 * A route template such as `/v2/applications/:id/metrics.json` or `/orders/{id}`. One placeholder
 * per path segment at most: each becomes `[^/]+` in a per-segment pattern, and two in one segment
 * would let a crafted path make that pattern backtrack.
 */
export function checkRouteTemplate(template: string): string {
  if (!template.startsWith('/')) throw new UsageError(`--route-template must start with "/", not "${template}"`);
  for (const segment of template.split('/')) {
    const placeholders = segment.match(/:[A-Za-z_][A-Za-z0-9_]*|\{[^}/]*\}|\*/g) ?? [];
    if (placeholders.length > 1) throw new UsageError(`--route-template "${template}": one placeholder per path segment at most ("${segment}")`);
  }
  return template;
}

/** A hidden byte-count option (tests force workers and splits on small files). */
function byteCount(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name} must be a whole number of bytes, not "${value}"`);
  return n;
}

function splitSettings(options: AnalyzeCommandOptions): SplitSettings {
  return {
    minBytes: byteCount(options.splitMinBytes, '--split-min-bytes', DEFAULT_SPLIT.minBytes),
    rangeBytes: byteCount(options.splitRangeBytes, '--split-range-bytes', DEFAULT_SPLIT.rangeBytes),
  };
}


/** `terminal`: the stream a text report is printed on (it decides colour and width); null for a file. */
export async function render(analysis: Analysis, format: ReportFormat, terminal: NodeJS.WriteStream | null = null): Promise<string> {
  switch (format) {
    case 'html': {
      // Loaded only for HTML: a JSON run never needs vega (~50 ms to import as the build's bundle, ~150 ms unbundled).
      const { renderHtml } = await import('../../../reports/html.js');
      return await renderHtml(analysis);
    }
    case 'md': return renderMarkdown(analysis);
    case 'json': return renderJson(analysis);
    // Coloured only when written to a terminal that wants colour, never into a file.
    case 'text': return renderTerminal(analysis, { colour: terminal !== null && useColor(terminal), width: terminal?.columns || 100 });
  }
}

/** Runs `alf analyze`; returns the exit code. */
export async function analyzeCommand(inputs: string[], options: AnalyzeCommandOptions): Promise<number> {
  const apmInputs = options.apm ?? [];
  if (inputs.length === 0 && apmInputs.length === 0) throw new UsageError('no input: give log files, directories or - for stdin (see alf analyze --help)');
  const reportFormat = chooseReportFormat(options.format, options.out, process.stdout.isTTY === true);
  // Every output is checked before the first line is read.
  if (options.out !== undefined) checkWritableFile(options.out, '--out');
  if (options.joined !== undefined) checkWritableFile(options.joined, '--joined');
  const slice = sliceFromOptions(options);
  const failOn = failOnSeverity(options.failOn);
  const budget = options.budget ?? null;
  const jobs = options.jobs;
  const split = splitSettings(options);
  const { format: logFormat, directive: logFormatDirective, configFiles } = loadLogFormat(options.logFormat, options.keyField, inputs);
  let workers: WorkerSummary | null = null;
  const analysis = await analyze({
    onWorkers: (summary) => { workers = summary; },
    autoJobsMinBytes: byteCount(options.autoJobsMinBytes, '--auto-jobs-min-bytes', AUTO_MIN_INPUT_BYTES),
    inputs, apmInputs, logFormat, logFormatDirective, jobs, split, inputFormat: options.inputFormat, keyField: options.keyField, timeZone: options.timezone, slice,
    budget, join: joinOptions(options), keepGoing: options.keepGoing === true, excludeFiles: configFiles,
    followSymlinks: options.followSymlinks === true,
    // Said even with --quiet: files the run did not read.
    onSymlinksSkipped: (directory, links) => process.stderr.write(terminalLine(
      `alf: ${directory}: ${links.length === 1 ? 'a symlink leads' : `${links.length} symlinks lead`} out of the directory, not read (--follow-symlinks reads them): ${links.slice(0, 3).join(', ')}${links.length > 3 ? ', …' : ''}`) + '\n'),
    progress: options.quiet ? undefined : progressBar(), parseOnly: options.parseOnly === true,
    observers: options.joined ? [new JoinedCsvExport(options.joined)] : [],
  });
  const report = await render(analysis, reportFormat, options.out === undefined ? process.stdout : null);
  if (options.out) await writeFile(options.out, report);
  else process.stdout.write(report);
  // The verdict and findings go to stderr too when a person watches it and the report went elsewhere.
  const showFindings = process.stderr.isTTY === true && !(reportFormat === 'text' && options.out === undefined && process.stdout.isTTY === true);
  if (!options.quiet) process.stderr.write(summaryLine(analysis, options.out, configFiles, workers, showFindings));
  // A failed join undermines every backend figure of the report: said on stderr even with --quiet.
  const weakJoin = joinWarning(analysis);
  if (weakJoin !== null) process.stderr.write(`${weakJoin}\n`);
  // --keep-going analyses what it can, but an unreadable file still fails the run (exit 2), so a
  // scheduler never takes a partial report for a complete one: one cut short, one no format fits,
  // and one of which no line parsed (a forced --input-format that is not the file's). Errors print
  // even with --quiet.
  const unreadable = analysis.inputs.files.flatMap((file) => {
    const reason = file.error ?? file.undetected ?? (file.records === 0 && file.skipped > 0 ? `none of its ${plural(file.skipped, 'line')} parsed` : null);
    return reason === null ? [] : [terminalLine(`alf: cannot read ${file.file}: ${reason}${analysis.inputs.files.length > 1 ? ' (the other files were analysed)' : ''}`)];
  });
  if (unreadable.length > 0) {
    process.stderr.write(unreadable.join('\n') + '\n');
    return ExitCode.usage;
  }
  const worst = Math.max(-1, ...analysis.findings.map((finding) => severityRank(finding.severity)));
  return failOn !== null && worst >= severityRank(failOn) ? ExitCode.findings : ExitCode.ok;
}

/**
 * Why a slice kept nothing: its time bounds miss the logs, or (the logs lying within them) its
 * --where clauses matched no request, where a clause on a field the logs do not carry (no user
 * agent, no client address) keeps none.
 */
function emptySliceReason(analysis: Analysis, slice: NonNullable<Analysis['slice']>): string {
  const range = analysis.inputs.timeRange;
  if (range === null) return '';
  const from = Date.parse(range.from);
  const to = Date.parse(range.to);
  const since = slice.since === null ? -Infinity : Date.parse(slice.since);
  const until = slice.until === null ? Infinity : Date.parse(slice.until);
  const covers = ` (the logs cover ${range.from} to ${range.to})`;
  if (to < since || from >= until || slice.where.length === 0) return covers;
  return `: no request matched ${slice.where.length === 1 ? 'the --where clause' : 'the --where clauses'}${covers}; a clause on a field the logs do not carry (a user agent, a client address, a key) keeps none`;
}

/** One line on a failed or weak join (the apm-join-weak finding), or null. */
function joinWarning(analysis: Analysis): string | null {
  const finding = analysis.findings.find((f) => f.kind === 'apm-join-weak');
  if (finding === undefined) return null;
  return terminalLine(`alf: warning: ${finding.title}; reason: ${finding.figures.reason}. ${finding.nextStep ?? ''}`.trim());
}

/** What `--jobs auto` decided, and why, so a slow run is not a mystery. */
function autoJobsLine(workers: WorkerSummary): string | null {
  if (workers.auto?.noneBecause) return `alf: --jobs auto: no worker threads: ${workers.auto.noneBecause}`;
  const onMain = workers.mainThreadFiles.map((file) => `${file.file} (${file.format})`);
  return onMain.length === 0 ? null : `alf: --jobs auto: parsed on the main thread, their format being cheaper to parse than to hand to a worker: ${onMain.join(', ')}`;
}

function summaryLine(analysis: Analysis, out: string | undefined, configFiles: readonly string[], workers: WorkerSummary | null, showFindings: boolean): string {
  const { totals, files } = analysis.inputs;
  const lines: string[] = [];
  for (const file of configFiles) lines.push(`alf: using log_format from ${file}`);
  // Stdin alone is read on the main thread: no worker to speak of.
  if (workers !== null && workers.workers > 0) {
    lines.push(`alf: parsed in ${plural(workers.workers, 'worker thread')}` +
      workers.splitFiles.map((split) => `; ${split.file} read in ${split.ranges} ranges`).join(''));
  }
  const auto = workers !== null && workers.auto !== null ? autoJobsLine(workers) : null;
  if (auto !== null) lines.push(auto);
  for (const file of files) {
    const problem = fileProblem(file);
    // A file-level warning is about lines that were read: set apart from the skipped count, which
    // it does not explain (a real log read "3,693 skipped (text after the last field …)").
    const failed = file.error !== null || file.undetected !== null;
    lines.push(
      `alf: ${file.file}: ${formatLabel(file) ?? 'unknown format'}, ${plural(file.linesRead, 'line')} read, ${formatNumber(file.records)} parsed, ${formatNumber(file.skipped)} skipped` +
        ignoredPart(file.ignored) +
        (problem === null ? '' : failed ? ` (${problem})` : `; warning: ${problem}`) +
        (file.firstIssues[0] ? `; first skipped line ${file.firstIssues[0].line}: ${file.firstIssues[0].message}` : ''),
    );
  }
  const limits = describeLimits(analysis.limits);
  if (limits !== null) lines.push(`alf: ${limits}`);
  if (analysis.slice) {
    const slice = analysis.slice;
    lines.push(`alf: slice ${slice.description}: ${plural(slice.proxyKept, 'proxy request')} kept of ${formatNumber(slice.proxyKept + slice.proxyOutside)}` +
      (slice.proxyKept === 0 ? `; nothing to analyse in it${emptySliceReason(analysis, slice)}` : ''));
  }
  const colour = useColor(process.stderr);
  const bySeverity = formatSeverityCounts(countBySeverity(analysis.findings), (severity, text) => paintSeverity(severity, text, colour));
  // Built from alf's own words and numbers, so the colour codes are not stripped like log text.
  const summary = `alf: ${plural(totals.linesRead, 'line')} read, ${formatNumber(totals.records)} parsed, ${formatNumber(totals.skipped)} skipped${ignoredPart(totals.ignored)}; findings: ${bySeverity}` +
    (out ? `; report written to ${terminalSafe(out)}` : '');
  const findings = showFindings ? ['', ...renderVerdictAndFindings(analysis, { colour, width: process.stderr.columns || 100 })] : [];
  // One terminal line each: a newline in a file name must not start a line that looks like alf's.
  return `${[...lines.map(terminalLine), summary, ...findings].join('\n')}\n`;
}
