import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ProxyRecord } from '../../src/model/records.js';
import { routeOf, routeTemplate } from '../../src/model/route.js';

/** The definition, as regexes: the scanner in src/model/route.ts must agree with it on every path. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEXISH = /^[0-9a-f]{16,}$/i;
const NUMBER = /^\d+$/;
const TOKEN = /^(?=[^/]*\d)[A-Za-z0-9_-]{10,}$/;
const HASH_PART = /^[0-9a-f]{8,}$/i;

const SHARD = /^[0-9a-f]{1,4}$/i;

function referenceTemplate(path: string): string {
  if (path.length > 2048) return `${path.slice(0, 64)}…`;
  const segments = path.split('/');
  // Shard directories: a run of short hex segments right before a hash (16+ hex digits or a UUID),
  // two or more of them, or one of exactly two characters.
  const shard = segments.map(() => false);
  segments.forEach((segment, i) => {
    const dot = segment.lastIndexOf('.');
    const stem = dot > 0 ? segment.slice(0, dot) : segment;
    if (!(HEXISH.test(stem) || UUID.test(stem))) return;
    let from = i;
    while (from > 0 && SHARD.test(segments[from - 1]!)) from--;
    if (i - from >= 2 || (i - from === 1 && segments[i - 1]!.length === 2)) for (let j = from; j < i; j++) shard[j] = true;
  });
  return segments
    .map((segment, i) => {
      if (shard[i]) return ':id';
      if (segment === '') return segment;
      const dot = segment.lastIndexOf('.');
      const stem = dot > 0 ? segment.slice(0, dot) : segment;
      const extension = dot > 0 ? segment.slice(dot) : '';
      if (NUMBER.test(stem) || UUID.test(stem) || HEXISH.test(stem) || TOKEN.test(stem)) return `:id${extension}`;
      // A content-hashed name: a part of 8+ hex digits between `.`, `-` or `_` separators.
      if (!/[._-]/.test(stem)) return segment;
      return stem.split(/([._-])/).map((part) => (HASH_PART.test(part) ? ':id' : part)).join('') + extension;
    })
    .join('/');
}

/** routeOf reads only path and route. */
function recordWithPath(path: string | null): ProxyRecord {
  return { path, route: null } as unknown as ProxyRecord;
}

/** Paths with ids, content hashes and their shard directories, dots and repeated shapes, as the route table sees them. */
const pathSegment = fc.oneof(
  fc.stringMatching(/^[0-9a-f]{1,4}$/),
  fc.stringMatching(/^[0-9]{1,12}$/),
  fc.uuid(),
  fc.stringMatching(/^[0-9a-fA-F]{10,40}$/),
  fc.stringMatching(/^[A-Za-z0-9_.-]{0,20}$/),
  fc.constantFrom('v1', 'orders', 'items', 'id', ':id', 'metrics.json', 'app.3f2a9c1b.js', ''),
  fc.tuple(fc.stringMatching(/^[a-z]{0,8}$/), fc.constantFrom('.', '-', '_'), fc.stringMatching(/^[0-9a-fA-F]{6,12}$/), fc.constantFrom('', '.js', '.min.css'))
    .map(([name, separator, hash, extension]) => `${name}${separator}${hash}${extension}`),
  fc.string({ maxLength: 12 }).map((text) => text.replaceAll('/', '')),
);
const anyPath = fc.tuple(fc.array(pathSegment, { maxLength: 8 }), fc.boolean()).map(([segments, leadingSlash]) => (leadingSlash ? '/' : '') + segments.join('/'));

