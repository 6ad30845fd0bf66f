import { describe, expect, it } from 'vitest';
import { envoy, envoyJson } from '../../parsers/envoy.js';
import { expectOtherLinesIgnored, onlyProxy, parseLines } from './parse-lines.js';

// docs/formats.md, Envoy (the default format, its flags and units).
const OK = '[2025-01-15T10:32:01.373Z] "GET /v1/orders?limit=20 HTTP/1.1" 200 - 0 1834 84 81 "203.0.113.24" "okhttp/4.12.0" "9b3c1e7a-6f0d-4c2e-8a51-2f7d0c9e4b11" "api.example.com" "10.0.3.17:8080"';
const TIMEOUT = '[2025-01-15T10:31:31.901Z] "POST /v1/reports HTTP/1.1" 504 UT 612 24 15001 - "198.51.100.7" "python-requests/2.31.0" "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f" "api.example.com" "10.0.3.17:8080"';
const CLOSED = '[2025-01-15T10:33:10.002Z] "GET /v1/export HTTP/1.1" 0 DC 0 0 30004 - "198.51.100.9" "curl/8.5.0" "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a" "api.example.com" "10.0.3.18:8080"';
const START = Date.UTC(2025, 0, 15, 10, 32, 1, 373);

describe('envoy', () => {
  it('ignores Envoy\'s own log lines merged into the stream (its default format, Istio\'s), and still reports look-alikes', () => {
    expectOtherLinesIgnored(envoy, [
      // Datadog's Envoy pipeline test (DataDog/integrations-core, BSD-3-Clause; test/fixtures/real/datadog-envoy.json).
      '[2021-03-12 15:31:30.492][1][warning][runtime] [source/common/runtime/runtime_features.cc:31] Unable to use runtime singleton for feature envoy.reloadable_features.header_map_correctly_coalesce_cookies',
      '[2021-11-03 17:22:43.361][1678][info][main] [source/server/server.cc:370] statically linked extensions:',
      '2024-01-15T10:32:00.123456Z\tinfo\tenvoy main external/envoy/source/server/server.cc:404\tinitializing epoch 0\tthread=14',
    ], OK, [
      '[2021-11-03 17:22:43.361][1678][chatty][main] [source/server/server.cc:370] statically linked extensions:',
      '2024-01-15T10:32:00.123456Z info envoy main initializing epoch 0',
      OK.replace(' 200 ', ' '),
    ]);
  });

  it('maps a proxied request: START_TIME is the start, DURATION the client-facing time', () => {
    const record = onlyProxy(envoy, OK);
    expect(record).toMatchObject({
      format: 'envoy', startMs: START, endMs: START + 84, timeResolutionMs: 1, requestTimeMs: 84,
      method: 'GET', path: '/v1/orders', query: 'limit=20', status: 200, flags: null,
      upstreamLogged: true, upstreamStatus: 200, upstreamTimeMs: 81, upstreamAddr: '10.0.3.17:8080', upstreamAttempts: 1,
      clientIp: '203.0.113.24', userAgent: 'okhttp/4.12.0', requestId: '9b3c1e7a-6f0d-4c2e-8a51-2f7d0c9e4b11',
      host: 'api.example.com', bytesSent: 1834, clientClosed: false,
    });
  });

  it('reads an upstream host and no failure flag as an answer when the service time header was stripped', () => {
    expect(onlyProxy(envoy, OK.replace('0 1834 84 81', '0 1834 84 -'))).toMatchObject({ status: 200, upstreamStatus: 200, upstreamTimeMs: null });
  });

  it('maps UT with no upstream service time to "no upstream answer"', () => {
    const record = onlyProxy(envoy, TIMEOUT);
    expect(record).toMatchObject({ status: 504, flags: 'UT', upstreamStatus: null, upstreamTimeMs: null, clientClosed: false });
  });

  it('maps response code 0 + DC to clientClosed', () => {
    const record = onlyProxy(envoy, CLOSED);
    expect(record).toMatchObject({ status: 0, flags: 'DC', clientClosed: true, upstreamStatus: null, requestTimeMs: 30004 });
  });

  it('treats comma-joined flags UF,URX as no upstream answer even with a service time', () => {
    const record = onlyProxy(envoy, OK.replace('200 - 0 1834 84 81', '503 UF,URX 0 91 3 2'));
    expect(record).toMatchObject({ status: 503, flags: 'UF,URX', upstreamStatus: null, upstreamTimeMs: 2 });
  });

  it('takes URX with a service time as the upstream answer passed on once retries ran out', () => {
    // An Istio client sidecar's line (calam1/istio_circuit_breaker): the server side's breaker answered 503.
    const record = onlyProxy(envoy, OK.replace('200 - 0 1834 84 81', '503 URX 0 81 13 13'));
    expect(record).toMatchObject({ status: 503, flags: 'URX', upstreamStatus: 503, upstreamTimeMs: 13 });
    expect(onlyProxy(envoy, OK.replace('200 - 0 1834 84 81', '503 URX 0 81 13 -')).upstreamStatus, 'no service time: Envoy answered').toBeNull();
    expect(onlyProxy(envoy, OK.replace('200 - 0 1834 84 81', '200 UPE 0 81 13 12')).upstreamStatus, 'a protocol error after the headers').toBe(200);
  });

  it('reads the default format with the response code details after the flags, and a WebSocket the client closed as answered', () => {
    // renuka-fernando/examples envoy/simple/README.md (MIT): a real Envoy's lines.
    const timeout = onlyProxy(envoy, '[2024-07-20T07:05:54.173Z] "GET /gateway-timeout?delayMs=5000 HTTP/1.1" 504 UT response_timeout 0 24 4497 - "-" "curl/8.4.0" "6d67d674-2122-4a2d-b172-0be70c674371" "localhost:8000" "172.27.0.2:8080"');
    expect(timeout).toMatchObject({ status: 504, flags: 'UT', upstreamStatus: null, requestTimeMs: 4497, upstreamAddr: '172.27.0.2:8080', host: 'localhost:8000' });
    const socket = onlyProxy(envoy, '[2024-07-21T08:32:59.547Z] "GET /ws HTTP/1.1" 101 DC downstream_remote_disconnect 61 105 13342 - "-" "-" "e5248829-b318-443a-a763-e2460530f070" "localhost:8000" "192.168.5.2:8080"');
    expect(socket).toMatchObject({ status: 101, upstreamStatus: 101, clientClosed: false, requestTimeMs: 13342 });
  });

  it('keeps "-" everywhere as null (local reply: no route)', () => {
    const record = onlyProxy(envoy, '[2025-01-15T10:32:01.373Z] "GET /nope HTTP/1.1" 404 NR 0 0 0 - "-" "-" "-" "api.example.com" "-"');
    expect(record).toMatchObject({
      status: 404, flags: 'NR', upstreamStatus: null, upstreamTimeMs: null, upstreamAddr: null, upstreamAttempts: 0,
      clientIp: null, userAgent: null, requestId: null, requestTimeMs: 0,
    });
  });

  it('takes the first X-Forwarded-For element and IPv6 clients', () => {
    const record = onlyProxy(envoy, OK.replace('"203.0.113.24"', '"2001:db8::7, 10.0.0.2"'));
    expect(record.clientIp).toBe('2001:db8::7');
  });

  it('survives an unescaped quote inside the user agent', () => {
    const record = onlyProxy(envoy, OK.replace('"okhttp/4.12.0"', '"Mozilla/5.0 (compatible; "SiteBot"/2.1)"'));
    expect(record.userAgent).toBe('Mozilla/5.0 (compatible; "SiteBot"/2.1)');
    expect(record.requestId).toBe('9b3c1e7a-6f0d-4c2e-8a51-2f7d0c9e4b11');
  });

  it('reports malformed lines with code and field', () => {
    const { records, issues } = parseLines(envoy, [
      OK.replace('2025-01-15T10:32:01.373Z', 'yesterday'),
      OK.replace(' 84 81 ', ' 84 8x1 '),
      OK.replace(' 200 - ', ' OK - '),
      '[2025-01-15T10:32:01.373Z] "GET / HTTP/1.1" 200',
    ]);
    expect(records).toHaveLength(0);
    expect(issues.map((issue) => [issue.code, issue.field])).toEqual([
      ['PARSE_BAD_TIMESTAMP', 'START_TIME'],
      ['PARSE_BAD_FIELD', 'X-ENVOY-UPSTREAM-SERVICE-TIME'],
      ['PARSE_BAD_FIELD', 'RESPONSE_CODE'],
      ['PARSE_NO_MATCH', 'line'],
    ]);
  });
  it('reads Emissary-ingress\'s default: Envoy\'s words after an `ACCESS` word of its own', () => {
    // Emissary's format (python/ambassador/envoy/v3/v3listener.py) around the request of Contour's access-logging docs.
    const line = 'ACCESS [2021-04-14T16:36:00.361Z] "GET /foo HTTP/1.1" 200 - 0 463 6 3 "-" "HTTPie/1.0.3" "e3f8e4b2-6b8c-4d8c-9a6b-0a0c5f0c2a11" "www.example.com" "10.244.0.8:80"';
    expect(onlyProxy(envoy, line)).toMatchObject({
      startMs: Date.UTC(2021, 3, 14, 16, 36, 0, 361), method: 'GET', path: '/foo', status: 200, requestTimeMs: 6, upstreamTimeMs: 3,
      upstreamStatus: 200, host: 'www.example.com', raw: line,
    });
    expect(parseLines(envoy, [line.replace('ACCESS ', 'ACCESSED ')]).issues).toHaveLength(1);
  });

  it('reads Istio\'s sidecar layouts: Envoy\'s words with more after the flags and after the upstream host', () => {
    // Istio 1.9+: Istio's access-log task (istio/istio.io, Apache-2.0; test/fixtures/real/istio-docs-access-log.json).
    const istio19 = '[2020-11-25T21:26:18.409Z] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 4 4 "-" "curl/7.73.0-DEV" "84961386-6d84-929d-98bd-c5aee93b5c88" "httpbin:8000" "10.44.1.27:80" outbound|8000||httpbin.foo.svc.cluster.local 10.44.1.23:37652 10.0.45.184:8000 10.44.1.23:46520 - default';
    expect(onlyProxy(envoy, istio19)).toMatchObject({
      status: 418, requestTimeMs: 4, upstreamTimeMs: 4, upstreamStatus: 418, upstreamAddr: '10.44.1.27:80', host: 'httpbin:8000',
      requestId: '84961386-6d84-929d-98bd-c5aee93b5c88', userAgent: 'curl/7.73.0-DEV',
      // No X-Forwarded-For: the client is the downstream peer Istio names in its tail.
      clientIp: '10.44.1.23',
    });
    // Istio 1.1 (mixer status after the flags, no route name): Datadog's envoy log tests
    // (DataDog/integrations-core envoy/assets/logs/envoy_tests.yaml, BSD-3-Clause).
    const istio11 = '[2019-03-06T09:31:27.354Z] "GET /status/418 HTTP/1.1" 418 - "-" 0 135 11 10 "-" "curl/7.60.0" "d209e46f-9ed5-9b61-bbdd-43e22662702a" "httpbin:8000" "172.30.146.73:80" outbound|8000||httpbin.default.svc.cluster.local - 172.21.13.94:8000 172.30.146.82:60290 -';
    expect(onlyProxy(envoy, istio11)).toMatchObject({ status: 418, requestTimeMs: 11, upstreamTimeMs: 10, upstreamAddr: '172.30.146.73:80', clientIp: '172.30.146.82' });
    // As many words, but quoted where Istio writes bare ones: not taken for Istio's layout.
    expect(parseLines(envoy, [istio11.replace('outbound|8000||httpbin.default.svc.cluster.local', '"outbound"')]).issues[0]).toMatchObject({ field: 'line' });
  });
});

