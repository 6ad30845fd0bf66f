import { budgetUndercount } from './budget-undercount.js';
import { clientTimeoutKnee } from './client-timeout-knee.js';
import type { Detector } from './detector.js';
import { proxyMadeResponses } from './proxy-made-responses.js';

/**
 * Every detector, in the order they finish: a later detector may read earlier findings
 * (the knee first, so others can refer to it). Adding a detector: one file, one line here.
 */
export const DETECTORS: readonly Detector[] = [
  clientTimeoutKnee,
  proxyMadeResponses,
  budgetUndercount,
];
