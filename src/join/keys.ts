import type { ApmTransaction, ProxyRecord } from '../model/records.js';

/**
 * Heuristic join keys: the path alone (query strings are never in APM paths). Every other field
 * (method, status, user agent, key) is a constraint only where both sides carry it, and evidence
 * in the pair's cost (pair-cost.ts): a New Relic export without `request.method` must join as
 * well as one with it (issue 20: keyed by method, such an export joined 0 of ~600 transactions).
 *
 * Concrete paths first. When an APM export has no concrete path (New Relic without `request.uri`,
 * a span with only `http.route`), its transaction name usually carries the route template
 * (`WebTransaction/Expressjs/GET//v2/applications/:id/metrics.json`, `GET /v1/orders/{id}`); such
 * transactions are keyed by template, and proxy paths are reduced to templates to meet them: by
 * the templates given (RouteTemplates) or seen in the export, else by treating id-like segments as
 * parameters. The other way round, a proxy that logs a route template (API Gateway `resourcePath`
 * `/pets/{petId}`) meets every concrete APM path the template matches (match-window.ts).
 * Template keys live under the kind `~`, concrete ones under `''`, so they never collide.
 */

export const CONCRETE = '';
export const TEMPLATE = '~';

export function proxyJoinKey(record: ProxyRecord): string | null {
  if (record.path === null) return null;
  const path = normalisePath(record.path);
  return isTemplate(path) ? `${TEMPLATE}${templatePattern(path)}` : path;
}

/** Kind (concrete or template) and path of a key: KeyIndex's two levels. */
export interface KeyParts {
  kind: typeof CONCRETE | typeof TEMPLATE;
  path: string;
}

export function apmKeyParts(transaction: ApmTransaction): KeyParts | null {
  if (transaction.path !== null) {
    const path = normalisePath(transaction.path);
    return isTemplate(path) ? { kind: TEMPLATE, path: templatePattern(path) } : { kind: CONCRETE, path };
  }
  const route = routeFromName(transaction.name);
  if (route === null) return null;
  return { kind: TEMPLATE, path: templatePattern(route.template) };
}

/** The route template an APM transaction carries (its path when that is one, else from its name), unreduced. */
export function apmTemplate(transaction: ApmTransaction): string | null {
  if (transaction.path !== null) {
    const path = normalisePath(transaction.path);
    return isTemplate(path) ? path : null;
  }
  return routeFromName(transaction.name)?.template ?? null;
}

export function apmJoinKey(transaction: ApmTransaction): string | null {
  const parts = apmKeyParts(transaction);
  return parts === null ? null : `${parts.kind}${parts.path}`;
}

/** The method of a transaction: its own, else the one its name carries. */
export function apmMethod(transaction: ApmTransaction): string | null {
  return transaction.method ?? routeFromName(transaction.name)?.method ?? null;
}

/** Trailing slashes and doubled slashes differ between layers; case does not (paths are case-sensitive). */
export function normalisePath(path: string): string {
  let normalised = path.includes('//') ? path.replace(/\/{2,}/g, '/') : path;
  if (normalised.length > 1 && normalised.endsWith('/')) normalised = normalised.slice(0, -1);
  return normalised;
}

const METHOD = '(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)';
// New Relic framework names put the method between slashes, then the route: `WebTransaction/Expressjs/GET//v1/orders`.
const NEW_RELIC_ROUTE = new RegExp(`^WebTransaction/[^/]+/${METHOD}/(/.*)$`);
// OTel span names and Datadog resources: `GET /v1/orders/{id}`.
const METHOD_SPACE_ROUTE = new RegExp(`^${METHOD} (/\\S*)$`);

/** The method and route template a transaction name carries, if any. */
export function routeFromName(name: string | null): { method: string; template: string } | null {
  if (name === null) return null;
  const match = NEW_RELIC_ROUTE.exec(name) ?? METHOD_SPACE_ROUTE.exec(name);
  if (!match) return null;
  return { method: match[1]!, template: normalisePath(match[2]!) };
}

