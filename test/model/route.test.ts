import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { routeTemplate } from '../../src/model/route.js';

/** The definition, as regexes: the scanner in src/model/route.ts must agree with it on every path. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEXISH = /^[0-9a-f]{16,}$/i;
const NUMBER = /^\d+$/;
const TOKEN = /^(?=[^/]*\d)[A-Za-z0-9_-]{10,}$/;
const HASH_PART = /^[0-9a-f]{8,}$/i;

function referenceTemplate(path: string): string {
  if (path.length > 2048) return `${path.slice(0, 64)}…`;
  return path
    .split('/')
    .map((segment) => {
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

  it('agrees with the regex definition on any path', () => {
    const segment = fc.oneof(
      fc.stringMatching(/^[0-9]{1,12}$/),
      fc.uuid(),
      fc.stringMatching(/^[0-9a-fA-F]{10,40}$/),
      fc.stringMatching(/^[A-Za-z0-9_.-]{0,20}$/),
      fc.tuple(fc.stringMatching(/^[a-z]{0,8}$/), fc.constantFrom('.', '-', '_'), fc.stringMatching(/^[0-9a-fA-F]{6,12}$/), fc.constantFrom('', '.js', '.min.css'))
        .map(([name, separator, hash, extension]) => `${name}${separator}${hash}${extension}`),
      fc.string({ maxLength: 12 }).map((text) => text.replaceAll('/', '')),
    );
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 8 }), fc.boolean(), (segments, leadingSlash) => {
        const path = (leadingSlash ? '/' : '') + segments.join('/');
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
