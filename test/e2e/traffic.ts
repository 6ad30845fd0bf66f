import { SeededRandom } from '../generators/random.js';
import { sendMirrored, type Cohort, type Outcome, type Target } from './clients.js';
import { drawWorkOrder, encodeWorkOrder, pathOf, WORK_HEADER, type RouteTable, type WorkOrder } from './endpoints.js';
import { sleep } from './processes.js';

/**
 * Drives every cohort for `durationMs`: Poisson streams arrive whether or not earlier requests
 * were answered (as independent clients do), tick clients fire together on the wall clock's
 * multiples of their period, closed loops wait for each answer. Every request is mirrored through
 * all targets, so nginx and HAProxy see the same traffic. Each cohort draws from its own seeded
 * stream, so a seed replays the same requests (their timing is the machine's).
 */

export interface SentRequest {
  profile: string;
  route: string;
  path: string;
  /** Null for a cohort without keys (probes): no X-Api-Key header. */
  apiKey: string | null;
  userAgent: string;
  giveUpAfterMs: number;
  hangUp: Cohort['hangUp'];
  work: WorkOrder;
  /** When the request was sent (epoch ms). */
  sentMs: number;
  outcomes: Outcome[];
}

function pickRoute(random: SeededRandom, routes: Cohort['routes']): string {
  let left = random.next() * routes.reduce((sum, [, weight]) => sum + weight, 0);
  for (const [route, weight] of routes) {
    left -= weight;
    if (left < 0) return route;
  }
  return routes[routes.length - 1]![0];
}

interface CohortRun {
  cohort: Cohort;
  routes: RouteTable;
  targets: readonly Target[];
  random: SeededRandom;
  runId: string;
  nextId: () => number;
  sent: SentRequest[];
  n: number;
}

/** Sends one request of the cohort (mirrored); `client` is the tick client's index, for sticky ids. */
function send(run: CohortRun, client: number): Promise<void> {
  const { cohort, random } = run;
  const routeName = pickRoute(random, cohort.routes);
  const route = run.routes[routeName];
  if (!route) throw new Error(`cohort ${cohort.name} asks for route ${routeName}, which the run does not serve`);
  const ids = cohort.ids;
  const id = ids.kind === 'unique' ? run.nextId() : ids.sticky ? ids.ids[client % ids.ids.length]! : random.pick(ids.ids);
  const path = pathOf(route, id);
  const apiKey = cohort.apiKeys.length === 0 ? null : random.pick(cohort.apiKeys);
  const giveUp = cohort.giveUp;
  const giveUpAfterMs = giveUp.kind === 'timeout' ? giveUp.ms : Math.round(random.between(giveUp.minMs, giveUp.maxMs));
  const work = drawWorkOrder(route, random);
  const requestId = `${run.runId}-${cohort.name}-${++run.n}`;
  const requestIds = { nginx: `${requestId}-n`, haproxy: `${requestId}-h` };
  const headers: Record<string, string> = { 'user-agent': cohort.userAgent, [WORK_HEADER]: encodeWorkOrder(work) };
  if (apiKey !== null) headers['x-api-key'] = apiKey;
  const sentMs = Date.now();
  return sendMirrored(run.targets, { path, headers, requestIds, giveUpAfterMs, hangUp: cohort.hangUp }).then((outcomes) => {
    run.sent.push({ profile: cohort.name, route: routeName, path, apiKey, userAgent: cohort.userAgent, giveUpAfterMs, hangUp: cohort.hangUp, work, sentMs, outcomes });
  });
}

async function runCohort(run: CohortRun, durationMs: number): Promise<void> {
  const end = Date.now() + durationMs;
  const pending: Promise<void>[] = [];
  const arrival = run.cohort.arrival;
  if (arrival.kind === 'poisson') {
    for (;;) {
      await sleep(-Math.log(1 - run.random.next()) * (1000 / arrival.ratePerSecond));
      if (Date.now() >= end) break;
      pending.push(send(run, 0));
    }
  } else if (arrival.kind === 'tick') {
    for (;;) {
      const tick = Math.ceil((Date.now() + 1) / arrival.everyMs) * arrival.everyMs;
      if (tick >= end) break;
      const offsets = Array.from({ length: arrival.clients }, () => run.random.between(0, arrival.spreadMs));
      await sleep(tick - Date.now());
      const fired = offsets.map((offset, client) => sleep(offset).then(() => send(run, client)));
      pending.push(...fired);
      await sleep(Math.max(...offsets, 0));
    }
  } else {
    await Promise.all(Array.from({ length: arrival.loops }, async () => {
      while (Date.now() < end) {
        await send(run, 0);
        await sleep(arrival.thinkMs);
      }
    }));
  }
  await Promise.all(pending);
}

/** Runs every cohort for `durationMs`, then waits for their last requests; returns all of them. */
export async function runTraffic(
  cohorts: readonly Cohort[], routes: RouteTable, targets: readonly Target[], seed: number, runId: string, durationMs: number,
): Promise<SentRequest[]> {
  const sent: SentRequest[] = [];
  // Unique ids are unique in a run, so such a request has a path of its own.
  let id = 1_000 + (seed % 100_000) * 10;
  const nextId = () => ++id;
  await Promise.all(cohorts.map((cohort, index) =>
    runCohort({ cohort, routes, targets, random: new SeededRandom(seed * 31 + index), runId, nextId, sent, n: 0 }, durationMs)));
  return sent;
}
