import type { Finding } from '../src/model/finding.js';
import type { Analysis } from '../src/pipeline/analysis.js';
import { formatInstant, formatNumber, formatShare } from './format.js';

/**
 * The two or three sentences at the top of every report: what happened, to whom, since when,
 * how big. Built from findings' figures, so every renderer says the same thing. Plain text:
 * each renderer escapes it for its medium.
 */

const COVERED = new Set(['client-timeout-knee', 'budget-undercount', 'proxy-made-responses', 'budget-per-key']);

export function buildVerdict(analysis: Analysis): string[] {
  const sentences: string[] = [];
  const knee = analysis.findings.find((f) => f.kind === 'client-timeout-knee');
  const undercounted = analysis.findings.filter((f) => f.kind === 'budget-undercount');
  const madeUp = analysis.findings.filter((f) => f.kind === 'proxy-made-responses' && f.severity !== 'info');
  const madeUpCount = madeUp.reduce((sum, f) => sum + Number(f.figures.count ?? 0), 0);
  // Shares are of the requests analysed: the slice's, when one was asked for.
  const proxyRequests = analysis.slice?.proxyKept ?? analysis.inputs.totals.proxyRecords;
  const since = sinceWhen(analysis);

  if (knee) {
    const figures = knee.figures;
    const who = figures.topCohort ? ` (mostly "${String(figures.topCohort)}")` : '';
    const atKnee = Number(figures.requestsAtKnee);
    const backend = typeof figures.backendMedianSecondsAtKnee === 'number' ? `, their backend work ran a median ${formatNumber(figures.backendMedianSecondsAtKnee)} s` : '';
    const proxyMade = madeUpCount > 0 ? `, and the proxy logged ${formatNumber(madeUpCount)} responses it made without the backend (${madeUp.map(describeClass).join(', ')})` : '';
    sentences.push(
      `${since}, clients${who} give up after about ${Number(figures.timeoutSeconds).toFixed(2)} s` +
        (figures.basedOnApm ? ' while the backend keeps working' : '') +
        `: ${formatNumber(atKnee)} requests (${formatShare(proxyRequests > 0 ? atKnee / proxyRequests : 0)} of all) end at that wall${backend}${proxyMade}.`,
    );
  } else if (madeUpCount > 0) {
    sentences.push(
      `${since}, the proxy answered ${formatNumber(madeUpCount)} requests (${formatShare(proxyRequests > 0 ? madeUpCount / proxyRequests : 0)} of all) ` +
        `without a backend response: ${madeUp.map(describeClass).join(', ')}.`,
    );
  }
  if (undercounted.length > 0) {
    const keys = undercounted.map((f) => String(f.figures.apiKey));
    const worst = undercounted[0]!;
    const f = worst.figures;
    const impact = f.impactReductionPercent;
    const from = typeof f.firstTrueThrottleAt === 'string' ? `; with true times the limiter would have throttled it from ${formatInstant(f.firstTrueThrottleAt)}` : '';
    sentences.push(
      `The proxy under-counts worker time for ${keys.length === 1 ? 'API key' : 'API keys'} ${keys.slice(0, 3).join(', ')}` +
        `${keys.length > 3 ? ` and ${keys.length - 3} more` : ''}: ${formatNumber(Number(f.accountedSeconds))} s accounted against ${formatNumber(Number(f.trueSeconds))} s true` +
        from +
        (typeof impact === 'number' && impact > 0 ? `, cutting the impact by ${formatNumber(impact)}%.` : '.'),
    );
  }
  const others = analysis.findings.filter((f) => !COVERED.has(f.kind) && (f.severity === 'high' || f.severity === 'critical'));
  if (others.length > 0) {
    sentences.push(`${sentences.length > 0 ? 'Also: ' : ''}${others.slice(0, 2).map((f) => f.title).join('; ')}${others.length > 2 ? ` (and ${others.length - 2} more)` : ''}.`);
  }
  if (sentences.length === 0) {
    const alarming = analysis.findings.filter((f) => f.severity === 'medium').length;
    sentences.push(alarming === 0 ? 'No anomaly stands out in these logs.' : `${alarming} medium-severity findings; see below.`);
  }
  const range = analysis.inputs.timeRange;
  if (range) {
    sentences.push(
      `Logs cover ${formatInstant(range.from)} to ${formatInstant(range.to)}: ${formatNumber(proxyRequests)} proxy requests` +
        (analysis.settings.hasApm ? `, ${formatNumber(analysis.inputs.totals.apmRecords)} APM transactions.` : ', no APM export.'),
    );
  }
  return sentences;
}

/**
 * When the trouble starts: the first timeline bucket with a proxy-made response. "Throughout the
 * logs" when that is the first bucket anyway, so the sentence never claims an onset it cannot see.
 */
function sinceWhen(analysis: Analysis): string {
  const rows = analysis.charts.timeline;
  const first = rows.find((row) => row.series.startsWith('no upstream'));
  if (!first || rows.length === 0 || first.time === rows[0]!.time) return 'Throughout the logs';
  return `Since ${formatInstant(first.time)}`;
}

function describeClass(finding: Finding): string {
  const status = finding.figures.topStatus;
  return `${formatNumber(Number(finding.figures.count))} ${String(finding.figures.class)}${typeof status === 'number' ? `, mostly ${status}` : ''}`;
}