/**
 * Envoy's JSON access logs. Envoy Gateway's default keys and typed values (its documentation,
 * site/content/en/latest/tasks/observability/proxy-accesslog.md, and the real lines of
 * test/fixtures/real/crowdsec-envoy-gateway.json); Istio's JSON encoding under the keys of
 * Istio's EnvoyJSONLogFormatIstio (istio/istio, pilot/pkg/networking/core/accesslog.go), with
 * every value quoted as Istio before 1.9 wrote them.
 */
describe('envoy-json', () => {
  const gateway = (fields: Record<string, unknown>): string => JSON.stringify({
    ':authority': 'api.example.com', bytes_received: 0, bytes_sent: 1834, downstream_remote_address: '10.244.0.7:51234', duration: 84, method: 'GET',
    protocol: 'HTTP/1.1', response_code: 200, response_code_details: 'via_upstream', response_flags: '-', start_time: '2025-01-15T10:32:01.373Z',
    upstream_host: '10.0.3.17:8080', 'user-agent': 'okhttp/4.12.0', 'x-envoy-origin-path': '/v1/orders?limit=20', 'x-envoy-upstream-service-time': null,
    'x-forwarded-for': '203.0.113.24, 10.0.0.1', 'x-request-id': '9b3c1e7a-6f0d-4c2e-8a51-2f7d0c9e4b11', ...fields,
  });

  it('reads Envoy Gateway\'s keys: the upstream answered when the details say via_upstream, though its service time is stripped', () => {
    expect(onlyProxy(envoyJson, gateway({}))).toMatchObject({
      format: 'envoy-json', startMs: START, endMs: START + 84, timeResolutionMs: 1, requestTimeMs: 84, method: 'GET', path: '/v1/orders', query: 'limit=20',
      status: 200, upstreamLogged: true, upstreamStatus: 200, upstreamTimeMs: null, upstreamAddr: '10.0.3.17:8080', clientIp: '203.0.113.24',
      userAgent: 'okhttp/4.12.0', host: 'api.example.com', requestId: '9b3c1e7a-6f0d-4c2e-8a51-2f7d0c9e4b11', bytesSent: 1834, clientClosed: false,
    });
  });

  it('reads an answer Envoy made itself, a timeout and a client that left as the text format does', () => {
    expect(onlyProxy(envoyJson, gateway({ response_code: 301, response_code_details: 'direct_response', upstream_host: null }))).toMatchObject({ status: 301, upstreamStatus: null, upstreamAddr: null });
    expect(onlyProxy(envoyJson, gateway({ response_code: 504, response_code_details: 'upstream_response_timeout', response_flags: 'UT', duration: 15001 })))
      .toMatchObject({ status: 504, upstreamStatus: null, flags: 'UT', requestTimeMs: 15001 });
    expect(onlyProxy(envoyJson, gateway({ response_code: 0, response_code_details: 'downstream_remote_disconnect', response_flags: 'DC' })))
      .toMatchObject({ status: 0, clientClosed: true, upstreamStatus: null });
  });

  it('without details, falls back to the service time, the upstream host and the flags, as in the text format', () => {
    const line = gateway({ response_code_details: undefined, 'x-envoy-upstream-service-time': '81' });
    expect(onlyProxy(envoyJson, line)).toMatchObject({ upstreamStatus: 200, upstreamTimeMs: 81 });
    // Service time stripped, an upstream host picked, no failure flag: the upstream answered.
    expect(onlyProxy(envoyJson, gateway({ response_code_details: undefined }))).toMatchObject({ upstreamStatus: 200, upstreamTimeMs: null });
    expect(onlyProxy(envoyJson, gateway({ response_code_details: undefined, upstream_host: null }))).toMatchObject({ upstreamStatus: null });
    expect(onlyProxy(envoyJson, gateway({ response_code_details: undefined, response_code: 504, response_flags: 'UT' }))).toMatchObject({ upstreamStatus: null });
  });

  it('reads Istio\'s JSON keys, with every value quoted', () => {
    const istio = JSON.stringify({
      authority: 'details:9080', bytes_received: '0', bytes_sent: '178', connection_termination_details: '-', downstream_local_address: '10.96.64.99:9080',
      downstream_remote_address: '10.244.2.77:56892', duration: '1', method: 'GET', path: '/details/0', protocol: 'HTTP/1.1', request_id: '5e5d2c2a-1111-4222-8333-444455556666',
      requested_server_name: '-', response_code: '200', response_code_details: 'via_upstream', response_flags: '-', route_name: 'default', start_time: '2020-09-30T03:22:42.267Z',
      upstream_cluster: 'outbound|9080|v1|details.default.svc.cluster.local', upstream_host: '10.244.1.9:9080', upstream_local_address: '10.244.2.77:40778',
      upstream_service_time: '1', upstream_transport_failure_reason: '-', user_agent: 'curl/7.73.0', x_forwarded_for: '-',
    });
    expect(onlyProxy(envoyJson, istio)).toMatchObject({
      status: 200, requestTimeMs: 1, upstreamStatus: 200, upstreamTimeMs: 1, path: '/details/0', host: 'details:9080', userAgent: 'curl/7.73.0',
      requestId: '5e5d2c2a-1111-4222-8333-444455556666', clientIp: '10.244.2.77', bytesSent: 178,
    });
  });

  it('reads Contour\'s default JSON fields: the start under @timestamp, the rest under Istio\'s keys', () => {
    // Contour's DefaultAccessLogJSONFields (projectcontour/contour apis/projectcontour/v1alpha1/accesslog.go), values from its docs' request.
    const contour = JSON.stringify({
      '@timestamp': '2021-04-14T16:36:00.361Z', authority: 'www.example.com', bytes_received: 0, bytes_sent: 463, downstream_local_address: '10.244.0.7:8080',
      downstream_remote_address: '172.18.0.1:43456', duration: 6, method: 'GET', path: '/foo', protocol: 'HTTP/1.1', request_id: 'e3f8e4b2-6b8c-4d8c-9a6b-0a0c5f0c2a11',
      requested_server_name: null, response_code: 200, response_flags: '-', upstream_cluster: 'default/www/80/da39a3ee5e', upstream_host: '10.244.0.8:80',
      upstream_local_address: '10.244.0.7:50742', upstream_service_time: '3', user_agent: 'HTTPie/1.0.3', x_forwarded_for: null,
    });
    expect(onlyProxy(envoyJson, contour)).toMatchObject({
      startMs: Date.UTC(2021, 3, 14, 16, 36, 0, 361), status: 200, requestTimeMs: 6, upstreamStatus: 200, upstreamTimeMs: 3, path: '/foo',
      host: 'www.example.com', clientIp: '172.18.0.1', userAgent: 'HTTPie/1.0.3',
    });
  });

  it('names the field of a malformed entry, and refuses JSON that is not Envoy\'s', () => {
    const [bad] = parseLines(envoyJson, [gateway({ response_code: 'teapot' })]).issues;
    expect(bad).toMatchObject({ code: 'PARSE_BAD_FIELD', field: 'response_code' });
    const [time] = parseLines(envoyJson, [gateway({ start_time: 'yesterday' })]).issues;
    expect(time).toMatchObject({ code: 'PARSE_BAD_TIMESTAMP', field: 'start_time' });
    const [other] = parseLines(envoyJson, ['{"time":"2025-01-15T10:32:01Z","status":200,"uri":"/"}']).issues;
    expect(other).toMatchObject({ code: 'PARSE_NO_MATCH', field: 'start_time' });
  });
});

