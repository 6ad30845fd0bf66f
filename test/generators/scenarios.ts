import { emptyApmTransaction, emptyProxyRecord, type JoinedRequest, type ProxyRecord } from '../../src/model/records.js';
import { SeededRandom } from './random.js';

/**
 * Seeded scenarios for the detectors, as joined request streams (what detectors consume), with
 * the truth each one plants. Every scenario sits on the same clean background traffic (several
 * clients, routes, upstreams, keep-alive on, rare flaky-network aborts and backend 404s), so a
 * detector that fires on a scenario's background is a false alarm, and `clean` is the control.
 *
 * Each request also gets a pipe-delimited raw line (end|status|request time|upstream status|
 * upstream time|connect time|upstream|client|key|method|path|user agent) so evidence reads well.
 */

export interface ScenarioOptions {
  seed: number;
  durationSeconds: number;
  startMs: number;
  /** Background requests per second. */
  rate: number;
  /** Whether the backend's APM transactions are joined to the proxy records. */
  withApm: boolean;
}

export const DEFAULT_SCENARIO: ScenarioOptions = {
  seed: 7,
  durationSeconds: 1800,
  startMs: Date.UTC(2024, 4, 6, 12, 0, 0),
  rate: 4,
  withApm: true,
};

export interface ScenarioTruth {
  /** Client timeout of the knee, seconds (founding). */
  kneeSeconds?: number;
  kneeUserAgent?: string;
  kneeApiKey?: string;
  /** Every client timeout and who has it, when there are several. */
  knees?: { seconds: number; userAgent: string; apiKey: string }[];
  /** A proxy or gateway wall, seconds. */
  wallSeconds?: number;
  /** The route behind the wall, when one route has it. */
  wallRoute?: string;
  /** Upstream in trouble and how. */
  troubledUpstream?: string;
  trouble?: 'burst' | 'transient';
  keepaliveDisabledUpstream?: string;
  stormClient?: string;
  stormAmplification?: number;
  /** A route whose latency changed, and when. */
  shiftedRoute?: string;
  shiftAtMs?: number;
}

export interface Scenario {
  name: string;
  requests: JoinedRequest[];
  truth: ScenarioTruth;
}

interface RequestSpec {
  startMs: number;
  method?: string;
  path: string;
  status: number;
  /** Client-facing time. */
  clientMs: number;
  upstreamStatus: number | null;
  upstreamMs: number | null;
  connectMs: number | null;
  upstream: string | null;
  clientIp: string;
  apiKey: string | null;
  userAgent: string;
  /** Backend's own duration (APM); null when the backend never saw it. */
  backendMs: number | null;
  clientClosed?: boolean;
  flags?: string | null;
}

const UPSTREAMS = ['10.0.1.11:8080', '10.0.1.12:8080', '10.0.1.13:8080'];

interface Client { ip: string; key: string; agent: string; timeoutMs: number | null; flaky: number }
const CLIENTS: readonly Client[] = [
  { ip: '203.0.113.10', key: 'key_web_app01', agent: 'Mozilla/5.0 (Macintosh)', timeoutMs: null, flaky: 0.003 },
  { ip: '203.0.113.77', key: 'key_mobile_ios', agent: 'MyApp/4.2 CFNetwork/1404 Darwin/22.0', timeoutMs: 60_000, flaky: 0.01 },
  { ip: '198.51.100.4', key: 'key_partner_a', agent: 'python-requests/2.31.0', timeoutMs: null, flaky: 0 },
  { ip: '198.51.100.90', key: 'key_partner_b', agent: 'Go-http-client/1.1', timeoutMs: 30_000, flaky: 0 },
  { ip: '192.0.2.33', key: 'key_ops_cron', agent: 'curl/8.4.0', timeoutMs: null, flaky: 0 },
];

interface Route { method: string; path: (r: SeededRandom) => string; backendMs: (r: SeededRandom) => number }
const ROUTES: readonly Route[] = [
  { method: 'GET', path: (r) => `/api/v1/orders/${r.int(1000, 9999)}`, backendMs: (r) => r.logNormal(45, 0.5) },
  { method: 'GET', path: () => '/api/v1/catalog', backendMs: (r) => r.logNormal(120, 0.6) },
  { method: 'POST', path: () => '/api/v1/checkout', backendMs: (r) => r.logNormal(350, 0.5) },
  { method: 'GET', path: (r) => `/api/v1/reports/${r.int(1, 300)}.json`, backendMs: (r) => r.logNormal(1500, 0.7) },
];

