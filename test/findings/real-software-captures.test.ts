import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { findingsOfKind } from '../../src/detectors/detector.js';
import { DEFAULT_JOIN_OPTIONS } from '../../src/join/options.js';
import { loadLogFormat } from '../../src/parse/log-format.js';
import { analyze } from '../../src/pipeline/analyze.js';
import type { Analysis } from '../../src/pipeline/analysis.js';

/**
 * Incidents that real nginx, HAProxy and Apache httpd logged in front of a real backend
 * (test/fixtures/real-software/README.md), held to what the clients and the backend saw: each
 * proxy's log of one incident must read as that incident.
 */

const DIR = join(import.meta.dirname, '..', 'fixtures', 'real-software');
const at = (run: string, file: string): string => join(DIR, run, file);

interface TruthRow { group: string; status: string; outcome: string; ua: string }

function csvRows(path: string): Record<string, string>[] {
  const [header, ...lines] = gunzipSync(readFileSync(path)).toString('utf8').trim().split('\n');
  const names = header!.split(',');
  // No field of these files holds a comma but the user agent, which is last in truth.csv.
  return lines.map((line) => {
    const cells = line.split(',');
    const row: Record<string, string> = {};
    names.forEach((name, i) => { row[name] = i === names.length - 1 ? cells.slice(i).join(',') : cells[i]!; });
    return row;
  });
}

const truth = (run: string): TruthRow[] => csvRows(at(run, 'truth.csv.gz')) as unknown as TruthRow[];

function analyzeRun(inputs: string[], options: { apm?: string; logFormat?: string } = {}): Promise<Analysis> {
  return analyze({
    inputs, apmInputs: options.apm === undefined ? [] : [options.apm], budget: null, join: DEFAULT_JOIN_OPTIONS, keepGoing: false,
    logFormat: options.logFormat === undefined ? undefined : loadLogFormat(options.logFormat, undefined, inputs).format,
  });
}

describe('nginx, a report client with a 2 s timeout (93 calls given up)', () => {
  const run = 'nginx-client-timeout';
  const gaveUp = truth(run).filter((row) => row.outcome === 'timeout');

  it('the clients gave up 93 times, all of them ReportBot', () => {
    expect(gaveUp).toHaveLength(93);
    expect(new Set(gaveUp.map((row) => row.ua))).toEqual(new Set(['ReportBot/2.1 (+https://reports.example)']));
  });

  it('in nginx\'s default combined log, which has no upstream fields, counts every 499 as a client abort (it raised nothing)', async () => {
    const analysis = await analyzeRun([at(run, 'combined.log.gz')]);
    const [aborts] = findingsOfKind(analysis.findings, 'proxy-made-responses').filter((finding) => finding.figures.class === 'client-abort');
    expect(aborts!.figures).toMatchObject({ count: gaveUp.length, topStatus: 499, topRoute: '/v1/reports/:id', backendSecondsAfterAnswer: null });
    expect(aborts!.figures.shareOfRequests).toBeCloseTo(gaveUp.length / truth(run).length, 3);
    expect(['medium', 'high']).toContain(aborts!.severity);
  });

  it('puts the knee at the clients\' 2 s with all 93 hang-ups, with the backend\'s export and without (with it, it said 78)', async () => {
    for (const apm of [at(run, 'newrelic.csv.gz'), undefined]) {
      const analysis = await analyzeRun([at(run, 'access.log.gz')], { apm, logFormat: at(run, 'nginx.conf') });
      const [knee] = findingsOfKind(analysis.findings, 'client-timeout-knee');
      expect(knee!.figures.timeoutSeconds).toBeCloseTo(2, 1);
      expect(knee!.figures.requestsAtKnee).toBe(gaveUp.length);
      expect(knee!.figures.topCohort).toBe('ReportBot/2.1 (+https://reports.example)');
    }
  });
});

