import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze, findingsOf, tableRows, type AlfReport, type Finding } from './alf-cli.js';
import { AGENTS, browsers, browserTabs, etlJob, mobile, partners, probes, wallboards } from './cohorts.js';
import { PATIENT, type Cohort } from './clients.js';
import { MIXED_ROUTES, type RouteTable } from './endpoints.js';
import { trueSecondsOfKey, windowHolding } from './ground-truth.js';
import { readNginxPipe, type NginxLine } from './proxy-logs.js';
import { KNEE_TOLERANCE_S, NGINX_INSTALLED, runSettings, WORKERS } from './run-settings.js';
import { describeRun, FOUNDING_EXPORTS, Scenario, type ScenarioOptions, type ScenarioResult } from './scenario.js';

/**
 * An incident through a real nginx, beside a healthy control run at the same time: the findings
 * an on-call engineer reads must name every client timeout with its clients, tell nginx's own
 * `proxy_read_timeout` from a client's, count the backend's resets, name exactly the keys whose
 * budget the proxy under-counts (not the ETL job that is over budget by both measures), and stay
 * at `low` or below on the control.
 *
 * Incident: two clients with their own timeouts (1.5 s and 2.5 s) on a slow report API; an export
 * API behind `proxy_read_timeout 5s`; partners whose imports crash the worker (502); mobile apps
 * that drop at random; an ETL job; browsers, tabs, wallboards and probes. Control: the same
 * background without the incident's parts.
 */

const SYNC = { name: 'report-sync', userAgent: 'report-sync/2.1 (+https://sync.example)', apiKey: 'key_sync', timeoutMs: 1_500 };
const BATCH = { name: 'batch', userAgent: 'batch-client/4.0 Go-http-client/1.1', apiKey: 'key_batch', timeoutMs: 2_500 };
const EXPORTS_AGENT = 'exports-cli/1.2';

const ROUTES = {
  ...MIXED_ROUTES,
  slowReport: { template: '/v3/reports/:id/full', controller: 'reports/full', minMs: 800, maxMs: 6_000 },
  export: { template: '/v1/exports/:id', controller: 'exports/show', minMs: 2_000, maxMs: 9_000 },
} as const satisfies RouteTable;

const slowClient = (who: typeof SYNC, ratePerSecond: number): Cohort => ({
  name: who.name, userAgent: who.userAgent, apiKeys: [who.apiKey], arrival: { kind: 'poisson', ratePerSecond },
  routes: [['slowReport', 1]], ids: { kind: 'unique' }, giveUp: { kind: 'timeout', ms: who.timeoutMs }, hangUp: 'close',
});

function background(): Cohort[] {
  return [
    browsers(4, { routes: [['dashboard', 0.5], ['order', 0.5]] }),
    browserTabs(3, 5_000),
    wallboards(2, 10_000),
    mobile(1.5),
    etlJob(8, 100, { routes: [['report', 1]] }),
    partners(2, { routes: [['order', 0.6], ['report', 0.4]] }),
    probes('kube-probe', AGENTS.kubeProbe, 1, 5_000),
    probes('lb-check', AGENTS.lbCheck, 2, 10_000),
  ];
}

function scenario(label: string, seed: number, incident: boolean): ScenarioOptions {
  const cohorts = incident
    ? [
      ...background().map((cohort) => cohort.name === 'partners' ? { ...cohort, routes: [['order', 0.4], ['report', 0.3], ['flaky', 0.3]] as const } : cohort),
      slowClient(SYNC, 1.5),
      slowClient(BATCH, 1.5),
      { name: 'exports', userAgent: EXPORTS_AGENT, apiKeys: [], arrival: { kind: 'poisson', ratePerSecond: 1 }, routes: [['export', 1]], ids: { kind: 'unique' }, giveUp: PATIENT, hangUp: 'close' } satisfies Cohort,
    ]
    : background();
  return {
    label, seed, trafficMs: 40_000, cohorts, routes: ROUTES, proxies: ['nginx'], workers: WORKERS, exports: FOUNDING_EXPORTS,
    nginx: {
      logs: ['alf_pipe'], ignoreClientAbort: false,
      locations: incident ? [{ match: '/v1/exports/', directives: ['proxy_read_timeout 5s;'] }] : [],
    },
  };
}

/** Backend seconds the proxy logged for a key: the sum of its upstream response times (every attempt). */
function accountedSecondsOfKey(lines: readonly NginxLine[], apiKey: string): number {
  return lines.filter((line) => line.apiKey === apiKey)
    .reduce((sum, line) => sum + line.upstreamResponseTime.split(/[,:]/).reduce((s, part) => s + (Number(part.trim()) || 0), 0), 0);
}

const settings = runSettings(21);
const above = (finding: Finding, severity: 'low' | 'medium') => ['info', 'low', 'medium', 'high', 'critical'].indexOf(finding.severity) > ['info', 'low', 'medium', 'high', 'critical'].indexOf(severity);

