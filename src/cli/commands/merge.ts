import type { Budget } from '../../model/budget.js';
import { UsageError } from '../../model/errors.js';
import { severityRank } from '../../model/finding.js';
import { DEFAULT_JOIN_OPTIONS } from '../../join/options.js';
import { ExitCode } from '../exit-codes.js';
import { checkWritableDirectory } from '../output-check.js';
import { terminalSafe } from '../terminal-text.js';
import { formatSeverityCounts, plural } from '../../../reports/format.js';
import { failOnSeverity, type FailOn } from '../shared-options.js';
import { jsonLine } from '../json-line.js';
import type { WindowFormat } from '../../model/window-formats.js';

export interface MergeCommandOptions {
  out: string;
  failOn: FailOn;
  quiet?: boolean;
  keyField?: string;
  budget?: Budget;
  /** `--format`, parsed by commander (src/cli/shared-options.ts). */
  format: WindowFormat[];
}

/** Runs `alf merge`; returns the exit code. */
export async function mergeCommand(partials: string[], options: MergeCommandOptions): Promise<number> {
  if (partials.length === 0) throw new UsageError('no partial: give the --out directories of the shards (see alf merge --help)');
  const failOn = failOnSeverity(options.failOn);
  checkWritableDirectory(options.out, '--out');
  // Loaded only when merging: the HTML renderer behind it imports vega (~0.3 s).
  const { mergePartials } = await import('../../scan/merge-partials.js');
  const summary = await mergePartials(partials, options.out, {
    budget: options.budget ?? null, keyField: options.keyField, join: DEFAULT_JOIN_OPTIONS, formats: options.format,
  }, null);
  const exitCode = failOn !== null && summary.worst !== null && severityRank(summary.worst) >= severityRank(failOn) ? ExitCode.findings : ExitCode.ok;
  if (options.quiet) {
    process.stderr.write(jsonLine({ alf: 'merge', ...summary, exitCode }));
  } else {
    const bySeverity = formatSeverityCounts(summary.findings);
    process.stderr.write(`${terminalSafe(`alf: merged ${plural(summary.partials, 'partial')}: ${plural(summary.windows.length, 'window')} written to ${options.out}; findings: ${bySeverity}`)}\n`);
  }
  return exitCode;
}