/** The backend seconds spent past `wallSeconds` on the transactions that outran it, from the backend's own export. */
function backendSecondsPast(run: string, wallSeconds: number): number {
  return csvRows(at(run, 'newrelic.csv.gz')).map((row) => Number(row['duration'])).filter((s) => s > wallSeconds + 0.5)
    .reduce((sum, s) => sum + s - wallSeconds, 0);
}

describe('a 3 s gateway timeout in front of 5 s exports, through nginx, HAProxy and Apache httpd', () => {
  const runs = [
    { run: 'nginx-gateway-timeout', log: 'access.log.gz', logFormat: 'nginx.conf', status: '504', setting: 'proxy_read_timeout' },
    { run: 'haproxy-gateway-timeout', log: 'haproxy.log.gz', logFormat: 'haproxy.cfg', status: '504', setting: 'timeout server' },
    { run: 'apache-proxy-timeout', log: 'access.log.gz', logFormat: undefined, status: '502', setting: 'ProxyTimeout' },
  ] as const;

  for (const { run, log, logFormat, status, setting } of runs) {
    it(`${run}: one finding owns the wall (named ${setting}, with the backend's work past it); the same requests are no second incident`, async () => {
      const failed = truth(run).filter((row) => row.status === status);
      expect(failed.length).toBeGreaterThan(50);
      const analysis = await analyzeRun([at(run, log)], { apm: at(run, 'newrelic.csv.gz'), logFormat: logFormat === undefined ? undefined : at(run, logFormat) });
      // Every request reached the backend and is in its export: (nearly) all of them join; nginx's 504s
      // did not (Apache's whole-second stamps leave a look-alike or two apart).
      expect(analysis.join.joinedById + analysis.join.joinedHeuristic).toBeGreaterThanOrEqual(0.99 * analysis.join.apmRecords);
      const [wall] = findingsOfKind(analysis.findings, 'timeout-walls');
      const figures = wall!.figures;
      if (!('cause' in figures)) throw new Error(`not a limit wall: ${wall!.title}`);
      // Apache answers its own ProxyTimeout with 502: it read as "the backend closed the connection".
      expect(figures).toMatchObject({ cause: 'gateway-timeout', route: '/v1/exports/:id' });
      expect(figures.gatewayTimeouts + figures.upstreamResets).toBe(failed.length);
      expect(figures.setting).toContain(setting);
      expect(figures.wallSeconds).toBeCloseTo(3, 1);
      expect(figures.backendSecondsAfterWall!).toBeGreaterThan(0.95 * backendSecondsPast(run, figures.wallSeconds));
      expect(figures.backendSecondsAfterWall!).toBeLessThan(1.05 * backendSecondsPast(run, figures.wallSeconds));
      expect(wall!.severity).toBe('high');
      expect(analysis.verdict[0]!.text).toMatch(/gives up on the backend at 3\.0/);
      // Upstream trouble and the proxy's own answers say these are the wall's, at low (they were high, "transient … not an outage").
      for (const finding of [...findingsOfKind(analysis.findings, 'upstream-trouble'), ...findingsOfKind(analysis.findings, 'proxy-made-responses')]) {
        expect(finding.severity, finding.title).toBe('low');
        expect(finding.explanation, finding.title).toContain('timeout wall at 3');
      }
      // The proxy stopped charging time at its timeout, as nginx logs it: no key is under-counted (HAProxy's read 86%).
      expect(findingsOfKind(analysis.findings, 'budget-undercount')).toEqual([]);
    }, 30_000);
  }

  it('apache-proxy-timeout: httpd wrote AH01102 (its read timeout) for each 502; without an export the wall cannot tell and says so', async () => {
    const errors = gunzipSync(readFileSync(at('apache-proxy-timeout', 'error.log.gz'))).toString('utf8').split('\n').filter((line) => line.includes('AH01102'));
    expect(errors).toHaveLength(truth('apache-proxy-timeout').filter((row) => row.status === '502').length);
    const analysis = await analyzeRun([at('apache-proxy-timeout', 'access.log.gz')]);
    const [wall] = findingsOfKind(analysis.findings, 'timeout-walls');
    expect('cause' in wall!.figures && wall!.figures.cause).toBe('upstream-reset');
    expect(wall!.explanation).toContain('ProxyTimeout');
    expect(wall!.nextStep).toContain('ProxyTimeout');
  });

  it('haproxy-gateway-timeout: charges each timed-out request the 3 s HAProxy waited, not nothing', async () => {
    const run = 'haproxy-gateway-timeout';
    const analysis = await analyzeRun([at(run, 'haproxy.log.gz')], { apm: at(run, 'newrelic.csv.gz'), logFormat: at(run, 'haproxy.cfg') });
    const [perKey] = findingsOfKind(analysis.findings, 'budget-per-key');
    const exporter = perKey!.table.rows.find((row) => row[0] === 'k_export')!;
    const timedOut = truth(run).filter((row) => row.status === '504').length;
    expect(exporter[4]).toBeGreaterThan(timedOut * 3);
  });
});