describe('envoy, Istio 1.9+ text layout', () => {
  // Istio's access-log task (istio/istio.io content/en/docs/tasks/observability/logs/access-log/index.md): sleep's line.
  const ISTIO = '[2020-11-25T21:26:18.409Z] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 4 4 "-" "curl/7.73.0-DEV" "84961386-6d84-929d-98bd-c5aee93b5c88" "httpbin:8000" "10.44.1.27:80" outbound|8000||httpbin.foo.svc.cluster.local 10.44.1.23:37652 10.0.45.184:8000 10.44.1.23:46520 - default';

  it('takes who answered from %RESPONSE_CODE_DETAILS%, as the JSON form does', () => {
    expect(onlyProxy(envoy, ISTIO)).toMatchObject({ status: 418, upstreamStatus: 418, upstreamTimeMs: 4 });
    // The service time header stripped: the details still say the upstream answered.
    expect(onlyProxy(envoy, ISTIO.replace('0 135 4 4', '0 135 4 -'))).toMatchObject({ upstreamStatus: 418, upstreamTimeMs: null });
    // A reset after the router timed the attempt: Envoy made the 503 itself.
    const reset = ISTIO.replace('418 - via_upstream', '503 UC upstream_reset_before_response_started{connection_termination}');
    expect(onlyProxy(envoy, reset)).toMatchObject({ status: 503, upstreamStatus: null });
  });
});
