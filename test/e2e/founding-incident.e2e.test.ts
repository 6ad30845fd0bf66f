import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haproxy, haproxyCaptureLayout, haproxyFormat } from '../../parsers/haproxy.js';
import type { ProxyRecord } from '../../src/model/records.js';
import { parseLines } from '../parsers/parse-lines.js';
import { analyze, fileStats, findingsOf, readJoinedPairs, tableRows, type AlfReport, type JoinedPair } from './alf-cli.js';
import { EXPORTER_AGENT, EXPORTER_KEY } from './clients.js';
import { budgetBelowTrueUse, clearlyAbandoned, copiesThrough, truthById } from './ground-truth.js';
import { haproxyDropAllowance, readHaproxyLog, readNginxPipe, type HaproxyLine, type NginxLine } from './proxy-logs.js';
import { KNEE_TOLERANCE_S, PROXIES_INSTALLED, runSettings, WORKERS } from './run-settings.js';
import { describeRun, foundingScenario, Scenario, type ScenarioResult } from './scenario.js';

/**
 * The founding case, with real proxies: nginx with a post_action on the metrics API (and
 * proxy_ignore_client_abort off), HAProxy with option abortonclose, a Unicorn-like backend behind
 * each, and an exporter that gives up after a client timeout picked at random for this run.
 * alf reads what the proxies and the backends' APM exports really hold.
 */

const settings = runSettings(0);
const T = settings.clientTimeoutMs;

