import type { ApmTransaction, ProxyRecord } from '../model/records.js';

/**
 * Heuristic join keys: method and path must agree (query strings are never in APM paths).
 *
 * Concrete paths first. When an APM export has no concrete path (New Relic without `request.uri`,
 * a span with only `http.route`), its transaction name usually carries the route template
 * (`WebTransaction/Expressjs/GET//v2/applications/:id/metrics.json`, `GET /v1/orders/{id}`); such
 * transactions are keyed by template, and proxy paths are reduced to templates to meet them:
 * by the templates given (RouteTemplates), else by treating id-like segments as parameters.
 * Template keys start with `~` so they never collide with concrete ones.
 */

export function proxyJoinKey(record: ProxyRecord): string | null {
  if (record.path === null) return null;
  return `${record.method ?? ''} ${normalisePath(record.path)}`;
}

/** Method and path halves of a key (KeyIndex's two levels); template keys have `~` before the method. */
export interface KeyParts {
  method: string;
  path: string;
}

export function apmKeyParts(transaction: ApmTransaction): KeyParts | null {
  if (transaction.path !== null) {
    const path = normalisePath(transaction.path);
    return isTemplate(path)
      ? { method: `~${transaction.method ?? ''}`, path: templatePattern(path) }
      : { method: transaction.method ?? '', path };
  }
  const route = routeFromName(transaction.name);
  if (route === null) return null;
  return { method: `~${transaction.method ?? route.method}`, path: templatePattern(route.template) };
}

export function apmJoinKey(transaction: ApmTransaction): string | null {
  if (transaction.path !== null) {
    const path = normalisePath(transaction.path);
    return isTemplate(path) ? `~${transaction.method ?? ''} ${templatePattern(path)}` : `${transaction.method ?? ''} ${path}`;
  }
  const route = routeFromName(transaction.name);
  if (route === null) return null;
  return `~${transaction.method ?? route.method} ${templatePattern(route.template)}`;
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

function isTemplate(path: string): boolean {
  return TEMPLATE_MARK.test(path);
}

/** `/v2/servers/:id.json`, `/v2/servers/{id}.json` → `/v2/servers/*.json`. */
export function templatePattern(template: string): string {
  return template.replace(/:[A-Za-z_][A-Za-z0-9_]*|\{[^}/]*\}/g, '*');
}

// Segments that are ids: numbers, UUIDs, long hex or base64-ish tokens with a digit; an extension may follow.
const ID_SEGMENT = /^(?:\d+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|(?=[^/]*\d)[0-9A-Za-z_-]{16,})(\.[A-Za-z0-9]+)?$/;

/** A compiled list of route templates, given by the user; a path's first matching template wins. */
export class RouteTemplates {
  private readonly compiled: { segments: (RegExp | string)[]; pattern: string }[];

  constructor(templates: readonly string[] = []) {
    this.compiled = templates.map((template) => {
      const pattern = templatePattern(normalisePath(template));
      const segments = pattern.split('/').map((segment) =>
        segment.includes('*') ? new RegExp(`^${segment.split('*').map(escapeRegExp).join('[^/]+')}$`) : segment);
      return { segments, pattern };
    });
  }

  /** Template path a proxy record would meet an APM template under (method `~` + its method), or null. */
  proxyTemplatePath(record: ProxyRecord): string | null {
    return record.path === null ? null : this.patternOf(normalisePath(record.path));
  }

  /** The template key a proxy record would meet an APM template under, or null. */
  proxyTemplateKey(record: ProxyRecord): string | null {
    if (record.path === null) return null;
    const path = normalisePath(record.path);
    return `~${record.method ?? ''} ${this.patternOf(path)}`;
  }

  patternOf(path: string): string {
    const segments = path.split('/');
    for (const template of this.compiled) {
      if (template.segments.length !== segments.length) continue;
      let all = true;
      for (let i = 0; i < segments.length && all; i++) {
        const expected = template.segments[i]!;
        all = typeof expected === 'string' ? expected === segments[i] : expected.test(segments[i]!);
      }
      if (all) return template.pattern;
    }
    return segments.map((segment) => {
      const match = ID_SEGMENT.exec(segment);
      return match ? `*${match[1] ?? ''}` : segment;
    }).join('/');
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
