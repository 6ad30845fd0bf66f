import type { WorkDone } from './backend.js';
import type { Outcome } from './clients.js';
import type { ProxyName, ScenarioResult } from './scenario.js';
import type { SentRequest } from './traffic.js';

/** What really happened in a run, from the clients and the backends, to hold alf's report against. */

export interface Copy {
  request: SentRequest;
  outcome: Outcome;
}

/** Every request as sent through one proxy. */
export function copiesThrough(run: ScenarioResult, proxy: ProxyName): Copy[] {
  return run.sent.map((request) => ({ request, outcome: request.outcomes.find((outcome) => outcome.proxy === proxy)! }));
}

export function truthById(done: readonly WorkDone[]): Map<string, WorkDone> {
  return new Map(done.filter((work) => work.requestId !== null).map((work) => [work.requestId!, work]));
}

/** Backend seconds a key really used behind one proxy. */
export function trueSecondsOfKey(done: readonly WorkDone[], apiKey: string): number {
  return done.filter((work) => work.apiKey === apiKey).reduce((sum, work) => sum + work.durationMs, 0) / 1000;
}

const DAY_MS = 86_400_000;

/**
 * A budget window (whole days) that holds the whole run, so the key's use is not split between two
 * windows: fixed windows start at multiples of their length since the epoch, and a run that
 * crosses midnight UTC still fits one window of some length of days.
 */
export function windowHolding(fromMs: number, toMs: number): string {
  for (let days = 1; days <= 60; days++) {
    if (Math.floor(fromMs / (days * DAY_MS)) === Math.floor(toMs / (days * DAY_MS))) return `${days}d`;
  }
  throw new Error('no window of up to 60 days holds the run');
}

/** `--budget`: `share` of the key's true backend time, per a window that holds the run. */
export function budgetBelowTrueUse(run: ScenarioResult, proxy: ProxyName, apiKey: string, share: number): { budget: string; trueSeconds: number; allowanceSeconds: number } {
  const trueSeconds = trueSecondsOfKey(run.truth[proxy], apiKey);
  const allowanceSeconds = Math.floor(trueSeconds * share);
  // Requests started up to a minute before the traffic began could not exist; the slack covers clock steps.
  const window = windowHolding(run.trafficStartMs - 60_000, run.trafficEndMs + 60_000);
  return { budget: `${allowanceSeconds}s/${window}`, trueSeconds, allowanceSeconds };
}

/**
 * Copies the client gave up on while the backend still had at least `marginMs` of work left: the
 * proxy certainly saw the abort first (a give-up in the same few ms as the answer is a photo finish
 * either way).
 */
export function clearlyAbandoned(run: ScenarioResult, proxy: ProxyName, marginMs = 20): Copy[] {
  const truth = truthById(run.truth[proxy]);
  return copiesThrough(run, proxy).filter((copy) => {
    if (!copy.outcome.gaveUp) return false;
    const work = truth.get(copy.outcome.requestId);
    return work !== undefined && work.queueMs + work.durationMs > copy.request.giveUpAfterMs + marginMs;
  });
}
