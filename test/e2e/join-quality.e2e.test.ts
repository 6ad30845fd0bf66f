import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze, readJoinedPairs, type JoinedPair } from './alf-cli.js';
import { FULL_NEW_RELIC_COLUMNS, MINIMAL_NEW_RELIC_COLUMNS, type ExportSpec } from './apm-exports.js';
import { mixedTraffic } from './cohorts.js';
import { MIXED_ROUTES } from './endpoints.js';
import { assertSameOrder, scoreJoin, truePairs, type JoinScore } from './join-truth.js';
import { LOG_FORMATS } from './nginx-config.js';
import { NGINX_INSTALLED, runSettings } from './run-settings.js';
import { describeRun, Scenario, type ScenarioResult } from './scenario.js';

/**
 * How well alf joins a real nginx's log to the backend's APM export, measured on real traffic
 * (issue 20): a worker-pool backend that queues behind nginx, every cohort of mixedTraffic on one
 * pool of URLs (an exporter with a short client timeout, browsers and wallboards on a shared tick,
 * mobile clients that drop, an ETL job, partners, probes) at about 5 and 45 requests a second.
 * Each rate is recorded once; every export shape is written from that run's transactions, each
 * with its clock off by its own amount in −3…+3 s, and read against two of nginx's logs of the same
 * requests: `$msec` stamps (ms) and `$time_iso8601` (whole seconds, nginx in Asia/Kolkata, +05:30).
 * None of the exports carries a request id: time, path and what else both sides log is all there is.
 * The true pairing comes from the X-Request-Id the backend saw (join-truth.ts).
 */

const EXPORTS: readonly ExportSpec[] = [
  // The columns a user is told to export, nothing more: no method, and controller names carry none either.
  { name: 'nr-csv-minimal', shape: 'newrelic-csv', attributes: MINIMAL_NEW_RELIC_COLUMNS, naming: 'controller', skewMs: -2_600 },
  { name: 'nr-csv-method', shape: 'newrelic-csv', attributes: [...MINIMAL_NEW_RELIC_COLUMNS, 'request.method'], timestamps: 'epoch-s', skewMs: 1_700 },
  { name: 'nr-json-nerdgraph', shape: 'newrelic-json', attributes: [...MINIMAL_NEW_RELIC_COLUMNS, 'request.method'], envelope: 'nerdgraph', timestamps: 'iso', skewMs: -900 },
  { name: 'nr-json-historical', shape: 'newrelic-json', attributes: MINIMAL_NEW_RELIC_COLUMNS, envelope: 'historical', skewMs: 2_900 },
  { name: 'otlp', shape: 'otlp-json', skewMs: -3_000 },
  { name: 'dd-agent', shape: 'datadog-json', envelope: 'agent', skewMs: 1_300 },
  { name: 'dd-spans-v2', shape: 'datadog-json', envelope: 'spans-v2', skewMs: -1_900 },
  // What an agent set up for request queuing exports: queueDuration (the wait for a worker), method and key too.
  { name: 'nr-csv-queue', shape: 'newrelic-csv', attributes: FULL_NEW_RELIC_COLUMNS, naming: 'expressjs', skewMs: 2_200 },
];

const RATES = [5, 45] as const;
type Rate = (typeof RATES)[number];
const TRAFFIC_MS: Record<Rate, number> = { 5: 60_000, 45: 30_000 };
/** Workers a little above the mean load, so that bursts (the ticks) queue. */
const WORKERS: Record<Rate, number> = { 5: 4, 45: 20 };
const TIME_ZONE = 'Asia/Kolkata';

const STAMPS = ['ms', '1 s'] as const;
type Stamps = (typeof STAMPS)[number];
/** Issue 20's targets, printed beside each row. */
const TARGETS: Record<Stamps, { precision: number; recall: number }> = {
  ms: { precision: 0.99, recall: 0.98 },
  '1 s': { precision: 0.98, recall: 0.95 },
};
/**
 * What is asserted: the targets, in every row. The 1 s rows were held to a floor (0.97 / 0.93)
 * until the join placed a whole-second line by its end and by the order of the log's lines
 * (src/join/line-order.ts); README "Join quality" has the runs since.
 */
const FLOORS: Record<Stamps, { precision: number; recall: number }> = TARGETS;

interface Row {
  rate: Rate;
  exportName: string;
  stamps: Stamps;
  score: JoinScore;
}

const settings = runSettings(20);

