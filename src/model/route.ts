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
  if (path.length > MAX_TEMPLATED_PATH) return longPathRoute(path);
  return templateFromCuts(path, findIdCuts(path));
}

/** Paths longer than this are cut, not templated. */
const MAX_TEMPLATED_PATH = 2048;

function longPathRoute(path: string): string {
  return `${path.slice(0, 64)}…`;
}

/**
 * Where the ids in a path are: pairs of [from, to) offsets, each read as `:id`, in `idCuts`;
 * returns how many pairs. One scanner for both routeTemplate and routeOf, so the route table's
 * lookups and the template's text cannot disagree. Cuts are non-empty and separated by at least
 * one character (a `/` or a part separator), so a path of n characters has at most (n + 1) / 2.
 */
const idCuts = new Int32Array(MAX_TEMPLATED_PATH + 2);

function findIdCuts(path: string): number {
  let count = 0;
  let start = 0;
  // The run of short hex directories just before this segment: shard directories if a hash follows.
  let shardRun = 0;
  let shardFrom = 0;
  let shardCutsFrom = 0;
  let shardAllTwo = true;
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
    const isId = isIdText(path, start, stemEnd);
    if (end < path.length && end > start && end - start <= MAX_SHARD_CHARS && stemEnd === end && hexRun(path, start, end) !== NOT_HEX) {
      if (shardRun === 0) {
        shardFrom = start;
        shardCutsFrom = count;
        shardAllTwo = true;
      }
      shardRun++;
      if (end - start !== 2) shardAllTwo = false;
      if (isId) {
        idCuts[2 * count] = start;
        idCuts[2 * count + 1] = stemEnd;
        count++;
      }
    } else if (isId) {
      if (shardRun > 0 && (shardRun >= 2 || shardAllTwo) && isHashText(path, start, stemEnd)) {
        // Shard directories before a content hash (`/t/100x100/d4/4e/6806ed…bbb.jpeg`,
        // `/objects/ab/cdef…`) are ids too: a CDN's 1,000 images were 784 routes (satyrius/gonx's
        // real access log). Their cuts replace the all-digit ones among them, in order.
        count = shardCutsFrom;
        for (let at = shardFrom, n = 0; n < shardRun; n++) {
          const slash = path.indexOf('/', at);
          idCuts[2 * count] = at;
          idCuts[2 * count + 1] = slash;
          count++;
          at = slash + 1;
        }
      }
      shardRun = 0;
      idCuts[2 * count] = start;
      idCuts[2 * count + 1] = stemEnd;
      count++;
    } else {
      shardRun = 0;
      if (stemEnd - start >= MIN_HASHED_NAME && hasPartSeparator(path, start, stemEnd)) {
        // A content-hashed name (`app.3f2a9c1b.js`, `main.8a7b6c5d.chunk.css`): its hash part is an id.
        let partStart = start;
        for (let i = start; i <= stemEnd; i++) {
          if (i < stemEnd && !isPartSeparator(path.charCodeAt(i))) continue;
          if (i - partStart >= MIN_HASH_PART && hexRun(path, partStart, i) !== NOT_HEX) {
            idCuts[2 * count] = partStart;
            idCuts[2 * count + 1] = i;
            count++;
          }
          partStart = i + 1;
        }
      }
    }
    start = end + 1;
  }
  return count;
}

/** Shard directories are this short at most (`a/b/c/`, `ab/cd/`, `abc/`): longer hex segments are words or ids of their own. */
const MAX_SHARD_CHARS = 4;

/**
 * A content hash: 16+ hex digits or a UUID. Only a run of two or more short hex directories, or one
 * of exactly two characters, before one is read as shard directories: a country or team code before
 * a number (`/de/123`) is not.
 */
function isHashText(text: string, from: number, to: number): boolean {
  const length = to - from;
  if (length === 36) {
    for (let i = from; i < to; i++) {
      const offset = i - from;
      const dash = offset === 8 || offset === 13 || offset === 18 || offset === 23;
      if (dash ? text.charCodeAt(i) !== 45 : hexRun(text, i, i + 1) === NOT_HEX) return false;
    }
    return true;
  }
  return length >= 16 && hexRun(text, from, to) !== NOT_HEX;
}

const ID = ':id';

/** The template's text from the cuts findIdCuts left in idCuts. */
function templateFromCuts(path: string, cuts: number): string {
  if (cuts === 0) return path;
  let out = '';
  let copiedTo = 0;
  for (let c = 0; c < cuts; c++) {
    out += path.slice(copiedTo, idCuts[2 * c]) + ID;
    copiedTo = idCuts[2 * c + 1]!;
  }
  return out + path.slice(copiedTo);
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
 * route, so routes are interned and kept on the record itself: one string object per route,
 * whose hash the detectors' tables then reuse, an owned copy (a value cut from a line would pin
 * its whole read chunk for the run).
 *
 * The table is keyed by the template's text without building it: findIdCuts marks the ids, a
 * hash is taken over the path with each id read as `:id`, and a slot matches when its route has
 * those characters. Paths with ids are mostly distinct, so any memo keyed by path misses: the two
 * Maps this replaced (plain paths by path, templates by a template string built per record) cost
 * 740 ms of 4.3 s (`node --cpu-prof`, `alf analyze` of the bench's 1 M-line high-cardinality
 * `combined` log: a hash and a miss in a 50 k-entry Map, then a concatenated template flattened
 * to be hashed again); this table 490 ms there. On that log's 1 M paths alone: 440-745 -> 345-375
 * ns a path (load 6-8).
 */
