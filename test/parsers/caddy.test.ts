import { describe, expect, it } from 'vitest';
import { caddy } from '../../parsers/caddy.js';
import { FORMATS } from '../../parsers/registry.js';
import { detectFirstLines } from '../../parsers/detect.js';
import { onlyProxy, parseLines } from './parse-lines.js';

// docs/formats.md, Caddy. Real lines: crowdsecurity/hub `.tests/caddy-logs/caddy-logs.log`
// (01fba836aa4eb7dc62db041a7c16fb4fa0ef6aa5, MIT): curl against two Caddy instances.
const REAL = [
  '{"level":"info","ts":1693840791.7564995,"logger":"http.log.access","msg":"handled request","request":{"remote_ip":"172.17.0.1","remote_port":"44790","client_ip":"127.0.0.1","proto":"HTTP/1.0","method":"GET","host":"127.0.0.1:8080","uri":"/","headers":{"X-Forwarded-Port":["80"],"X-Real-Ip":["127.0.0.1"],"Forwarded":["for=127.0.0.1"],"X-Forwarded-Host":["127.0.0.1"],"User-Agent":["curl/7.74.0"],"Accept":["*/*"],"Connection":["close"],"X-Forwarded-For":["127.0.0.1"],"X-Forwarded-Proto":["http"]}},"bytes_read":0,"user_id":"","duration":0.000002701,"size":0,"status":0,"resp_headers":{"Server":["Caddy"]}}',
  '{"level":"error","ts":1711741798.0391326,"logger":"http.log.access.log0","msg":"handled request","request":{"remote_ip":"127.0.0.1","remote_port":"46944","client_ip":"127.0.0.1","proto":"HTTP/1.1","method":"GET","host":"localhost:9080","uri":"/","headers":{"Authorization":[],"User-Agent":["curl/7.88.1"],"Accept":["*/*"]}},"bytes_read":0,"user_id":"","duration":0.782670468,"size":0,"status":401,"resp_headers":{"Server":["Caddy"],"Www-Authenticate":["Basic realm=\\"restricted\\""]}}',
  caddy.realSamples![0]!.lines[0]!,
];

