import { createServer, request, Agent, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { FULL_NEW_RELIC_COLUMNS, writeExport, type Transaction } from './apm-exports.js';

/**
 * Traffic an internet-facing proxy sees on a quiet day, for the healthy-edge runs: an API (quick
 * answers, a slower weekly report, 404 for what it does not know) behind paths the proxy answers
 * itself (static files, a redirect, a health check, a denied admin path), a few browsers that
 * leave before their answer, oversized POSTs, scanners' garbage on raw connections, and twice a
 * client that bursts 120 API calls at once into the proxy's rate limit. In a fixed pattern.
 */

export const EDGE_PATHS = ['/api/users/7', '/api/users/7/orders?page=2', '/api/items?q=lamp', '/api/report/weekly', '/static/app.css', '/static/index.html', '/old-home', '/healthz', '/admin/users', '/api/missing/9', '/favicon.ico'];
const AGENTS = ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36', 'okhttp/4.12.0', 'python-requests/2.31.0', 'curl/8.5.0'];

/** The address of the client that bursts into the rate limit. */
export const BULK_CLIENT = '203.0.113.50';

export interface EdgeTraffic {
  requests: number;
  hungUp: number;
  /** Burst requests the proxy's limit turned away (answered with `limitStatus`). */
  limited: number;
}

export interface EdgeBackend {
  server: Server;
  port: number;
  /** Every request it served, as its APM agent records them. */
  transactions: Transaction[];
  /** Writes them as a New Relic Transaction export (CSV, every column). */
  writeNewRelicExport(path: string): Promise<void>;
}

/** The API behind the proxy, on 127.0.0.1, with its APM transactions; resolves once it listens. */
export async function startEdgeBackend(): Promise<EdgeBackend> {
  const transactions: Transaction[] = [];
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    const startMs = Date.now();
    const ms = url.startsWith('/api/report') ? 300 + (url.length * 37) % 400 : (url.length * 13) % 40;
    setTimeout(() => {
      const status = url.includes('missing') ? 404 : 200;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
      const path = url.split('?')[0]!;
      const header = (name: string): string | null => (typeof req.headers[name] === 'string' ? req.headers[name] as string : null);
      transactions.push({
        app: 'edge-api', host: hostname(), requestHost: header('host'), method: req.method ?? 'GET', path, route: path, controller: path.slice(1) || 'root',
        status, userAgent: header('user-agent'), apiKey: header('x-api-key'), startMs, durationMs: Date.now() - startMs, queueMs: 0,
      });
    }, ms);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    server, port: (server.address() as AddressInfo).port, transactions,
    async writeNewRelicExport(path) {
      await writeExport({ name: 'newrelic', shape: 'newrelic-csv', attributes: FULL_NEW_RELIC_COLUMNS }, path, [...transactions].sort((a, b) => a.startMs - b.startMs));
    },
  };
}

export class EdgeClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 16 });

  constructor(private readonly port: number) {}

  /**
   * Clients come from 50 addresses, the bursting one from its own, in X-Forwarded-For (a proxy
   * that trusts it, nginx's realip module, logs them as the clients' addresses).
   */
  send(i: number, path: string, options: { hangUpAfterMs?: number; body?: string; agentName?: string; from?: string } = {}): Promise<number> {
    return new Promise((resolve) => {
      const req = request({
        host: '127.0.0.1', port: this.port, path, agent: this.agent, method: options.body === undefined ? 'GET' : 'POST',
        headers: { 'user-agent': options.agentName ?? AGENTS[i % AGENTS.length]!, 'x-api-key': `key_${i % 13}`, 'x-forwarded-for': options.from ?? `198.51.100.${i % 50}` },
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

  /** Bytes a scanner sends on a raw connection, then closes after the proxy's answer (or 300 ms). */
  scan(bytes: Buffer | string): Promise<void> {
    return new Promise((resolve) => {
      const socket = connect(this.port, '127.0.0.1', () => socket.write(bytes));
      socket.on('data', () => socket.destroy());
      socket.on('error', () => resolve());
      socket.on('close', () => resolve());
      setTimeout(() => socket.destroy(), 300);
    });
  }

  /** `ms` of traffic, about 40 requests a second; resolves when every request has ended. */
  async run(ms: number, limitStatus: number): Promise<EdgeTraffic> {
    const sent: EdgeTraffic = { requests: 0, hungUp: 0, limited: 0 };
    const until = Date.now() + ms;
    const pending: Promise<unknown>[] = [];
    for (let i = 1; Date.now() < until; i++) {
      const path = EDGE_PATHS[(i * 7) % EDGE_PATHS.length]!;
      // One request in 150 is a browser that leaves within a third of a second; one POST in 40 is too big.
      const hangUpAfterMs = i % 150 === 0 ? 50 + (i % 7) * 40 : undefined;
      const body = i % 20 === 0 ? (i % 40 === 0 ? 'x'.repeat(4_000) : '{"a":1}') : undefined;
      pending.push(this.send(i, path, { hangUpAfterMs, body }));
      sent.requests++;
      if (hangUpAfterMs !== undefined) sent.hungUp++;
      if (i % 200 === 0) pending.push(this.scan(i % 400 === 0 ? Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]) : '\r\n\r\n'));
      if (i === 300 || i === 700) {
        const burst = Array.from({ length: 120 }, (_, k) => this.send(i + k, '/api/items?q=burst', { agentName: 'bulk-sync/1.0', from: BULK_CLIENT }));
        pending.push(Promise.all(burst).then((statuses) => { sent.limited += statuses.filter((status) => status === limitStatus).length; }));
        sent.requests += 120;
      }
      // Pacing the traffic, not waiting for a condition.
      if (i % 4 === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await Promise.all(pending);
    return sent;
  }

  close(): void {
    this.agent.destroy();
  }
}