class Builder {
  private specs: RequestSpec[] = [];
  constructor(readonly random: SeededRandom, readonly options: ScenarioOptions) {}

  add(spec: RequestSpec): void {
    this.specs.push(spec);
  }

  /** A normal, answered request: keep-alive on (connect 0, a new connection now and then). */
  answered(startMs: number, client: Client, path: string, method: string, backendMs: number, upstream?: string): void {
    const r = this.random;
    const dispatch = r.between(0.3, 2);
    const newConnection = r.chance(0.02);
    const connectMs = newConnection ? r.between(0.5, 3) : 0;
    let status = r.chance(0.01) ? 404 : 200;
    let clientMs = dispatch + connectMs + backendMs + r.between(0.2, 1);
    let upstreamStatus: number | null = status;
    let upstreamMs: number | null = backendMs + dispatch + connectMs;
    let clientClosed = false;
    const flakyAt = r.chance(client.flaky) ? r.between(100, Math.max(200, clientMs)) : Infinity;
    const giveUpAt = client.timeoutMs ?? Infinity;
    const abortAt = Math.min(flakyAt, giveUpAt);
    if (abortAt < clientMs) {
      clientMs = abortAt;
      status = 499;
      upstreamStatus = null;
      upstreamMs = abortAt;
      clientClosed = true;
    }
    this.add({
      startMs, method, path, status, clientMs, upstreamStatus, upstreamMs, connectMs,
      upstream: upstream ?? r.pick(UPSTREAMS), clientIp: client.ip, apiKey: client.key, userAgent: client.agent,
      backendMs, clientClosed,
    });
  }

  /** The clean background: every client calling every route, Poisson arrivals. */
  background(): void {
    const { startMs, durationSeconds, rate } = this.options;
    const end = startMs + durationSeconds * 1000;
    const r = this.random;
    for (let t = startMs; t < end; t += r.between(0, 2000 / rate)) {
      const client = r.pick(CLIENTS);
      const route = r.pick(ROUTES);
      this.answered(t, client, route.path(r), route.method, route.backendMs(r));
    }
    // Static files nginx serves itself.
    for (let t = startMs + 5000; t < end; t += r.between(20_000, 90_000)) {
      this.add({
        startMs: t, path: '/favicon.ico', status: r.chance(0.5) ? 200 : 404, clientMs: 0, upstreamStatus: null, upstreamMs: null,
        connectMs: null, upstream: null, clientIp: '192.0.2.200', apiKey: null, userAgent: 'Mozilla/5.0 (X11; Linux x86_64)', backendMs: null,
      });
    }
  }

  build(name: string, truth: ScenarioTruth): Scenario {
    const withApm = this.options.withApm;
    const built = this.specs.map((spec) => ({ spec, proxy: toProxy(spec) }));
    built.sort((a, b) => a.proxy.endMs - b.proxy.endMs);
    const requests = built.map(({ spec, proxy }, index): JoinedRequest => {
      Object.assign(proxy, { line: index + 1 });
      if (!withApm || spec.backendMs === null) return { proxy, apm: null, method: 'none', confidence: 0, offsetMs: null };
      const apm = emptyApmTransaction('scenario-apm', 'scenario-apm.json', index + 1, `{"duration":${(spec.backendMs / 1000).toFixed(4)}}`);
      apm.startMs = spec.startMs + 1;
      apm.durationMs = spec.backendMs;
      apm.path = spec.path;
      apm.method = spec.method ?? 'GET';
      apm.status = 200;
      apm.userAgent = spec.userAgent;
      return { proxy, apm, method: 'heuristic', confidence: 0.95, offsetMs: 1 };
    });
    return { name, requests, truth };
  }
}

function seconds(ms: number | null): string {
  return ms === null ? '-' : (ms / 1000).toFixed(3);
}

