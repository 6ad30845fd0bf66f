import { apmJoin, type ApmJoinFinding } from './apm-join.js';
import { budgetUndercount, type BudgetFinding } from './budget-undercount.js';
import { clientTimeoutKnee, type KneeFinding } from './client-timeout-knee.js';
import type { Detector } from './detector.js';
import { keepaliveDisabled, type KeepaliveFinding } from './keepalive-disabled.js';
import { latencyByRoute, type LatencyFinding } from './latency-by-route.js';
import { proxyMadeResponses, type ProxyMadeFinding } from './proxy-made-responses.js';
import { retryStorms, type RetryFinding } from './retry-storms.js';
import { timeoutWalls, type WallFinding } from './timeout-walls.js';
import { upstreamTrouble, type UpstreamTroubleFinding } from './upstream-trouble.js';

/**
 * Every detector, in the order they finish: a later detector may read earlier findings.
 * The join's own account first (a failed join is the first thing a report says), then the knee (the proxy-made classifier and the wall detector refer to it), then what the
 * proxy made up, budgets, walls (which defer to the knee), upstreams, connections, retries,
 * and the per-route baseline last. Adding a detector: its file, a line here and its finding in
 * the union below (then `npm run schema`).
 */
export const DETECTORS: readonly Detector[] = [
  apmJoin,
  clientTimeoutKnee,
  proxyMadeResponses,
  budgetUndercount,
  timeoutWalls,
  upstreamTrouble,
  keepaliveDisabled,
  retryStorms,
  latencyByRoute,
];

/** Every finding alf reports, told apart by `kind` (docs/findings.schema.json is generated from it). */
export type Finding =
  | ApmJoinFinding
  | KneeFinding
  | ProxyMadeFinding
  | BudgetFinding
  | WallFinding
  | UpstreamTroubleFinding
  | KeepaliveFinding
  | RetryFinding
  | LatencyFinding;

/** The detector that makes findings of `kind`. */
export function detectorOf(kind: Finding['kind']): Detector | undefined {
  return DETECTORS.find((detector) => (detector.kinds as readonly string[]).includes(kind));
}
