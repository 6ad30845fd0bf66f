/**
 * Detector quality on the seeded scenarios: for each detector, how often it finds what its
 * scenario planted (detection rate) and how often it raises anything above `low` on clean
 * traffic (false alarms). Every scenario runs with 10 seeds, with and without APM.
 *
 *   npx tsx test/detectors/quality.ts          prints the Markdown table for README "Detector quality"
 */
import { parseBudget } from '../../src/model/budget.js';
import { severityRank } from '../../src/model/finding.js';
import { SCENARIOS, type Scenario, type ScenarioTruth } from '../generators/scenarios.js';
import { runDetectors, type LooseFinding as Finding } from './run-detectors.js';

const SEEDS = Array.from({ length: 10 }, (_, i) => 1000 + i);
const budget = parseBudget('600s/5m');

interface Check {
  detector: string;
  scenario: string;
  /** Whether the findings tell the planted story; `error` is an optional estimate error to average. */
  found(findings: Finding[], truth: ScenarioTruth): { ok: boolean; error?: number };
  what: string;
}

const of = (findings: Finding[], kind: string) => findings.filter((f) => f.kind === kind);
const atLeast = (finding: Finding, severity: 'low' | 'medium' | 'high') => severityRank(finding.severity) >= severityRank(severity);

const CHECKS: Check[] = [
  {
    detector: 'client-timeout-knee', scenario: 'founding', what: 'T within 0.05 s and the right user agent',
    found(findings, truth) {
      const knee = of(findings, 'client-timeout-knee')[0];
      if (!knee) return { ok: false };
      const error = Math.abs(Number(knee.figures.timeoutSeconds) - truth.kneeSeconds!);
      return { ok: error <= 0.05 && knee.figures.topCohort === truth.kneeUserAgent, error };
    },
  },
  {
    detector: 'client-timeout-knee', scenario: 'two-client-timeouts', what: 'both timeouts, each within 0.05 s with its own user agent and key',
    found(findings, truth) {
      const knees = of(findings, 'client-timeout-knee');
      const errors = truth.knees!.map((planted) => {
        const knee = knees.find((f) => f.figures.userAgent === planted.userAgent && f.figures.apiKey === planted.apiKey);
        return knee ? Math.abs(Number(knee.figures.timeoutSeconds) - planted.seconds) : Infinity;
      });
      return { ok: knees.length === truth.knees!.length && errors.every((error) => error <= 0.05), error: Math.max(...errors) };
    },
  },
  {
    detector: 'proxy-made-responses', scenario: 'founding', what: 'the 404s without upstream, top client = the exporter',
    found(findings, truth) {
      return { ok: of(findings, 'proxy-made-responses').some((f) => f.figures.topStatus === 404 &&
        f.table?.rows.find((row) => row[0] === 'userAgent')?.[1] === truth.kneeUserAgent) };
    },
  },
  {
    detector: 'budget-undercount', scenario: 'founding', what: 'the exporter key, and only it',
    found(findings, truth) {
      const keys = of(findings, 'budget-undercount').map((f) => f.figures.apiKey);
      return { ok: keys.length === 1 && keys[0] === truth.kneeApiKey };
    },
  },
  {
    detector: 'timeout-walls', scenario: 'api-gateway-wall', what: 'a wall within 0.1 s of 29 s named API Gateway',
    found(findings, truth) {
      const wall = of(findings, 'timeout-walls').find((f) => typeof f.figures.wallSeconds === 'number');
      if (!wall) return { ok: false };
      const error = Math.abs(Number(wall.figures.wallSeconds) - truth.wallSeconds!);
      return { ok: error <= 0.1 && wall.figures.likelyLimitSeconds === 29, error };
    },
  },
  {
    detector: 'timeout-walls', scenario: 'gateway-timeout-wall', what: 'a gateway-timeout wall within 0.1 s of 5 s on its route, never a client default',
    found(findings, truth) {
      const wall = of(findings, 'timeout-walls').find((f) => typeof f.figures.wallSeconds === 'number');
      if (!wall) return { ok: false };
      const error = Math.abs(Number(wall.figures.wallSeconds) - truth.wallSeconds!);
      const named = wall.figures.cause === 'gateway-timeout' && wall.figures.route === truth.wallRoute && !`${wall.title} ${wall.explanation}`.includes('client default');
      return { ok: error <= 0.1 && named, error };
    },
  },
  {
    detector: 'upstream-trouble', scenario: 'upstream-burst', what: 'the upstream, as a high burst',
    found(findings, truth) {
      return { ok: of(findings, 'upstream-trouble').some((f) => f.figures.upstream === truth.troubledUpstream && f.figures.pattern === 'burst' && f.severity === 'high') };
    },
  },
  {
    detector: 'upstream-trouble', scenario: 'upstream-transient', what: 'the upstream, as low transient (when it erred at all)',
    found(findings, truth) {
      const all = of(findings, 'upstream-trouble');
      return { ok: all.every((f) => f.figures.upstream === truth.troubledUpstream && f.figures.pattern === 'transient' && f.severity === 'low') };
    },
  },
  {
    detector: 'keepalive-disabled', scenario: 'keepalive-disabled', what: 'the upstream, medium or above',
    found(findings, truth) {
      return { ok: of(findings, 'keepalive-disabled').some((f) => f.figures.upstream === truth.keepaliveDisabledUpstream && atLeast(f, 'medium')) };
    },
  },
  {
    detector: 'retry-storms', scenario: 'retry-storm', what: 'the client, amplification within 0.2',
    found(findings, truth) {
      const storm = of(findings, 'retry-storms').find((f) => f.figures.client === truth.stormClient && atLeast(f, 'medium'));
      if (!storm) return { ok: false };
      const error = Math.abs(Number(storm.figures.amplificationFactor) - truth.stormAmplification!);
      return { ok: error <= 0.2, error };
    },
  },
  {
    detector: 'latency-by-route', scenario: 'latency-shift', what: 'the route, change within 2 min of the truth',
    found(findings, truth) {
      const change = of(findings, 'latency-by-route').find((f) => f.figures.changeAt !== undefined && f.figures.route === `GET ${truth.shiftedRoute}`);
      if (!change) return { ok: false };
      const error = Math.abs(Date.parse(String(change.figures.changeAt)) - truth.shiftAtMs!) / 1000;
      return { ok: error <= 120, error };
    },
  },
];

