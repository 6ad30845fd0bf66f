import { request } from 'node:http';

/**
 * The API's clients, in cohorts: each has its user agent and API keys, a way of arriving (a
 * Poisson stream, a shared wall-clock tick, or a closed loop), the URLs it asks for, and its way of
 * giving up: ordinary clients wait (30 s), an exporter gives up at its client timeout and closes
 * its connection (FIN), a mobile app drops off at a random moment, its connection reset (RST) as a
 * flaky network leaves it.
 */

export type GiveUp = { kind: 'timeout'; ms: number } | { kind: 'random'; minMs: number; maxMs: number };

export type Arrival =
  /** Independent clients: requests arrive as a Poisson process, answered or not. */
  | { kind: 'poisson'; ratePerSecond: number }
  /**
   * `clients` clients that all fire on every wall-clock multiple of `everyMs`, each within
   * `spreadMs` of the tick (wallboards and browser tabs polling on a timer, health probes).
   */
  | { kind: 'tick'; everyMs: number; clients: number; spreadMs: number }
  /** `loops` closed loops, each sending its next request when the last one ended, after `thinkMs` (an ETL job). */
  | { kind: 'sequential'; loops: number; thinkMs: number };

/**
 * Which id a request puts in its route's `:id`: a fresh one per request (every URL distinct), or one
 * of a pool, so that cohorts drawing on the same pool hit the same URLs. `sticky`: a tick client
 * keeps one id of the pool (a wallboard shows its own dashboard).
 */
export type IdChoice = { kind: 'unique' } | { kind: 'pool'; ids: readonly number[]; sticky?: boolean };

export interface Cohort {
  readonly name: string;
  readonly userAgent: string;
  /** Empty: the cohort sends no X-Api-Key. */
  readonly apiKeys: readonly string[];
  readonly arrival: Arrival;
  /** Route names (of the run's route table) and their weights. */
  readonly routes: readonly (readonly [string, number])[];
  readonly ids: IdChoice;
  readonly giveUp: GiveUp;
  /** How the client hangs up: close the connection (FIN) or reset it (RST). */
  readonly hangUp: 'close' | 'reset';
}

export const EXPORTER_KEY = 'key_exporter';
export const EXPORTER_AGENT = 'metrics-exporter/1.4 (+https://exporter.example/docs)';
export const PATIENT: GiveUp = { kind: 'timeout', ms: 30_000 };

/** The founding case's clients: Poisson arrivals, every request to a URL of its own. */
export function clientProfiles(clientTimeoutMs: number): Cohort[] {
  const unique: IdChoice = { kind: 'unique' };
  const poisson = (ratePerSecond: number): Arrival => ({ kind: 'poisson', ratePerSecond });
  return [
    { name: 'web', userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', apiKeys: ['key_web'], arrival: poisson(25), routes: [['order', 0.9], ['report', 0.1]], ids: unique, giveUp: PATIENT, hangUp: 'close' },
    { name: 'partner', userAgent: 'python-requests/2.31.0', apiKeys: ['key_partner_a', 'key_partner_b'], arrival: poisson(12), routes: [['order', 0.7], ['report', 0.3]], ids: unique, giveUp: PATIENT, hangUp: 'close' },
    { name: 'dashboard', userAgent: 'okhttp/4.12.0', apiKeys: ['key_dashboard'], arrival: poisson(0.5), routes: [['metrics', 1]], ids: unique, giveUp: PATIENT, hangUp: 'close' },
    { name: 'mobile', userAgent: 'ShopApp/3.2 (iPhone; iOS 17.4)', apiKeys: ['key_mobile'], arrival: poisson(3), routes: [['report', 0.85], ['metrics', 0.15]], ids: unique, giveUp: { kind: 'random', minMs: 200, maxMs: 6_000 }, hangUp: 'reset' },
    { name: 'exporter', userAgent: EXPORTER_AGENT, apiKeys: [EXPORTER_KEY], arrival: poisson(2), routes: [['metrics', 1]], ids: unique, giveUp: { kind: 'timeout', ms: clientTimeoutMs }, hangUp: 'close' },
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
  hangUp: Cohort['hangUp'];
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
