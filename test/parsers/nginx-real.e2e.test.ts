import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { detectFormat } from '../../parsers/detect.js';
import { FORMATS } from '../../parsers/registry.js';
import { nginxCombined, nginxFormat } from '../../parsers/nginx.js';
import type { ProxyRecord } from '../../src/model/records.js';
import { parseLines } from './parse-lines.js';
import { nginxConfHead } from '../e2e/nginx-config.js';

/**
 * A real nginx on 127.0.0.1 writes the log; the compiled log_format must read what it wrote.
 * This is the ground truth for escaping, "-" handling and the 499 of a client abort.
 */

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((path) => existsSync(path));
/**
 * nginx's blog post "Using NGINX Logging for Application Performance Monitoring": `combined` plus
 * four timings, its strings joined with no space after the user agent, and no $upstream_status.
 */
const BLOG_FORMAT = `log_format upstream_time '$remote_addr - $remote_user [$time_local] '
                         '"$request" $status $body_bytes_sent '
                         '"$http_referer" "$http_user_agent"'
                         'rt=$request_time uct="$upstream_connect_time" uht="$upstream_header_time" urt="$upstream_response_time"';`;
const LOG_FORMAT = `log_format forensic '$msec|$request_id|$remote_addr|$http_x_api_key|$request_method|$request_uri|$status|'
                    '$request_time|$upstream_connect_time|$upstream_header_time|$upstream_response_time|'
                    '$upstream_status|$upstream_addr|$bytes_sent|$connection_requests|$http_traceparent|$http_user_agent';`;

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function get(port: number, path: string, headers: Record<string, string> = {}, abortAfterMs?: number): Promise<number | 'aborted'> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve('aborted'));
    if (abortAfterMs !== undefined) setTimeout(() => { req.destroy(); resolve('aborted'); }, abortAfterMs);
    req.end();
  });
}

