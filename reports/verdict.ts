import type { Finding } from '../src/model/finding.js';
import type { Analysis } from '../src/pipeline/analysis.js';

/**
 * The two or three sentences at the top of every report: what happened, to whom, since when,
 * how big. Built from findings' figures, so every renderer says the same thing.
 */
export function buildVerdict(analysis: Analysis): string[] {
  const sentences: string[] = [];
  const knee = analysis.findings.find((f) => f.kind === 'client-timeout-knee');
  const undercounted = analysis.findings.filter((f) => f.kind === 'budget-undercount');
  const madeUp = analysis.findings.filter((f) => f.kind === 'proxy-made-responses' && f.severity !== 'info');
  const range = analysis.inputs.timeRange;
  const alarming = analysis.findings.filter((f) => f.severity === 'high' || f.severity === 'critical');

  if (knee) {
    const figures = knee.figures;
    const who = figures.topCohort ? ` mostly "${String(figures.topCohort)}"` : '';
    sentences.push(
      `Clients${who} give up after about ${Number(figures.timeoutSeconds).toFixed(2)} s` +
        (figures.basedOnApm ? ' while the backend keeps working' : '') +
        `: ${figures.requestsAtKnee} requests end at that wall` +
        (figures.backendMedianSecondsAtKnee !== null && figures.backendMedianSecondsAtKnee !== undefined
          ? ` and their backend ran a median ${Number(figures.backendMedianSecondsAtKnee).toFixed(1)} s.`
          : '.'),
    );
  }
  if (undercounted.length > 0) {
    const keys = undercounted.map((f) => String(f.figures.apiKey));
    const worst = undercounted[0]!;
    const impact = worst.figures.impactReductionPercent;
    sentences.push(
      `The proxy's accounting under-counts worker time for ${keys.length === 1 ? 'API key' : 'API keys'} ${keys.slice(0, 3).join(', ')}` +
        `${keys.length > 3 ? ` and ${keys.length - 3} more` : ''}: ${worst.figures.accountedSeconds} s accounted against ${worst.figures.trueSeconds} s true` +
        (typeof impact === 'number' && impact > 0 ? `; a correct limiter would have cut the impact by ${impact}%.` : '.'),
    );
  }
  if (madeUp.length > 0) {
    const total = madeUp.reduce((sum, f) => sum + Number(f.figures.count ?? 0), 0);
    sentences.push(`${total} responses were made by the proxy without a backend answer (${madeUp.map(describeClass).join(', ')}).`);
  }
  if (sentences.length === 0) {
    sentences.push(alarming.length === 0 ? 'No anomaly stands out in these logs.' : `${alarming.length} high-severity findings; see below.`);
  }
  if (range) sentences.push(`Logs cover ${range.from} to ${range.to}.`);
  return sentences;
}

function describeClass(finding: Finding): string {
  return `${finding.figures.count} ${String(finding.figures.class)}`;
}