const ROUTE_SLOTS = 1 << 17;
/** Routes kept before the table starts over (the slots stay under 40% full). */
const ROUTE_CAP = 50_000;
const routeHashes = new Int32Array(ROUTE_SLOTS);
const routeTexts: (string | undefined)[] = new Array<string | undefined>(ROUTE_SLOTS).fill(undefined);
let routeCount = 0;

/** FNV-1a over the template's characters: the path's, with each cut read as `:id`. */
function templateHash(path: string, cuts: number): number {
  let hash = 0x811c9dc5;
  let at = 0;
  for (let c = 0; c <= cuts; c++) {
    const to = c < cuts ? idCuts[2 * c]! : path.length;
    for (; at < to; at++) hash = Math.imul(hash ^ path.charCodeAt(at), 0x01000193);
    if (c < cuts) {
      hash = Math.imul(hash ^ 58 /* : */, 0x01000193);
      hash = Math.imul(hash ^ 105 /* i */, 0x01000193);
      hash = Math.imul(hash ^ 100 /* d */, 0x01000193);
      at = idCuts[2 * c + 1]!;
    }
  }
  return hash;
}

/** Is `route` the template of `path` with these cuts? */
function isTemplateOf(route: string, path: string, cuts: number): boolean {
  let length = path.length;
  for (let c = 0; c < cuts; c++) length += ID.length - (idCuts[2 * c + 1]! - idCuts[2 * c]!);
  if (route.length !== length) return false;
  let at = 0;
  let k = 0;
  for (let c = 0; c <= cuts; c++) {
    const to = c < cuts ? idCuts[2 * c]! : path.length;
    for (; at < to; at++, k++) if (route.charCodeAt(k) !== path.charCodeAt(at)) return false;
    if (c < cuts) {
      if (route.charCodeAt(k) !== 58 || route.charCodeAt(k + 1) !== 105 || route.charCodeAt(k + 2) !== 100) return false;
      k += ID.length;
      at = idCuts[2 * c + 1]!;
    }
  }
  return true;
}

function internRoute(path: string): string {
  const text = path.length > MAX_TEMPLATED_PATH ? longPathRoute(path) : path;
  const cuts = text === path ? findIdCuts(path) : 0;
  const hash = templateHash(text, cuts);
  const mask = ROUTE_SLOTS - 1;
  let slot = hash & mask;
  for (let route = routeTexts[slot]; route !== undefined; route = routeTexts[slot]) {
    if (routeHashes[slot] === hash && isTemplateOf(route, text, cuts)) return route;
    slot = (slot + 1) & mask;
  }
  if (routeCount >= ROUTE_CAP) {
    routeTexts.fill(undefined);
    routeCount = 0;
    slot = hash & mask;
  }
  const route = ownString(templateFromCuts(text, cuts));
  routeTexts[slot] = route;
  routeHashes[slot] = hash;
  routeCount++;
  return route;
}

/**
 * A memo of routes by path, in front of the table, that turns itself off where it does not pay.
 * Where a log's paths repeat (the issue's real-world profile: ~2,000 distinct paths in 1 M lines,
 * ids drawn from a hot set) one native Map lookup replaces the scan for ids and the hash of the
 * template: `alf analyze` of the bench's 1 M-line high-cardinality `combined` log, routeOf 426 ->
 * 205 ms (`node --cpu-prof`), and with the skipped unescape in parsers/nginx.ts 2.75-2.84 ->
 * 2.49-2.60 s CPU (4 alternating rounds). Where paths are mostly distinct (an id per request)
 * every lookup would miss and cost an insertion too (an owned copy of the path and a Map.set), so
 * each round of lookups is scored and a memo that hits less than three times in four stands aside
 * for a while before it is tried again. Routes of the bench logs' paths alone, ns a path, before ->
 * after: high profile 403 -> 137; the standard profile (395 k distinct paths in 1 M, the memo
 * hitting about half the time) 378 -> 378 (562 with the first threshold, one hit in two); a
 * distinct path per line 276 -> 277.
 */
const PATH_MEMO_CAP = 16_384;
const MEMO_ROUND = 4_096;
const MEMO_REST = 262_144;
const pathMemo = new Map<string, string>();
let memoLookups = 0;
let memoHits = 0;
let memoResting = 0;

/** routeTemplate's route of a path, from the memo and the route table: one string object per route. */
export function routeOfPath(path: string): string {
  if (memoResting > 0) {
    memoResting--;
    return internRoute(path);
  }
  let route = pathMemo.get(path);
  if (route !== undefined) {
    memoHits++;
  } else {
    route = internRoute(path);
    if (pathMemo.size >= PATH_MEMO_CAP) pathMemo.clear();
    pathMemo.set(ownString(path), route);
  }
  if (++memoLookups === MEMO_ROUND) {
    if (memoHits * 4 < MEMO_ROUND * 3) memoResting = MEMO_REST;
    memoLookups = 0;
    memoHits = 0;
  }
  return route;
}

/** The route template of a proxy record's path (computed once per record), or null without a path. */
export function routeOf(record: ProxyRecord): string | null {
  // typeof, not !== null: records read back from a scan spool written before this field lack it.
  if (typeof record.route === 'string') return record.route;
  const path = record.path;
  if (path === null) return null;
  const route = routeOfPath(path);
  record.route = route;
  return route;
}
