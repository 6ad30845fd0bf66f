import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze, fileStats, findingsOf, type AlfReport, type Finding } from './alf-cli.js';
import { BULK_CLIENT, EdgeClient, startEdgeBackend, type EdgeBackend, type EdgeTraffic } from './edge-traffic.js';
import { writeApacheConfig } from './apache-config.js';
import { haproxyCfgHead } from './haproxy-config.js';
import { nginxConfHead } from './nginx-config.js';
import { freePort, startProcess, stopProcess, waitUntil, type Managed } from './processes.js';
import { APACHE, HAPROXY, startApache, startHaproxy, stopApache, stopHaproxy } from './proxies.js';
import { NGINX_INSTALLED } from './run-settings.js';

/**
 * A healthy edge through a real proxy, as an internet-facing one sees it (edge-traffic.ts): besides
 * the API it proxies, the proxy serves static files, redirects, a health check of its own, denies
 * an admin path, turns away bursts with its rate limit, and answers scanners' garbage; a few
 * browsers leave before their answer. None of this is an incident: anything above `low` is a
 * false alarm. nginx writes two logs at once: the `upstream_time` format of nginx's blog post
 * (read without a --log-format) and one with $upstream_status (read with it); HAProxy writes
 * option httplog.
 */

const BLOG_FORMAT = `log_format upstream_time '$remote_addr - $remote_user [$time_local] '
                         '"$request" $status $body_bytes_sent '
                         '"$http_referer" "$http_user_agent"'
                         'rt=$request_time uct="$upstream_connect_time" uht="$upstream_header_time" urt="$upstream_response_time"';`;
const STATUS_FORMAT = `log_format with_status '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
                       '"$http_referer" "$http_user_agent" $request_time $upstream_response_time $upstream_status';`;

const TRAFFIC_MS = 25_000;
const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'];
const aboveLow = (finding: Finding): boolean => SEVERITIES.indexOf(finding.severity) > SEVERITIES.indexOf('low');

/** What every healthy edge must read as: every line read, nothing above low, no upstream trouble, the limit's answers as the proxy's own rejections. */
function expectHealthy(report: AlfReport, log: string, limited: number): void {
  const stats = fileStats(report, log);
  expect(stats.skipped).toBe(0);
  // Every line a request (HAProxy's start and stop notices aside).
  expect(stats.records).toBeGreaterThanOrEqual(stats.linesRead - 5);
  expect(report.findings.filter(aboveLow).map((finding) => `${finding.severity} ${finding.title}`)).toEqual([]);
  expect(report.verdict[0]!.text).toMatch(/^No anomaly stands out/);
  expect(findingsOf(report, 'upstream-trouble')).toEqual([]);
  const rejected = findingsOf(report, 'proxy-made-responses').find((finding) => finding.figures.class === 'gateway-rejection');
  expect(rejected?.severity).toBe('info');
  expect(Number(rejected!.figures.count)).toBeGreaterThanOrEqual(limited);
  expect(findingsOf(report, 'proxy-made-responses').find((finding) => finding.figures.class === 'proxy-error')).toBeUndefined();
}

