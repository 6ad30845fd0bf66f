import { budgetUndercount } from './budget-undercount.js';
import { clientTimeoutKnee } from './client-timeout-knee.js';
import type { Detector } from './detector.js';
import { keepaliveDisabled } from './keepalive-disabled.js';
import { latencyByRoute } from './latency-by-route.js';
import { proxyMadeResponses } from './proxy-made-responses.js';
import { retryStorms } from './retry-storms.js';
import { timeoutWalls } from './timeout-walls.js';
import { upstreamTrouble } from './upstream-trouble.js';

/**
 * Every detector, in the order they finish: a later detector may read earlier findings.
 * The knee first (the proxy-made classifier and the wall detector refer to it), then what the
 * proxy made up, budgets, walls (which defer to the knee), upstreams, connections, retries,
 * and the per-route baseline last. Adding a detector: one file, one line here.
 */
export const DETECTORS: readonly Detector[] = [
  clientTimeoutKnee,
  proxyMadeResponses,
  budgetUndercount,
  timeoutWalls,
  upstreamTrouble,
  keepaliveDisabled,
  retryStorms,
  latencyByRoute,
];
