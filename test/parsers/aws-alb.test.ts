import { describe, expect, it } from 'vitest';
import { awsAlb } from '../../parsers/aws-alb.js';
import { onlyProxy, parseLines } from './parse-lines.js';

// docs/formats.md, Application Load Balancer: time = END, request_creation_time = START, -1 times, 460 = client closed.
const ARN = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api-tg/0a1b2c3d4e5f6a7b';
function albLine(parts: {
  time?: string; client?: string; target?: string; times?: string; status?: string; targetStatus?: string;
  request?: string; userAgent?: string; created?: string; trace?: string; actions?: string; errorReason?: string; tail?: string;
}): string {
  return `https ${parts.time ?? '2025-01-15T10:32:01.457123Z'} app/prod-api/5d1e3f0a9b8c7d6e ${parts.client ?? '203.0.113.24:53122'} ` +
    `${parts.target ?? '10.0.3.17:8080'} ${parts.times ?? '0.001 0.081 0.000'} ${parts.status ?? '200'} ${parts.targetStatus ?? '200'} 412 2101 ` +
    `"${parts.request ?? 'GET https://api.example.com:443/v1/orders?limit=20 HTTP/1.1'}" "${parts.userAgent ?? 'okhttp/4.12.0'}" ` +
    `ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 ${ARN} "${parts.trace ?? 'Root=1-67878e83-2a74f8ab018a417c94c55391'}" "api.example.com" "session-reused" 3 ` +
    `${parts.created ?? '2025-01-15T10:32:01.373044Z'} "${parts.actions ?? 'forward'}" "-" "${parts.errorReason ?? '-'}" "10.0.3.17:8080" "200" "-" "-" ` +
    `TID_7bbf528f3944f25005b1a4c8d33e8184${parts.tail ?? ''}`;
}

const START = Date.UTC(2025, 0, 15, 10, 32, 1, 373);
const END = Date.UTC(2025, 0, 15, 10, 32, 1, 457);

