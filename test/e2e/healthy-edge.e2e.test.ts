import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, Agent, type Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze, fileStats, findingsOf, type AlfReport, type Finding } from './alf-cli.js';
import { freePort, startProcess, stopProcess, waitUntil, type Managed } from './processes.js';
import { NGINX_INSTALLED } from './run-settings.js';
import { nginxConfHead } from './nginx-config.js';

/**
 * A healthy edge through a real nginx, as an internet-facing one sees it: besides the API it
 * proxies, nginx serves static files, redirects, a health check of its own, denies an admin path,
 * turns away a burst with `limit_req` (503, its default), refuses an oversized body (413) and
 * answers scanners' garbage (a TLS hello on the plain port, an empty request) with 400. A few
 * browsers leave before their answer. None of this is an incident: anything above `low` is a
 * false alarm. nginx writes two logs at once: the `upstream_time` format of nginx's blog post
 * (read without a --log-format) and one with $upstream_status (read with it).
 */

const BLOG_FORMAT = `log_format upstream_time '$remote_addr - $remote_user [$time_local] '
                         '"$request" $status $body_bytes_sent '
                         '"$http_referer" "$http_user_agent"'
                         'rt=$request_time uct="$upstream_connect_time" uht="$upstream_header_time" urt="$upstream_response_time"';`;
const STATUS_FORMAT = `log_format with_status '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
                       '"$http_referer" "$http_user_agent" $request_time $upstream_response_time $upstream_status';`;

const PATHS = ['/api/users/7', '/api/users/7/orders?page=2', '/api/items?q=lamp', '/api/report/weekly', '/static/app.css', '/static/index.html', '/old-home', '/healthz', '/admin/users', '/api/missing/9', '/favicon.ico'];
const AGENTS = ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36', 'okhttp/4.12.0', 'python-requests/2.31.0', 'curl/8.5.0'];

const above = (finding: Finding, severity: 'low'): boolean => ['info', 'low', 'medium', 'high', 'critical'].indexOf(finding.severity) > ['info', 'low', 'medium', 'high', 'critical'].indexOf(severity);

