import { SeededRandom } from '../generators/random.js';
import { HAPROXY, NGINX } from './proxies.js';

/**
 * Per-run settings of the end-to-end suites: a seed (fixed, so a run replays the same requests;
 * ALF_E2E_SEED picks another), the client timeout the exporter uses, picked from it, and whether
 * the real proxies are installed.
 */

export const PROXIES_INSTALLED = NGINX !== null && HAPROXY !== null;
export const NGINX_INSTALLED = NGINX !== null;

/** The seed every suite starts from unless ALF_E2E_SEED gives another. */
export const DEFAULT_SEED = 20_170;

export interface RunSettings {
  seed: number;
  /** The exporter's client timeout, ms, somewhere in 2-4 s. */
  clientTimeoutMs: number;
}

/** `salt` keeps the suites' seeds apart. */
export function runSettings(salt: number): RunSettings {
  const given = process.env.ALF_E2E_SEED;
  const seed = (given !== undefined && given !== '' ? Number(given) : DEFAULT_SEED) + salt;
  const clientTimeoutMs = Math.round(new SeededRandom(seed).between(2_000, 4_000));
  return { seed, clientTimeoutMs };
}

/** Worker pool of each backend instance: enough that requests seldom queue at the planned load. */
export const WORKERS = 32;

/** A finding's timeout must be this close to the one the clients used, in seconds. */
export const KNEE_TOLERANCE_S = 0.1;
