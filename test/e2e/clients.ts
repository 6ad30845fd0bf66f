import { request } from 'node:http';
import type { RouteName } from './endpoints.js';

/**
 * The API's clients. Each profile sends requests at its own rate, with one user agent, and gives
 * up in its own way: ordinary clients wait (30 s), the exporter gives up at the run's client
 * timeout and closes its connection (FIN), the mobile app drops off at a random moment, its
 * connection reset (RST) as a flaky network leaves it.
 */

export type GiveUp = { kind: 'timeout'; ms: number } | { kind: 'random'; minMs: number; maxMs: number };

export interface ClientProfile {
  readonly name: string;
  readonly userAgent: string;
  readonly apiKeys: readonly string[];
  readonly ratePerSecond: number;
  readonly routes: readonly (readonly [RouteName, number])[];
  readonly giveUp: GiveUp;
  /** How the client hangs up: close the connection (FIN) or reset it (RST). */
  readonly hangUp: 'close' | 'reset';
}

export const EXPORTER_KEY = 'key_exporter';
export const EXPORTER_AGENT = 'metrics-exporter/1.4 (+https://exporter.example/docs)';

export function clientProfiles(clientTimeoutMs: number): ClientProfile[] {
  const patient: GiveUp = { kind: 'timeout', ms: 30_000 };
  return [
    { name: 'web', userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', apiKeys: ['key_web'], ratePerSecond: 25, routes: [['order', 0.9], ['report', 0.1]], giveUp: patient, hangUp: 'close' },
    { name: 'partner', userAgent: 'python-requests/2.31.0', apiKeys: ['key_partner_a', 'key_partner_b'], ratePerSecond: 12, routes: [['order', 0.7], ['report', 0.3]], giveUp: patient, hangUp: 'close' },
    { name: 'dashboard', userAgent: 'okhttp/4.12.0', apiKeys: ['key_dashboard'], ratePerSecond: 0.5, routes: [['metrics', 1]], giveUp: patient, hangUp: 'close' },
    { name: 'mobile', userAgent: 'ShopApp/3.2 (iPhone; iOS 17.4)', apiKeys: ['key_mobile'], ratePerSecond: 3, routes: [['report', 0.85], ['metrics', 0.15]], giveUp: { kind: 'random', minMs: 200, maxMs: 6_000 }, hangUp: 'reset' },
    { name: 'exporter', userAgent: EXPORTER_AGENT, apiKeys: [EXPORTER_KEY], ratePerSecond: 2, routes: [['metrics', 1]], giveUp: { kind: 'timeout', ms: clientTimeoutMs }, hangUp: 'close' },
  ];
}

export interface Target {
  readonly proxy: 'nginx' | 'haproxy';
  readonly port: number;
}

/** What one copy of a request saw: the status, or that the client gave up first. */
export interface Outcome {
  proxy: Target['proxy'];
  requestId: string;
  status: number | null;
  gaveUp: boolean;
  error: string | null;
}

export interface Mirrored {
  path: string;
  headers: Record<string, string>;
  /** Request id per proxy; the X-Request-Id header of that copy. */
  requestIds: Record<Target['proxy'], string>;
  giveUpAfterMs: number;
  hangUp: ClientProfile['hangUp'];
}

/**
 * Sends the same request through every proxy at the same moment, each on a new connection, and
 * hangs up (closes or resets the connection) on the copies still unanswered after `giveUpAfterMs`.
 */
export function sendMirrored(targets: readonly Target[], spec: Mirrored): Promise<Outcome[]> {
  return Promise.all(targets.map((target) => new Promise<Outcome>((resolve) => {
    const requestId = spec.requestIds[target.proxy];
    const outcome: Outcome = { proxy: target.proxy, requestId, status: null, gaveUp: false, error: null };
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const settle = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const req = request({
      host: '127.0.0.1', port: target.port, path: spec.path, agent: false,
      headers: { ...spec.headers, 'x-request-id': requestId },
    }, (res) => {
      res.resume();
      res.once('end', () => { outcome.status = res.statusCode ?? null; settle(); });
      res.once('error', (error) => { outcome.error ??= error.message; settle(); });
    });
    req.once('error', (error) => { if (!outcome.gaveUp) outcome.error = error.message; settle(); });
    const giveUp = () => {
      outcome.gaveUp = true;
      if (spec.hangUp === 'reset' && req.socket) req.socket.resetAndDestroy();
      req.destroy();
      settle();
    };
    // The client's clock starts once the request is on the wire. Started at creation, a loaded CI
    // machine sometimes took longer than the shortest give-up (200 ms) to connect and write, and
    // the reset reached HAProxy as a connection without a request, which `dontlognull` leaves out
    // of its log (one request short of the sent count, once in a full CI run).
    req.once('finish', () => { if (!settled) timer = setTimeout(giveUp, spec.giveUpAfterMs); });
    req.end();
  })));
}
