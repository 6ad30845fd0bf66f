import { describe, expect, it } from 'vitest';
import { findingsOfKind } from '../../src/detectors/detector.js';
import { emptyFileStats } from '../../src/model/file-stats.js';
import { DEFAULT_JOIN_OPTIONS } from '../../src/join/options.js';
import { emptyApmTransaction, emptyProxyRecord, type ApmTransaction, type ProxyRecord } from '../../src/model/records.js';
import { analyze, analyzeRecords } from '../../src/pipeline/analyze.js';
import { parseWhere } from '../../src/pipeline/slice-spec.js';
import { loadLogFormat } from '../../src/parse/log-format.js';
import { INCIDENT_DIR } from '../reports/report-fixtures.js';
import type { Analysis } from '../../src/pipeline/analysis.js';
import { foundingCase } from '../generators/scenarios.js';

/**
 * A failed join is the first thing a report says (issue 20): when an APM export was given and less
 * than half of either side joined, a finding of medium or above names the likely reason and what to
 * pass, the verdict opens with it, and no figure presents the proxy's times as the backend's.
 */

const HOUR = 3_600_000;

async function analyseFounding(
  edit: (transaction: ApmTransaction) => void,
  editProxy: (proxy: ProxyRecord) => void = () => {},
  exported: (transaction: ApmTransaction) => boolean = () => true,
  logged: (proxy: ProxyRecord) => boolean = () => true,
  more: (proxies: readonly ProxyRecord[]) => ProxyRecord[] = () => [],
): Promise<Analysis> {
  const scenario = foundingCase({ seed: 5, durationSeconds: 600 });
  const logs = scenario.requests.map((request) => request.proxy).filter((proxy): proxy is ProxyRecord => proxy !== null && logged(proxy));
  const proxies = [...logs, ...more(logs)].sort((a, b) => a.endMs - b.endMs);
  const apm = scenario.requests.map((request) => request.apm).filter((record): record is ApmTransaction => record !== null && exported(record));
  for (const transaction of apm) edit(transaction);
  for (const proxy of proxies) editProxy(proxy);
  apm.sort((a, b) => a.startMs - b.startMs);
  return analyseLogs(proxies, apm);
}

/** One proxy log and one export, each a single batch in time order, through the whole pipeline. */
function analyseLogs(proxies: ProxyRecord[], apm: ApmTransaction[]): Promise<Analysis> {
  const stats = (file: string, kind: 'proxy' | 'apm', records: number) => ({ ...emptyFileStats(file), kind, format: kind, records, linesRead: records });
  async function* once<T>(records: T[]): AsyncGenerator<T[]> {
    yield records;
  }
  return analyzeRecords({
    proxyStreams: [once(proxies)], apmStreams: [once(apm)],
    files: () => [stats('access.log', 'proxy', proxies.length), stats('export.csv', 'apm', apm.length)],
    budget: null, join: DEFAULT_JOIN_OPTIONS,
  });
}

const weakJoin = (analysis: Analysis) => findingsOfKind(analysis.findings, 'apm-join-weak');