describe.skipIf(!NGINX_INSTALLED)('a healthy edge through a real nginx: static files, redirects, limit_req, scanners and a few early hang-ups raise nothing above low', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alf-edge-'));
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  let backend: Server;
  let nginx: Managed;
  let port = 0;
  const sent = { requests: 0, hungUp: 0, limited: 0 };
  const reports = {} as Record<'blog' | 'withStatus', AlfReport>;

  function send(i: number, path: string, options: { hangUpAfterMs?: number; body?: string; agentName?: string } = {}): Promise<number> {
    return new Promise((resolve) => {
      const req = request({
        host: '127.0.0.1', port, path, agent, method: options.body === undefined ? 'GET' : 'POST',
        headers: { 'user-agent': options.agentName ?? AGENTS[i % AGENTS.length]!, 'x-api-key': `key_${i % 13}` },
      }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      });
      req.on('error', () => resolve(0));
      if (options.hangUpAfterMs !== undefined) setTimeout(() => { req.destroy(); resolve(0); }, options.hangUpAfterMs);
      req.end(options.body);
    });
  }

  /** Bytes a scanner sends on a raw connection, then closes after nginx's answer (or 300 ms). */
  function scan(bytes: Buffer | string): Promise<void> {
    return new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
      socket.on('data', () => socket.destroy());
      socket.on('error', () => resolve());
      socket.on('close', () => resolve());
      setTimeout(() => socket.destroy(), 300);
    });
  }

  beforeAll(async () => {
    // The API: quick answers, a slower weekly report, 404 for what it does not know.
    backend = createServer((req, res) => {
      const url = req.url ?? '/';
      const ms = url.startsWith('/api/report') ? 300 + (url.length * 37) % 400 : (url.length * 13) % 40;
      setTimeout(() => {
        res.writeHead(url.includes('missing') ? 404 : 200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      }, ms);
    });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', () => resolve()));
    const backendPort = (backend.address() as AddressInfo).port;
    port = await freePort();
    mkdirSync(join(dir, 'static'));
    writeFileSync(join(dir, 'static', 'app.css'), 'body { margin: 0 }\n');
    writeFileSync(join(dir, 'static', 'index.html'), '<!doctype html><title>edge</title>\n');
    const proxied = `proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection "";`;
    writeFileSync(join(dir, 'nginx.conf'), `${nginxConfHead(dir, 256)}
  ${BLOG_FORMAT}
  ${STATUS_FORMAT}
  limit_req_zone $binary_remote_addr zone=api:1m rate=40r/s;
  client_max_body_size 1k;
  upstream app { server 127.0.0.1:${backendPort}; keepalive 8; }
  server {
    listen 127.0.0.1:${port};
    access_log ${join(dir, 'blog.log')} upstream_time;
    access_log ${join(dir, 'status.log')} with_status;
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
    await waitUntil('nginx answers', async () => (await send(0, '/healthz')) === 200);

    // 25 s of traffic, about 40 requests a second from 16 connections, in a fixed pattern.
    const until = Date.now() + 25_000;
    const pending: Promise<unknown>[] = [];
    for (let i = 1; Date.now() < until; i++) {
      const path = PATHS[(i * 7) % PATHS.length]!;
      // One request in 150 is a browser that leaves within a third of a second; one POST in 40 is too big.
      const hangUpAfterMs = i % 150 === 0 ? 50 + (i % 7) * 40 : undefined;
      const body = i % 20 === 0 ? (i % 40 === 0 ? 'x'.repeat(4_000) : '{"a":1}') : undefined;
      pending.push(send(i, path, { hangUpAfterMs, body }));
      sent.requests++;
      if (hangUpAfterMs !== undefined) sent.hungUp++;
      if (i % 200 === 0) pending.push(scan(i % 400 === 0 ? Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]) : '\r\n\r\n'));
      // Twice, a client bursts 120 API calls at once: limit_req lets 20 through at once and turns the rest away.
      if (i === 300 || i === 700) {
        const burst = Array.from({ length: 120 }, (_, k) => send(i + k, '/api/items?q=burst', { agentName: 'bulk-sync/1.0' }));
        pending.push(Promise.all(burst).then((statuses) => { sent.limited += statuses.filter((status) => status === 503).length; }));
        sent.requests += 120;
      }
      if (i % 4 === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await Promise.all(pending);
    await waitUntil('nginx logged the last request', () => readFileSync(join(dir, 'status.log'), 'utf8').split('\n').length >= sent.requests - sent.hungUp, 10_000);
    await stopProcess(nginx, 'SIGQUIT');

    reports.blog = analyze([join(dir, 'blog.log')]);
    reports.withStatus = analyze([join(dir, 'status.log'), '--log-format', STATUS_FORMAT]);
    for (const [name, report] of Object.entries(reports)) {
      console.info(`alf e2e healthy edge (${name}): ${report.findings.map((f) => `[${f.severity}] ${f.title}`).join('; ')}`);
    }
  }, 120_000);

  afterAll(async () => {
    if (nginx) await stopProcess(nginx, 'SIGKILL');
    agent.destroy();
    await new Promise((resolve) => backend?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('the run had every kind of request it means to have', () => {
    const statuses = readFileSync(join(dir, 'status.log'), 'utf8').split('\n').filter(Boolean).map((line) => line.split('" ')[1]!.split(' ')[0]!);
    for (const status of ['200', '301', '400', '403', '404', '413', '503']) expect(statuses, status).toContain(status);
    expect(sent.limited).toBeGreaterThan(50);
  });

  for (const name of ['blog', 'withStatus'] as const) {
    it(`reads every line (${name === 'blog' ? 'the blog post\'s format, detected' : 'with $upstream_status, named'}) and raises nothing above low`, () => {
      const report = reports[name];
      const stats = fileStats(report, join(dir, name === 'blog' ? 'blog.log' : 'status.log'));
      expect([stats.skipped, stats.records]).toEqual([0, stats.linesRead]);
      if (name === 'blog') expect(stats.format).toBe('nginx-combined');
      expect(report.findings.filter((finding) => above(finding, 'low')).map((finding) => `${finding.severity} ${finding.title}`)).toEqual([]);
      expect(report.verdict[0]!.text).toMatch(/^No anomaly stands out/);
      expect(findingsOf(report, 'upstream-trouble')).toEqual([]);
    });

    it(`counts limit_req's 503s among the requests nginx turned away itself, not as a backend failing (${name})`, () => {
      const rejected = findingsOf(reports[name], 'proxy-made-responses').find((finding) => finding.figures.class === 'gateway-rejection');
      expect(rejected?.severity).toBe('info');
      expect(Number(rejected!.figures.count)).toBeGreaterThanOrEqual(sent.limited);
      expect(findingsOf(reports[name], 'proxy-made-responses').find((finding) => finding.figures.class === 'proxy-error')).toBeUndefined();
    });
  }
});