describe('routeOf', () => {
  it('is the route template of the record\'s path, kept on the record', () => {
    fc.assert(
      fc.property(anyPath, (path) => {
        const record = recordWithPath(path);
        expect(routeOf(record)).toBe(routeTemplate(path));
        expect(record.route).toBe(routeTemplate(path));
      }),
      { numRuns: 3000 },
    );
  });

  it('tells apart paths whose templates differ only where an id was read', () => {
    // `/a/:id` the text and `/a/123` the id read as `:id` are the same route; `/a/:ie` is not.
    expect(routeOf(recordWithPath('/a/123'))).toBe('/a/:id');
    expect(routeOf(recordWithPath('/a/:id'))).toBe('/a/:id');
    expect(routeOf(recordWithPath('/a/:ie'))).toBe('/a/:ie');
    expect(routeOf(recordWithPath('/a/12.json'))).toBe('/a/:id.json');
    expect(routeOf(recordWithPath('/a/12.jsom'))).toBe('/a/:id.jsom');
    expect(routeOf(recordWithPath('/a/12'))).toBe('/a/:id');
  });

  it('tells apart routes whose texts hash alike', () => {
    // Pairs of templates with the same 32-bit FNV-1a hash (found by search): the table compares
    // the characters, not only the hash (of the same length, and of different lengths).
    expect(routeOf(recordWithPath('/w053zx/1'))).toBe('/w053zx/:id');
    expect(routeOf(recordWithPath('/w0cpad/2'))).toBe('/w0cpad/:id');
    expect(routeOf(recordWithPath('/w482/3'))).toBe('/w482/:id');
    expect(routeOf(recordWithPath('/w1vh9'))).toBe('/w1vh9');
  });

  it('is null without a path, and cuts a very long path as routeTemplate does', () => {
    expect(routeOf(recordWithPath(null))).toBeNull();
    const path = `/x/${'7'.repeat(3000)}`;
    expect(routeOf(recordWithPath(path))).toBe(routeTemplate(path));
  });

  it('answers from its memo of paths as the table would, where paths repeat and where they stop repeating', () => {
    // A few hundred paths requested again and again (the memo keeps answering), then a run of
    // distinct ones (the memo stands aside), then the few again: every answer is the template.
    const hot = fc.sample(anyPath, { numRuns: 300, seed: 26 });
    const check = (path: string) => expect(routeOf(recordWithPath(path))).toBe(routeTemplate(path));
    for (let round = 0; round < 40; round++) for (const path of hot) check(path);
    for (let i = 0; i < 20_000; i++) check(`/orders/x${i.toString(36)}y/${i}`);
    for (let round = 0; round < 40; round++) for (const path of hot) check(path);
  });

  it('gives every path of the same template the same answer after the table starts over', () => {
    // More distinct routes than the table keeps (50,000): it starts over, and answers stay right.
    for (let i = 0; i < 60_000; i++) expect(routeOf(recordWithPath(`/r${i.toString(36)}x/7`))).toBe(`/r${i.toString(36)}x/:id`);
    expect(routeOf(recordWithPath('/r0x/8'))).toBe('/r0x/:id');
  });
});

describe('routeTemplate', () => {
  it('replaces ids in paths and keeps extensions', () => {
    expect(routeTemplate('/v2/applications/1234/metrics.json')).toBe('/v2/applications/:id/metrics.json');
    expect(routeTemplate('/metrics/123.json')).toBe('/metrics/:id.json');
    expect(routeTemplate('/users/3f2b8c1e-9a4d-4c1b-8e2f-1a2b3c4d5e6f/orders')).toBe('/users/:id/orders');
    expect(routeTemplate('/blobs/deadbeefdeadbeef01')).toBe('/blobs/:id');
    expect(routeTemplate('/keys/key_7H2x9abc')).toBe('/keys/:id');
    expect(routeTemplate('/v1/orders')).toBe('/v1/orders');
    expect(routeTemplate('/v1/orders/')).toBe('/v1/orders/');
    expect(routeTemplate('/.well-known/x')).toBe('/.well-known/x');
  });

  it('reads the hash in a content-hashed asset name as an id, and leaves other dotted or dashed names alone', () => {
    expect(routeTemplate('/static/app.fffbfece.js')).toBe('/static/app.:id.js');
    expect(routeTemplate('/static/js/chunk-vendors.3f2a9c1b.js')).toBe('/static/js/chunk-vendors.:id.js');
    expect(routeTemplate('/static/css/main.8a7b6c5d.chunk.css')).toBe('/static/css/main.:id.chunk.css');
    expect(routeTemplate('/assets/logo.0A1B2C3D.svg')).toBe('/assets/logo.:id.svg');
    expect(routeTemplate('/reports/q3-summary.final.pdf')).toBe('/reports/q3-summary.final.pdf');
    expect(routeTemplate('/v1/read-me.txt')).toBe('/v1/read-me.txt');
    expect(routeTemplate('/commits/3f2a9c1b')).toBe('/commits/3f2a9c1b');
  });

  it('reads shard directories before a content hash as ids, and no other short hex segment', () => {
    // satyrius/gonx's real access log (an image CDN): 1,000 requests were 784 routes.
    expect(routeTemplate('/t/100x100/d4/4e/6806ed71570139f1656554d94bbb.jpeg')).toBe('/t/100x100/:id/:id/:id.jpeg');
    expect(routeTemplate('/t/240x240/3a/28/1f554a860be043798e28ae678a17.jpeg')).toBe('/t/240x240/:id/:id/:id.jpeg');
    expect(routeTemplate('/objects/ab/cdef0123456789abcdef0123')).toBe('/objects/:id/:id');
    expect(routeTemplate('/v1/products/de/123')).toBe('/v1/products/de/:id');
    expect(routeTemplate('/api/b2b/orders/42')).toBe('/api/b2b/orders/:id');
    expect(routeTemplate('/v1/abc/cdef0123456789abcdef0123')).toBe('/v1/abc/:id');
  });

  it('agrees with the regex definition on any path', () => {
    fc.assert(
      fc.property(anyPath, (path) => {
        expect(routeTemplate(path)).toBe(referenceTemplate(path));
      }),
      { numRuns: 3000 },
    );
  });

  it('cuts very long paths instead of templating them', () => {
    const path = `/x/${'a'.repeat(3000)}`;
    expect(routeTemplate(path)).toBe(`${path.slice(0, 64)}…`);
  });
});
