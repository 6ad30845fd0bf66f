import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRequestLine } from '../../parsers/fields/request-line.js';

const segment = fc.stringMatching(/^[A-Za-z0-9._~%:@!$&'()*+,;=-]{0,12}$/);
const path = fc.array(segment, { minLength: 1, maxLength: 5 }).map((segments) => `/${segments.join('/')}`);
const query = fc.option(fc.stringMatching(/^[A-Za-z0-9=&%/?:.+-]{0,20}$/), { nil: null });
const method = fc.oneof(fc.constantFrom('GET', 'POST', 'PUT', 'HEAD', 'DELETE', 'PATCH', 'OPTIONS', 'PROPFIND', 'GETX', 'G'), fc.stringMatching(/^[A-Z!#$%&'*+.^_`|~-]{1,10}$/));
const protocol = fc.constantFrom(' HTTP/1.1', ' HTTP/1.0', ' HTTP/2.0', '');

describe('an HTTP request line', () => {
  it('gives back its method, path and query, with or without a protocol', () => {
    fc.assert(fc.property(method, path, query, protocol, (m, p, q, proto) => {
      const line = `${m} ${p}${q === null ? '' : `?${q}`}${proto}`;
      expect(parseRequestLine(line)).toEqual({ method: m, path: p, query: q });
    }), { numRuns: 2000 });
  });

  it('drops the scheme and host of an absolute-form target', () => {
    fc.assert(fc.property(path, query, protocol, (p, q, proto) => {
      const line = `GET http://api.example.com:8080${p}${q === null ? '' : `?${q}`}${proto}`;
      expect(parseRequestLine(line)).toEqual({ method: 'GET', path: p, query: q });
    }), { numRuns: 500 });
    expect(parseRequestLine('GET http://api.example.com HTTP/1.1')).toEqual({ method: 'GET', path: '/', query: null });
    expect(parseRequestLine('GET https://api.example.com?x=1 HTTP/1.1')).toEqual({ method: 'GET', path: '/', query: null });
  });

  it('keeps a target that is no path as it is, and an empty one as /', () => {
    expect(parseRequestLine('CONNECT example.com:443 HTTP/1.1')).toEqual({ method: 'CONNECT', path: 'example.com:443', query: null });
    expect(parseRequestLine('OPTIONS * HTTP/1.1')).toEqual({ method: 'OPTIONS', path: '*', query: null });
    expect(parseRequestLine('GET  HTTP/1.1')).toEqual({ method: 'GET', path: '/', query: null });
    expect(parseRequestLine('GET ?a=1 HTTP/1.1')).toEqual({ method: 'GET', path: '/', query: 'a=1' });
    // A ? or :// after the target (in the protocol) is not the target's.
    expect(parseRequestLine('GET /a HTTP/1.1?x')).toEqual({ method: 'GET', path: '/a', query: null });
    expect(parseRequestLine('GET a HTTP://x/y')).toEqual({ method: 'GET', path: 'a', query: null });
  });

  it('is no request line when its method is no HTTP token (a TLS handshake logged as one)', () => {
    expect(parseRequestLine('\u0016\u0003\u0001 /x HTTP/1.1')).toBeNull();
    expect(parseRequestLine(' /x HTTP/1.1')).toBeNull();
    expect(parseRequestLine('GET')).toBeNull();
  });
});