function toProxy(spec: RequestSpec): ProxyRecord {
  const method = spec.method ?? 'GET';
  const endMs = Math.round(spec.startMs + spec.clientMs);
  const raw = [
    seconds(endMs), spec.status, seconds(spec.clientMs), spec.upstreamStatus ?? '-', seconds(spec.upstreamMs), seconds(spec.connectMs),
    spec.upstream ?? '-', spec.clientIp, spec.apiKey ?? '-', method, spec.path, spec.userAgent,
  ].join('|');
  const proxy = emptyProxyRecord('scenario', 'scenario.log', 0, raw);
  Object.assign(proxy, {
    endMs, startMs: endMs - spec.clientMs, timeResolutionMs: 1, method, path: spec.path, host: 'api.example.com',
    status: spec.status, requestTimeMs: spec.clientMs, upstreamLogged: true, upstreamStatus: spec.upstreamStatus,
    upstreamAttempts: spec.upstream === null ? 0 : 1, upstreamTimeMs: spec.upstreamMs, upstreamConnectTimeMs: spec.connectMs,
    upstreamAddr: spec.upstream, clientIp: spec.clientIp, userAgent: spec.userAgent, apiKey: spec.apiKey,
    clientClosed: spec.clientClosed ?? spec.status === 499, flags: spec.flags ?? null,
  });
  return proxy;
}

function builder(options: Partial<ScenarioOptions>): Builder {
  const full = { ...DEFAULT_SCENARIO, ...options };
  const b = new Builder(new SeededRandom(full.seed), full);
  b.background();
  return b;
}

/** Nothing wrong: the control every detector must stay quiet on (nothing above `low`). */
export function cleanTraffic(options: Partial<ScenarioOptions> = {}): Scenario {
  return builder(options).build('clean', {});
}

/**
 * The founding case: an exporter whose client gives up at `timeoutSeconds` on a slow route; the
 * proxy logs the abort as 404 with no upstream answer while the backend keeps working.
 */
export function foundingCase(options: Partial<ScenarioOptions> = {}, timeoutSeconds = 4.67): Scenario {
  const b = builder(options);
  const r = b.random;
  const { startMs, durationSeconds } = b.options;
  const key = 'key_3xp0rt3r';
  const agent = 'metrics-exporter/0.9';
  for (let t = startMs; t < startMs + durationSeconds * 1000; t += r.between(500, 1500)) {
    const backendMs = r.chance(0.4) ? r.between(6000, 30_000) : Math.min(4000, r.logNormal(1200, 0.5));
    const path = `/v2/applications/${r.int(1000, 1060)}/metrics.json`;
    const full = backendMs + r.between(1, 3);
    const giveUp = timeoutSeconds * 1000 - r.between(0, 30);
    const upstream = r.pick(UPSTREAMS);
    if (full > giveUp) {
      b.add({ startMs: t, path, status: 404, clientMs: giveUp, upstreamStatus: null, upstreamMs: null, connectMs: 0, upstream,
        clientIp: '198.51.100.200', apiKey: key, userAgent: agent, backendMs, clientClosed: false });
    } else {
      b.add({ startMs: t, path, status: 200, clientMs: full, upstreamStatus: 200, upstreamMs: full - 0.5, connectMs: 0, upstream,
        clientIp: '198.51.100.200', apiKey: key, userAgent: agent, backendMs });
    }
  }
  return b.build('founding', { kneeSeconds: timeoutSeconds, kneeUserAgent: agent, kneeApiKey: key });
}

/** API Gateway in front of a slow route: the gateway answers 504 at 29 s, the backend runs on. */
export function apiGatewayWall(options: Partial<ScenarioOptions> = {}): Scenario {
  const b = builder(options);
  const r = b.random;
  const { startMs, durationSeconds } = b.options;
  for (let t = startMs; t < startMs + durationSeconds * 1000; t += r.between(2000, 8000)) {
    const backendMs = r.logNormal(22_000, 0.35);
    const client = r.pick(CLIENTS.slice(2));
    const path = `/api/v1/exports/${r.int(1, 500)}`;
    if (backendMs > 29_000) {
      b.add({ startMs: t, path, status: 504, clientMs: 29_000 + r.between(1, 40), upstreamStatus: null, upstreamMs: null, connectMs: null,
        upstream: '10.0.2.50:443', clientIp: client.ip, apiKey: client.key, userAgent: client.agent, backendMs });
    } else {
      b.answered(t, { ...client, timeoutMs: null, flaky: 0 }, path, 'GET', backendMs, '10.0.2.50:443');
    }
  }
  return b.build('api-gateway-wall', { wallSeconds: 29 });
}

/**
 * Two clients with their own timeouts (1.5 s and 2.5 s) on a slow report route: the proxy logs
 * each give-up as 499 with no upstream answer while the backend keeps working.
 */
