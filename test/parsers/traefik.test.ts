import { describe, expect, it } from 'vitest';
import { traefikClf, traefikJson } from '../../parsers/traefik.js';
import { expectOtherLinesIgnored, onlyProxy, parseLines } from './parse-lines.js';

// docs/formats.md, Traefik: JSON durations in ns; StartUTC = START; OriginStatus absent = Traefik answered itself.
const BASE = JSON.parse(traefikJson.example) as Record<string, unknown>;
const line = (patch: Record<string, unknown>, drop: string[] = []): string =>
  JSON.stringify(Object.fromEntries(Object.entries({ ...BASE, ...patch }).filter(([key]) => !drop.includes(key))));
const START = Date.UTC(2025, 0, 15, 10, 32, 1, 373);

describe('traefik-json', () => {
  it('converts ns durations to ms once, at parse time', () => {
    const record = onlyProxy(traefikJson, traefikJson.example);
    expect(record).toMatchObject({
      format: 'traefik-json', startMs: START, endMs: START + 84, timeResolutionMs: 1, requestTimeMs: 84.214,
      status: 200, upstreamLogged: true, upstreamStatus: 200, upstreamTimeMs: 81.907, upstreamAttempts: 1,
      method: 'GET', path: '/v1/orders', query: 'limit=20', clientIp: '203.0.113.24', userAgent: 'okhttp/4.12.0',
      upstreamAddr: 'http://10.0.3.17:8080', clientClosed: false,
    });
  });

  it('tells the answers Traefik wrote itself from the origin\'s, though it logs them as OriginStatus', () => {
    // maborak/monitor-stack logs/traefik/access.log (MIT): a 502 of Traefik's error handler ("Bad Gateway", 11 bytes)
    // while Grafana started, and a 404 for a host with no router yet (Go's "404 page not found\n", 19 bytes).
    const badGateway = onlyProxy(traefikJson, line({ DownstreamStatus: 502, OriginStatus: 502, OriginContentSize: 11, OriginDuration: 528204, ServiceAddr: '172.20.0.2:3000' }));
    expect(badGateway).toMatchObject({ status: 502, upstreamStatus: null, upstreamAttempts: 1, upstreamAddr: '172.20.0.2:3000' });
    const noRouter = onlyProxy(traefikJson, line({ DownstreamStatus: 404, OriginStatus: 404, OriginContentSize: 19, OriginDuration: 22178 }, ['RouterName', 'ServiceURL']));
    expect(noRouter).toMatchObject({ status: 404, upstreamStatus: null, upstreamTimeMs: null, upstreamAttempts: 0 });
    // The same sizes from a routed backend, or other sizes, are the backend's.
    expect(onlyProxy(traefikJson, line({ DownstreamStatus: 404, OriginStatus: 404, OriginContentSize: 19 })).upstreamStatus).toBe(404);
    expect(onlyProxy(traefikJson, line({ DownstreamStatus: 502, OriginStatus: 502, OriginContentSize: 166 })).upstreamStatus).toBe(502);
  });

  it('maps a missing OriginStatus to no upstream answer', () => {
    const record = onlyProxy(traefikJson, line({ DownstreamStatus: 429, Duration: 210000 }, ['OriginStatus', 'OriginDuration', 'Overhead']));
    expect(record).toMatchObject({ status: 429, upstreamStatus: null, upstreamTimeMs: null, upstreamAttempts: 0, requestTimeMs: 0.21 });
  });

  it('maps 499 to clientClosed; OriginStatus 0 is no answer', () => {
    const record = onlyProxy(traefikJson, line({ DownstreamStatus: 499, OriginStatus: 0, Duration: 12000213577, OriginDuration: 11999000000 }));
    expect(record).toMatchObject({ clientClosed: true, upstreamStatus: null, upstreamTimeMs: 11999, requestTimeMs: 12000.214 });
  });

  it('reads retries, request ids, trace ids and ClientAddr for IPv6', () => {
    const record = onlyProxy(traefikJson, line({
      RetryAttempts: 1, 'request_X-Request-Id': 'req-9', TraceId: '491e743b1be0164f3055415f2cb2f8d0', ClientAddr: '[2001:db8::7]:443', ClientUsername: 'acme',
    }, ['ClientHost']));
    expect(record).toMatchObject({
      upstreamAttempts: 2, requestId: 'req-9', traceId: '491e743b1be0164f3055415f2cb2f8d0', clientIp: '2001:db8::7', apiKey: 'acme',
    });
  });

  it('reports malformed lines with code and field, and ignores Traefik\'s own log lines', () => {
    const { records, issues, ignored } = parseLines(traefikJson, [
      line({ StartUTC: 'Wed Jan 15' }), line({ Duration: '84ms' }), line({ OriginStatus: true }), '1', '{"msg":"Configuration loaded"}',
      // Traefik's own log on the same stdout (log.format=json, and the default text).
      '{"level":"info","msg":"Configuration loaded from flags.","time":"2020-05-26T20:23:04Z"}',
      'time="2020-05-26T20:23:04Z" level=info msg="Configuration loaded from flags."',
    ]);
    expect(records).toHaveLength(0);
    expect(ignored).toBe(2);
    expect(issues.map((issue) => [issue.code, issue.field])).toEqual([
      ['PARSE_BAD_TIMESTAMP', 'StartUTC'], ['PARSE_BAD_FIELD', 'Duration'], ['PARSE_BAD_FIELD', 'OriginStatus'],
      ['PARSE_BAD_JSON', null], ['PARSE_NO_MATCH', 'StartUTC'],
    ]);
  });
});