const TEMPLATE_MARK = /\/:|[{*]/;

/** A path with parameters (`/pets/{petId}`, `/v1/orders/:id`) rather than a concrete one. */
export function isTemplate(path: string): boolean {
  return TEMPLATE_MARK.test(path);
}

/** `/v2/servers/:id.json`, `/v2/servers/{id}.json` → `/v2/servers/*.json`. */
export function templatePattern(template: string): string {
  // Asked per record (each proxy record's route, each transaction's template): a concrete path comes
  // back as it is without a regex, and the few distinct templates are remembered. On the bench's
  // joined 1 M high-cardinality extended lines against 1 M New Relic rows this cut templatePattern
  // and its regex from 2.3% of the run's CPU (`node --cpu-prof`) to under 0.3%.
  if (template.indexOf(':') < 0 && template.indexOf('{') < 0) return template;
  let pattern = patterns.get(template);
  if (pattern === undefined) {
    if (patterns.size >= PATTERNS_KEPT) patterns.clear();
    pattern = template.replace(/:[A-Za-z_][A-Za-z0-9_]*|\{[^}/]*\}/g, '*');
    patterns.set(template, pattern);
  }
  return pattern;
}

/** Templates remembered by templatePattern; past it the memo starts over (a log of distinct ids read as templates cannot grow it). */
const PATTERNS_KEPT = 20_000;
const patterns = new Map<string, string>();

// Segments that are ids: numbers, UUIDs, long hex or base64-ish tokens with a digit; an extension may follow.
const ID_SEGMENT = /^(?:\d+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|(?=[^/]*\d)[0-9A-Za-z_-]{16,})(\.[A-Za-z0-9]+)?$/;

/** A compiled list of route templates, given by the user; a path's first matching template wins. */
export class RouteTemplates {
  private readonly compiled: CompiledTemplate[] = [];
  private readonly known = new Set<string>();

  constructor(templates: readonly string[] = []) {
    for (const template of templates) this.add(template);
  }

  /**
   * Adds a template (given by the user, or seen in an APM export); a template with more literal
   * segments is tried first, so `/v1/orders/summary` wins over `/v1/orders/:id`.
   */
  add(template: string): void {
    const compiled = compileTemplate(template);
    if (this.known.has(compiled.pattern)) return;
    this.known.add(compiled.pattern);
    let at = this.compiled.length;
    while (at > 0 && this.compiled[at - 1]!.literals < compiled.literals) at--;
    this.compiled.splice(at, 0, compiled);
  }

  get size(): number {
    return this.compiled.length;
  }

  /** Whether a template of this pattern (`/v1/orders/*`) is known. */
  has(pattern: string): boolean {
    return this.known.has(pattern);
  }

  /** Template path a proxy record would meet an APM template under (kind `~`), or null. */
  proxyTemplatePath(record: ProxyRecord): string | null {
    return record.path === null ? null : this.patternOf(normalisePath(record.path));
  }

  /** The template key a proxy record would meet an APM template under, or null. */
  proxyTemplateKey(record: ProxyRecord): string | null {
    if (record.path === null) return null;
    return `${TEMPLATE}${this.patternOf(normalisePath(record.path))}`;
  }

  patternOf(path: string): string {
    const segments = path.split('/');
    for (const template of this.compiled) {
      if (templateMatches(template, segments)) return template.pattern;
    }
    return segments.map((segment) => {
      const match = ID_SEGMENT.exec(segment);
      return match ? `*${match[1] ?? ''}` : segment;
    }).join('/');
  }
}

export interface CompiledTemplate {
  segments: (RegExp | string)[];
  pattern: string;
  /** Segments without a parameter. */
  literals: number;
}

export function compileTemplate(template: string): CompiledTemplate {
  const pattern = templatePattern(normalisePath(template));
  const segments = pattern.split('/').map((segment) =>
    segment.includes('*') ? new RegExp(`^${segment.split('*').map(escapeRegExp).join('[^/]+')}$`) : segment);
  return { segments, pattern, literals: segments.filter((segment) => typeof segment === 'string').length };
}

/** Does a concrete path, split at `/`, fit the template? */
export function templateMatches(template: CompiledTemplate, segments: readonly string[]): boolean {
  if (template.segments.length !== segments.length) return false;
  for (let i = 0; i < segments.length; i++) {
    const expected = template.segments[i]!;
    if (typeof expected === 'string' ? expected !== segments[i] : !expected.test(segments[i]!)) return false;
  }
  return true;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