describe('aws-alb', () => {
  it('maps a forwarded request: START from request_creation_time, END from time', () => {
    const record = onlyProxy(awsAlb, albLine({}));
    expect(record).toMatchObject({
      format: 'aws-alb', startMs: START, endMs: END, timeResolutionMs: 1, requestTimeMs: 84,
      method: 'GET', path: '/v1/orders', query: 'limit=20', host: 'api.example.com',
      status: 200, upstreamLogged: true, upstreamStatus: 200, upstreamTimeMs: 81, upstreamAttempts: 1,
      upstreamAddr: '10.0.3.17:8080', clientIp: '203.0.113.24', userAgent: 'okhttp/4.12.0',
      traceId: '67878e832a74f8ab018a417c94c55391', bytesSent: 2101, clientClosed: false, flags: null,
    });
  });

  it('reads the formats.md 504 example: -1 times and target status "-" mean no upstream answer', () => {
    const record = onlyProxy(awsAlb, awsAlb.example);
    expect(record.status).toBe(504);
    expect(record.upstreamStatus).toBeNull();
    expect(record.upstreamTimeMs).toBeNull();
    expect(record.requestTimeMs).toBe(60_003);
    expect(record.startMs).toBe(Date.UTC(2025, 0, 15, 10, 31, 31, 901));
    expect(record.endMs).toBe(Date.UTC(2025, 0, 15, 10, 32, 31, 904));
  });

  it('takes a Lambda target (logged as "-", with the function\'s status) as tried once', () => {
    // AWS's access-log docs: "If the target is a Lambda function, this value is set to -".
    expect(onlyProxy(awsAlb, albLine({ target: '-', targetStatus: '200' }))).toMatchObject({ upstreamAddr: null, upstreamStatus: 200, upstreamAttempts: 1 });
    expect(onlyProxy(awsAlb, albLine({ target: '-', targetStatus: '-', times: '-1 -1 -1', status: '460' }))).toMatchObject({ upstreamStatus: null, upstreamAttempts: 0 });
  });

  it('maps 460 to clientClosed', () => {
    const record = onlyProxy(awsAlb, albLine({ status: '460', targetStatus: '-', times: '-1 -1 -1' }));
    expect(record.clientClosed).toBe(true);
    expect(record.upstreamStatus).toBeNull();
  });

  it('splits an IPv6 client on the last colon', () => {
    const record = onlyProxy(awsAlb, albLine({ client: '2001:db8::7:443' }));
    expect(record.clientIp).toBe('2001:db8::7');
  });

  it('keeps a quoted user agent with spaces and escaped quotes whole', () => {
    const record = onlyProxy(awsAlb, albLine({ userAgent: 'Mozilla/5.0 (compatible; \\"SiteBot\\"/2.1)' }));
    expect(record.userAgent).toBe('Mozilla/5.0 (compatible; "SiteBot"/2.1)');
  });

  it('treats "-" everywhere as null: not dispatched, WAF block', () => {
    const record = onlyProxy(awsAlb, albLine({
      target: '-', times: '-1 -1 -1', status: '403', targetStatus: '-', userAgent: '-', trace: '-', actions: 'waf', errorReason: '-',
    }));
    expect(record).toMatchObject({
      upstreamAddr: null, upstreamAttempts: 0, upstreamStatus: null, upstreamTimeMs: null, userAgent: null, traceId: null, flags: 'waf',
    });
  });

  it('keeps error_reason as flags', () => {
    const record = onlyProxy(awsAlb, albLine({ status: '502', targetStatus: '-', times: '-1 -1 -1', errorReason: 'TargetConnectionErrorCode' }));
    expect(record.flags).toBe('TargetConnectionErrorCode');
  });

  it('tolerates unknown trailing fields (AWS appends columns)', () => {
    const record = onlyProxy(awsAlb, albLine({ tail: ' "api.example.com" "/v1/orders?limit=20" "TransformSuccess" future-field' }));
    expect(record.status).toBe(200);
  });

  it('reads a request ALB could not parse without inventing a method', () => {
    const record = onlyProxy(awsAlb, albLine({ request: '- http://api.example.com:80- -', status: '400', targetStatus: '-' }));
    expect(record.method).toBeNull();
    expect(record.path).toBeNull();
    expect(record.host).toBe('api.example.com');
    // No SNI domain either (plain http): the host is still the URL's (vectordotdev/vrl parse_aws_alb_log.rs, MPL-2.0).
    const plain = onlyProxy(awsAlb, albLine({ request: '- http://awseb-awseb-1kgu6fbag3fad-640112591.us-east-1.elb.amazonaws.com:80- -', status: '400', targetStatus: '-' }).replace('"api.example.com"', '"-"'));
    expect([plain.method, plain.path, plain.host]).toEqual([null, null, 'awseb-awseb-1kgu6fbag3fad-640112591.us-east-1.elb.amazonaws.com']);
  });

  it('reports a malformed time as PARSE_BAD_TIMESTAMP on `time`', () => {
    const { records, issues } = parseLines(awsAlb, [albLine({ time: '2025-01-15X10:32:01.457123Z' })]);
    expect(records).toHaveLength(0);
    expect(issues[0]).toMatchObject({ code: 'PARSE_BAD_TIMESTAMP', field: 'time', line: 1 });
  });

  it('reports a bad processing time with its field name', () => {
    const { issues } = parseLines(awsAlb, [albLine({ times: '0.001 abc 0.000' })]);
    expect(issues[0]).toMatchObject({ code: 'PARSE_BAD_FIELD', field: 'target_processing_time' });
  });

  it('reports truncated lines and other formats as PARSE_NO_MATCH', () => {
    const { issues, ignored } = parseLines(awsAlb, [
      'https 2025-01-15T10:32:01.457123Z app/prod-api/5d1e3f0a9b8c7d6e 203.0.113.24:53122',
      '203.0.113.24 - - [15/Jan/2025:10:32:01 +0000] "GET / HTTP/1.1" 200 5 "-" "x"',
      '',
    ]);
    expect(issues.map((issue) => issue.code)).toEqual(['PARSE_NO_MATCH', 'PARSE_NO_MATCH']);
    expect(ignored).toBe(1);
  });
});