export function twoClientTimeouts(options: Partial<ScenarioOptions> = {}): Scenario {
  const b = builder(options);
  const r = b.random;
  const { startMs, durationSeconds } = b.options;
  const clients = [
    { seconds: 1.5, userAgent: 'report-sync/2.1', apiKey: 'key_sync', ip: '198.51.100.31' },
    { seconds: 2.5, userAgent: 'batch-client/4.0', apiKey: 'key_batch', ip: '203.0.113.140' },
  ];
  for (const client of clients) {
    for (let t = startMs + r.between(0, 2000); t < startMs + durationSeconds * 1000; t += r.between(1000, 3000)) {
      const backendMs = r.between(800, 6000);
      const path = `/v3/reports/${r.int(1, 9999)}/full`;
      const upstream = r.pick(UPSTREAMS);
      const giveUp = client.seconds * 1000 + r.between(0, 15);
      const cut = backendMs + 1 > giveUp;
      b.add({
        startMs: t, path, status: cut ? 499 : 200, clientMs: cut ? giveUp : backendMs + 1, upstreamStatus: cut ? null : 200,
        upstreamMs: cut ? giveUp : backendMs + 0.5, connectMs: 0, upstream, clientIp: client.ip, apiKey: client.apiKey, userAgent: client.userAgent,
        backendMs, clientClosed: cut,
      });
    }
  }
  return b.build('two-client-timeouts', { knees: clients.map(({ seconds, userAgent, apiKey }) => ({ seconds, userAgent, apiKey })) });
}

/**
 * A location with `proxy_read_timeout 5s` in front of an export route: the proxy answers 504 at
 * 5 s with an upstream 504, and the backend works on.
 */
export function gatewayTimeoutWall(options: Partial<ScenarioOptions> = {}): Scenario {
  const b = builder(options);
  const r = b.random;
  const { startMs, durationSeconds } = b.options;
  for (let t = startMs; t < startMs + durationSeconds * 1000; t += r.between(1000, 6000)) {
    const backendMs = r.between(2000, 9000);
    const client = r.pick(CLIENTS.slice(2));
    const path = `/v1/exports/${r.int(1, 5000)}`;
    if (backendMs > 5000) {
      const clientMs = 5000 + r.between(0, 12);
      b.add({ startMs: t, path, status: 504, clientMs, upstreamStatus: 504, upstreamMs: clientMs - 0.5, connectMs: 0,
        upstream: '10.0.1.11:8080', clientIp: client.ip, apiKey: client.key, userAgent: client.agent, backendMs });
    } else {
      b.answered(t, { ...client, timeoutMs: null, flaky: 0 }, path, 'GET', backendMs, '10.0.1.11:8080');
    }
  }
  return b.build('gateway-timeout-wall', { wallSeconds: 5, wallRoute: '/v1/exports/:id' });
}

/**
 * One upstream failing. `burst`: for five minutes most requests to it fail fast with 502
 * (connection refused) or 504 with connect times at the limit. `transient`: a handful of
 * scattered 502s over the whole log (a network blip now and then).
 */
export function upstreamTrouble(kind: 'burst' | 'transient', options: Partial<ScenarioOptions> = {}): Scenario {
  const b = builder(options);
  const r = b.random;
  const { startMs, durationSeconds } = b.options;
  const bad = UPSTREAMS[1]!;
  const outageFrom = startMs + durationSeconds * 500;
  const outageTo = outageFrom + 300_000;
  for (let t = startMs; t < startMs + durationSeconds * 1000; t += r.between(0, 1000)) {
    const client = r.pick(CLIENTS.slice(2));
    const route = r.pick(ROUTES.slice(0, 3));
    const inOutage = kind === 'burst' && t >= outageFrom && t < outageTo;
    const fails = inOutage ? r.chance(0.7) : kind === 'transient' ? r.chance(0.002) : false;
    if (!fails) {
      b.answered(t, client, route.path(r), route.method, route.backendMs(r), bad);
      continue;
    }
    const refused = r.chance(0.6);
    b.add({
      startMs: t, method: route.method, path: route.path(r), status: refused ? 502 : 504,
      clientMs: refused ? r.between(1, 5) : 60_000 + r.between(0, 5), upstreamStatus: refused ? 502 : 504, upstreamMs: refused ? 0 : 60_000,
      connectMs: refused ? null : r.between(2000, 3000), upstream: bad, clientIp: client.ip, apiKey: client.key, userAgent: client.agent,
      backendMs: null,
    });
  }
  return b.build(`upstream-${kind}`, { troubledUpstream: bad, trouble: kind });
}

