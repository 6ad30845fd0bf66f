import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { NewRelicCsvExport, OtlpJsonExport, type Transaction } from './apm-exports.js';
import { costOf, ROUTES, routeOf } from './endpoints.js';
import { waitUntil } from './processes.js';

/**
 * A backend that behaves like Unicorn: a fixed pool of single-request workers, requests queued
 * (first come, first served) while every worker is busy, and a worker that has started on a
 * request finishes it even when the client hung up meanwhile. Each finished transaction goes to
 * the APM exports with its true work time, and to `done`, the ground truth the tests check alf
 * against (the exports carry no request id; `done` keeps the X-Request-Id the client sent).
 */

export interface BackendOptions {
  /** APM app name (New Relic appName, OTel service.name). */
  app: string;
  workers: number;
  csvPath: string;
  otlpPath: string;
}

export interface WorkDone {
  requestId: string | null;
  path: string;
  apiKey: string | null;
  userAgent: string | null;
  arrivedMs: number;
  startMs: number;
  durationMs: number;
  queueMs: number;
  /** The connection closed before the worker answered. */
  clientGone: boolean;
  csvLine: number;
  otlpLine: number;
}

function header(req: IncomingMessage, name: string): string | null {
  const value = req.headers[name];
  return typeof value === 'string' && value !== '' ? value : null;
}

export class WorkerPoolBackend {
  readonly done: WorkDone[] = [];
  port = 0;
  peakQueue = 0;
  private busy = 0;
  private readonly queue: (() => void)[] = [];
  private readonly server: Server;
  private readonly csv: NewRelicCsvExport;
  private readonly otlp: OtlpJsonExport;
  private readonly host = hostname();

  constructor(readonly options: BackendOptions) {
    this.csv = new NewRelicCsvExport(options.csvPath);
    this.otlp = new OtlpJsonExport(options.otlpPath, options.app);
    this.server = createServer((req, res) => this.accept(req, res));
    // Proxies keep idle connections to us; never close one under HAProxy's feet.
    this.server.keepAliveTimeout = 120_000;
    this.server.headersTimeout = 130_000;
    this.server.requestTimeout = 0;
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
  }

  /** Requests being worked on or waiting for a worker. */
  get inFlight(): number {
    return this.busy + this.queue.length;
  }

  /** Waits until every accepted request has been worked off. */
  async drain(timeoutMs: number): Promise<void> {
    await waitUntil(`${this.options.app} to finish its work`, () => this.inFlight === 0, timeoutMs, 100);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await Promise.all([this.csv.close(), this.otlp.close()]);
  }

  private accept(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    const arrivedMs = Date.now();
    const arrived = performance.now();
    let clientGone = false;
    res.once('close', () => { if (!res.writableFinished) clientGone = true; });
    const path = new URL(req.url ?? '/', 'http://backend').pathname;
    const cost = costOf(path);
    if (cost === null) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    const run = () => {
      this.busy++;
      const startMs = Date.now();
      const started = performance.now();
      setTimeout(() => {
        const durationMs = performance.now() - started;
        if (!res.destroyed) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ path, workedMs: Math.round(durationMs) }));
        }
        this.record(req, path, arrivedMs, startMs, durationMs, started - arrived, clientGone);
        this.busy--;
        this.queue.shift()?.();
      }, cost);
    };
    if (this.busy < this.options.workers) run();
    else {
      this.queue.push(run);
      this.peakQueue = Math.max(this.peakQueue, this.queue.length);
    }
  }

  private record(req: IncomingMessage, path: string, arrivedMs: number, startMs: number, durationMs: number, queueMs: number, clientGone: boolean): void {
    const route = routeOf(path)!;
    const transaction: Transaction = {
      app: this.options.app, host: this.host, method: req.method ?? 'GET', path, route: ROUTES[route].template,
      status: 200, userAgent: header(req, 'user-agent'), apiKey: header(req, 'x-api-key'),
      startMs, durationMs, queueMs,
    };
    const csvLine = this.csv.write(transaction);
    const otlpLine = this.otlp.write(transaction);
    this.done.push({
      requestId: header(req, 'x-request-id'), path, apiKey: transaction.apiKey, userAgent: transaction.userAgent,
      arrivedMs, startMs, durationMs, queueMs, clientGone, csvLine, otlpLine,
    });
  }
}