function run(name: string, seed: number, withApm: boolean): { scenario: Scenario; findings: Finding[] } {
  const scenario = SCENARIOS[name]!({ seed, withApm });
  return { scenario, findings: runDetectors(scenario.requests, { settings: { budget, hasApm: withApm } }) };
}

const cache = new Map<string, { scenario: Scenario; findings: Finding[] }[]>();
function runs(name: string): { scenario: Scenario; findings: Finding[] }[] {
  let list = cache.get(name);
  if (!list) {
    list = SEEDS.flatMap((seed) => [run(name, seed, true), run(name, seed, false)]);
    cache.set(name, list);
  }
  return list;
}

const lines = [
  '| detector | scenario (what counts as found) | detected, with APM | detected, without APM | mean error | false alarms on clean (> low) | any non-info on clean |',
  '| --- | --- | --- | --- | --- | --- | --- |',
];
const clean = runs('clean');
for (const check of CHECKS) {
  const results = runs(check.scenario).map(({ scenario, findings }) => check.found(findings, scenario.truth));
  // runs() alternates with APM, without APM.
  const withApm = results.filter((r, i) => r.ok && i % 2 === 0).length;
  const withoutApm = results.filter((r, i) => r.ok && i % 2 === 1).length;
  const errors = results.map((r) => r.error).filter((e): e is number => e !== undefined);
  const meanError = errors.length ? (errors.reduce((a, b) => a + b, 0) / errors.length) : null;
  const unit = check.detector === 'retry-storms' ? '×' : ' s';
  const alarms = clean.filter(({ findings }) => of(findings, check.detector).some((f) => atLeast(f, 'medium'))).length;
  const nonInfo = clean.filter(({ findings }) => of(findings, check.detector).some((f) => atLeast(f, 'low'))).length;
  lines.push(`| ${check.detector} | ${check.scenario} (${check.what}) | ${withApm}/${SEEDS.length} | ${withoutApm}/${SEEDS.length} | ` +
    `${meanError === null ? '–' : `${meanError.toFixed(3)}${unit}`} | ${alarms}/${clean.length} | ${nonInfo}/${clean.length} |`);
}
process.stdout.write(`${lines.join('\n')}\n\n${SEEDS.length} seeds × (with APM, without APM) per scenario; budget 600s/5m.\n`);
