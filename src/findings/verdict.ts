import { detectorOf, type Finding } from '../detectors/registry.js';
import type { VerdictContext } from '../detectors/detector.js';
import { formatByUnit, formatInstant, formatNumber } from '../model/figure-format.js';
import { severityRank, type FigureValue } from '../model/finding.js';
import { unitOf } from './figure-units.js';

/**
 * The two to five sentences at the top of every report: what happened, to whom, how big. Each
 * detector words its own sentence (Detector.verdict) about its findings that reached `medium`;
 * this puts them in order (most severe first), adds what the logs cover, and records every figure
 * a sentence cites as a JSON Pointer into the report with its value, so a reader of the JSON (and
 * the test that holds every output to one set of numbers) can check each against its finding.
 * Plain text: each renderer escapes it for its medium.
 */

export interface VerdictCitation {
  /** JSON Pointer into the report, e.g. `/findings/0/figures/timeoutSeconds`. */
  pointer: string;
  value: FigureValue;
}

export interface VerdictSentence {
  text: string;
  cites: VerdictCitation[];
}

/** Detector sentences at most; the rest of the medium-or-worse findings are counted in one more. */
const MAX_DETECTOR_SENTENCES = 4;

export interface VerdictInputs {
  /** Findings as ranked in the report: pointers index into this list. */
  findings: readonly Finding[];
  timeRange: { from: string; to: string } | null;
  totals: { linesRead: number; proxyRecords: number; apmRecords: number };
  hasApm: boolean;
  /** What a slice (`--where`, `--since`/`--until`) kept of them: every finding is about these alone. */
  slice?: { proxyKept: number; apmKept: number } | null;
}

export function buildVerdict(inputs: VerdictInputs): VerdictSentence[] {
  const { findings } = inputs;
  const sentences: VerdictSentence[] = [];
  const context: VerdictContext = { timeRange: inputs.timeRange };
  const notable = findings.filter((finding) => severityRank(finding.severity) >= severityRank('medium'));
  // Detectors in the order of their most severe notable finding (the findings are ranked; ties keep registry order).
  // A detector that leads the verdict (a failed join) goes first, whatever the severities.
  const order = [...new Set(notable.map((finding) => detectorOf(finding.kind)).filter((d) => d !== undefined))]
    .sort((a, b) => Number(b.leadsVerdict === true) - Number(a.leadsVerdict === true));
  let told = 0;
  for (const detector of order) {
    if (sentences.length >= MAX_DETECTOR_SENTENCES || detector.verdict === undefined) continue;
    const own = notable.filter((finding) => (detector.kinds as readonly string[]).includes(finding.kind));
    const cites: VerdictCitation[] = [];
    const cite = (finding: Finding, figure: string): string => {
      const index = findings.indexOf(finding);
      const value = (finding.figures as unknown as Record<string, FigureValue>)[figure] ?? null;
      cites.push({ pointer: `/findings/${index}/figures/${figure}`, value });
      return formatByUnit(unitOf(finding.kind, figure), value);
    };
    const text = detector.verdict(own, cite as Parameters<NonNullable<typeof detector.verdict>>[1], context);
    if (text === null) continue;
    sentences.push({ text, cites });
    told += own.length;
  }
  const untold = notable.length - told;
  const { linesRead, proxyRecords: proxyRead, apmRecords: apmRead } = inputs.totals;
  if (proxyRead + apmRead === 0) {
    // Silence about logs alf could not read is no all-clear.
    sentences.push({
      text: `Nothing in the inputs could be read (none of ${formatNumber(linesRead)} lines parsed): these logs were not judged.`,
      cites: [{ pointer: '/inputs/totals/linesRead', value: linesRead }],
    });
    return sentences;
  }
  if (sentences.length === 0) {
    const low = findings.filter((finding) => finding.severity === 'low').length;
    sentences.push({
      text: untold > 0
        ? `${formatNumber(untold)} finding${untold === 1 ? '' : 's'} of medium or higher severity; see below.`
        : `No anomaly stands out in these logs${low > 0 ? ` (${formatNumber(low)} low-severity observation${low === 1 ? '' : 's'} below)` : ''}.`,
      cites: [],
    });
  } else if (untold > 0) {
    sentences.push({ text: `Also ${formatNumber(untold)} more finding${untold === 1 ? '' : 's'} of medium or higher severity; see below.`, cites: [] });
  }
  const range = inputs.timeRange;
  if (range) {
    const { proxyRecords, apmRecords } = inputs.totals;
    const cites: VerdictCitation[] = [
      { pointer: '/inputs/timeRange/from', value: range.from },
      { pointer: '/inputs/timeRange/to', value: range.to },
      { pointer: '/inputs/totals/proxyRecords', value: proxyRecords },
    ];
    if (inputs.hasApm) cites.push({ pointer: '/inputs/totals/apmRecords', value: apmRecords });
    const slice = inputs.slice ?? null;
    if (slice !== null) {
      cites.push({ pointer: '/slice/proxyKept', value: slice.proxyKept });
      if (inputs.hasApm) cites.push({ pointer: '/slice/apmKept', value: slice.apmKept });
    }
    sentences.push({
      text: `Logs cover ${formatInstant(range.from)} to ${formatInstant(range.to)}: ${formatNumber(proxyRecords)} proxy requests` +
        (inputs.hasApm ? `, ${formatNumber(apmRecords)} APM transactions` : ', no APM export') +
        // The findings are the slice's: say how much of the logs that is, in the same sentence.
        (slice === null ? '.' : `; the slice keeps ${formatNumber(slice.proxyKept)} proxy requests${inputs.hasApm ? ` and ${formatNumber(slice.apmKept)} APM transactions` : ''}.`),
      cites,
    });
  }
  return sentences;
}