/** One edge's teardown, whichever proxy ran in front of its backend. */
async function tearDown(proxy: Managed | undefined, client: EdgeClient | undefined, backend: Server | undefined, dir: string): Promise<void> {
  if (proxy) await stopProcess(proxy, 'SIGKILL');
  client?.close();
  await new Promise((resolve) => backend?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
}

/** The API behind the edge, a port for the proxy, and the static files it serves from `dir`/static. */
async function startSite(dir: string): Promise<{ api: EdgeBackend; port: number }> {
  const api = await startEdgeBackend();
  const port = await freePort();
  mkdirSync(join(dir, 'static'));
  writeFileSync(join(dir, 'static', 'app.css'), 'body { margin: 0 }\n');
  writeFileSync(join(dir, 'static', 'index.html'), '<!doctype html><title>edge</title>\n');
  return { api, port };
}

/** A run's findings on one line of the test log. */
function findingsLine(report: AlfReport): string {
  return report.findings.map((f) => `[${f.severity}] ${f.title}`).join('; ');
}

describe.skipIf(!NGINX_INSTALLED)('a healthy edge through a real nginx: static files, redirects, limit_req, scanners and a few early hang-ups raise nothing above low', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alf-edge-'));
  let backend: Server;
  let client: EdgeClient;
  let nginx: Managed;
  let sent: EdgeTraffic;
  let transactions = 0;
  const reports = {} as Record<'blog' | 'withStatus' | 'combined' | 'joined', AlfReport>;

  beforeAll(async () => {
    const { api, port } = await startSite(dir);
    backend = api.server;
    client = new EdgeClient(port);
    const proxied = `proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection "";`;
    writeFileSync(join(dir, 'nginx.conf'), `${nginxConfHead(dir, 256)}
  ${BLOG_FORMAT}
  ${STATUS_FORMAT}
  limit_req_zone $binary_remote_addr zone=api:1m rate=40r/s;
  client_max_body_size 1k;
  upstream app { server 127.0.0.1:${api.port}; keepalive 8; }
  server {
    listen 127.0.0.1:${port};
    access_log ${join(dir, 'blog.log')} upstream_time;
    access_log ${join(dir, 'status.log')} with_status;
    access_log ${join(dir, 'combined.log')} combined;
    set_real_ip_from 127.0.0.1;
    real_ip_header X-Forwarded-For;
    location /static/ { root ${dir}; }
    location = /old-home { return 301 /; }
    location = /healthz { return 200 "ok\\n"; }
    location /admin/ { deny all; }
    location /api/ { limit_req zone=api burst=20 nodelay; ${proxied} }
    location / { ${proxied} }
  }
}
`);
    nginx = startProcess('nginx', '/usr/sbin/nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')]);
    await waitUntil('nginx answers', async () => (await client.send(0, '/healthz')) === 200);
    // limit_req lets 20 of a burst through at once and turns the rest away with its default 503.
    sent = await client.run(TRAFFIC_MS, 503);
    await waitUntil('nginx logged the last request', () => readFileSync(join(dir, 'status.log'), 'utf8').split('\n').length >= sent.requests - sent.hungUp, 10_000);
    await stopProcess(nginx, 'SIGQUIT');
    await api.writeNewRelicExport(join(dir, 'newrelic.csv'));
    transactions = api.transactions.length;

    reports.blog = analyze([join(dir, 'blog.log')]);
    reports.joined = analyze([join(dir, 'status.log'), '--log-format', STATUS_FORMAT, '--apm', join(dir, 'newrelic.csv')]);
    const joined = reports.joined.join;
    console.info(`alf e2e healthy edge, nginx joined: ${joined.joinedHeuristic + joined.joinedById} of ${joined.apmRecords} transactions paired, ${joined.proxyRecords} proxy records, clock offset ${joined.offsetMs} ms`);
    reports.withStatus = analyze([join(dir, 'status.log'), '--log-format', STATUS_FORMAT]);
    reports.combined = analyze([join(dir, 'combined.log')]);
    for (const [name, report] of Object.entries(reports)) {
      console.info(`alf e2e healthy edge, nginx (${name}): ${findingsLine(report)}`);
    }
  }, 120_000);

  afterAll(() => tearDown(nginx, client, backend, dir));

  it('the run had every kind of request it means to have', () => {
    const statuses = readFileSync(join(dir, 'status.log'), 'utf8').split('\n').filter(Boolean).map((line) => line.split('" ')[1]!.split(' ')[0]!);
    for (const status of ['200', '301', '400', '403', '404', '413', '503']) expect(statuses, status).toContain(status);
    expect(sent.limited).toBeGreaterThan(50);
  });

  it('reads every line of the blog post\'s format, detected, and raises nothing above low; limit_req\'s 503s are nginx turning clients away', () => {
    expectHealthy(reports.blog, join(dir, 'blog.log'), sent.limited);
    expect(fileStats(reports.blog, join(dir, 'blog.log')).format).toBe('nginx-combined');
  });

  it('reads every line with $upstream_status, named, and raises nothing above low', () => {
    expectHealthy(reports.withStatus, join(dir, 'status.log'), sent.limited);
  });

  it('joins the API\'s requests to the backend\'s New Relic export and calls the join good, though most requests never reached the backend', () => {
    const report = reports.joined;
    expect(report.findings.filter(aboveLow).map((finding) => `${finding.severity} ${finding.title}`)).toEqual([]);
    expect(findingsOf(report, 'apm-join-weak')).toEqual([]);
    expect(report.join.apmRecords).toBe(transactions);
    // Every transaction has its proxy line (the backend saw nothing nginx did not pass it). The log
    // stamps whole seconds; the bulk client's bursts of 20 identical calls in one second are all
    // that cannot be told apart (91-92% paired over six runs; before their votes were shared,
    // 74-92%: README, "Whole seconds on a few busy paths").
    expect(report.join.joinedHeuristic + report.join.joinedById).toBeGreaterThanOrEqual(0.85 * transactions);
    expect(Math.abs(report.join.offsetMs!)).toBeLessThan(150);
    // Static files, redirects, denials and the limiter's answers are most of the log and have no partner.
    expect(report.join.proxyRecords).toBeGreaterThan(1.5 * transactions);
  });

  it('in plain combined, which cannot say nginx answered alone, puts limit_req\'s 503s on the one client they fell on, at low', () => {
    const report = reports.combined;
    const stats = fileStats(report, join(dir, 'combined.log'));
    expect([stats.format, stats.skipped]).toEqual(['nginx-combined', 0]);
    expect(report.findings.filter(aboveLow).map((finding) => `${finding.severity} ${finding.title}`)).toEqual([]);
    const [errors] = findingsOf(report, 'upstream-trouble');
    expect(errors!.figures).toMatchObject({ upstream: null, pattern: 'one-client', topClient: BULK_CLIENT });
    expect(Number(errors!.figures.errors)).toBe(sent.limited);
  });
});

