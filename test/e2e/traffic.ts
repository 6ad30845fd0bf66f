import { SeededRandom } from '../generators/random.js';
import { sendMirrored, type ClientProfile, type Outcome, type Target } from './clients.js';
import { pathOf, type RouteName } from './endpoints.js';
import { sleep } from './processes.js';

/**
 * Open-loop load: every profile's requests arrive as a Poisson process at its own rate, whether or
 * not earlier ones were answered (as independent clients do), for `durationMs`. Every request is
 * mirrored through all targets, so nginx and HAProxy see the same traffic.
 */

export interface SentRequest {
  profile: string;
  path: string;
  apiKey: string;
  userAgent: string;
  giveUpAfterMs: number;
  hangUp: ClientProfile['hangUp'];
  outcomes: Outcome[];
}

function pickRoute(random: SeededRandom, routes: ClientProfile['routes']): RouteName {
  let left = random.next() * routes.reduce((sum, [, weight]) => sum + weight, 0);
  for (const [route, weight] of routes) {
    left -= weight;
    if (left < 0) return route;
  }
  return routes[routes.length - 1]![0];
}

async function runProfile(profile: ClientProfile, targets: readonly Target[], random: SeededRandom, runId: string, durationMs: number, nextId: () => number, sent: SentRequest[]): Promise<void> {
  const end = Date.now() + durationMs;
  const pending: Promise<void>[] = [];
  let n = 0;
  for (;;) {
    await sleep(-Math.log(1 - random.next()) * (1000 / profile.ratePerSecond));
    if (Date.now() >= end) break;
    const path = pathOf(pickRoute(random, profile.routes), nextId());
    const apiKey = random.pick(profile.apiKeys);
    const giveUp = profile.giveUp;
    const giveUpAfterMs = giveUp.kind === 'timeout' ? giveUp.ms : Math.round(random.between(giveUp.minMs, giveUp.maxMs));
    const id = `${runId}-${profile.name}-${++n}`;
    const requestIds = { nginx: `${id}-n`, haproxy: `${id}-h` };
    const headers = { 'user-agent': profile.userAgent, 'x-api-key': apiKey };
    pending.push(sendMirrored(targets, { path, headers, requestIds, giveUpAfterMs, hangUp: profile.hangUp }).then((outcomes) => {
      sent.push({ profile: profile.name, path, apiKey, userAgent: profile.userAgent, giveUpAfterMs, hangUp: profile.hangUp, outcomes });
    }));
  }
  await Promise.all(pending);
}

/** Runs every profile for `durationMs`, then waits for their last requests; returns all of them. */
export async function runTraffic(profiles: readonly ClientProfile[], targets: readonly Target[], seed: number, runId: string, durationMs: number): Promise<SentRequest[]> {
  const sent: SentRequest[] = [];
  // Ids are unique in a run, so every request has a path of its own (and its own cost).
  let id = 1_000 + (seed % 100_000) * 10;
  const nextId = () => ++id;
  await Promise.all(profiles.map((profile, index) => runProfile(profile, targets, new SeededRandom(seed * 31 + index), runId, durationMs, nextId, sent)));
  return sent;
}
