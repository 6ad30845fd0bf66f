/**
 * The backend's API: what each route costs in worker time. The cost of a request is a fixed
 * function of its path (an application's metrics cost what they cost), so the same request sent
 * through nginx and through HAProxy keeps one worker busy for the same time behind either.
 */

export interface Route {
  /** Route template as the APM agent names it. */
  readonly template: string;
  /** Worker time range in ms; the request's cost is spread over it by a hash of its path. */
  readonly minMs: number;
  readonly maxMs: number;
}

export const ROUTES = {
  order: { template: '/v1/orders/:id', minMs: 5, maxMs: 40 },
  report: { template: '/v1/reports/:id', minMs: 100, maxMs: 900 },
  metrics: { template: '/v2/applications/:id/metrics.json', minMs: 1_000, maxMs: 8_000 },
} as const satisfies Record<string, Route>;

export type RouteName = keyof typeof ROUTES;

export function pathOf(route: RouteName, id: number): string {
  return ROUTES[route].template.replace(':id', String(id));
}

/** The route a path belongs to, or null (the backend answers 404 without work). */
export function routeOf(path: string): RouteName | null {
  const parts = path.split('/');
  if (parts.length === 4 && parts[1] === 'v1' && parts[2] === 'orders' && /^\d+$/.test(parts[3]!)) return 'order';
  if (parts.length === 4 && parts[1] === 'v1' && parts[2] === 'reports' && /^\d+$/.test(parts[3]!)) return 'report';
  if (parts.length === 5 && parts[1] === 'v2' && parts[2] === 'applications' && /^\d+$/.test(parts[3]!) && parts[4] === 'metrics.json') return 'metrics';
  return null;
}

/** FNV-1a of the path, as a fraction in [0, 1). */
function pathFraction(path: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < path.length; i++) {
    hash ^= path.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash / 2 ** 32;
}

/** Worker time of a request for `path`, in ms. */
export function costOf(path: string): number | null {
  const route = routeOf(path);
  if (route === null) return null;
  const { minMs, maxMs } = ROUTES[route];
  return Math.round(minMs + pathFraction(path) * (maxMs - minMs));
}