/**
 * HAProxy's log layouts for the healthy edge: option httplog, read without a configuration, and a
 * custom JSON log-format in the frontend, read with the haproxy.cfg as --log-format.
 */
const HAPROXY_LAYOUTS = [
  { name: 'option httplog', logFormat: null, status: /\] \S+ \S+ \S+ (\d{3}) / },
  {
    name: 'a custom JSON log-format',
    logFormat: `  log-format '{"time":"%tr","client":"%ci:%cp","frontend":"%ft","backend":"%b","server":"%s","timers":"%TR/%Tw/%Tc/%Tr/%Ta","status":%ST,"bytes":%B,"termination":"%tsc","retries":%rc,"request":"%r"}'\n`,
    status: /"status":(\d{3}),/,
  },
] as const;

describe.skipIf(HAPROXY === null).each(HAPROXY_LAYOUTS)('a healthy edge through a real HAProxy ($name): answers of its own, a stick-table rate limit, scanners and early hang-ups raise nothing above low', (layout) => {
  const dir = mkdtempSync(join(tmpdir(), 'alf-edge-haproxy-'));
  let backend: Server;
  let client: EdgeClient;
  let haproxy: Managed;
  let sent: EdgeTraffic;
  let report: AlfReport;
  const files = { cfg: join(dir, 'haproxy.cfg'), log: join(dir, 'haproxy.log'), stderr: join(dir, 'haproxy.stderr') };

  beforeAll(async () => {
    const api = await startEdgeBackend();
    backend = api.server;
    const port = await freePort();
    client = new EdgeClient(port);
    // HAProxy serves nothing from disk: its static answers and health check are `http-request return`.
    writeFileSync(files.cfg, `${haproxyCfgHead({ abortOnClose: false, timeoutSeconds: 30 })}
frontend fe_edge
  bind 127.0.0.1:${port}
${layout.logFormat ?? ''}  stick-table type ip size 100k expire 30s store http_req_rate(1s)
  http-request track-sc0 src
  http-request deny deny_status 429 if { sc_http_req_rate(0) gt 100 }
  http-request deny if { path_beg /admin }
  http-request redirect location / code 301 if { path /old-home }
  http-request return status 200 content-type text/plain string ok if { path /healthz }
  http-request return status 200 content-type text/css string "body{}" if { path_beg /static/ }
  default_backend be_api

backend be_api
  http-reuse safe
  server app1 127.0.0.1:${api.port}
`);
    haproxy = await startHaproxy(files, port);
    sent = await client.run(TRAFFIC_MS, 429);
    await waitUntil('HAProxy logged the last request', () => readFileSync(files.log, 'utf8').split('\n').length >= sent.requests - sent.hungUp, 10_000);
    await stopHaproxy(haproxy);
    report = analyze(layout.logFormat === null ? [files.log] : [files.log, '--log-format', files.cfg]);
    console.info(`alf e2e healthy edge, haproxy (${layout.name}): ${findingsLine(report)}`);
  }, 120_000);

  afterAll(() => tearDown(haproxy, client, backend, dir));

  it('the run had every kind of answer it means to have', () => {
    const statuses = new Set(readFileSync(files.log, 'utf8').split('\n').map((line) => line.match(layout.status)?.[1]).filter(Boolean));
    for (const status of ['200', '301', '400', '403', '404', '429']) expect([...statuses], status).toContain(status);
    expect(sent.limited).toBeGreaterThan(10);
  });

  it('reads every line (HAProxy\'s notices ignored) and raises nothing above low; the rate limit\'s 429s are HAProxy turning clients away', () => {
    expect(fileStats(report, files.log).format).toBe('haproxy');
    expectHealthy(report, files.log, sent.limited);
  });
});