describe.skipIf(!NGINX_INSTALLED)(`an incident with two client timeouts, a 5 s proxy_read_timeout and resets, beside a healthy control, through real nginx (seed ${settings.seed})`, () => {
  const scenarios: Scenario[] = [];
  let incident: ScenarioResult;
  let control: ScenarioResult;
  let lines: NginxLine[];
  let budget: { text: string; allowanceSeconds: number };
  const reports = {} as Record<'incident' | 'incidentNoApm' | 'control' | 'controlNoApm', AlfReport>;

  beforeAll(async () => {
    const incidentRun = new Scenario(scenario('incident', settings.seed, true));
    const controlRun = new Scenario(scenario('control', settings.seed + 1, false));
    scenarios.push(incidentRun, controlRun);
    // One traffic run each, side by side: every assertion below reads these four reports.
    [incident, control] = await Promise.all([incidentRun.run(), controlRun.run()]);
    console.info(describeRun(incident));
    console.info(describeRun(control));
    lines = readNginxPipe(incident.nginx!.logs.alf_pipe!);

    // A budget between what the proxy accounts and what the backend spends for the two timeout
    // cohorts, and below both measures of the ETL job (which the proxy's limiter does see).
    const keys = [...new Set(lines.map((line) => line.apiKey).filter((key) => key !== '-'))];
    const trueOf = (key: string) => trueSecondsOfKey(incident.truth.nginx, key);
    const accountedOf = (key: string) => accountedSecondsOfKey(lines, key);
    const others = keys.filter((key) => ![SYNC.apiKey, BATCH.apiKey, 'key_etl'].includes(key));
    const floor = Math.max(accountedOf(SYNC.apiKey), accountedOf(BATCH.apiKey), ...others.map(trueOf));
    const ceiling = Math.min(trueOf(SYNC.apiKey), trueOf(BATCH.apiKey), accountedOf('key_etl'));
    console.info(`alf e2e incident: budget between ${floor.toFixed(1)} s and ${ceiling.toFixed(1)} s (sync ${accountedOf(SYNC.apiKey).toFixed(1)}/${trueOf(SYNC.apiKey).toFixed(1)} s, ` +
      `batch ${accountedOf(BATCH.apiKey).toFixed(1)}/${trueOf(BATCH.apiKey).toFixed(1)} s, etl ${accountedOf('key_etl').toFixed(1)}/${trueOf('key_etl').toFixed(1)} s accounted/true)`);
    expect(floor, 'the run leaves room for a budget between the two measures').toBeLessThan(ceiling);
    const allowanceSeconds = Math.floor((floor + ceiling) / 2);
    budget = { text: `${allowanceSeconds}s/${windowHolding(incident.trafficStartMs - 60_000, incident.trafficEndMs + 60_000)}`, allowanceSeconds };

    const conf = incident.nginx!.conf;
    reports.incident = analyze([incident.nginx!.logs.alf_pipe!, '--log-format', conf, '--apm', incident.apm.nginx.newrelic!, '--budget', budget.text]);
    reports.incidentNoApm = analyze([incident.nginx!.logs.alf_pipe!, '--log-format', conf]);
    reports.control = analyze([control.nginx!.logs.alf_pipe!, '--log-format', control.nginx!.conf, '--apm', control.apm.nginx.newrelic!, '--budget', budget.text]);
    reports.controlNoApm = analyze([control.nginx!.logs.alf_pipe!, '--log-format', control.nginx!.conf]);
    for (const [name, report] of Object.entries(reports)) {
      console.info(`alf e2e ${name}: ${report.findings.filter((f) => f.severity !== 'info').map((f) => `[${f.severity}] ${f.title}`).join('; ') || 'nothing above info'}`);
    }
  }, 300_000);

  afterAll(async () => {
    for (const run of scenarios) {
      await run.stop();
      run.cleanUp();
    }
  }, 30_000);

  for (const report of ['incident', 'incidentNoApm'] as const) {
    it(`names each client timeout as a knee of its own, with its value, user agent and key (${report === 'incident' ? 'with' : 'without'} APM)`, () => {
      const knees = findingsOf(reports[report], 'client-timeout-knee');
      expect(knees.map((knee) => knee.figures.userAgent).sort()).toEqual([BATCH.userAgent, SYNC.userAgent].sort());
      for (const who of [SYNC, BATCH]) {
        const knee = knees.find((finding) => finding.figures.userAgent === who.userAgent)!;
        expect(Math.abs(Number(knee.figures.timeoutSeconds) - who.timeoutMs / 1000), knee.title).toBeLessThanOrEqual(KNEE_TOLERANCE_S);
        expect(knee.figures.apiKey).toBe(who.apiKey);
        expect(Number(knee.figures.userAgentShareOfKnee)).toBeGreaterThanOrEqual(0.9);
        // The cohort's requests that outlasted its timeout end at the knee (with APM, those whose backend ran
        // on clearly longer than the client waited: a backend that finished 0.2 s after the hang-up is no cut-off).
        const cut = lines.filter((line) => line.userAgent === who.userAgent && line.status === 499).length;
        expect(Number(knee.figures.requestsAtKnee)).toBeGreaterThanOrEqual(0.75 * cut);
        expect(Number(knee.figures.requestsAtKnee)).toBeLessThanOrEqual(cut + 3);
        expect(above(knee, 'low'), knee.severity).toBe(true);
      }
      // The wall detector refers to the knees instead of reporting anonymous walls at 1.5 and 2.5 s.
      for (const wall of findingsOf(reports[report], 'timeout-walls')) {
        if (wall.figures.wallSeconds !== undefined) expect(Math.abs(Number(wall.figures.wallSeconds) - 5)).toBeLessThan(0.2);
      }
    });
  }

  it('tells nginx\'s 5 s proxy_read_timeout from a client timeout: a gateway-timeout wall on the export API, naming the setting', () => {
    const walls = findingsOf(reports.incident, 'timeout-walls').filter((wall) => wall.figures.wallSeconds !== undefined);
    expect(walls).toHaveLength(1);
    const wall = walls[0]!;
    const timeouts = lines.filter((line) => line.status === 504);
    expect(timeouts.length).toBeGreaterThanOrEqual(5);
    expect(Math.abs(Number(wall.figures.wallSeconds) - 5)).toBeLessThan(0.1);
    expect(wall.figures).toMatchObject({ cause: 'gateway-timeout', route: '/v1/exports/:id', gatewayTimeouts: timeouts.length });
    // A mobile client may happen to drop at 5 s too; a client closing is not what happened here.
    expect(Number(wall.figures.clientClosed)).toBeLessThan(0.2 * timeouts.length);
    expect(String(wall.figures.setting)).toContain('proxy_read_timeout');
    expect(`${wall.title} ${wall.explanation}`).not.toContain('client default');
    // The backend worked on past the proxy's answer, and the finding says how long, from APM.
    expect(Number(wall.figures.backendSecondsAfterWall)).toBeGreaterThan(0);
  });

  it('counts the backend\'s resets (502) on its upstream, and the timeouts beside them', () => {
    const [trouble, ...more] = findingsOf(reports.incident, 'upstream-trouble');
    expect(more).toEqual([]);
    const resets = incident.truth.nginx.filter((work) => work.reset).length;
    expect(resets).toBeGreaterThanOrEqual(5);
    expect(lines.filter((line) => line.status === 502)).toHaveLength(resets);
    expect(trouble!.figures).toMatchObject({ upstream: expect.stringMatching(/^127\.0\.0\.1:\d+$/), resets, timeouts: lines.filter((line) => line.status === 504).length });
    expect(Number(trouble!.figures.errors)).toBe(resets + lines.filter((line) => line.status === 504).length);
  });

  it('names exactly the keys whose budget the proxy under-counts; the ETL job over budget by both measures is not one', () => {
    const undercounted = findingsOf(reports.incident, 'budget-undercount');
    expect(undercounted.map((finding) => finding.figures.apiKey).sort()).toEqual([BATCH.apiKey, SYNC.apiKey].sort());
    for (const finding of undercounted) {
      expect(Number(finding.figures.trueSeconds)).toBeGreaterThan(budget.allowanceSeconds);
      expect(Number(finding.figures.accountedSeconds)).toBeLessThan(budget.allowanceSeconds);
      expect(Number(finding.figures.windowsMissedByProxy)).toBe(1);
    }
    const etl = tableRows(findingsOf(reports.incident, 'budget-per-key')[0]!).find((row) => row.apiKey === 'key_etl')!;
    expect(Number(etl.accountedSeconds)).toBeGreaterThan(budget.allowanceSeconds);
    expect(Number(etl.trueSeconds)).toBeGreaterThan(budget.allowanceSeconds);
    expect(etl.windowsMissedByProxy).toBe(0);
  });

  it('the verdict speaks of both timeouts and the under-count, citing the findings\' own figures', () => {
    const text = reports.incident.verdict.map((sentence) => sentence.text).join(' ');
    expect(text).toContain('2 different timeouts');
    expect(text).toContain(SYNC.apiKey);
    for (const sentence of reports.incident.verdict) {
      for (const cite of sentence.cites) {
        const value = cite.pointer.split('/').slice(1).reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], reports.incident);
        expect(value, cite.pointer).toEqual(cite.value);
      }
    }
  });

  it('mobile drops and probes are no knee and no wall of their own', () => {
    for (const report of [reports.incident, reports.incidentNoApm]) {
      for (const knee of findingsOf(report, 'client-timeout-knee')) expect([SYNC.userAgent, BATCH.userAgent]).toContain(knee.figures.userAgent);
    }
    expect(lines.some((line) => line.userAgent === AGENTS.mobile && line.status === 499)).toBe(true);
  });

  it('the healthy control raises nothing above low, with APM and without', () => {
    for (const report of [reports.control, reports.controlNoApm]) {
      const loud = report.findings.filter((finding) => above(finding, 'low'));
      expect(loud.map((finding) => `${finding.severity} ${finding.title}`)).toEqual([]);
      expect(findingsOf(report, 'client-timeout-knee')).toEqual([]);
      expect(report.verdict[0]!.text).toMatch(/^No anomaly stands out/);
    }
  });
});
