import { describe, expect, it } from 'vitest';
import { cloudfront } from '../../parsers/cloudfront.js';
import type { ProxyRecord } from '../../src/model/records.js';
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

  it('takes the viewer from x-forwarded-for when it came through a proxy (c-ip is then the proxy)', () => {
    // grafana/loki tools/lambda-promtail/testdata/cloudfront.log.gz (Apache-2.0, ccb54c53b07d564cba935bbbd1010a8ea5cd33e6).
    const header = FIELDS;
    const line = '2023-04-26\t07:25:11\tABC11-C1\t122254\t13.231.15.129\tGET\td3u2vxofoa42t1.cloudfront.net\t/prefix/script.js\t200\thttps://myapp.staging.domain.com/\tMozilla/5.0%20(Macintosh;%20Intel%20Mac%20OS%20X%2010_15_7)%20AppleWebKit/537.36%20(KHTML,%20like%20Gecko)%20Chrome/111.0.0.0%20Safari/537.36\t-\t-\tMiss\tvKIiZi4-0_M3vVWN37wUKhQ3GSHWUnWIDXuZV1sHp-Xun2lLWNrwyB==\td3u2vxofoa42t1.cloudfront.net\thttps\t1051\t0.199\t10.3.200.121,\\x2010.56.14.213\tTLSv1.2\tECDHE-RSA-AES128-GCM-SHA256\tMiss\tHTTP/1.0\t-\t-\t41649\t0.182\tMiss\tapplication/javascript\t121630\t-\t-';
    const { records, issues } = parseLines(cloudfront, ['#Version: 1.0', header, line]);
    expect(issues).toEqual([]);
    expect(records[0]).toMatchObject({ clientIp: '10.3.200.121', path: '/prefix/script.js', status: 200, requestTimeMs: 199 });
    // Without one, or with something that is no address, the viewer is c-ip.
    expect((parseLines(cloudfront, ['#Version: 1.0', header, line.replace('10.3.200.121,\\x2010.56.14.213', '-')]).records[0] as ProxyRecord).clientIp).toBe('13.231.15.129');
    expect((parseLines(cloudfront, ['#Version: 1.0', header, line.replace('10.3.200.121,', 'unknown,')]).records[0] as ProxyRecord).clientIp).toBe('13.231.15.129');
  });

  it('reads standard logging v2 in JSON: the W3C names as keys, the end from timestamp(ms), values not URL-encoded', () => {
    const v2 = (patch: Record<string, unknown>): string => JSON.stringify({
      'timestamp(ms)': '1736937121457', date: '2025-01-15', time: '10:32:01', 'x-edge-location': 'FRA56-P3', 'sc-bytes': '2188',
      'c-ip': '198.51.100.7', 'cs-method': 'GET', 'cs-uri-stem': '/v1/catalog', 'sc-status': '200', 'cs(User-Agent)': 'Mozilla/5.0 (X11; 100%25)',
      'cs-uri-query': 'limit=20', 'x-edge-result-type': 'Miss', 'x-edge-request-id': 'q2Vw3XyZ', 'x-host-header': 'api.example.com', 'time-taken': '0.087',
      asn: '16509', ...patch,
    });
    expect(onlyProxy(cloudfront, v2({}))).toMatchObject({
      endMs: Date.UTC(2025, 0, 15, 10, 32, 1, 457), startMs: Date.UTC(2025, 0, 15, 10, 32, 1, 370), timeResolutionMs: 1, status: 200,
      method: 'GET', path: '/v1/catalog', query: 'limit=20', host: 'api.example.com', clientIp: '198.51.100.7',
      userAgent: 'Mozilla/5.0 (X11; 100%25)', requestId: 'q2Vw3XyZ', requestTimeMs: 87,
    });
    // Without timestamp(ms), date and time (1 s); a log of the fields AWS's example selects, no status: named, not read.
    expect(onlyProxy(cloudfront, v2({ 'timestamp(ms)': undefined }))).toMatchObject({ endMs: END, timeResolutionMs: 1000 });
    // Delivered by Firehose to S3 without a delimiter: objects back to back, each a record of its line.
    const backToBack = parseLines(cloudfront, [`${v2({})}${v2({ 'sc-status': '504' })}`]);
    expect(backToBack.records.map((r) => [r.line, (r as ProxyRecord).status])).toEqual([[1, 200], [1, 504]]);
    const read = parseLines(cloudfront, [v2({ 'sc-status': undefined }), JSON.stringify({ level: 'info', msg: 'not CloudFront' })]);
    expect(read.issues.map((issue) => [issue.code, issue.field])).toEqual([['PARSE_BAD_FIELD', 'sc-status'], ['PARSE_NO_MATCH', 'x-edge-location']]);
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