describe.skipIf(!PROXIES_INSTALLED)(`founding incident through real nginx and HAProxy (seed ${settings.seed}, client timeout ${T} ms)`, () => {
  let scenario: Scenario | null = null;
  let run: ScenarioResult;
  let nginxLines: NginxLine[];
  let haproxyLines: HaproxyLine[];
  const reports = {} as Record<'nginx' | 'haproxy' | 'combined', AlfReport>;
  const pairs = {} as Record<'nginx' | 'haproxy', JoinedPair[]>;
  const budgets = {} as Record<'nginx' | 'haproxy', ReturnType<typeof budgetBelowTrueUse>>;

  beforeAll(async () => {
    scenario = new Scenario(foundingScenario({
      label: 'incident', seed: settings.seed, trafficMs: 45_000, clientTimeoutMs: T,
      postAction: true, ignoreClientAbort: false, abortOnClose: true, workers: WORKERS,
    }));
    run = await scenario.run();
    console.info(describeRun(run));
    nginxLines = readNginxPipe(run.nginx!.logs.alf_pipe!);
    haproxyLines = readHaproxyLog(run.haproxy!.log);
    budgets.nginx = budgetBelowTrueUse(run, 'nginx', EXPORTER_KEY, 0.9);
    budgets.haproxy = budgetBelowTrueUse(run, 'haproxy', EXPORTER_KEY, 0.9);
    const nginxPairs = join(run.dir, 'pairs-nginx.csv');
    const haproxyPairs = join(run.dir, 'pairs-haproxy.csv');
    reports.nginx = analyze([run.nginx!.logs.alf_pipe!, '--log-format', run.nginx!.conf, '--apm', run.apm.nginx.newrelic!, '--budget', budgets.nginx.budget, '--joined', nginxPairs]);
    reports.haproxy = analyze([run.haproxy!.log, '--apm', run.apm.haproxy.otlp!, '--budget', budgets.haproxy.budget, '--joined', haproxyPairs]);
    reports.combined = analyze([run.nginx!.logs.combined!, '--apm', run.apm.nginx.otlp!]);
    pairs.nginx = readJoinedPairs(nginxPairs);
    pairs.haproxy = readJoinedPairs(haproxyPairs);
  }, 240_000);

  afterAll(async () => {
    await scenario?.stop();
    scenario?.cleanUp();
  }, 30_000);

  it('ran a few thousand requests through each proxy, and each logged every one (HAProxy all but a rare line it drops)', () => {
    expect(run.sent.length).toBeGreaterThan(1_500);
    const sentIds = (proxy: 'nginx' | 'haproxy') => run.sent.map((request) => request.outcomes.find((o) => o.proxy === proxy)!.requestId).sort();
    expect(nginxLines.map((line) => line.requestId).sort()).toEqual(sentIds('nginx'));
    // HAProxy may drop a line (haproxyDropAllowance): every line it wrote is a request sent, once,
    // and alf is held to every line written (below).
    const sentThroughHaproxy = new Set(sentIds('haproxy'));
    const haproxyIds = haproxyLines.map((line) => line.requestId);
    expect(haproxyIds.filter((id) => !sentThroughHaproxy.has(id))).toEqual([]);
    expect(new Set(haproxyIds).size).toBe(haproxyIds.length);
    expect(run.sent.length - haproxyIds.length).toBeLessThanOrEqual(haproxyDropAllowance(run.sent.length));
    expect(readFileSync(run.nginx!.logs.combined!, 'utf8').trim().split('\n')).toHaveLength(run.sent.length);
  });

  it('alf reads every request line of the three logs, and ignores HAProxy\'s own notices', () => {
    for (const [report, path] of [[reports.nginx, run.nginx!.logs.alf_pipe!], [reports.combined, run.nginx!.logs.combined!]] as const) {
      expect(fileStats(report, path)).toMatchObject({ records: run.sent.length, skipped: 0 });
    }
    const stats = fileStats(reports.haproxy, run.haproxy!.log);
    expect(stats.format).toBe('haproxy');
    expect(stats.records).toBe(haproxyLines.length);
    expect(stats.skipped).toBe(0);
    expect(stats.ignored).toBeGreaterThan(0); // "Proxy fe stopped (…)" and its kind, as HAProxy writes them
    expect(fileStats(reports.nginx, run.apm.nginx.newrelic!).records).toBe(run.truth.nginx.length);
    expect(fileStats(reports.haproxy, run.apm.haproxy.otlp!).records).toBe(run.truth.haproxy.length);
  });

  it('finds the knee at the client timeout the exporter used, and names the exporter', () => {
    for (const report of [reports.nginx, reports.haproxy]) {
      const [knee] = findingsOf(report, 'client-timeout-knee');
      expect(knee, 'a client-timeout-knee finding').toBeDefined();
      expect(Math.abs(Number(knee!.figures.timeoutSeconds) - T / 1000)).toBeLessThanOrEqual(KNEE_TOLERANCE_S);
      expect(knee!.figures.basedOnApm).toBe(true);
      expect(Number(knee!.figures.requestsAtKnee)).toBeGreaterThanOrEqual(20);
      // Who: the exporter's user agent and key hold nearly all of the knee (the founding case's decisive clue).
      const rows = tableRows(knee!);
      const top = (dimension: string) => rows.find((row) => row.dimension === dimension);
      expect(top('userAgent')).toMatchObject({ value: EXPORTER_AGENT });
      expect(top('apiKey')).toMatchObject({ value: EXPORTER_KEY });
      expect(Number(top('userAgent')!.shareOfKnee)).toBeGreaterThanOrEqual(0.8);
    }
  });

  it('joins the aborted requests to their backend transactions, with the true work time', () => {
    const nginxTruth = truthById(run.truth.nginx);
    const haproxyTruth = truthById(run.truth.haproxy);
    const haproxyIdAtLine = new Map(haproxyLines.map((line) => [line.line, line.requestId]));
    const check = (proxy: 'nginx' | 'haproxy', idOf: (pair: JoinedPair) => string, apmLineOf: (id: string) => number | undefined, durationOf: (id: string) => number | undefined) => {
      const gaveUp = new Set(clearlyAbandoned(run, proxy).filter((copy) => copy.request.profile === 'exporter').map((copy) => copy.outcome.requestId));
      const abortedPairs = pairs[proxy].filter((pair) => gaveUp.has(idOf(pair)));
      expect(abortedPairs).toHaveLength(gaveUp.size);
      const right = abortedPairs.filter((pair) => pair.apm_line === apmLineOf(idOf(pair)));
      const wrong = abortedPairs.filter((pair) => pair.apm_line !== null && pair.apm_line !== apmLineOf(idOf(pair)));
      expect(wrong.map((pair) => idOf(pair))).toEqual([]);
      // Not all: alf's join learns a start noise of about 1 ms from these logs, and leaves unjoined a
      // request whose APM start came a few ms late (scheduling) or after a wait for a worker.
      console.info(`alf e2e: ${proxy}: ${right.length} of ${gaveUp.size} abandoned exporter requests joined to their own transaction`);
      expect(right.length / gaveUp.size).toBeGreaterThanOrEqual(0.85);
      for (const pair of right) {
        expect(pair.apm_duration_s! * 1000).toBeCloseTo(durationOf(idOf(pair))!, -1);
        // The proxy stopped at the client's timeout; the backend worked on.
        expect(pair.proxy_time_s!).toBeLessThan(T / 1000 + 0.3);
      }
      return gaveUp.size;
    };
    const nginxAborted = check('nginx', (pair) => pair.proxy_request_id, (id) => nginxTruth.get(id)?.lines.newrelic, (id) => nginxTruth.get(id)?.durationMs);
    const haproxyAborted = check('haproxy', (pair) => haproxyIdAtLine.get(pair.proxy_line) ?? '', (id) => haproxyTruth.get(id)?.lines.otlp, (id) => haproxyTruth.get(id)?.durationMs);
    expect(nginxAborted).toBeGreaterThanOrEqual(30);
    expect(haproxyAborted).toBe(nginxAborted);
  });

  it('names the exporter\'s key as under-counted against a budget below its true use, and no other key', () => {
    for (const proxy of ['nginx', 'haproxy'] as const) {
      const findings = findingsOf(reports[proxy], 'budget-undercount');
      expect(findings.map((finding) => finding.figures.apiKey)).toEqual([EXPORTER_KEY]);
      const figures = findings[0]!.figures;
      expect(figures.budget).toBe(budgets[proxy].budget);
      expect(Number(figures.windowsMissedByProxy)).toBeGreaterThanOrEqual(1);
      expect(Number(figures.trueSeconds)).toBeGreaterThan(budgets[proxy].allowanceSeconds);
      expect(Number(figures.trueSeconds)).toBeLessThanOrEqual(budgets[proxy].trueSeconds * 1.01);
      expect(Number(figures.accountedSeconds)).toBeLessThan(budgets[proxy].allowanceSeconds);
    }
  });

  it('HAProxy and nginx agree on how many requests there were and how many clients hung up', () => {
    const perKey = (report: AlfReport) => tableRows(findingsOf(report, 'budget-per-key')[0]!);
    const total = (report: AlfReport, column: string) => perKey(report).reduce((sum, row) => sum + Number(row[column]), 0);
    expect(total(reports.nginx, 'requests')).toBe(run.sent.length);
    expect(total(reports.haproxy, 'requests')).toBe(haproxyLines.length);
    const nginxAborted = total(reports.nginx, 'aborted');
    const haproxyAborted = total(reports.haproxy, 'aborted');
    const clientsGaveUp = copiesThrough(run, 'nginx').filter((copy) => copy.outcome.gaveUp).length;
    const tolerance = Math.max(3, 0.05 * clientsGaveUp);
    expect(Math.abs(nginxAborted - haproxyAborted)).toBeLessThanOrEqual(tolerance);
    expect(Math.abs(nginxAborted - clientsGaveUp)).toBeLessThanOrEqual(tolerance);
  });

  it('nginx 1.22 logs an abort as 404 with upstream "-" and 0 bytes after post_action, as 499 elsewhere', () => {
    const byId = new Map(nginxLines.map((line) => [line.requestId, line]));
    const gaveUp = clearlyAbandoned(run, 'nginx').map((copy) => byId.get(copy.outcome.requestId)!);
    const metrics = gaveUp.filter((line) => line.uri.startsWith('/v2/applications/'));
    const others = gaveUp.filter((line) => !line.uri.startsWith('/v2/applications/'));
    expect(metrics.length).toBeGreaterThan(20);
    for (const line of metrics) {
      expect(line, line.raw).toMatchObject({ status: 404, upstreamStatus: '-', upstreamHeaderTime: '-', bytesSent: 0 });
      // Since 1.15.7 the upstream time is the time until nginx gave up, not "-".
      expect(Math.abs(Number(line.upstreamResponseTime) - line.requestTime)).toBeLessThanOrEqual(0.005);
    }
    for (const line of others) expect(line, line.raw).toMatchObject({ status: 499, upstreamStatus: '-', bytesSent: 0 });
    // post_action also turns the answered requests of that location into 404s, upstream status 200.
    const answered = nginxLines.filter((line) => line.uri.startsWith('/v2/applications/') && line.upstreamStatus === '200');
    expect(answered.length).toBeGreaterThan(10);
    for (const line of answered) expect(line.status).toBe(404);
  });

  it('HAProxy 2.6 with abortonclose logs a closed connection as CH with status 400, a reset one as CD with status -1', () => {
    const byId = new Map(haproxyLines.map((line) => [line.requestId, line]));
    const gaveUp = clearlyAbandoned(run, 'haproxy');
    expect(gaveUp.length).toBeGreaterThan(20);
    for (const copy of gaveUp) {
      const line = byId.get(copy.outcome.requestId)!;
      const reset = copy.request.hangUp === 'reset';
      expect(line, line.raw).toMatchObject({ termination: reset ? 'CD--' : 'CH--', status: reset ? -1 : 400 });
      expect(line.bytes > 0, line.raw).toBe(!reset);
      expect(line.timers[3], line.raw).toBe(-1);
      expect(Math.abs(line.timers[4]! - copy.request.giveUpAfterMs), line.raw).toBeLessThanOrEqual(100);
    }
  });

  it('reads the header captures by the layout of the real haproxy.cfg, and by the default order', () => {
    const lines = readFileSync(run.haproxy!.log, 'utf8').split('\n').filter((line) => line.includes('"GET '));
    const sentById = new Map(copiesThrough(run, 'haproxy').map((copy) => [copy.outcome.requestId, copy.request]));
    const withLayout = parseLines(haproxyFormat(haproxyCaptureLayout(readFileSync(run.haproxy!.cfg, 'utf8'))), lines);
    const byDefault = parseLines(haproxy, lines);
    expect(withLayout.issues).toEqual([]);
    for (const [index, record] of (withLayout.records as ProxyRecord[]).entries()) {
      const request = sentById.get(record.requestId ?? '');
      expect(request, record.raw).toBeDefined();
      expect(record).toMatchObject({ userAgent: request!.userAgent, apiKey: request!.apiKey, path: request!.path });
      expect(record.host).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(byDefault.records[index]).toMatchObject({ userAgent: request!.userAgent, apiKey: request!.apiKey, requestId: null });
    }
  });
});
