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

  it('reads Traefik 1.x\'s backend names (BackendAddr), as 2.x\'s ServiceAddr', () => {
    // geraldcroes/adeo-dev-summit-2018 traefik/access.log @c9f3f86d (MIT, as its package.json says; no LICENSE file): a real Traefik 1.6 log.
    const v1 = '{"BackendAddr":"172.25.0.3:80","BackendName":"backend-websocket-first","BackendURL":{"Scheme":"http","Opaque":"","User":null,"Host":"172.25.0.3:80","Path":"","RawPath":"","ForceQuery":false,"RawQuery":"","Fragment":""},"ClientAddr":"172.25.0.1:56578","ClientHost":"172.25.0.1","ClientPort":"56578","ClientUsername":"-","DownstreamContentSize":21,"DownstreamStatus":500,"DownstreamStatusLine":"500 Internal Server Error","Duration":1575142,"FrontendName":"Host-websocket-first-containous-demo-com-2","OriginContentSize":21,"OriginDuration":1226552,"OriginStatus":500,"OriginStatusLine":"500 Internal Server Error","Overhead":348590,"RequestAddr":"websocket.first.containous.demo.com","RequestContentSize":0,"RequestCount":11,"RequestHost":"websocket.first.containous.demo.com","RequestLine":"GET / HTTP/1.1","RequestMethod":"GET","RequestPath":"/","RequestPort":"-","RequestProtocol":"HTTP/1.1","RetryAttempts":0,"StartLocal":"2018-06-22T09:52:17.69308736Z","StartUTC":"2018-06-22T09:52:17.69308736Z","level":"info","msg":"","request_Accept-Encoding":"gzip, deflate","request_Accept-Language":"fr,en-US;q=0.9,en;q=0.8","request_Cache-Control":"no-cache","request_Connection":"Upgrade","request_Origin":"http://www.first.containous.demo.com","request_Pragma":"no-cache","request_Sec-Websocket-Extensions":"permessage-deflate; client_max_window_bits","request_Sec-Websocket-Key":"CzVIhuTEzSz5QTSaG6r8Ww==","request_Sec-Websocket-Version":"13","request_Upgrade":"websocket","request_User-Agent":"REDACTED","time":"2018-06-22T09:52:17Z"}';
    expect(onlyProxy(traefikJson, v1)).toMatchObject({ upstreamAddr: '172.25.0.3:80', status: 500, startMs: Date.UTC(2018, 5, 22, 9, 52, 17, 693), requestTimeMs: 1.575 });
  });

  it('reads an entry whose fields were filtered (fields.defaultMode drop): no StartUTC, the logger\'s time as the end', () => {
    const filtered = '{"ClientHost":"198.51.100.184","DownstreamStatus":404,"Duration":66240000,"RequestMethod":"GET","RequestPath":"/debug/pprof/","level":"info","msg":"","request_User-Agent":"CensysInspect/1.1","time":"2026-04-18T21:02:33-05:00"}';
    const end = Date.UTC(2026, 3, 19, 2, 2, 33);
    expect(onlyProxy(traefikJson, filtered)).toMatchObject({ endMs: end, startMs: end - 66, timeResolutionMs: 1000, requestTimeMs: 66.24, status: 404, path: '/debug/pprof/' });
    // `time` and `Duration` without Traefik's DownstreamStatus are any Go program's log, not Traefik's.
    const { records, issues } = parseLines(traefikJson, ['{"time":"2026-04-18T21:02:33-05:00","Duration":66240000,"msg":"done"}']);
    expect([records.length, issues.map((issue) => issue.field)]).toEqual([0, ['StartUTC']]);
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

  it('reads status 0, a WebSocket Traefik handed over (no status written), as the JSON log\'s DownstreamStatus 0; a status of 2 or 4 digits is bad', () => {
    const websocket = '198.51.100.12 - - [11/Nov/2024:11:14:33 +0000] "GET /api/live/ws HTTP/1.1" 0 0 "-" "-" 465 "https-grafana@docker" "http://172.18.0.5:3000" 3635457ms';
    expect(onlyProxy(traefikClf, websocket)).toMatchObject({ status: 0, requestTimeMs: 3_635_457, clientClosed: false, path: '/api/live/ws' });
    const { issues } = parseLines(traefikClf, [websocket.replace('" 0 0 ', '" 20 0 '), websocket.replace('" 0 0 ', '" 2000 0 ')]);
    expect(issues.map((issue) => issue.field)).toEqual(['OriginStatus', 'OriginStatus']);
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