/** Keep-alive to one backend switched off: every request opens a TLS connection (25-60 ms). */
export function keepaliveDisabled(options: Partial<ScenarioOptions> = {}): Scenario {
  const b = builder(options);
  const r = b.random;
  const { startMs, durationSeconds } = b.options;
  const upstream = '10.0.3.20:443';
  for (let t = startMs; t < startMs + durationSeconds * 1000; t += r.between(0, 1000)) {
    const client = r.pick(CLIENTS.slice(2));
    const backendMs = r.logNormal(40, 0.4);
    const connectMs = r.between(25, 60);
    const clientMs = connectMs + backendMs + r.between(0.5, 2);
    b.add({ startMs: t, path: `/api/v2/prices/${r.int(1, 5000)}`, status: 200, clientMs, upstreamStatus: 200, upstreamMs: clientMs - 0.3,
      connectMs, upstream, clientIp: client.ip, apiKey: client.key, userAgent: client.agent, backendMs });
  }
  return b.build('keepalive-disabled', { keepaliveDisabledUpstream: upstream });
}

/**
 * A retry storm: during a 4-minute brown-out the backend answers 503 to a third of requests, and
 * one client retries each failure at once, up to `maxRetries` times, on the same URL.
 */
export function retryStorm(options: Partial<ScenarioOptions> = {}, maxRetries = 5): Scenario {
  const b = builder(options);
  const r = b.random;
  const { startMs, durationSeconds } = b.options;
  const from = startMs + durationSeconds * 400;
  const to = from + 240_000;
  const client = { ip: '198.51.100.150', key: 'key_batch_sync', agent: 'sync-worker/2.0' };
  // Truth as the detector defines it: attempts per logical request, among those that failed at least once.
  let failedChains = 0;
  let failedChainAttempts = 0;
  for (let t = startMs; t < startMs + durationSeconds * 1000; t += r.between(200, 1800)) {
    const path = `/api/v1/inventory/${r.int(1, 400)}`;
    let at = t;
    let chainAttempts = 0;
    let chainFailed = false;
    for (let attempt = 0; attempt <= maxRetries; attempt++) {
      chainAttempts++;
      const fails = at >= from && at < to && r.chance(0.75);
      const clientMs = fails ? r.between(2, 20) : r.logNormal(60, 0.4);
      b.add({ startMs: at, path, status: fails ? 503 : 200, clientMs, upstreamStatus: fails ? 503 : 200, upstreamMs: clientMs - 0.5,
        connectMs: 0, upstream: UPSTREAMS[0]!, clientIp: client.ip, apiKey: client.key, userAgent: client.agent, backendMs: clientMs - 1 });
      if (!fails) break;
      chainFailed = true;
      at += clientMs + r.between(50, 400);
    }
    if (chainFailed) {
      failedChains++;
      failedChainAttempts += chainAttempts;
    }
  }
  return b.build('retry-storm', { stormClient: client.key, stormAmplification: failedChainAttempts / failedChains });
}

/** A deploy halfway through makes one route three times slower. */
export function latencyShift(options: Partial<ScenarioOptions> = {}): Scenario {
  const b = builder(options);
  const r = b.random;
  const { startMs, durationSeconds } = b.options;
  const shiftAt = startMs + durationSeconds * 600;
  for (let t = startMs; t < startMs + durationSeconds * 1000; t += r.between(0, 1000)) {
    const client = r.pick(CLIENTS.slice(2));
    const backendMs = r.logNormal(t < shiftAt ? 80 : 240, 0.3);
    b.answered(t, { ...client, timeoutMs: null, flaky: 0 }, `/api/v1/search/${r.int(1, 99999)}`, 'GET', backendMs);
  }
  return b.build('latency-shift', { shiftedRoute: '/api/v1/search/:id', shiftAtMs: shiftAt });
}

/** Every scenario, for the quality table. */
export const SCENARIOS: Record<string, (options?: Partial<ScenarioOptions>) => Scenario> = {
  clean: (o) => cleanTraffic(o),
  founding: (o) => foundingCase(o),
  'two-client-timeouts': (o) => twoClientTimeouts(o),
  'gateway-timeout-wall': (o) => gatewayTimeoutWall(o),
  'api-gateway-wall': (o) => apiGatewayWall(o),
  'upstream-burst': (o) => upstreamTrouble('burst', o),
  'upstream-transient': (o) => upstreamTrouble('transient', o),
  'keepalive-disabled': (o) => keepaliveDisabled(o),
  'retry-storm': (o) => retryStorm(o),
  'latency-shift': (o) => latencyShift(o),
};