describe.skipIf(!NGINX)('nginx log_format against a real nginx', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alf-nginx-'));
  let backend: Server;
  let nginx: ChildProcess;
  let nginxPort = 0;
  let records: ProxyRecord[] = [];
  let issues = 0;
  let blogLines: string[] = [];

  beforeAll(async () => {
    backend = createServer((req, res) => {
      const delay = req.url?.startsWith('/slow') ? 1500 : 5;
      setTimeout(() => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('ok'); }, delay);
    });
    const backendPort = await listen(backend);
    const deadPort = await freePort();
    nginxPort = await freePort();
    writeFileSync(join(dir, 'nginx.conf'), `${nginxConfHead(dir)}
  ${LOG_FORMAT}
  ${BLOG_FORMAT}
  limit_req_zone $binary_remote_addr zone=one:1m rate=1r/m;
  upstream backend { server 127.0.0.1:${backendPort}; }
  upstream dead { server 127.0.0.1:${deadPort}; }
  server {
    listen 127.0.0.1:${nginxPort};
    access_log ${join(dir, 'access.log')} forensic;
    access_log ${join(dir, 'blog.log')} upstream_time;
    location = /static-404 { return 404; }
    location /limited { limit_req zone=one nodelay; proxy_pass http://backend; }
    location /down { proxy_pass http://dead; }
    location / { proxy_pass http://backend; }
  }
}
`);
    nginx = spawn(NGINX!, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
    for (let i = 0; i < 100 && (await get(nginxPort, '/static-404')) !== 404; i++) await new Promise((r) => setTimeout(r, 50));

    await get(nginxPort, '/fast?limit=20', {
      'x-api-key': 'key_7H2', traceparent: '00-491e743b1be0164f3055415f2cb2f8d0-edeed8f67ed0c810-01', 'user-agent': 'okhttp/4.12.0',
    });
    await get(nginxPort, '/slow/report', { 'x-api-key': 'key_Q9x', 'user-agent': 'exporter' }, 300);
    await get(nginxPort, '/down', { 'user-agent': 'curl/8.5.0' });
    // One request a minute: the second is turned away by limit_req (503) without reaching the backend.
    await get(nginxPort, '/limited');
    await get(nginxPort, '/limited');
    // Node sends header strings as latin1: these two characters go out as the UTF-8 bytes of "é".
    await get(nginxPort, '/fast', { 'user-agent': 'a|b "quoted" caf\u00c3\u00a9 \\ end' });
    // nginx logs the abort (499) once it notices the client gone; then stop it gracefully.
    await vi.waitFor(() => expect(readFileSync(join(dir, 'access.log'), 'utf8')).toContain('|/slow/report|'), { timeout: 20_000, interval: 50 });
    spawnSync(NGINX!, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-s', 'quit']);
    await new Promise<void>((resolve) => nginx.on('exit', () => resolve()));
    const lines = readFileSync(join(dir, 'access.log'), 'utf8').split('\n').filter((line) => line !== '');
    const parsed = parseLines(nginxFormat(LOG_FORMAT), lines);
    records = parsed.records as ProxyRecord[];
    issues = parsed.issues.length;
    blogLines = readFileSync(join(dir, 'blog.log'), 'utf8').split('\n').filter((line) => line !== '');
  }, 30_000);

  afterAll(async () => {
    if (nginx && nginx.exitCode === null) nginx.kill('SIGKILL');
    await new Promise((resolve) => backend?.close(resolve));
  });

  const byPath = (path: string) => records.filter((record) => record.path === path);

  it('parses every line nginx wrote', () => {
    expect(issues).toBe(0);
    expect(records.length).toBeGreaterThanOrEqual(5);
  });

  it('reads a proxied request with its upstream times, key, and W3C trace id', () => {
    const [record] = byPath('/fast').filter((r) => r.query === 'limit=20');
    expect(record).toMatchObject({ status: 200, upstreamStatus: 200, apiKey: 'key_7H2', traceId: '491e743b1be0164f3055415f2cb2f8d0', userAgent: 'okhttp/4.12.0' });
    expect(record!.requestId).toMatch(/^[0-9a-f]{32}$/);
    expect(record!.upstreamTimeMs).toBeGreaterThanOrEqual(0);
    expect(record!.upstreamConnectTimeMs).not.toBeNull();
  });

  it('reads a client abort as 499 with no upstream status and the time nginx waited', () => {
    const [record] = byPath('/slow/report');
    expect(record).toMatchObject({ status: 499, clientClosed: true, upstreamStatus: null, upstreamLogged: true });
    expect(record!.requestTimeMs).toBeGreaterThan(200);
    expect(record!.requestTimeMs).toBeLessThan(1500);
    // nginx >= 1.15.7 fills in the time until it gave up.
    expect(record!.upstreamTimeMs).toBeLessThan(1500);
  });

  it('reads a refused upstream as 502 from upstream 502 without a connect time, and a local 404 with every upstream field missing', () => {
    const [down] = byPath('/down');
    expect(down).toMatchObject({ status: 502, upstreamStatus: 502, upstreamConnectTimeMs: null });
    const [local] = byPath('/static-404');
    expect(local).toMatchObject({ status: 404, upstreamStatus: null, upstreamTimeMs: null, upstreamAddr: null, upstreamAttempts: 0 });
  });

  it('keeps a user agent with |, quotes, UTF-8 and backslashes whole, decoding what nginx escaped', () => {
    const record = byPath('/fast').find((r) => r.query === null);
    expect(record!.userAgent).toBe('a|b "quoted" café \\ end');
  });

  it('reads the blog post\'s timings after `combined` without a --log-format, and tells from them which requests a backend answered as $upstream_status does', () => {
    expect(detectFormat(FORMATS, 'blog.log', blogLines).best?.format.id).toBe('nginx-combined');
    const blog = parseLines(nginxCombined, blogLines);
    expect(blog.issues).toEqual([]);
    // nginx writes both logs per request, in the same order.
    expect(blog.records).toHaveLength(records.length);
    const read = blog.records.map((record) => {
      const r = record as ProxyRecord;
      return [r.path, r.status, r.requestTimeMs, r.upstreamTimeMs, r.upstreamLogged, r.upstreamStatus];
    });
    expect(read).toEqual(records.map((r) => [r.path, r.status, r.requestTimeMs, r.upstreamTimeMs, true, r.upstreamStatus]));
    expect(records.filter((r) => r.path === '/limited').map((r) => [r.status, r.upstreamAddr])).toEqual([[200, expect.any(String)], [503, null]]);
  });
});
