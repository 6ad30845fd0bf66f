import type { SeededRandom } from '../generators/random.js';

/**
 * The backend's API: its routes, and what a request to each costs. The traffic generator decides
 * each request's fate (worker time, status, or a connection reset) and sends it as a work order in
 * the `x-e2e-work` header, so a run replays from its seed, and the same request sent through nginx
 * and through HAProxy keeps a worker busy for the same time behind either. The header reaches the
 * backend like any other; no proxy log and no APM export carries it.
 */

export interface Route {
  /** Route template as the APM agent names it (`:id` marks the one parameter). */
  readonly template: string;
  /** New Relic controller-style name (`orders/show`) for apps whose transaction names carry no method. */
  readonly controller: string;
  /** Worker time range in ms; a request's cost is drawn uniformly from it. */
  readonly minMs: number;
  readonly maxMs: number;
  /** Statuses the backend answers instead of 200, with their share of requests. */
  readonly errors?: readonly { readonly status: number; readonly share: number }[];
  /** Share of requests on which the worker dies after its work: the connection is reset, no answer and no APM transaction (the proxy logs a 502). */
  readonly resetShare?: number;
}

export type RouteTable = Readonly<Record<string, Route>>;

/** The founding case's API: quick orders, slower reports, and the expensive metrics export. */
export const ROUTES = {
  order: { template: '/v1/orders/:id', controller: 'orders/show', minMs: 5, maxMs: 40 },
  report: { template: '/v1/reports/:id', controller: 'reports/show', minMs: 100, maxMs: 900 },
  metrics: { template: '/v2/applications/:id/metrics.json', controller: 'applications/metrics', minMs: 1_000, maxMs: 8_000 },
} as const satisfies RouteTable;

/** More of the same API, for mixed traffic: dashboards, health checks, and an endpoint whose worker crashes. */
export const MIXED_ROUTES = {
  ...ROUTES,
  dashboard: { template: '/v1/dashboards/:id/summary', controller: 'dashboards/summary', minMs: 20, maxMs: 400 },
  health: { template: '/healthz', controller: 'health/show', minMs: 1, maxMs: 3 },
  flaky: { template: '/v1/imports/:id', controller: 'imports/create', minMs: 50, maxMs: 300, resetShare: 1 },
} as const satisfies RouteTable;

export function pathOf(route: Route, id: number): string {
  return route.template.replace(':id', String(id));
}

/** The route name a path belongs to in `routes`, or null (the backend answers 404 without work). */
export function routeOf(routes: RouteTable, path: string): string | null {
  const parts = path.split('/');
  for (const [name, route] of Object.entries(routes)) {
    const expected = route.template.split('/');
    if (expected.length !== parts.length) continue;
    if (expected.every((segment, i) => (segment === ':id' ? /^\d+$/.test(parts[i]!) : segment === parts[i]))) return name;
  }
  return null;
}

/** What the backend does with one request: work this long, then answer this status, or reset the connection. */
export interface WorkOrder {
  workMs: number;
  status: number;
  reset: boolean;
}

export const WORK_HEADER = 'x-e2e-work';

export function drawWorkOrder(route: Route, random: SeededRandom): WorkOrder {
  const workMs = Math.round(random.between(route.minMs, route.maxMs));
  let status = 200;
  let left = random.next();
  for (const error of route.errors ?? []) {
    left -= error.share;
    if (left < 0) {
      status = error.status;
      break;
    }
  }
  return { workMs, status, reset: random.chance(route.resetShare ?? 0) };
}

export function encodeWorkOrder(order: WorkOrder): string {
  return `ms=${order.workMs};status=${order.status}${order.reset ? ';reset' : ''}`;
}

export function decodeWorkOrder(text: string | null): WorkOrder | null {
  if (text === null) return null;
  const ms = /(?:^|;)ms=(\d+)/.exec(text);
  const status = /(?:^|;)status=(\d{3})/.exec(text);
  if (!ms || !status) return null;
  return { workMs: Number(ms[1]), status: Number(status[1]), reset: /(?:^|;)reset(?:;|$)/.test(text) };
}
