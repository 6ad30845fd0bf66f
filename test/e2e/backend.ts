import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { exportFileName, writeExport, type ExportSpec, type Transaction } from './apm-exports.js';
import { decodeWorkOrder, routeOf, WORK_HEADER, type RouteTable, type WorkOrder } from './endpoints.js';
import { waitUntil } from './processes.js';

/**
 * A backend that behaves like Unicorn: a fixed pool of single-request workers, requests queued
 * (first come, first served) while every worker is busy, and a worker that has started on a
 * request finishes it even when the client hung up meanwhile. A request's work order (endpoints.ts)
 * says how long it works and what it answers; a worker that "dies" resets the connection and
 * reports nothing. Every finished transaction goes to each APM export with its true work time, and
 * to `done`, the ground truth the tests check alf against (the exports carry no request id; `done`
 * keeps the X-Request-Id the client sent, and each transaction's line in every export).
 */

export interface BackendOptions {
  /** APM app name (New Relic appName, OTel service.name). */
  app: string;
  workers: number;
  routes: RouteTable;
  /** Where the exports go, and which. */
  dir: string;
  exports: readonly ExportSpec[];
}

export interface WorkDone {
  requestId: string | null;
  route: string;
  path: string;
  apiKey: string | null;
  userAgent: string | null;
  status: number;
  arrivedMs: number;
  startMs: number;
  durationMs: number;
  queueMs: number;
  /** The connection closed before the worker answered. */
  clientGone: boolean;
  /** The worker died: connection reset, no transaction in any export. */
  reset: boolean;
  /** Line of this transaction in each export, by export name; filled when the exports are written (close()). */
  lines: Record<string, number>;
}

function header(req: IncomingMessage, name: string): string | null {
  const value = req.headers[name];
  return typeof value === 'string' && value !== '' ? value : null;
}

export class WorkerPoolBackend {
  readonly done: WorkDone[] = [];
  /** Each export's file, by export name. */
  readonly files: Record<string, string>;
  port = 0;
  peakQueue = 0;
  private busy = 0;
  private readonly queue: (() => void)[] = [];
  private readonly server: Server;
  private readonly transactions: Transaction[] = [];
  /** done[i] was written as transactions[transactionOf[i]], or -1 (reset). */
  private readonly transactionOf: number[] = [];
  private readonly host = hostname();
  private written = false;

  constructor(readonly options: BackendOptions) {
    this.files = Object.fromEntries(options.exports.map((spec) => [spec.name, join(options.dir, exportFileName(spec))]));
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

  /** Stops serving and writes every export (once), filling in each transaction's lines. */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (this.written) return;
    this.written = true;
    for (const spec of this.options.exports) {
      const lines = await writeExport(spec, this.files[spec.name]!, this.transactions);
      this.done.forEach((work, i) => {
        const t = this.transactionOf[i]!;
        if (t >= 0) work.lines[spec.name] = lines[t]!;
      });
    }
  }

  private accept(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    const arrivedMs = Date.now();
    const arrived = performance.now();
    let clientGone = false;
    res.once('close', () => { if (!res.writableFinished) clientGone = true; });
    const path = new URL(req.url ?? '/', 'http://backend').pathname;
    const route = routeOf(this.options.routes, path);
    const order = decodeWorkOrder(header(req, WORK_HEADER));
    if (route === null || order === null) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    const run = () => {
      this.busy++;
      const startMs = Date.now();
      const started = performance.now();
      setTimeout(() => {
        const durationMs = performance.now() - started;
        if (order.reset) req.socket.resetAndDestroy();
        else if (!res.destroyed) {
          res.writeHead(order.status, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ path, workedMs: Math.round(durationMs) }));
        }
        this.record(req, route, path, order, arrivedMs, startMs, durationMs, started - arrived, clientGone);
        this.busy--;
        this.queue.shift()?.();
      }, order.workMs);
    };
    if (this.busy < this.options.workers) run();
    else {
      this.queue.push(run);
      this.peakQueue = Math.max(this.peakQueue, this.queue.length);
    }
  }

  private record(
    req: IncomingMessage, route: string, path: string, order: WorkOrder, arrivedMs: number, startMs: number, durationMs: number, queueMs: number, clientGone: boolean,
  ): void {
    const { template, controller } = this.options.routes[route]!;
    const userAgent = header(req, 'user-agent');
    const apiKey = header(req, 'x-api-key');
    if (!order.reset) {
      this.transactions.push({
        app: this.options.app, host: this.host, requestHost: header(req, 'host'), method: req.method ?? 'GET', path, route: template, controller,
        status: order.status, userAgent, apiKey, startMs, durationMs, queueMs,
      });
    }
    this.transactionOf.push(order.reset ? -1 : this.transactions.length - 1);
    this.done.push({
      requestId: header(req, 'x-request-id'), route, path, apiKey, userAgent, status: order.status,
      arrivedMs, startMs, durationMs, queueMs, clientGone, reset: order.reset, lines: {},
    });
  }
}