describe.skipIf(APACHE === null)('a healthy edge through a real Apache httpd: static files, a redirect, a denied path, scanners and early hang-ups raise nothing above low', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alf-edge-apache-'));
  let backend: Server;
  let client: EdgeClient;
  let apache: Managed;
  let sent: EdgeTraffic;
  let transactions = 0;
  let log = '';
  const reports = {} as Record<'alone' | 'joined', AlfReport>;

  beforeAll(async () => {
    const { api, port } = await startSite(dir);
    backend = api.server;
    client = new EdgeClient(port);
    writeFileSync(join(dir, 'static', 'healthz.txt'), 'ok\n');
    const files = writeApacheConfig({ dir, port, backendPort: api.port });
    log = files.accessLog;
    apache = await startApache(files, port);
    // httpd has no stock rate limit: the bursts reach the API, and no answer is a limiter's.
    sent = await client.run(TRAFFIC_MS, 429);
    await waitUntil('Apache logged the last request', () => readFileSync(log, 'utf8').split('\n').length >= sent.requests - sent.hungUp, 10_000);
    await stopApache(apache);
    await api.writeNewRelicExport(join(dir, 'newrelic.csv'));
    transactions = api.transactions.length;
    reports.alone = analyze([log]);
    reports.joined = analyze([log, '--apm', join(dir, 'newrelic.csv')]);
    const joined = reports.joined.join;
    console.info(`alf e2e healthy edge, apache joined: ${joined.joinedHeuristic + joined.joinedById} of ${joined.apmRecords} transactions paired, ${joined.proxyRecords} proxy records, clock offset ${joined.offsetMs} ms`);
    for (const [name, report] of Object.entries(reports)) console.info(`alf e2e healthy edge, apache (${name}): ${findingsLine(report)}`);
  }, 120_000);

  afterAll(() => tearDown(apache, client, backend, dir));

  it('the run had every kind of answer it means to have (httpd logs nothing for a scanner that leaves before its request line ends)', () => {
    const statuses = new Set(readFileSync(log, 'utf8').split('\n').map((line) => line.match(/" (\d{3}) /)?.[1]).filter(Boolean));
    for (const status of ['200', '301', '403', '404', '413']) expect([...statuses], status).toContain(status);
  });

  it('reads every line as Apache combined with %D and raises nothing above low', () => {
    const report = reports.alone;
    const stats = fileStats(report, log);
    expect([stats.format, stats.skipped]).toEqual(['apache-combined-d', 0]);
    expect(stats.records).toBe(stats.linesRead);
    expect(report.findings.filter(aboveLow).map((finding) => `${finding.severity} ${finding.title}`)).toEqual([]);
    expect(report.verdict[0]!.text).toMatch(/^No anomaly stands out/);
    expect(findingsOf(report, 'upstream-trouble')).toEqual([]);
  });

  it('joins the API\'s requests to the backend\'s New Relic export; what stays apart are look-alikes, and nothing is above low', () => {
    const report = reports.joined;
    const { join } = report;
    expect(report.findings.filter(aboveLow).map((finding) => `${finding.severity} ${finding.title}`)).toEqual([]);
    expect(join.apmRecords).toBe(transactions);
    // Without a limiter both bursts (240 identical calls, 120 to a second) reach the backend, and
    // whole-second stamps cannot tell them apart: 57% of transactions paired in the first runs,
    // and nearly every one left over had a best partner refused as too alike to another.
    const paired = join.joinedHeuristic + join.joinedById;
    expect(paired).toBeGreaterThanOrEqual(0.4 * transactions);
    expect(join.lowConfidence).toBeGreaterThanOrEqual(0.8 * (transactions - paired));
    expect(Math.abs(join.offsetMs!)).toBeLessThan(500);
    // The log cannot say which requests httpd answered alone: its files, redirects and denials are
    // not counted as requests that failed to join (they were, as "joined poorly", medium).
    for (const finding of findingsOf(report, 'apm-join-weak')) expect(finding.figures.reason).toBe('ambiguous');
  });
});
