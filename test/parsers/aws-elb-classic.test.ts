import { describe, expect, it } from 'vitest';
import { awsElbClassic } from '../../parsers/aws-elb-classic.js';
import { onlyProxy, parseLines } from './parse-lines.js';

// docs/formats.md, Classic Load Balancer: timestamp = START; seconds with -1; backend `-` when not dispatched.
const START = Date.UTC(2025, 0, 15, 10, 32, 1, 373);

describe('aws-elb-classic', () => {
  it('maps a forwarded request: start + sum of the three phases = end', () => {
    const record = onlyProxy(awsElbClassic, awsElbClassic.example);
    expect(record).toMatchObject({
      format: 'aws-elb-classic', startMs: START, endMs: START + 81, timeResolutionMs: 1, requestTimeMs: 81.271,
      method: 'GET', path: '/v1/orders', query: 'limit=20', status: 200, upstreamLogged: true, upstreamStatus: 200,
      upstreamTimeMs: 81.207, upstreamAddr: '10.0.3.17:8080', upstreamAttempts: 1, clientIp: '203.0.113.24',
      userAgent: 'okhttp/4.12.0', bytesSent: 1834, clientClosed: false,
    });
  });

  it('maps a request that was never dispatched: -1 times and "-" backend', () => {
    const record = onlyProxy(awsElbClassic,
      '2025-01-15T10:32:13.777123Z prod-api-elb 203.0.113.61:51515 - -1 -1 -1 503 - 0 0 "GET https://api.example.com:443/v1/invoices HTTP/1.1" "Go-http-client/2.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2');
    expect(record).toMatchObject({
      status: 503, upstreamStatus: null, upstreamTimeMs: null, requestTimeMs: null, upstreamAddr: null, upstreamAttempts: 0,
    });
    expect(record.endMs).toBe(record.startMs);
  });

  it('reads a TCP listener line ("- - - ") as a record without method or status', () => {
    const record = onlyProxy(awsElbClassic,
      '2025-01-15T10:32:01.373044Z prod-api-elb 203.0.113.24:53122 10.0.3.17:8080 0.000041 0.001 0.000023 - - 57 1834 "- - - " "-" - -');
    expect(record).toMatchObject({ method: null, path: null, status: null, upstreamStatus: null, userAgent: null });
  });

  it('reads pre-2015 lines without user agent and TLS fields', () => {
    const record = onlyProxy(awsElbClassic,
      '2025-01-15T10:32:01.373044Z prod-api-elb [2001:db8::7]:53122 10.0.3.17:8080 0.000041 0.081207 0.000023 200 200 0 1834 "GET http://api.example.com:80/v1/orders HTTP/1.1"');
    expect(record.userAgent).toBeNull();
    expect(record.clientIp).toBe('2001:db8::7');
  });

  it('reports a bad backend status with its field', () => {
    const { issues } = parseLines(awsElbClassic, [awsElbClassic.example.replace(' 200 200 ', ' 200 2x0 ')]);
    expect(issues[0]).toMatchObject({ code: 'PARSE_BAD_FIELD', field: 'backend_status_code' });
  });

  it('reports a malformed timestamp and an ALB line as issues', () => {
    const { issues } = parseLines(awsElbClassic, [
      awsElbClassic.example.replace('2025-01-15T10:32:01.373044Z', '15/Jan/2025:10:32:01'),
      'https 2025-01-15T10:32:01.457123Z app/prod-api/5d1e3f0a9b8c7d6e 203.0.113.24:53122 10.0.3.17:8080 0.001 0.081 0.000 200 200 412 2101 "GET https://api.example.com:443/ HTTP/1.1" "x"',
    ]);
    expect(issues[0]).toMatchObject({ code: 'PARSE_BAD_TIMESTAMP', field: 'timestamp' });
    expect(issues[1]).toMatchObject({ code: 'PARSE_NO_MATCH' });
  });
});
