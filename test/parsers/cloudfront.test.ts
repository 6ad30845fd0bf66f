import { describe, expect, it } from 'vitest';
import { cloudfront } from '../../parsers/cloudfront.js';
import { onlyProxy, parseLines } from './parse-lines.js';

// docs/formats.md, CloudFront: tab-separated W3C; date+time = END (UTC, 1 s); time-taken in s; 000 = viewer closed.
const FIELDS = '#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start sc-range-end';
const END = Date.UTC(2025, 0, 15, 10, 32, 1);
const withFields = (values: Record<number, string>): string =>
  cloudfront.example.split('\t').map((value, index) => values[index] ?? value).join('\t');

describe('cloudfront', () => {
  it('reads the formats.md example with its header lines ignored', () => {
    const { records, issues, ignored } = parseLines(cloudfront, ['#Version: 1.0', FIELDS, cloudfront.example]);
    expect(issues).toHaveLength(0);
    expect(ignored).toBe(2);
    expect(records[0]).toMatchObject({
      format: 'cloudfront', endMs: END, startMs: END - 87, timeResolutionMs: 1000, requestTimeMs: 87,
      method: 'GET', path: '/v1/catalog', query: 'limit=20', host: 'api.example.com', status: 200,
      clientIp: '198.51.100.7', userAgent: 'Mozilla/5.0 (X11; Linux x86_64)', upstreamLogged: false, upstreamStatus: null,
      requestId: 'q2Vw3XyZ-7a1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvWxYz12345w==', bytesSent: 2188, flags: 'Miss', clientClosed: false,
    });
  });

  it('maps sc-status 000 to clientClosed', () => {
    const record = onlyProxy(cloudfront, withFields({ 8: '000', 13: 'Error', 22: 'Error', 28: 'ClientCommError' }));
    expect(record).toMatchObject({ status: 0, clientClosed: true, flags: 'ClientCommError' });
  });

  it('maps an Error result on a 2xx response to a mid-download disconnect', () => {
    const record = onlyProxy(cloudfront, withFields({ 13: 'Error', 22: 'Miss' }));
    expect(record.clientClosed).toBe(true);
  });

  it('reads columns by their #Fields names, in any order', () => {
    const { records } = parseLines(cloudfront, [
      '#Fields: date time c-ip sc-status cs-method cs-uri-stem time-taken',
      '2025-01-15\t10:32:01\t2001:db8::7\t502\tPOST\t/v1/orders\t30.001',
    ]);
    expect(records[0]).toMatchObject({ clientIp: '2001:db8::7', status: 502, method: 'POST', path: '/v1/orders', requestTimeMs: 30001, startMs: END - 30001 });
  });

  it('keeps "-" as null and survives a malformed %-escape in the user agent', () => {
    const record = onlyProxy(cloudfront, withFields({ 10: 'Bot%2', 11: '-', 18: '-', 3: '-' }));
    expect(record).toMatchObject({ userAgent: 'Bot%2', query: null, requestTimeMs: null, bytesSent: null, startMs: END });
  });

  it('reports malformed lines with code and field', () => {
    const { records, issues } = parseLines(cloudfront, [
      FIELDS, withFields({ 1: '10:32' }), withFields({ 8: 'OK' }), withFields({ 18: '0,087' }), 'not a cloudfront line',
    ]);
    expect(records).toHaveLength(0);
    expect(issues.map((issue) => [issue.code, issue.field])).toEqual([
      ['PARSE_BAD_TIMESTAMP', 'date'], ['PARSE_BAD_FIELD', 'sc-status'], ['PARSE_BAD_FIELD', 'time-taken'], ['PARSE_NO_MATCH', 'line'],
    ]);
  });
});