describe('traefik-clf', () => {
  it('ignores Traefik\'s own log lines on the same stdout (v2 logrus, v3 console, JSON), and still reports look-alikes', () => {
    expectOtherLinesIgnored(traefikClf, [
      // As `docker logs traefik` shows them (v2, then v3).
      'time="2020-05-26T20:23:04Z" level=info msg="Configuration loaded from flags."',
      'time="2022-01-24T19:29:46Z" level=debug msg="Static configuration loaded {\\"global\\":{\\"checkNewVersion\\":true}}"',
      '2024-05-04T00:14:51Z INF Traefik version 3.0.0 built on 2024-04-29T14:25:59Z version=3.0.0',
      // v3 at start-up with stats off: its one message over several lines (then a blank line).
      '2024-05-04T00:14:51Z INF',
      'Stats collection is disabled.',
      'Help us improve Traefik by turning this feature on :)',
      'More details on: https://doc.traefik.io/traefik/contributing/data-collection/',
      '',
      '{"level":"info","msg":"Configuration loaded from flags.","time":"2020-05-26T20:23:04Z"}',
    ], traefikClf.example.split('\n')[0]!, [
      'time="2020-05-26T20:23:04Z" level=loud msg="Configuration loaded from flags."',
      '2024-05-04T00:14:51Z INFO Traefik version 3.0.0',
      'Stats collection is disabled. 203.0.113.9 - - [15/Jan/2025:10:32:01 +0000] "GET / HTTP/1.1" 200 1 "-" "-" 1 "r" "-" 1ms',
      ' Help us improve Traefik by turning this feature on :)',
    ]);
  });

  it('reads the formats.md example: <n>ms tail is the client-facing duration', () => {
    const record = onlyProxy(traefikClf, traefikClf.example);
    expect(record).toMatchObject({
      format: 'traefik-clf', startMs: Date.UTC(2025, 0, 15, 10, 32, 1), endMs: Date.UTC(2025, 0, 15, 10, 32, 1) + 84,
      timeResolutionMs: 1000, requestTimeMs: 84, status: 200, method: 'GET', path: '/v1/orders', query: 'limit=20',
      userAgent: 'okhttp/4.12.0', upstreamAddr: 'http://10.0.3.17:8080', upstreamLogged: false, bytesSent: 1834,
    });
  });

  it('reads status "-" (Traefik answered itself) as no upstream answer', () => {
    const record = onlyProxy(traefikClf, traefikClf.example.replace('200 1834', '- -').replace('"http://10.0.3.17:8080"', '"-"'));
    expect(record).toMatchObject({ status: null, upstreamLogged: true, upstreamStatus: null, bytesSent: null, upstreamAddr: null });
  });

  it('maps 499 to clientClosed and keeps the user name as identity', () => {
    const record = onlyProxy(traefikClf, traefikClf.example.replace(' - - [', ' - acme [').replace('200 1834', '499 0'));
    expect(record).toMatchObject({ clientClosed: true, apiKey: 'acme' });
  });

  it('reports malformed lines with code and field', () => {
    const { issues } = parseLines(traefikClf, [
      traefikClf.example.replace('84ms', '84'), traefikClf.example.replace('84ms', 'xms'), traefikClf.example.replace('+0000', '+00'),
    ]);
    expect(issues.map((issue) => [issue.code, issue.field])).toEqual([
      ['PARSE_NO_MATCH', 'Duration'], ['PARSE_BAD_FIELD', 'Duration'], ['PARSE_BAD_TIMESTAMP', 'StartUTC'],
    ]);
  });
});
