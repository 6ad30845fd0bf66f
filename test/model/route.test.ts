import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { routeTemplate } from '../../src/model/route.js';

/** The definition, as regexes: the scanner in src/model/route.ts must agree with it on every path. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEXISH = /^[0-9a-f]{16,}$/i;
const NUMBER = /^\d+$/;
const TOKEN = /^(?=[^/]*\d)[A-Za-z0-9_-]{10,}$/;

function referenceTemplate(path: string): string {
  if (path.length > 2048) return `${path.slice(0, 64)}…`;
  return path
    .split('/')
    .map((segment) => {
      if (segment === '') return segment;
      const dot = segment.lastIndexOf('.');
      const stem = dot > 0 ? segment.slice(0, dot) : segment;
      const extension = dot > 0 ? segment.slice(dot) : '';
      return NUMBER.test(stem) || UUID.test(stem) || HEXISH.test(stem) || TOKEN.test(stem) ? `:id${extension}` : segment;
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

  it('agrees with the regex definition on any path', () => {
    const segment = fc.oneof(
      fc.stringMatching(/^[0-9]{1,12}$/),
      fc.uuid(),
      fc.stringMatching(/^[0-9a-fA-F]{10,40}$/),
      fc.stringMatching(/^[A-Za-z0-9_.-]{0,20}$/),
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
