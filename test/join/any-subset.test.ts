import { describe, expect, it } from 'vitest';
import { emptyApmTransaction, emptyProxyRecord, type ApmTransaction, type ProxyRecord } from '../../src/model/records.js';
import { JoinScenario, scorePairs } from '../generators/join-scenarios.js';
import { SeededRandom } from '../generators/random.js';
import { runJoin } from './run-join.js';

/**
 * Any subset of columns joins (issue 20): a field is a constraint only where both sides carry it,
 * and evidence where they do. Each case below joined nothing, or lost most pairs, while the join
 * was keyed by method and path.
 */

async function joinScenario(edit: (proxies: ProxyRecord[], transactions: ApmTransaction[]) => void) {
  const generator = new JoinScenario({ durationSeconds: 60, hotRatePerSecond: 30, backgroundRatePerSecond: 20 });
  const { proxies, transactions } = generator.collect();
  edit(proxies, transactions);
  const { requests, stats } = await runJoin(proxies, transactions);
  return { score: scorePairs(requests, generator.truePairs), stats };
}

describe('the join on whatever both sides carry', () => {
  it('joins a New Relic export without request.method, whose names carry no method either (controller names)', async () => {
    const { score } = await joinScenario((_, transactions) => {
      for (const t of transactions) {
        t.method = null;
        t.name = 'WebTransaction/Controller/orders/index';
      }
    });
    // GET and POST /v1/orders share a path: without a method only durations and time tell them apart.
    expect(score.recall).toBeGreaterThanOrEqual(0.97);
    expect(score.precision).toBeGreaterThanOrEqual(0.99);
  });

  it('still refuses a pair whose methods differ where both sides carry one', async () => {
    const { score } = await joinScenario((proxies) => {
      for (const p of proxies) if (p.method === 'GET') p.method = 'PUT';
    });
    // Only the POST and DELETE requests (a minority) keep a method their transaction agrees with.
    expect(score.recall).toBeLessThan(0.5);
    expect(score.precision).toBeGreaterThanOrEqual(0.99);
  });

  it('meets a proxy-side route template (API Gateway resourcePath /v2/applications/{id}/metrics.json) with the concrete APM paths', async () => {
    const { score } = await joinScenario((proxies) => {
      for (const p of proxies) {
        p.path = p.path!.replace(/^\/v2\/applications\/\d+\//, '/v2/applications/{applicationId}/').replace(/^\/v2\/servers\/\d+\.json$/, '/v2/servers/{id}.json')
          .replace(/^\/v1\/orders\/\d+$/, '/v1/orders/{orderId}');
      }
    });
    expect(score.recall).toBeGreaterThanOrEqual(0.97);
    expect(score.precision).toBeGreaterThanOrEqual(0.99);
  });
});

/**
 * Whole-second stamps, several clients on one URL in the same second, as wallboards and browser
 * tabs on a shared tick are: time and path cannot tell them apart, their user agents can.
 */
function sameSecondClients(agentsOnBothSides: boolean): { proxies: ProxyRecord[]; transactions: ApmTransaction[] } {
  const random = new SeededRandom(42);
  const t0 = Date.UTC(2024, 4, 2, 12, 0, 0);
  const agents = ['wallboard/2.1', 'Firefox/128.0', 'Chrome/126.0', 'okhttp/4.12.0'];
  const proxies: ProxyRecord[] = [];
  const transactions: ApmTransaction[] = [];
  let n = 0;
  for (let second = 0; second < 120; second++) {
    for (const agent of agents) {
      const id = `req:${n++}`;
      const start = t0 + second * 1000 + random.between(0, 300);
      const workMs = random.between(40, 42);
      const aborted = agent === 'okhttp/4.12.0' && second % 3 === 0;
      const end = start + 1 + workMs + 0.5;
      const record = emptyProxyRecord('nginx', 'access.log', n, id);
      record.endMs = Math.floor((aborted ? start + 30 : end) / 1000) * 1000;
      record.timeResolutionMs = 1000;
      record.requestTimeMs = aborted ? 30 : Math.round(end - start);
      record.startMs = record.endMs - record.requestTimeMs;
      record.method = 'GET';
      record.path = '/v1/dashboards/1/summary';
      record.status = aborted ? 499 : 200;
      record.upstreamLogged = true;
      record.upstreamStatus = aborted ? null : 200;
      record.upstreamTimeMs = aborted ? 30 : Math.round(workMs + 1);
      record.clientClosed = aborted;
      record.userAgent = agent;
      proxies.push(record);
      const transaction = emptyApmTransaction('newrelic-csv', 'export.csv', n + 1, id);
      transaction.startMs = Math.round(start + 1);
      transaction.durationMs = workMs;
      transaction.path = '/v1/dashboards/1/summary';
      transaction.status = 200;
      transaction.userAgent = agentsOnBothSides ? agent : null;
      transactions.push(transaction);
    }
  }
  proxies.sort((a, b) => a.endMs - b.endMs);
  transactions.sort((a, b) => a.startMs - b.startMs);
  return { proxies, transactions };
}

describe('1 s timestamps', () => {
  it('tell same-second requests apart by the user agent both sides log', async () => {
    const { proxies, transactions } = sameSecondClients(true);
    const { requests } = await runJoin(proxies, transactions);
    const score = scorePairs(requests, proxies.length);
    expect(score.precision).toBeGreaterThanOrEqual(0.98);
    expect(score.recall).toBeGreaterThanOrEqual(0.95);
  });

  it('without the agent on the APM side, the same requests are too alike to claim (refused, not guessed)', async () => {
    const { proxies, transactions } = sameSecondClients(false);
    const { requests } = await runJoin(proxies, transactions);
    const score = scorePairs(requests, proxies.length);
    expect(score.recall).toBeLessThan(0.6);
  });
});

/**
 * A worker pool under load: a request waits for a worker, the APM starts timing it only then. With
 * whole-second stamps the proxy shows neither the wait nor the start, only the end and the upstream
 * time that includes the wait. One request a second, each alone on its URL, a third of them queued
 * 0.3-1.5 s (as long as the 1 s stamp's step and more).
 */
function queuedBehindWorkers(): { proxies: ProxyRecord[]; transactions: ApmTransaction[] } {
  const random = new SeededRandom(11);
  const t0 = Date.UTC(2024, 4, 2, 12, 0, 0);
  const proxies: ProxyRecord[] = [];
  const transactions: ApmTransaction[] = [];
  const requests = Array.from({ length: 150 }, (_, n) => {
    const sent = t0 + n * 1000 + random.between(0, 999);
    const waitMs = n % 3 === 0 ? random.between(300, 1_500) : random.between(0, 2);
    const workMs = random.between(5, 40);
    return { n, sent, waitMs, workMs, end: sent + waitMs + workMs + 1 };
  });
  // Lines in end order, as the proxy writes them.
  requests.sort((a, b) => a.end - b.end);
  requests.forEach(({ n, sent, waitMs, workMs, end }, lineIndex) => {
    const record = emptyProxyRecord('nginx', 'access.log', lineIndex + 1, `req:${n}`);
    record.endMs = Math.floor(end / 1000) * 1000;
    record.timeResolutionMs = 1000;
    record.requestTimeMs = record.upstreamTimeMs = Math.round(end - sent);
    record.startMs = record.endMs - record.requestTimeMs;
    record.method = 'GET';
    record.path = `/v1/orders/${n}`;
    record.status = record.upstreamStatus = 200;
    record.upstreamLogged = true;
    proxies.push(record);
    const transaction = emptyApmTransaction('newrelic-csv', 'export.csv', n + 2, `req:${n}`);
    transaction.startMs = Math.round(sent + waitMs);
    transaction.durationMs = workMs;
    transaction.path = record.path;
    transaction.status = 200;
    transactions.push(transaction);
  });
  transactions.sort((a, b) => a.startMs - b.startMs);
  return { proxies, transactions };
}

describe('1 s timestamps behind a queueing worker pool', () => {
  it('a request that waited for a worker joins by its end: the wait moved its APM start, not its end', async () => {
    const { proxies, transactions } = queuedBehindWorkers();
    const { requests } = await runJoin(proxies, transactions);
    const score = scorePairs(requests, proxies.length);
    expect(score.precision).toBe(1);
    expect(score.recall).toBeGreaterThanOrEqual(0.98);
  });
});

/**
 * Queue time on the APM side (New Relic `queueDuration`). Every 2 s two clients hit one URL: the
 * first request waits 250-350 ms for a worker, the second arrives as the worker frees and waits for
 * nothing, so both transactions start within a few ms of each other and run alike. Timing alone
 * cannot say which start belongs to which proxy line; the queue time says when each reached the backend.
 */
function queuedTwins(withQueueTime: boolean): { proxies: ProxyRecord[]; transactions: ApmTransaction[] } {
  const random = new SeededRandom(5);
  const t0 = Date.UTC(2024, 4, 2, 12, 0, 0);
  const requests: { sent: number; wait: number; work: number }[] = [];
  for (let n = 0; n < 100; n++) {
    const sent = t0 + n * 2000 + random.between(0, 500);
    const wait = random.between(250, 350);
    requests.push({ sent, wait, work: random.between(18, 22) });
    requests.push({ sent: sent + wait + random.between(-2, 2), wait: 0, work: random.between(18, 22) });
  }
  const proxies: ProxyRecord[] = [];
  const transactions: ApmTransaction[] = [];
  requests.forEach((r, n) => {
    const end = r.sent + r.wait + r.work + 1;
    const record = emptyProxyRecord('nginx', 'access.log', n + 1, `req:${n}`);
    record.endMs = Math.round(end);
    record.requestTimeMs = record.upstreamTimeMs = Math.round(end - r.sent);
    record.startMs = record.endMs - record.requestTimeMs;
    record.method = 'GET';
    record.path = '/v1/reports/7';
    record.status = record.upstreamStatus = 200;
    record.upstreamLogged = true;
    proxies.push(record);
    const transaction = emptyApmTransaction('newrelic-csv', 'export.csv', n + 2, `req:${n}`);
    transaction.startMs = Math.round(r.sent + r.wait);
    transaction.durationMs = Math.round(r.work);
    transaction.queueMs = withQueueTime ? Math.round(r.wait) : null;
    transaction.path = record.path;
    transaction.status = 200;
    transactions.push(transaction);
  });
  proxies.sort((a, b) => a.endMs - b.endMs);
  transactions.sort((a, b) => a.startMs - b.startMs);
  return { proxies, transactions };
}

describe('queue time where the export carries it', () => {
  it('tells apart two requests that reached the backend 300 ms apart but started there together', async () => {
    const { proxies, transactions } = queuedTwins(true);
    const { requests } = await runJoin(proxies, transactions);
    const score = scorePairs(requests, proxies.length);
    expect(score.precision).toBeGreaterThanOrEqual(0.99);
    expect(score.recall).toBeGreaterThanOrEqual(0.98);
  });

  it('without it, the same requests are told apart by duration at best', async () => {
    const { proxies, transactions } = queuedTwins(false);
    const { requests } = await runJoin(proxies, transactions);
    const score = scorePairs(requests, proxies.length);
    expect(score.recall).toBeLessThan(0.9);
  });
});