describe('caddy', () => {
  it('reads the real access entries: ts is the end, duration in seconds, client_ip over remote_ip, user_id as the key', () => {
    const { records, issues } = parseLines(caddy, REAL);
    expect(issues).toEqual([]);
    expect(records.map((r) => r.kind === 'proxy' && [r.status, r.requestTimeMs, r.clientIp, r.apiKey, r.userAgent, r.method, r.path])).toEqual([
      // Status 0: no handler wrote one (or, in older Caddy, the client left first): unknown.
      [null, 0.003, '127.0.0.1', null, 'curl/7.74.0', 'GET', '/'],
      [401, 782.67, '127.0.0.1', null, 'curl/7.88.1', 'GET', '/'],
      [200, 794.682, '127.0.0.1', 'Bob', 'curl/7.88.1', 'GET', '/'],
    ]);
    const last = records[2]!;
    expect(last.kind === 'proxy' && [last.endMs, last.timeResolutionMs, last.bytesSent, last.upstreamLogged]).toEqual([1711741864947.103, 1, 18630, false]);
    expect(last.startMs).toBeCloseTo(1711741864152.421, 3);
  });

  it('is detected on them, and not taken for Traefik\'s or Tyk\'s own Go logger lines', () => {
    expect(detectFirstLines(FORMATS, 'access.log', REAL).best?.format.id).toBe('caddy');
  });

  it('reads the console encoder: time, level, logger and message, tab-separated, then the fields as JSON; its time is local', () => {
    // zap's console encoder as Caddy configures it (`format console`): the wall time with ms.
    const console = `2024/01/23 23:27:57.060\tinfo\thttp.log.access.log0\thandled request\t{"request": {"remote_ip": "::1", "remote_port": "57846", "client_ip": "::1", "proto": "HTTP/1.1", "method": "POST", "host": "localhost:2080", "uri": "/api/realtime?x=1", "headers": {"User-Agent": ["Mozilla/5.0"]}}, "bytes_read": 84, "user_id": "", "duration": 0.001533, "size": 2, "status": 200, "resp_headers": {"Content-Type": ["application/json"]}}`;
    const utc = parseLines(caddy, [console]);
    expect(utc.warnings.map((w) => w.code)).toEqual(['PARSE_TIME_GUESSED']);
    expect(utc.records[0]).toMatchObject({ endMs: Date.UTC(2024, 0, 23, 23, 27, 57, 60), status: 200, method: 'POST', path: '/api/realtime', query: 'x=1', clientIp: '::1', requestTimeMs: 1.533 });
    const paris = parseLines(caddy, [console], undefined, 'Europe/Paris');
    expect(paris.warnings).toEqual([]);
    expect(paris.records[0]).toMatchObject({ endMs: Date.UTC(2024, 0, 23, 22, 27, 57, 60) });
  });

  it('ignores Caddy\'s other loggers (an upstream\'s failure, TLS, start-up), in either encoder', () => {
    const read = parseLines(caddy, [
      // reverse_proxy's failure is logged by http.log.error, beside the access entry of its 502.
      '{"level":"error","ts":1646861401.52,"logger":"http.log.error","msg":"dial tcp 127.0.0.1:8080: connect: connection refused","request":{"remote_ip":"127.0.0.1","method":"GET","host":"localhost","uri":"/"},"duration":0.0011,"status":502,"err_id":"x","err_trace":"reverseproxy.statusError (reverseproxy.go:1267)"}',
      '{"level":"info","ts":1646861400.1,"logger":"tls.obtain","msg":"certificate obtained successfully","identifier":"example.com"}',
      '2024/01/23 23:27:50.001\tinfo\tserving initial configuration',
      '2022/04/11 07:00:22.364\tINFO\ttls.cache.maintenance\tstarted background certificate maintenance\t{"cache": "0x140001717a0"}',
    ]);
    expect([read.records.length, read.issues.length, read.ignored]).toEqual([0, 0, 4]);
  });

  it('reads a duration written as a Go duration, and a ts written as text', () => {
    const entry = JSON.parse(caddy.example) as Record<string, unknown>;
    expect(onlyProxy(caddy, JSON.stringify({ ...entry, duration: '1m2.5s' })).requestTimeMs).toBe(62_500);
    expect(onlyProxy(caddy, JSON.stringify({ ...entry, duration: '250µs' })).requestTimeMs).toBe(0.25);
    expect(onlyProxy(caddy, JSON.stringify({ ...entry, ts: '2025-01-15T10:32:01.457Z' })).endMs).toBe(Date.UTC(2025, 0, 15, 10, 32, 1, 457));
  });

  it('reports a bad status, time or duration, and a line that is no Caddy entry, as malformed lines', () => {
    const entry = JSON.parse(caddy.example) as Record<string, unknown>;
    const read = parseLines(caddy, [
      JSON.stringify({ ...entry, status: 'ok' }),
      JSON.stringify({ ...entry, ts: 'yesterday' }),
      JSON.stringify({ ...entry, duration: '5 minutes' }),
      JSON.stringify({ ...entry, request: 'GET /' }),
      'GET / HTTP/1.1',
    ]);
    expect(read.records).toEqual([]);
    expect(read.issues.map((issue) => [issue.code, issue.field])).toEqual([
      ['PARSE_BAD_FIELD', 'status'], ['PARSE_BAD_TIMESTAMP', 'ts'], ['PARSE_BAD_FIELD', 'duration'], ['PARSE_NO_MATCH', 'request'], ['PARSE_NO_MATCH', 'ts'],
    ]);
  });

  it('says 499 is the client leaving (recent Caddy)', () => {
    const entry = JSON.parse(caddy.example) as Record<string, unknown>;
    expect(onlyProxy(caddy, JSON.stringify({ ...entry, status: 499 })).clientClosed).toBe(true);
  });
});
