import { describe, expect, it } from 'vitest';
import { decodeCapture, haproxy, haproxyCaptureLayout, haproxyFormat, headerKey } from '../../parsers/haproxy.js';
import { onlyProxy, parseLines } from './parse-lines.js';

// HAProxy logs header captures as `{v1|v2|...}` in declaration order (request block, then response
// block), never their names; `#XX` encodes `"`, `#`, `{`, `|`, `}`, controls and non-ASCII bytes.
const line = (captures: string, frontend = 'fe_api') =>
  `203.0.113.24:53122 [15/Jan/2025:10:32:01.373] ${frontend} be_api/app3 0/0/1/81/84 200 2101 - - ---- 312/298/41/12/0 0/0 ${captures}"GET /v1/orders?limit=20 HTTP/1.1"`;

const CONFIG = `
global
  log stdout format raw local0   # comments are dropped

frontend fe_api
  bind :443 ssl crt /etc/haproxy/site.pem
  capture request header Host len 64
  http-request capture req.hdr(User-Agent) len 96
  declare capture request len 40
  http-request capture req.hdr(X-Client-Id),lower id 2
  capture request header X-Request-Id len 40
  capture response header Content-Type len 30
  http-response capture res.hdr(Server) id 1
  declare capture response len 20
  default_backend be_api

listen admin
  bind :8404
  http-request capture req.fhdr(Authorization) len 20

backend be_api
  capture request header Ignored len 10
  server app3 10.0.3.17:8080
`;

describe('haproxy header captures', () => {
  it('reads the documented default order: Host, User-Agent, X-Api-Key', () => {
    const record = onlyProxy(haproxy, line('{api.example.com|okhttp/4.12.0|key_7H2|ignored} {text/html} '));
    expect(record).toMatchObject({ host: 'api.example.com', userAgent: 'okhttp/4.12.0', apiKey: 'key_7H2', requestId: null });
  });

  it('decodes #XX bytes as UTF-8 and leaves a # that starts no byte alone', () => {
    expect(decodeCapture('a#7Cb#7Bc#7D#22d#22 caf#C3#A9')).toBe('a|b{c}"d" café');
    expect(decodeCapture('#zz #4')).toBe('#zz #4');
    const record = onlyProxy(haproxy, line('{api.example.com|probe/1.0 (a#7Cb)|k#23ey} '));
    expect(record).toMatchObject({ userAgent: 'probe/1.0 (a|b)', apiKey: 'k#ey' });
  });

  it('reads an empty or "-" capture as not sent, and a line with fewer captures than the layout', () => {
    expect(onlyProxy(haproxy, line('{|-|} '))).toMatchObject({ host: null, userAgent: null, apiKey: null });
    expect(onlyProxy(haproxy, line('{api.example.com} '))).toMatchObject({ host: 'api.example.com', userAgent: null, apiKey: null });
  });

  it('reads a haproxy.cfg layout per frontend, in declaration order across both capture forms', () => {
    const layout = haproxyCaptureLayout(CONFIG);
    expect(layout.frontends.get('fe_api')).toEqual({
      request: ['Host', 'User-Agent', 'X-Client-Id', 'X-Request-Id'],
      response: ['Content-Type', 'Server'],
    });
    expect(layout.frontends.get('admin')).toEqual({ request: ['Authorization'], response: [] });
    expect(layout.frontends.has('be_api')).toBe(false);
  });

  it('matches what HAProxy 2.6.12 logged for a declared slot named later, and a response slot declared after its use', () => {
    // Observed: this frontend logged `{key_A|probe/1.0|127.0.0.1:18082} {text/plain}`.
    const layout = haproxyCaptureLayout(`frontend fe
  http-request capture req.hdr(X-Api-Key) len 20
  declare capture request len 40
  capture request header Host len 20
  http-request capture req.hdr(User-Agent) id 1
  http-response capture res.hdr(Content-Type) id 0
  declare capture response len 40`);
    expect(layout.frontends.get('fe')).toEqual({ request: ['X-Api-Key', 'User-Agent', 'Host'], response: ['Content-Type'] });
    expect(onlyProxy(haproxyFormat(layout), line('{key_A|probe/1.0|127.0.0.1:18082} {text/plain} ', 'fe'))).toMatchObject({
      apiKey: 'key_A', userAgent: 'probe/1.0', host: '127.0.0.1:18082',
    });
  });

  it('maps captures by the layout of the line\'s frontend (TLS "~" included), the key by --key-field', () => {
    const format = haproxyFormat(haproxyCaptureLayout(CONFIG));
    const captures = '{api.example.com|curl/8.5.0|client-42|0af7651916cd43dd8448eb211c80319c} {application/json|nginx|} ';
    expect(onlyProxy(format, line(captures, 'fe_api~'), 'X-Client-Id')).toMatchObject({
      host: 'api.example.com', userAgent: 'curl/8.5.0', apiKey: 'client-42', requestId: '0af7651916cd43dd8448eb211c80319c',
    });
    expect(onlyProxy(format, line(captures, 'fe_api~'), 'http_x_client_id').apiKey).toBe('client-42');
    // Without --key-field the key is guessed from header names; X-Client-Id does not look like one.
    expect(onlyProxy(format, line(captures, 'fe_api~')).apiKey).toBeNull();
    // A frontend the config does not list falls back to the default order.
    expect(onlyProxy(format, line('{h|ua|k} ', 'fe_other'))).toMatchObject({ host: 'h', userAgent: 'ua', apiKey: 'k' });
  });

  it('guesses the key header by name, and reads a traceparent capture', () => {
    const format = haproxyFormat({ frontends: new Map(), fallback: { request: ['traceparent', 'X-Consumer-Id'], response: [] } });
    expect(onlyProxy(format, line('{00-491e743b1be0164f3055415f2cb2f8d0-edeed8f67ed0c810-01|acme} '))).toMatchObject({
      traceId: '491e743b1be0164f3055415f2cb2f8d0', apiKey: 'acme',
    });
  });

  it('reads a lone block as the response block when the frontend has only response captures', () => {
    const format = haproxyFormat({ frontends: new Map(), fallback: { request: [], response: ['Server'] } });
    expect(onlyProxy(format, line('{nginx} '))).toMatchObject({ host: null, userAgent: null, apiKey: null });
  });

  it('normalises header names the way --key-field may spell them', () => {
    expect(['X-Api-Key', 'x_api_key', '$http_x_api_key', 'request.headers.x-api-key', 'http.request.header.x-api-key'].map(headerKey))
      .toEqual(Array(5).fill('x-api-key'));
  });

  it('reports an unterminated capture block', () => {
    const { records, issues } = parseLines(haproxy, [line('{api.example.com|okhttp ')]);
    expect(records).toHaveLength(0);
    expect(issues.map((issue) => [issue.code, issue.field])).toEqual([['PARSE_BAD_FIELD', 'hr']]);
  });
});