describe('nginx in front of a backend restarted once (down 3 s)', () => {
  it('reads the refused connections as one short outage at the restart, not as rare and scattered trouble', async () => {
    const run = 'nginx-restart';
    const [down, up] = gunzipSync(readFileSync(at(run, 'deploy.csv.gz'))).toString('utf8').trim().split('\n')[1]!.split(',').map((t) => Number(t) * 1000) as [number, number];
    const failed = truth(run).filter((row) => row.status === '502');
    expect(failed.length).toBeGreaterThan(10);
    const analysis = await analyzeRun([at(run, 'access.log.gz')], { apm: at(run, 'newrelic.csv.gz'), logFormat: at(run, 'nginx.conf') });
    const [trouble] = findingsOfKind(analysis.findings, 'upstream-trouble');
    expect(trouble!.figures).toMatchObject({ pattern: 'burst', errors: failed.length, connectFailures: failed.length });
    expect(Date.parse(trouble!.figures.burstStart!)).toBe(Math.floor(down / 60_000) * 60_000);
    // The errors' span is the time the backend was down, to a tenth of a second or so.
    const span = Number(/all within ([\d.]+) s/.exec(trouble!.explanation)![1]);
    expect(Math.abs(span - (up - down) / 1000)).toBeLessThan(0.5);
    expect(trouble!.explanation).toContain('a restart or a deploy');
    expect(trouble!.nextStep).not.toMatch(/Nothing urgent/);
  });
});

describe('nginx in front of long polls held 25 s by design (healthy)', () => {
  it('raises nothing above low, and names the route of the latency wall the polls make', async () => {
    const run = 'nginx-long-poll';
    const analysis = await analyzeRun([at(run, 'access.log.gz')], { apm: at(run, 'newrelic.csv.gz'), logFormat: at(run, 'nginx.conf') });
    expect(analysis.findings.filter((finding) => finding.severity === 'medium' || finding.severity === 'high')).toEqual([]);
    const [wall] = findingsOfKind(analysis.findings, 'timeout-walls');
    expect(wall!.figures).toMatchObject({ cause: 'slow-answers', route: '/poll' });
    expect(wall!.explanation).toContain('long poll');
  });
});

describe('nginx with keepalive_timeout 0, and without (the control)', () => {
  it('says clients open a new connection for every request, though the log has upstream connect times too (it said nothing then)', async () => {
    const off = await analyzeRun([at('nginx-keepalive-off', 'access.log.gz')], { logFormat: at('nginx-keepalive-off', 'nginx.conf') });
    const client = findingsOfKind(off.findings, 'keepalive-disabled').filter((finding) => 'side' in finding.figures);
    expect(client).toHaveLength(1);
    expect(client[0]!.figures.newConnectionShare).toBeGreaterThanOrEqual(0.99);
    const on = await analyzeRun([at('nginx-keepalive-on', 'access.log.gz')], { logFormat: at('nginx-keepalive-on', 'nginx.conf') });
    expect(findingsOfKind(on.findings, 'keepalive-disabled')).toEqual([]);
  });
});

