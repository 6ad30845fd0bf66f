import { describe, expect, it } from 'vitest';
import { awsApiGatewayClf, awsApiGatewayJson } from '../../parsers/aws-api-gateway.js';
import { onlyProxy, parseLines } from './parse-lines.js';

// docs/formats.md, API Gateway: requestTime(Epoch) = START; latencies in ms; integration `-` = backend did not answer.
const START = 1736937091901;

describe('aws-api-gateway-json', () => {
  it('reads the formats.md timeout example: integration "-" means no upstream answer', () => {
    const record = onlyProxy(awsApiGatewayJson, awsApiGatewayJson.example);
    expect(record).toMatchObject({
      format: 'aws-api-gateway-json', startMs: START, endMs: START + 29012, timeResolutionMs: 1,
      requestTimeMs: 29012, status: 504, upstreamLogged: true, upstreamStatus: null, upstreamTimeMs: null, upstreamAttempts: 0,
      method: 'POST', path: '/v1/reports', query: null, clientIp: '198.51.100.7', apiKey: 'a1b2c3d4e5',
      requestId: 'c6af9ac6-7b61-4e2a-9f3d-8a4b2c1d0e9f', flags: 'INTEGRATION_TIMEOUT', clientClosed: false,
    });
  });

  it('reads a successful call with numeric values and nested/dotted alternative keys', () => {
    const record = onlyProxy(awsApiGatewayJson, JSON.stringify({
      requestId: 'r-1', requestTimeEpoch: 1736937121373, identity: { sourceIp: '2001:db8::7', userAgent: 'okhttp/4.12.0', apiKeyId: 'k-9' },
      httpMethod: 'GET', path: '/prod/v1/orders', resourcePath: '/v1/orders', status: 200, responseLatency: 84,
      'integration.latency': 81, 'integration.status': '200', integrationStatus: '200', xrayTraceId: 'Root=1-67878e83-2a74f8ab018a417c94c55391',
      responseLength: '1834',
    }));
    expect(record).toMatchObject({
      startMs: 1736937121373, endMs: 1736937121457, requestTimeMs: 84, upstreamStatus: 200, upstreamTimeMs: 81, upstreamAttempts: 1,
      clientIp: '2001:db8::7', userAgent: 'okhttp/4.12.0', apiKey: 'k-9', path: '/prod/v1/orders',
      traceId: '67878e832a74f8ab018a417c94c55391', bytesSent: 1834,
    });
  });

  it('reads a template whose keys are snake_case (an AWS CDK HTTP API stage\'s, with request_time_epoch added)', () => {
    // {"request_id":"$context.requestId","method":"$context.httpMethod","route_key":"$context.routeKey","path":"$context.path",
    //  "status":"$context.status","response_length":"$context.responseLength","response_latency":"$context.responseLatency",
    //  "source_ip":"$context.identity.sourceIp"} and "request_time_epoch":"$context.requestTimeEpoch".
    const line = '{"request_id":"Xk3PQF2MoAMEbVw=","request_time_epoch":"1736937091901","method":"POST","route_key":"POST /chat","path":"/chat",' +
      '"status":"504","response_length":"41","response_latency":"30001","integration_latency":"-","source_ip":"198.51.100.7","user_agent":"python-requests/2.32.3"}';
    expect(onlyProxy(awsApiGatewayJson, line)).toMatchObject({
      startMs: START, requestTimeMs: 30001, status: 504, method: 'POST', path: '/chat', clientIp: '198.51.100.7', userAgent: 'python-requests/2.32.3',
      requestId: 'Xk3PQF2MoAMEbVw=', bytesSent: 41, upstreamLogged: true, upstreamTimeMs: null,
    });
  });

  it('reads the status under the names templates give it (httpStatusCode, httpStatus)', () => {
    const template = { requestId: 'c6af9ac6', requestTimeEpoch: '1736937091901', httpMethod: 'GET', resourcePath: '/v1/items', responseLatency: '23' };
    for (const key of ['httpStatusCode', 'httpStatus']) {
      expect(onlyProxy(awsApiGatewayJson, JSON.stringify({ ...template, [key]: '201' })).status, key).toBe(201);
    }
  });

  it('reads entries Firehose delivered back to back on one line, each a record of that line', () => {
    const entry = { requestId: 'c6af9ac6', ip: '198.51.100.7', requestTime: '15/Jan/2025:10:32:01 +0000', httpMethod: 'GET', resourcePath: '/v1/items', status: '200', responseLatency: '23' };
    const line = `${JSON.stringify(entry)}${JSON.stringify({ ...entry, requestId: 'd7b0', status: '502' })} ${JSON.stringify({ ...entry, requestId: 'e1', status: 'x' })}`;
    const read = parseLines(awsApiGatewayJson, [line]);
    expect(read.records.map((r) => [r.line, (r as { status: number | null }).status, r.raw.includes('"d7b0"')])).toEqual([[1, 200, false], [1, 502, true]]);
    expect(read.issues.map((issue) => [issue.line, issue.field])).toEqual([[1, 'status']]);
  });

  it('prefers integration.status (the function) over integrationStatus (the Lambda service)', () => {
    const record = onlyProxy(awsApiGatewayJson, JSON.stringify({
      requestId: 'r-2', requestTimeEpoch: '1736937121373', status: '500', responseLatency: '40', integrationLatency: '38',
      'integration.status': '500', integrationStatus: '200',
    }));
    expect(record.upstreamStatus).toBe(500);
  });

  it('reads the CLF requestTime and an HTTP API routeKey', () => {
    const record = onlyProxy(awsApiGatewayJson, JSON.stringify({
      requestId: 'r-3', requestTime: '15/Jan/2025:10:32:01 +0000', routeKey: 'GET /v1/orders/{id}', status: '200', responseLatency: '12',
    }));
    expect(record).toMatchObject({
      startMs: Date.UTC(2025, 0, 15, 10, 32, 1), timeResolutionMs: 1000, method: 'GET', path: '/v1/orders/{id}', upstreamLogged: false,
    });
  });

  it('treats "-" everywhere as null, never 0', () => {
    const record = onlyProxy(awsApiGatewayJson, JSON.stringify({
      requestId: 'r-4', requestTimeEpoch: '1736937121373', ip: '-', httpMethod: '-', resourcePath: '-', status: '429',
      responseLatency: '-', integrationLatency: '-', integrationStatus: '-', apiKeyId: '-', errorType: 'THROTTLED',
    }));
    expect(record).toMatchObject({
      requestTimeMs: null, upstreamTimeMs: null, upstreamStatus: null, apiKey: null, clientIp: null, method: null, path: null, flags: 'THROTTLED',
    });
    expect(record.endMs).toBe(record.startMs);
  });

  it('reports JSON that is not an object, or not API Gateway', () => {
    const { records, issues, ignored } = parseLines(awsApiGatewayJson, ['[]', '1', 'null', '{"status":"200"', '{"msg":"hello"}', '   ']);
    expect(records).toHaveLength(0);
    expect(ignored).toBe(1);
    expect(issues.map((issue) => issue.code)).toEqual(['PARSE_BAD_JSON', 'PARSE_BAD_JSON', 'PARSE_BAD_JSON', 'PARSE_BAD_JSON', 'PARSE_NO_MATCH']);
    expect(issues[4]!.field).toBe('requestId');
  });

  it('reports a wrongly typed field with its name', () => {
    const { issues } = parseLines(awsApiGatewayJson, [
      JSON.stringify({ requestId: 'r', requestTimeEpoch: '1736937121373', status: '200', responseLatency: { ms: 3 } }),
      JSON.stringify({ requestId: 'r', requestTimeEpoch: 'yesterday', status: '200' }),
    ]);
    expect(issues[0]).toMatchObject({ code: 'PARSE_BAD_FIELD', field: 'responseLatency' });
    expect(issues[1]).toMatchObject({ code: 'PARSE_BAD_FIELD', field: 'requestTimeEpoch' });
  });
});

