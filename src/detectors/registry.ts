import { apmJoin } from './apm-join.js';
import { budgetUndercount } from './budget-undercount.js';
import { clientTimeoutKnee } from './client-timeout-knee.js';
import type { Detector } from './detector.js';
import type { Finding } from './findings.generated.js';
import { keepaliveDisabled } from './keepalive-disabled.js';
import { latencyByRoute } from './latency-by-route.js';
import { proxyMadeResponses } from './proxy-made-responses.js';
import { retryStorms } from './retry-storms.js';
import { timeoutWalls } from './timeout-walls.js';
import { upstreamTrouble } from './upstream-trouble.js';

/**
 * Every detector, in the order they finish: a later detector may read earlier findings.
 * The join's own account first (a failed join is the first thing a report says), then the knee (the proxy-made classifier and the wall detector refer to it), then what the
 * proxy made up, budgets, walls (which defer to the knee), upstreams, connections, retries,
 * and the per-route baseline last. Adding a detector: its file, and its import and name here;
 * `npm run schema` then writes the `Finding` union (findings.generated.ts) and the JSON schema
 * from this list (docs/adding-a-detector.md).
 */
export const DETECTORS: readonly Detector[] = [
  apmJoin,
  clientTimeoutKnee,
  // Before the detectors that count the same requests again (proxy-made responses, upstream
  // trouble): a wall owns the requests that end at it.
  timeoutWalls,
  proxyMadeResponses,
  budgetUndercount,
  upstreamTrouble,
  keepaliveDisabled,
  retryStorms,
  latencyByRoute,
];

export type { Finding };

/** The detector that makes findings of `kind`. */
export function detectorOf(kind: Finding['kind']): Detector | undefined {
  return DETECTORS.find((detector) => (detector.kinds as readonly string[]).includes(kind));
}