describe('HAProxy with option httplog clf (HAProxy 2.6.12, 57 requests)', () => {
  // run.sh: 40 quick orders, 6 exports past `timeout server 2s`, 6 reports whose client left at
  // 0.5 s (HAProxy without `option abortonclose` waits for the backend and logs its 200), and 5
  // requests to a backend whose one server is down (HAProxy answers 503 `<NOSRV>` itself).
  const run = 'haproxy-clf';

  it('is read as HAProxy\'s CLF layout, with its timers, servers and termination states (nginx main had read it, losing them)', async () => {
    const analysis = await analyzeRun([at(run, 'haproxy.log.gz')]);
    expect(analysis.inputs.files.map((file) => [file.format, file.records, file.skipped, file.ignored])).toEqual([['haproxy-clf', 57, 0, 4]]);
    const madeUp = findingsOfKind(analysis.findings, 'proxy-made-responses').find((finding) => finding.figures.class === 'proxy-error')!;
    // The 6 timed-out exports (504, sH--) and the 5 answered with no server (503, <NOSRV>), and nothing else.
    expect(madeUp.figures.count).toBe(11);
    expect(madeUp.table.rows.filter((row) => row[0] === 'status').map((row) => [row[1], row[2]])).toEqual([['504', 6], ['503', 5]]);
    const [named] = findingsOfKind(analysis.findings, 'upstream-trouble').filter((finding) => finding.figures.upstream === 'be_app/app1');
    expect(named!.figures).toMatchObject({ errors: 6, timeouts: 6 });
    const [latency] = findingsOfKind(analysis.findings, 'latency-by-route');
    const exports = latency!.table!.rows.find((row) => row[0] === 'GET /v1/export/:id')!;
    // HAProxy waited its 2 s `timeout server` for each (Ta 2001-2003 ms).
    expect([exports[1], exports[2]]).toEqual(['5xx', 6]);
    expect(exports[3]).toBeCloseTo(2.0, 1);
    expect(analysis.findings.every((finding) => finding.severity !== 'high')).toBe(true);
  });
});

describe('HAProxy, two frontends each with a custom log-format (haproxy-log-format)', () => {
  // run.sh, to each frontend: 30 quick orders, 5 exports past `timeout server 2s`, 5 reports whose
  // client left at 0.5 s, and 4 requests to a backend whose one server is down.
  const run = 'haproxy-log-format';

  it('is no known format without its configuration, and with it every request line is read, in both layouts', async () => {
    await expect(analyzeRun([at(run, 'haproxy.log.gz')])).rejects.toThrow(/no known format fits/);
    const analysis = await analyzeRun([at(run, 'haproxy.log.gz')], { logFormat: at(run, 'haproxy.cfg') });
    expect(analysis.inputs.files.map((file) => [file.format, file.records, file.skipped, file.ignored])).toEqual([['haproxy', 88, 0, 4]]);
    // The 10 exports HAProxy gave up on at its 2 s `timeout server`: a gateway wall on that route.
    const [wall] = findingsOfKind(analysis.findings, 'timeout-walls');
    expect(wall!.figures).toMatchObject({ cause: 'gateway-timeout', route: '/v1/export/:id', requestsAtWall: 10, gatewayTimeouts: 10 });
    expect('wallSeconds' in wall!.figures && wall!.figures.wallSeconds).toBeCloseTo(2.0, 1);
    // The keys come from `%[capture.req.hdr(1)]` (text) and `"key":"%[capture.req.hdr(1)]"` (JSON).
    const [perKey] = findingsOfKind(analysis.findings, 'budget-per-key');
    expect(perKey!.table.rows.map((row) => [row[0], row[1]]).sort()).toEqual([['k_export', 10], ['k_orders', 60], ['k_report', 10]]);
    expect(analysis.findings.every((finding) => finding.severity !== 'high' && finding.severity !== 'critical')).toBe(true);
  });
});
