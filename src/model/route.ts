import { hexRun, NOT_HEX } from './hex-run.js';
import { ownString } from './own-string.js';
import type { ProxyRecord } from './records.js';

/**
 * Route templates: `/v2/applications/1234/metrics.json` to `/v2/applications/:id/metrics.json`.
 * Ids in paths (numbers, UUIDs, long hex or mixed tokens) are what make one endpoint look like
 * thousands; grouping by template keeps per-URL state bounded and findings readable.
 */

/**
 * Is this part of a segment an id: a number, a UUID, 16+ hex digits, or a token of 10+ letters,
 * digits, `_` and `-` with at least one digit (`key_7H2x9abc`)? One pass over the characters:
 * paths with ids are mostly distinct, so the memo below misses and this runs per request (four
 * anchored regexes per segment after split/map/join were 4.5% of a join run's profile).
 */
function isIdText(text: string, from: number, to: number): boolean {
  const length = to - from;
  if (length === 0) return false;
  // Under 10 characters only a number is an id (a UUID is 36, hex 16+, a token 10+): most
  // segments (`v2`, `orders`, `metrics`) end at their first letter. 400 k paths of the bench's
  // extended log: routeTemplate 320 -> 256 ns a path (a one-pass classifier of every character
  // instead was slower, 326 ns).
  if (length < 10) {
    for (let i = from; i < to; i++) {
      const code = text.charCodeAt(i);
      if (code < 48 || code > 57) return false;
    }
    return true;
  }
  let digits = 0;
  let hex = 0;
  let tokenChars = 0;
  let uuidShape = length === 36;
  for (let i = from; i < to; i++) {
    const code = text.charCodeAt(i);
    const isDigit = code >= 48 && code <= 57;
    const lower = code | 32;
    const isLetter = lower >= 97 && lower <= 122;
    const isHex = isDigit || (lower >= 97 && lower <= 102);
    if (isDigit) digits++;
    if (isHex) hex++;
    if (isDigit || isLetter || code === 95 /* _ */ || code === 45 /* - */) tokenChars++;
    if (uuidShape) {
      const offset = i - from;
      const dash = offset === 8 || offset === 13 || offset === 18 || offset === 23;
      if (dash ? code !== 45 : !isHex) uuidShape = false;
    }
  }
  if (digits === length || uuidShape) return true;
  if (length >= 16 && hex === length) return true;
  return length >= 10 && tokenChars === length && digits > 0;
}

/**
 * `/v2/applications/1234/metrics.json` to `/v2/applications/:id/metrics.json`: segments that are
 * ids become `:id`, keeping an extension (`/metrics/123.json` to `/metrics/:id.json`).
 * A path without ids comes back as the same string.
 */
export function routeTemplate(path: string): string {
  if (path.length > 2048) return `${path.slice(0, 64)}…`;
  let out: string | null = null;
  let copiedTo = 0;
  let start = 0;
  while (start <= path.length) {
    let end = path.indexOf('/', start);
    if (end < 0) end = path.length;
    // The stem is the segment up to its last dot (a dot at the start is not an extension).
    let stemEnd = end;
    for (let i = end - 1; i > start; i--) {
      if (path.charCodeAt(i) === 46 /* . */) {
        stemEnd = i;
        break;
      }
    }
    if (isIdText(path, start, stemEnd)) {
      out = (out ?? '') + path.slice(copiedTo, start) + ':id';
      copiedTo = stemEnd;
    } else if (stemEnd - start >= MIN_HASHED_NAME && hasPartSeparator(path, start, stemEnd)) {
      // A content-hashed name (`app.3f2a9c1b.js`, `main.8a7b6c5d.chunk.css`): its hash part is an id.
      let partStart = start;
      for (let i = start; i <= stemEnd; i++) {
        if (i < stemEnd && !isPartSeparator(path.charCodeAt(i))) continue;
        if (i - partStart >= MIN_HASH_PART && hexRun(path, partStart, i) !== NOT_HEX) {
          out = (out ?? '') + path.slice(copiedTo, partStart) + ':id';
          copiedTo = i;
        }
        partStart = i + 1;
      }
    }
    start = end + 1;
  }
  return out === null ? path : out + path.slice(copiedTo);
}

/**
 * Build tools name assets by content hash, 8 hex digits or more after a `.`, `-` or `_`; every
 * deploy makes new names, so unless the hash is read as an id a long log's static files take
 * every place in the per-route tables (2,000 routes; the bench's 2 M-line log has 300 k distinct
 * `/static/app.<hash>.js` paths, and on 20 M lines the API routes seen after the tables filled
 * were counted as "(other)").
 */
const MIN_HASH_PART = 8;
/** A separator and a hash, at least. */
const MIN_HASHED_NAME = MIN_HASH_PART + 1;

function isPartSeparator(code: number): boolean {
  return code === 46 /* . */ || code === 45 /* - */ || code === 95 /* _ */;
}

function hasPartSeparator(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (isPartSeparator(text.charCodeAt(i))) return true;
  return false;
}

/**
 * Paths repeat (a hot endpoint is most of a log), and several detectors ask for each record's
 * route, so routes are remembered and kept on the record itself. Two tables, both of owned copies
 * (a value cut from a line would pin its whole read chunk for the run):
 *   - paths without ids, by path: they repeat, and the lookup is all they cost;
 *   - templates, by template: paths with ids are mostly unique, so remembering those paths only
 *     copied each one (300 k extended lines: routeOf 6.6% of the profile with a copy per record);
 *     the template's table hands back one string object per route, whose hash the detectors'
 *     tables then reuse.
 */
const MEMO_CAP = 50_000;
const routeOfPlainPath = new Map<string, string>();
const canonicalTemplates = new Map<string, string>();

/** The route template of a proxy record's path (computed once per record), or null without a path. */
export function routeOf(record: ProxyRecord): string | null {
  // typeof, not !== null: records read back from a scan spool written before this field lack it.
  if (typeof record.route === 'string') return record.route;
  const path = record.path;
  if (path === null) return null;
  let route = routeOfPlainPath.get(path);
  if (route === undefined) {
    const template = routeTemplate(path);
    if (template === path) {
      if (routeOfPlainPath.size >= MEMO_CAP) routeOfPlainPath.clear();
      route = ownString(path);
      routeOfPlainPath.set(route, route);
    } else {
      route = canonicalTemplates.get(template);
      if (route === undefined) {
        if (canonicalTemplates.size >= MEMO_CAP) canonicalTemplates.clear();
        route = ownString(template);
        canonicalTemplates.set(route, route);
      }
    }
  }
  record.route = route;
  return route;
}
