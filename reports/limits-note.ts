import type { Analysis } from '../src/pipeline/analysis.js';
import { formatNumber } from './format.js';

/**
 * One sentence saying which bounded summaries hit their cap, so a reader knows which tables
 * fold their long tail into "(other)". Null when no cap was reached.
 */
export function describeLimits(limits: Analysis['limits']): string | null {
  if (limits.length === 0) return null;
  const parts = limits.map((hit) => `${hit.owner} kept ${formatNumber(hit.cap)} distinct values and counted ${formatNumber(hit.overflowed)} more observations under "(other)"`);
  return `Memory caps reached: ${parts.join('; ')}.`;
}
