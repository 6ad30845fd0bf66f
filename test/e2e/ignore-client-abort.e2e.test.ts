import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze, fileStats, findingsOf, tableRows, type AlfReport } from './alf-cli.js';
import { EXPORTER_KEY } from './clients.js';
import { BACKEND } from './haproxy-config.js';
import { budgetBelowTrueUse, clearlyAbandoned, truthById } from './ground-truth.js';
import { haproxyDropAllowance, readHaproxyLog, readNginxPipe, type HaproxyLine, type NginxLine } from './proxy-logs.js';
import { KNEE_TOLERANCE_S, PROXIES_INSTALLED, runSettings, WORKERS } from './run-settings.js';
import { describeRun, foundingScenario, Scenario, type ProxyName, type ScenarioResult } from './scenario.js';

/**
 * The founding fix, with real proxies: nginx keeps its post_action but sets
 * `proxy_ignore_client_abort on`, and HAProxy runs without `option abortonclose`, so both wait for
 * the backend when a client hangs up. The same clients give up at the same timeout; the budget
 * under-count must disappear, because the proxies now log the backend's real time.
 */

const settings = runSettings(1);
const T = settings.clientTimeoutMs;

describe.skipIf(!PROXIES_INSTALLED)(`proxy_ignore_client_abort on: the under-count disappears (seed ${settings.seed}, client timeout ${T} ms)`, () => {
  let scenario: Scenario | null = null;
  let run: ScenarioResult;
  let nginxLines: NginxLine[];
  let haproxyLines: HaproxyLine[];
  const reports = {} as Record<ProxyName, AlfReport>;
  const budgets = {} as Record<ProxyName, ReturnType<typeof budgetBelowTrueUse>>;

  beforeAll(async () => {
    scenario = new Scenario(foundingScenario({
      label: 'fixed', seed: settings.seed, trafficMs: 30_000, clientTimeoutMs: T,
      postAction: true, ignoreClientAbort: true, abortOnClose: false, workers: WORKERS,
    }));
    run = await scenario.run();
    console.info(describeRun(run));
    nginxLines = readNginxPipe(run.nginx!.logs.alf_pipe!);
    haproxyLines = readHaproxyLog(run.haproxy!.log);
    budgets.nginx = budgetBelowTrueUse(run, 'nginx', EXPORTER_KEY, 0.9);
    budgets.haproxy = budgetBelowTrueUse(run, 'haproxy', EXPORTER_KEY, 0.9);
    reports.nginx = analyze([run.nginx!.logs.alf_pipe!, '--log-format', run.nginx!.conf, '--apm', run.apm.nginx.newrelic!, '--budget', budgets.nginx.budget]);
    reports.haproxy = analyze([run.haproxy!.log, '--apm', run.apm.haproxy.otlp!, '--budget', budgets.haproxy.budget]);
  }, 240_000);

  afterAll(async () => {
    await scenario?.stop();
    scenario?.cleanUp();
  }, 30_000);

  it('the clients still gave up at their timeout, and both proxies logged every request (HAProxy all but a rare line it drops)', () => {
    expect(clearlyAbandoned(run, 'nginx').filter((copy) => copy.request.profile === 'exporter').length).toBeGreaterThanOrEqual(15);
    expect(fileStats(reports.nginx, run.nginx!.logs.alf_pipe!)).toMatchObject({ records: run.sent.length, skipped: 0 });
    // HAProxy's own notices (proxies started and stopped) are the lines alf ignores; no line is skipped.
    const haproxyStats = fileStats(reports.haproxy, run.haproxy!.log);
    const haproxyLogged = readHaproxyLog(run.haproxy!.log).length;
    expect(run.sent.length - haproxyLogged).toBeLessThanOrEqual(haproxyDropAllowance(run.sent.length));
    expect(haproxyStats.records).toBe(haproxyLogged);
    expect(haproxyStats.skipped).toBe(0);
    const notices = readFileSync(run.haproxy!.log, 'latin1').split('\n').filter((line) => line !== '' && !line.includes(` ${BACKEND}/`));
    expect(notices.length).toBeGreaterThan(0);
    expect(haproxyStats.ignored).toBe(notices.length);
  });

  it('nginx waits and logs the backend\'s status and time (post_action still makes it a 404)', () => {
    const truth = truthById(run.truth.nginx);
    const byId = new Map(nginxLines.map((line) => [line.requestId, line]));
    for (const copy of clearlyAbandoned(run, 'nginx')) {
      const line = byId.get(copy.outcome.requestId)!;
      const work = truth.get(copy.outcome.requestId)!;
      expect(line, line.raw).toMatchObject({ status: line.uri.startsWith('/v2/applications/') ? 404 : 200, upstreamStatus: '200' });
      // The answer reaches a closed connection (bytes counted), not a reset one (0 bytes).
      expect(line.bytesSent > 0, line.raw).toBe(copy.request.hangUp === 'close');
      expect(Number(line.upstreamResponseTime) * 1000, line.raw).toBeGreaterThanOrEqual(work.durationMs - 5);
    }
  });

  it('HAProxy without abortonclose waits too: status 200 and Tr set; a reset connection shows only as CD', () => {
    const truth = truthById(run.truth.haproxy);
    const byId = new Map(haproxyLines.map((line) => [line.requestId, line]));
    for (const copy of clearlyAbandoned(run, 'haproxy')) {
      const line = byId.get(copy.outcome.requestId)!;
      expect(line, line.raw).toMatchObject({ status: 200, termination: copy.request.hangUp === 'reset' ? 'CD--' : '----' });
      expect(line.bytes, line.raw).toBeGreaterThan(0);
      expect(line.timers[3]!, line.raw).toBeGreaterThanOrEqual(truth.get(copy.outcome.requestId)!.durationMs - 5);
    }
  });

  it('alf names no key as under-counted against the same budget rule, and sees no knee at the timeout', () => {
    for (const proxy of ['nginx', 'haproxy'] as const) {
      const report = reports[proxy];
      expect(findingsOf(report, 'budget-undercount')).toEqual([]);
      const exporter = tableRows(findingsOf(report, 'budget-per-key')[0]!).find((row) => row.apiKey === EXPORTER_KEY)!;
      expect(Number(exporter.trueSeconds)).toBeGreaterThan(budgets[proxy].allowanceSeconds);
      expect(Number(exporter.accountedSeconds)).toBeGreaterThanOrEqual(Number(exporter.trueSeconds) * 0.99);
      expect(Number(exporter.windowsMissedByProxy)).toBe(0);
      const knees = findingsOf(report, 'client-timeout-knee').filter((knee) => Math.abs(Number(knee.figures.timeoutSeconds) - T / 1000) <= KNEE_TOLERANCE_S);
      expect(knees).toEqual([]);
    }
  });

  it('HAProxy and nginx agree on the requests; only HAProxy still flags the reset connections, with their full time', () => {
    const rows = (proxy: ProxyName) => tableRows(findingsOf(reports[proxy], 'budget-per-key')[0]!);
    const total = (proxy: ProxyName, column: string) => rows(proxy).reduce((sum, row) => sum + Number(row[column]), 0);
    expect(total('nginx', 'requests')).toBe(run.sent.length);
    expect(total('haproxy', 'requests')).toBe(readHaproxyLog(run.haproxy!.log).length);
    expect(total('nginx', 'aborted')).toBeLessThanOrEqual(3);
    const resets = clearlyAbandoned(run, 'haproxy').filter((copy) => copy.request.hangUp === 'reset').length;
    expect(Math.abs(total('haproxy', 'aborted') - resets)).toBeLessThanOrEqual(Math.max(3, 0.1 * resets));
  });
});