describe('aws-api-gateway-clf', () => {
  it('reads the formats.md CLF example', () => {
    const record = onlyProxy(awsApiGatewayClf, awsApiGatewayClf.example);
    expect(record).toMatchObject({
      format: 'aws-api-gateway-clf', startMs: Date.UTC(2025, 0, 15, 10, 31, 31), endMs: Date.UTC(2025, 0, 15, 10, 31, 31),
      timeResolutionMs: 1000, method: 'POST', path: '/v1/reports', status: 504, bytesSent: 41, requestTimeMs: null,
      upstreamLogged: false, upstreamStatus: null, requestId: 'c6af9ac6-7b61-4e2a-9f3d-8a4b2c1d0e9f', clientIp: '198.51.100.7',
    });
  });

  it('reads the HTTP API preset, whose route key repeats the method', () => {
    const record = onlyProxy(awsApiGatewayClf, '2001:db8::7 - - [15/Jan/2025:10:32:01 +0000] "GET GET /v1/orders HTTP/1.1" 200 1834 Xk3PQF2MoAMEbVw=');
    expect(record).toMatchObject({ method: 'GET', path: '/v1/orders', clientIp: '2001:db8::7', requestId: 'Xk3PQF2MoAMEbVw=' });
  });

  it('does not take an Apache combined line', () => {
    const { issues } = parseLines(awsApiGatewayClf, ['198.51.100.7 - - [15/Jan/2025:10:31:31 +0000] "GET / HTTP/1.1" 200 41 "-" "curl/8.5.0"']);
    expect(issues[0]).toMatchObject({ code: 'PARSE_NO_MATCH', field: 'requestId' });
  });

  it('reports a bad requestTime with its field', () => {
    const { issues } = parseLines(awsApiGatewayClf, [awsApiGatewayClf.example.replace('15/Jan/2025', '15/Foo/2025')]);
    expect(issues[0]).toMatchObject({ code: 'PARSE_BAD_TIMESTAMP', field: 'requestTime' });
  });
});
