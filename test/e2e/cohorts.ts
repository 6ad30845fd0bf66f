import { PATIENT, type Arrival, type Cohort, type GiveUp, type IdChoice } from './clients.js';

/**
 * Cohorts of an API's real clients, to build a run's traffic from: each a function of its knobs
 * (rate, client timeout, ids), with the user agent and key it is known by. `mixedTraffic` puts
 * them together on shared URLs: browsers and wallboards polling dashboards on the wall clock's
 * tick, an exporter with a short client timeout, mobile apps that drop, an ETL job paging through
 * orders, partners' scripts and health probes, all drawing on one pool of ids, so that several
 * clients hit the same URL in the same second.
 */

export const AGENTS = {
  firefox: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
  chrome: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
  wallboard: 'Mozilla/5.0 (X11; Linux armv7l) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 WallboardTV/2.1',
  exporter: 'metrics-exporter/1.4 (+https://exporter.example/docs)',
  mobile: 'ShopApp/3.2 (iPhone; iOS 17.4)',
  etl: 'orders-etl/0.9 python-requests/2.31.0',
  partner: 'python-requests/2.31.0',
  kubeProbe: 'kube-probe/1.29',
  lbCheck: 'ELB-HealthChecker/2.0',
} as const;

export interface CohortKnobs {
  name?: string;
  userAgent?: string;
  apiKeys?: readonly string[];
  ids?: IdChoice;
  giveUp?: GiveUp;
  hangUp?: Cohort['hangUp'];
  routes?: Cohort['routes'];
}

function cohort(defaults: Cohort, knobs: CohortKnobs): Cohort {
  return { ...defaults, ...Object.fromEntries(Object.entries(knobs).filter(([, value]) => value !== undefined)) };
}

const poisson = (ratePerSecond: number): Arrival => ({ kind: 'poisson', ratePerSecond });

/** Ids 1..n: a pool every cohort that uses it shares. */
export function idPool(n: number, sticky = false): IdChoice {
  return { kind: 'pool', ids: Array.from({ length: n }, (_, i) => i + 1), sticky };
}

/** People in a browser: Poisson page views of dashboards, orders and reports. */
export function browsers(ratePerSecond: number, knobs: CohortKnobs = {}): Cohort {
  return cohort({
    name: 'browsers', userAgent: AGENTS.firefox, apiKeys: ['key_web'], arrival: poisson(ratePerSecond),
    routes: [['dashboard', 0.4], ['order', 0.45], ['report', 0.15]], ids: idPool(40), giveUp: PATIENT, hangUp: 'close',
  }, knobs);
}

/** Browser tabs left open on a dashboard, refreshing on a timer: `clients` tabs every `everyMs`, within a second of the tick. */
export function browserTabs(clients: number, everyMs: number, knobs: CohortKnobs = {}): Cohort {
  return cohort({
    name: 'tabs', userAgent: AGENTS.chrome, apiKeys: ['key_web'], arrival: { kind: 'tick', everyMs, clients, spreadMs: 1_000 },
    routes: [['dashboard', 1]], ids: idPool(6), giveUp: PATIENT, hangUp: 'close',
  }, knobs);
}

/** Wallboards: `clients` screens each showing its own dashboard (of 3), refreshed together on the tick. */
export function wallboards(clients: number, everyMs: number, knobs: CohortKnobs = {}): Cohort {
  return cohort({
    name: 'wallboards', userAgent: AGENTS.wallboard, apiKeys: ['key_wallboard'], arrival: { kind: 'tick', everyMs, clients, spreadMs: 300 },
    routes: [['dashboard', 1]], ids: idPool(3, true), giveUp: PATIENT, hangUp: 'close',
  }, knobs);
}

/** The founding case's exporter: the metrics API, giving up after its client timeout (FIN). */
export function exporter(ratePerSecond: number, clientTimeoutMs: number, knobs: CohortKnobs = {}): Cohort {
  return cohort({
    name: 'exporter', userAgent: AGENTS.exporter, apiKeys: ['key_exporter'], arrival: poisson(ratePerSecond),
    routes: [['metrics', 1]], ids: idPool(10), giveUp: { kind: 'timeout', ms: clientTimeoutMs }, hangUp: 'close',
  }, knobs);
}

/** A mobile app on flaky networks: drops off at a random moment, its connection reset (RST). */
export function mobile(ratePerSecond: number, knobs: CohortKnobs = {}): Cohort {
  return cohort({
    name: 'mobile', userAgent: AGENTS.mobile, apiKeys: ['key_mobile'], arrival: poisson(ratePerSecond),
    routes: [['report', 0.55], ['order', 0.35], ['metrics', 0.1]], ids: idPool(40),
    giveUp: { kind: 'random', minMs: 200, maxMs: 6_000 }, hangUp: 'reset',
  }, knobs);
}

/** An ETL job: `loops` workers each fetching orders one after another, `thinkMs` apart. */
export function etlJob(loops: number, thinkMs: number, knobs: CohortKnobs = {}): Cohort {
  return cohort({
    name: 'etl', userAgent: AGENTS.etl, apiKeys: ['key_etl'], arrival: { kind: 'sequential', loops, thinkMs },
    routes: [['order', 1]], ids: idPool(40), giveUp: PATIENT, hangUp: 'close',
  }, knobs);
}

/** Partners' scripts: orders, reports, and now and then an import whose worker crashes (502). */
export function partners(ratePerSecond: number, knobs: CohortKnobs = {}): Cohort {
  return cohort({
    name: 'partners', userAgent: AGENTS.partner, apiKeys: ['key_partner_a', 'key_partner_b'], arrival: poisson(ratePerSecond),
    routes: [['order', 0.6], ['report', 0.38], ['flaky', 0.02]], ids: idPool(40), giveUp: PATIENT, hangUp: 'close',
  }, knobs);
}

/** A health probe: `clients` probers hitting /healthz on the tick. */
export function probes(name: string, userAgent: string, clients: number, everyMs: number, knobs: CohortKnobs = {}): Cohort {
  return cohort({
    name, userAgent, apiKeys: [], arrival: { kind: 'tick', everyMs, clients, spreadMs: 100 },
    routes: [['health', 1]], ids: idPool(1), giveUp: { kind: 'timeout', ms: 2_000 }, hangUp: 'close',
  }, knobs);
}

/**
 * Mixed traffic at about `ratePerSecond` in all (tested at 5 and 45), every cohort above on one
 * pool of URLs; tick cohorts scale by their number of clients.
 */
export function mixedTraffic(ratePerSecond: number, clientTimeoutMs: number): Cohort[] {
  const share = ratePerSecond / 45;
  const clients = (n: number) => Math.max(1, Math.round(n * share));
  return [
    browsers(12 * share),
    browserTabs(clients(10), 5_000),
    wallboards(clients(8), 10_000),
    exporter(1.5 * share, clientTimeoutMs),
    mobile(6 * share),
    etlJob(share > 0.5 ? 2 : 1, share > 0.5 ? 400 : 2_000),
    partners(14 * share),
    probes('kube-probe', AGENTS.kubeProbe, 1, 10_000),
    probes('lb-check', AGENTS.lbCheck, 2, 10_000),
  ];
}
