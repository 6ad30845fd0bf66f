import { ownString } from './own-string.js';
import type { ProxyRecord } from './records.js';

/**
 * Route templates: `/v2/applications/1234/metrics.json` to `/v2/applications/:id/metrics.json`.
 * Ids in paths (numbers, UUIDs, long hex or mixed tokens) are what make one endpoint look like
 * thousands; grouping by template keeps per-URL state bounded and findings readable.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEXISH = /^[0-9a-f]{16,}$/i;
const NUMBER = /^\d+$/;
/** Mixed letters and digits of some length, e.g. `key_7H2x9`, `a1b2c3d4e5`. */
const TOKEN = /^(?=[^/]*\d)[A-Za-z0-9_-]{10,}$/;

function templateSegment(segment: string): string {
  if (segment === '') return segment;
  // Keep an extension: /metrics/123.json -> /metrics/:id.json
  const dot = segment.lastIndexOf('.');
  const stem = dot > 0 ? segment.slice(0, dot) : segment;
  const extension = dot > 0 ? segment.slice(dot) : '';
  if (NUMBER.test(stem) || UUID.test(stem) || HEXISH.test(stem) || TOKEN.test(stem)) return `:id${extension}`;
  return segment;
}

export function routeTemplate(path: string): string {
  if (path.length > 2048) return `${path.slice(0, 64)}…`;
  return path.split('/').map(templateSegment).join('/');
}

/**
 * Paths repeat (a hot endpoint is most of a log), and several detectors ask for each record's
 * route, so templates are remembered per path and on the record itself. Extended nginx format,
 * 400 k lines: routeTemplate was 17% of the profile before this.
 */
const MEMO_CAP = 50_000;
const memo = new Map<string, string>();

/** The route template of a proxy record's path (computed once per record), or null without a path. */
export function routeOf(record: ProxyRecord): string | null {
  // typeof, not !== null: records read back from a scan spool written before this field lack it.
  if (typeof record.route === 'string') return record.route;
  const path = record.path;
  if (path === null) return null;
  let route = memo.get(path);
  if (route === undefined) {
    if (memo.size >= MEMO_CAP) memo.clear();
    route = routeTemplate(path);
    memo.set(ownString(path), route);
  }
  record.route = route;
  return route;
}