/** ALF_E2E_JOIN_DEBUG=1: each wrong or missed pair, with both lines, to see what the join could not tell apart. */
function explainMisses(joined: readonly JoinedPair[], truth: Map<number, number>, log: string, apm: string, label: string): void {
  const logLines = readFileSync(log, 'utf8').split('\n');
  const apmLines = readFileSync(apm, 'utf8').split('\n');
  for (const pair of joined) {
    const expected = truth.get(pair.proxy_line);
    if (pair.apm_line === expected || (pair.apm_line === null && expected === undefined)) continue;
    console.info(`${label}: ${pair.apm_line === null ? 'missed' : 'wrong'}\n  proxy ${logLines[pair.proxy_line - 1]}\n  claimed ${pair.apm_line === null ? '-' : apmLines[pair.apm_line - 1]}\n  true    ${expected === undefined ? '-' : apmLines[expected - 1]}`);
  }
}

describe.skipIf(!NGINX_INSTALLED)(`join quality on real nginx traffic, every export shape, ms and 1 s stamps (seed ${settings.seed})`, () => {
  const scenarios: Scenario[] = [];
  const rows: Row[] = [];

  beforeAll(async () => {
    const runs: ScenarioResult[] = await Promise.all(RATES.map((rate) => {
      const scenario = new Scenario({
        label: `join-${rate}`, seed: settings.seed + rate, trafficMs: TRAFFIC_MS[rate], cohorts: mixedTraffic(rate, settings.clientTimeoutMs),
        routes: MIXED_ROUTES, proxies: ['nginx'], workers: WORKERS[rate], exports: EXPORTS,
        nginx: { logs: ['alf_pipe', 'timed_iso'], ignoreClientAbort: false, timeZone: TIME_ZONE },
      });
      scenarios.push(scenario);
      return scenario.run();
    }));
    for (const [i, run] of runs.entries()) {
      const rate = RATES[i]!;
      console.info(describeRun(run));
      const pipe = run.nginx!.logs.alf_pipe!;
      const iso = run.nginx!.logs.timed_iso!;
      assertSameOrder(pipe, iso);
      for (const spec of EXPORTS) {
        const truth = truePairs(pipe, run.truth.nginx, spec.name);
        // Kept runs carry their true pairing, to replay the join on them without new traffic.
        if (process.env.ALF_E2E_KEEP) writeFileSync(join(run.dir, `truth-${spec.name}.json`), JSON.stringify([...truth]));
        for (const stamps of STAMPS) {
          const pairs = join(run.dir, `pairs-${spec.name}-${stamps === 'ms' ? 'ms' : 's'}.csv`);
          const log = stamps === 'ms' ? ['--log-format', run.nginx!.conf, pipe] : ['--log-format', LOG_FORMATS.timed_iso, iso];
          analyze([...log, '--apm', run.apm.nginx[spec.name]!, '--joined', pairs]);
          const joined = readJoinedPairs(pairs);
          rows.push({ rate, exportName: spec.name, stamps, score: scoreJoin(joined, truth) });
          if (process.env.ALF_E2E_JOIN_DEBUG) explainMisses(joined, truth, stamps === 'ms' ? pipe : iso, run.apm.nginx[spec.name]!, `${rate} ${spec.name} ${stamps}`);
        }
      }
    }
    console.info([
      '| rate | export | stamps | true pairs | precision | recall | target (precision / recall) |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...rows.map((row) => `| ~${row.rate} req/s | ${row.exportName} | ${row.stamps} | ${row.score.truePairs} | ${row.score.precision.toFixed(4)} | ` +
        `${row.score.recall.toFixed(4)} | ${TARGETS[row.stamps].precision} / ${TARGETS[row.stamps].recall} |`),
    ].join('\n'));
  }, 300_000);

  afterAll(async () => {
    for (const scenario of scenarios) {
      await scenario.stop();
      scenario.cleanUp();
    }
  }, 30_000);

  for (const rate of RATES) {
    for (const spec of EXPORTS) {
      for (const stamps of STAMPS) {
        const target = FLOORS[stamps];
        it(`~${rate} req/s, ${spec.name}, ${stamps} stamps: precision ≥ ${target.precision}, recall ≥ ${target.recall}`, () => {
          const row = rows.find((r) => r.rate === rate && r.exportName === spec.name && r.stamps === stamps)!;
          expect(row.score.truePairs).toBeGreaterThan(rate === 5 ? 200 : 800);
          expect(row.score.precision).toBeGreaterThanOrEqual(target.precision);
          expect(row.score.recall).toBeGreaterThanOrEqual(target.recall);
        });
      }
    }
  }
});