describe('a zero-join run', () => {
  it('says so first, with the reason (an export of another day) and what to pass', async () => {
    const analysis = await analyseFounding((t) => { t.startMs += 48 * HOUR; });
    expect(analysis.join.joinedHeuristic + analysis.join.joinedById).toBe(0);
    const [finding] = weakJoin(analysis);
    expect(finding, 'an apm-join-weak finding').toBeDefined();
    expect(finding!.severity).toBe('high');
    expect(finding!.figures).toMatchObject({ reason: 'other-time-range', joinedPairs: 0, proxyJoinedShare: 0, timeRangesOverlap: false });
    expect(finding!.nextStep).toMatch(/time range/);
    expect(analysis.verdict[0]!.text).toMatch(/^The APM export did not join the proxy log: 0(?:\.0)?% of [\d,]+ proxy requests/);
    expect(analysis.findings[0]!.kind).toBe('apm-join-weak');
  });

  it('shows the true time of keys with unjoined aborted requests as unknown, not as the accounted time, and calls no key under-counted', async () => {
    const analysis = await analyseFounding((t) => { t.startMs += 48 * HOUR; });
    const [perKey] = findingsOfKind(analysis.findings, 'budget-per-key');
    const rows = perKey!.table.rows.filter((row) => row[3] > 0);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect([row[5], row[11]]).toEqual([null, 'unknown']);
    expect(findingsOfKind(analysis.findings, 'budget-undercount')).toEqual([]);
  });

  it('does not say "without APM data" at the knee when an export was given but nothing joined', async () => {
    const analysis = await analyseFounding((t) => { t.startMs += 48 * HOUR; });
    const [knee] = findingsOfKind(analysis.findings, 'client-timeout-knee');
    expect(knee!.explanation).not.toMatch(/Without APM data/);
    expect(knee!.explanation).toMatch(/None of these requests joined an APM transaction/);
  });

  it('judges no join in a slice that kept no transaction (--where status=5xx: the backend never answered those requests)', async () => {
    const { format, configFiles } = loadLogFormat(undefined, undefined, [INCIDENT_DIR]);
    const incident = (where: string[]) => analyze({
      inputs: [INCIDENT_DIR], apmInputs: [], logFormat: format, budget: null, join: DEFAULT_JOIN_OPTIONS, keepGoing: false, excludeFiles: configFiles,
      slice: { since: null, until: null, where: where.map(parseWhere) },
    });
    expect(weakJoin(await incident([]))).toEqual([]);
    const failures = await incident(['status=5xx']);
    expect(failures.slice?.proxyKept).toBeGreaterThan(10);
    expect(weakJoin(failures).map((finding) => `${finding.severity} ${finding.title}`)).toEqual([]);
  });

  it('tells a clock set an hour off (beyond --max-skew) and gives the offset to pass', async () => {
    const analysis = await analyseFounding((t) => { t.startMs += HOUR; });
    const [finding] = weakJoin(analysis);
    expect(finding!.figures.reason).toBe('clock-beyond-max-skew');
    expect(finding!.nextStep).toMatch(/--clock-offset 36\d\ds/);
  });

  it('tells an export with no field to join on (no path, no route in the names)', async () => {
    const analysis = await analyseFounding((t) => {
      t.path = null;
      t.name = 'WebTransaction/Controller/metrics/index';
    });
    expect(weakJoin(analysis)[0]!.figures.reason).toBe('no-shared-field');
  });

  it('tells an export of another service behind the same proxy: other hosts and other routes', async () => {
    const analysis = await analyseFounding((t) => {
      t.path = `/billing${t.path!}`;
      t.host = 'billing.internal:8080';
    }, (p) => { p.host = 'API.example.com'; });
    const [finding] = weakJoin(analysis);
    expect(finding!.figures).toMatchObject({ reason: 'different-hosts', proxyHostsInApm: 0, proxyHosts: 'api.example.com', apmHosts: 'billing.internal' });
    expect(finding!.nextStep).toMatch(/service behind the proxy's hosts/);
  });

  it('tells routes the export does not have, on the same host (a prefix the proxy adds or strips)', async () => {
    const analysis = await analyseFounding((t) => {
      t.path = `/billing${t.path!}`;
      t.host = 'api.example.com';
    }, (p) => { p.host = 'api.example.com:443'; });
    const [finding] = weakJoin(analysis);
    expect(finding!.figures).toMatchObject({ reason: 'different-paths', proxyHostsInApm: 1 });
  });

  it('puts a weak join down to the time ranges when the export covers the last part of the proxy log and that part joined: low, with the range to slice to', async () => {
    const scenario = foundingCase({ seed: 5, durationSeconds: 600 });
    const first = Math.min(...scenario.requests.map((request) => request.proxy?.startMs ?? Infinity));
    // The export begins 7 of the log's 10 minutes in.
    const analysis = await analyseFounding(() => {}, () => {}, (t) => t.startMs >= first + 420_000);
    const [finding] = weakJoin(analysis);
    expect(finding!.severity).toBe('low');
    expect(finding!.figures.reason).toBe('partial-time-range');
    expect(finding!.figures.apmJoinedShare).toBeGreaterThan(0.9);
    expect(finding!.figures.proxyInApmRange).toBeLessThan(0.5);
    expect(finding!.figures.apmInProxyRange).toBe(1);
    expect(finding!.nextStep).toMatch(/--since \d{4}-\d\d-\d\dT\d\d:\d\dZ --until /);
    expect(analysis.verdict[0]!.text).not.toMatch(/joined the proxy log poorly/);
  });

  it('does the same when the export covers more than the proxy log', async () => {
    const scenario = foundingCase({ seed: 5, durationSeconds: 600 });
    const first = Math.min(...scenario.requests.map((request) => request.proxy?.startMs ?? Infinity));
    // The proxy log holds the last 3 of the export's 10 minutes.
    const analysis = await analyseFounding(() => {}, () => {}, () => true, (p) => p.startMs >= first + 420_000);
    const [finding] = weakJoin(analysis);
    expect(finding!.severity).toBe('low');
    expect(finding!.figures).toMatchObject({ reason: 'partial-time-range', proxyInApmRange: 1 });
    expect(finding!.figures.proxyJoinedShare).toBeGreaterThan(0.9);
    expect(finding!.figures.apmInProxyRange).toBeLessThan(0.5);
  });

  it('stays silent when most proxy requests are ones the proxy answered alone (static files, redirects): they have no transaction to join', async () => {
    const analysis = await analyseFounding(() => {}, () => {}, () => true, () => true, (proxies) => proxies.flatMap((proxy) => [1, 2].map((k) => ({
      ...proxy, path: `/static/app-${k}.css`, route: null, query: null, status: 200, requestTimeMs: 1, startMs: proxy.startMs + k,
      endMs: proxy.startMs + k + 1, upstreamLogged: true, upstreamStatus: null, upstreamAttempts: 0, upstreamTimeMs: null, upstreamConnectTimeMs: null,
      upstreamHeaderTimeMs: null, upstreamAddr: null, requestId: null, traceId: null,
    }))));
    expect(analysis.join.joinedShare).toBeLessThan(0.4);
    expect(weakJoin(analysis)).toEqual([]);
    // The same requests in a log that cannot say the proxy answered them alone (`combined`, Apache's
    // combined): their routes are none the export has, so they are not counted as failing to join either.
    const unknowing = await analyseFounding(() => {}, () => {}, () => true, () => true, (proxies) => proxies.flatMap((proxy) => [1, 2].map((k) => ({
      ...proxy, path: `/static/app-${k}.css`, route: null, query: null, startMs: proxy.startMs + k, endMs: proxy.startMs + k + 1, upstreamLogged: false,
      upstreamStatus: null, upstreamAttempts: 0, upstreamTimeMs: null, upstreamAddr: null, requestId: null, traceId: null,
    }))));
    expect(unknowing.join.joinedShare).toBeLessThan(0.4);
    expect(weakJoin(unknowing)).toEqual([]);
  });

  it('puts a weak join of look-alikes down to ambiguity when they are most of what stayed apart: low, the logs agree', async () => {
    // A whole-second log of one API behind a proxy that logs no upstream: 45 calls to paths of their
    // own, 2 bursts of 20 identical calls (one second, one path, agent and duration each), and 15
    // transactions the log does not have (another proxy in front of the same backend).
    const t0 = Date.UTC(2026, 0, 15, 10);
    const proxies: ProxyRecord[] = [];
    const apm: ApmTransaction[] = [];
    const pair = (second: number, ms: number, path: string, durationMs: number, logged: boolean): void => {
      const startMs = t0 + second * 1000 + ms;
      const transaction = { ...emptyApmTransaction('newrelic-csv', 'export.csv', apm.length + 2, ''), startMs, durationMs, method: 'GET', path, status: 200 };
      apm.push(transaction);
      if (!logged) return;
      const proxy = emptyProxyRecord('apache-combined-d', 'access.log', proxies.length + 1, '');
      Object.assign(proxy, { startMs: t0 + second * 1000, endMs: t0 + second * 1000 + durationMs, timeResolutionMs: 1000, requestTimeMs: durationMs + 1, method: 'GET', path, status: 200, userAgent: 'curl/8.5.0', upstreamLogged: false });
      proxies.push(proxy);
    };
    for (let i = 0; i < 45; i++) pair(i * 2, 300, `/api/users/${i}`, 20 + i, true);
    for (const second of [11, 51]) for (let k = 0; k < 20; k++) pair(second, 10 + k, '/api/items', 25, true);
    for (let i = 0; i < 15; i++) pair(i * 6 + 1, 500, `/internal/jobs/${i}`, 40, false);
    proxies.sort((a, b) => a.endMs - b.endMs);
    apm.sort((a, b) => a.startMs - b.startMs);
    const analysis = await analyseLogs(proxies, apm);
    const [finding] = weakJoin(analysis);
    const f = finding!.figures;
    // Fewer refused than joined, but most of what stayed apart (the old rule's "unexplained", medium).
    expect(f.lowConfidencePairs).toBeLessThanOrEqual(f.joinedPairs);
    expect(f.lowConfidencePairs).toBeGreaterThanOrEqual(0.5 * (f.joinableApmRecords - f.joinedPairs));
    expect(f.reason).toBe('ambiguous');
    expect(finding!.severity).toBe('low');
  });

  it('in a log that cannot say what reached the backend, still counts the unjoined requests on routes the export has', async () => {
    // Two proxy requests in three are moved a minute away from their transactions: their route is the
    // export's, so its failure to join counts, whatever the log says of upstreams.
    let i = 0;
    const analysis = await analyseFounding(() => {}, (proxy) => {
      proxy.upstreamLogged = false;
      if (i++ % 3 !== 0) {
        proxy.startMs += 60_000;
        proxy.endMs += 60_000;
      }
    });
    const [finding] = weakJoin(analysis);
    expect(finding).toBeDefined();
    expect(finding!.figures.proxyJoinedShare).toBeLessThan(0.5);
    expect(finding!.figures.proxyRecords).toBeGreaterThan(0.9 * analysis.join.proxyRecords);
  });

  it('stays silent on an export that joins', async () => {
    const analysis = await analyseFounding(() => {});
    expect(analysis.join.joinedShare).toBeGreaterThan(0.9);
    expect(weakJoin(analysis)).toEqual([]);
  });
});
