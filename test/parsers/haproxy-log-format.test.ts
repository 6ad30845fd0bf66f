import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { haproxyCaptureLayout, haproxyFormat } from '../../parsers/haproxy.js';
import { compileHaproxyLogFormat, haproxyLogFormats, HaproxyLogFormatError, parseHaproxyLogFormat, splitHaproxyLine } from '../../parsers/haproxy-log-format.js';
import type { ProxyRecord } from '../../src/model/records.js';
import { compileLogFormat } from '../../src/parse/workers/worker-formats.js';
import { onlyProxy, parseLines } from './parse-lines.js';

/**
 * HAProxy's custom log-format (configuration manual §8.2.6). The lines are a real HAProxy 2.6's,
 * two frontends each with its own log-format (test/fixtures/real-software/haproxy-log-format).
 */
const CAPTURE = resolve(import.meta.dirname, '../fixtures/real-software/haproxy-log-format');
const config = readFileSync(join(CAPTURE, 'haproxy.cfg'), 'utf8');
const logLines = gunzipSync(readFileSync(join(CAPTURE, 'haproxy.log.gz'))).toString('utf8').split('\n').filter((line) => line !== '');
const configured = haproxyFormat(haproxyCaptureLayout(config), haproxyLogFormats(config));

/** `07/Dec/2026:23:14:33 +0000` (HAProxy's %trg) as epoch ms, through an ISO string. */
function gmtDate(text: string): number {
  const [, day, month, year, time] = /^(\d{2})\/(\w{3})\/(\d{4}):(\S+) \+0000$/.exec(text)!;
  return Date.parse(`${day} ${month} ${year} ${time} GMT`);
}

describe('an HAProxy log-format string', () => {
  it('is text and values: a name is the letters after %, %{+Q} quotes one value and %{+Q}o every later one, %[…] is a sample, %% a percent', () => {
    expect(parseHaproxyLogFormat('%ci:%cp [%tr] %{+Q}r %[capture.req.hdr(0)] 100%%')).toEqual([
      { kind: 'value', name: 'ci', quoted: false }, { kind: 'text', text: ':' }, { kind: 'value', name: 'cp', quoted: false },
      { kind: 'text', text: ' [' }, { kind: 'value', name: 'tr', quoted: false }, { kind: 'text', text: '] ' },
      { kind: 'value', name: 'r', quoted: true }, { kind: 'text', text: ' ' },
      { kind: 'value', name: '[capture.req.hdr(0)]', quoted: false }, { kind: 'text', text: ' 100%' },
    ]);
    expect(parseHaproxyLogFormat('%{+Q}o %{-Q}ci %ft %[var(txn.route),lower]').filter((part) => part.kind === 'value')).toEqual([
      { kind: 'value', name: 'ci', quoted: false }, { kind: 'value', name: 'ft', quoted: true }, { kind: 'value', name: '[var(txn.route),lower]', quoted: true },
    ]);
  });

  it('may start from a built-in layout (HAProxy 2.7+ `${HAPROXY_HTTP_LOG_FMT}`)', () => {
    const names = parseHaproxyLogFormat('${HAPROXY_HTTP_LOG_FMT} %[unique-id]').filter((part) => part.kind === 'value').map((part) => part.name);
    expect(names.slice(0, 4)).toEqual(['ci', 'cp', 'tr', 'ft']);
    expect(names.at(-1)).toBe('[unique-id]');
  });

  it('comes from haproxy.cfg as HAProxy unquotes it: double quotes with escapes, single quotes as is, escaped spaces, a comment after', () => {
    const cfg = [
      'defaults',
      '  log-format "%ci [%tr] \\"%r\\" %ST" # quoted',
      "frontend a\n  log-format '{\"c\":\"%ci\",\"t\":\"%trg\"}'",
      'frontend b\n  log-format %ci\\ [%tr]\\ %ST',
      'frontend c\n  log-format "%ci [%tr] \\"%r\\" %ST"',
    ].join('\n');
    expect(haproxyLogFormats(cfg)).toEqual(['%ci [%tr] "%r" %ST', '{"c":"%ci","t":"%trg"}', '%ci [%tr] %ST']);
  });

  it('may be given as the directive alone (`--log-format \'log-format "…"\'`), not only in an haproxy.cfg', () => {
    const format = compileLogFormat('log-format "%ci [%trg] %ST %B %Ta \\"%r\\""');
    expect(format.id).toBe('haproxy');
    expect(onlyProxy(format, '192.0.2.4 [07/Dec/2026:23:14:33 +0000] 404 120 3 "GET /missing?x=1 HTTP/1.1"')).toMatchObject({
      clientIp: '192.0.2.4', startMs: Date.UTC(2026, 11, 7, 23, 14, 33), status: 404, requestTimeMs: 3, path: '/missing', query: 'x=1',
      // Neither %s nor %Tr: whether a backend answered is not in this log.
      upstreamLogged: false, upstreamAddr: null,
    });
  });

  it('is refused when it logs no date, or puts two values with nothing between them', () => {
    expect(() => compileHaproxyLogFormat('%ci %ST %B')).toThrow(HaproxyLogFormatError);
    expect(() => compileHaproxyLogFormat('[%tr] %ci%cp')).toThrow(/%ci and %cp have no text between them/);
  });

  it('splits a line at the text between values; the last text-like value (a user agent) is cut from the right', () => {
    const format = compileHaproxyLogFormat('[%tr] %ST %[capture.req.hdr(0)] %B');
    expect(splitHaproxyLine(format, '[07/Dec/2026:23:14:31.981] 200 Mozilla/5.0 (X11; Linux) 150')).toEqual(new Map([
      ['tr', '07/Dec/2026:23:14:31.981'], ['ST', '200'], ['[capture.req.hdr(0)]', 'Mozilla/5.0 (X11; Linux)'], ['B', '150'],
    ]));
    expect(splitHaproxyLine(format, '07/Dec/2026 200 x 150')).toMatch(/does not start with/);
  });
});

describe('haproxy with the configuration\'s log-formats, on a real HAProxy 2.6\'s lines', () => {
  const textLine = logLines.find((line) => line.includes(' fe_text ') && line.includes('/v1/orders/5?'))!;
  const timedOut = logLines.find((line) => line.includes(' fe_text ') && line.includes(' sH-- '))!;
  const noServer = logLines.find((line) => line.includes(' fe_text ') && line.includes('<NOSRV>'))!;

  it('reads a text line: the request date to the ms, timers, server, request, the unique id and the captured key and user agent', () => {
    expect(textLine).toBe('127.0.0.1:58562 [07/Dec/2026:23:14:31.981] fe_text be_app/app1 200 150 0/0/0/89/89 ---- 0 7F000001:E4C2_7F000001:4741_6B173DD7_0000:64F3 "GET /v1/orders/5?limit=20 HTTP/1.1" "k_orders" "orders-client/1.0"');
    const start = Date.UTC(2026, 11, 7, 23, 14, 31, 981);
    expect(onlyProxy(configured, textLine)).toMatchObject({
      startMs: start, endMs: start + 89, timeResolutionMs: 1, requestTimeMs: 89, status: 200, bytesSent: 150,
      method: 'GET', path: '/v1/orders/5', query: 'limit=20', clientIp: '127.0.0.1', apiKey: 'k_orders', userAgent: 'orders-client/1.0',
      requestId: '7F000001:E4C2_7F000001:4741_6B173DD7_0000:64F3',
      upstreamAddr: 'be_app/app1', upstreamStatus: 200, upstreamTimeMs: 89, upstreamAttempts: 1, upstreamLogged: true, clientClosed: false,
    });
  });

  it('reads a server timeout (sH, Tr -1) as the server holding the request until HAProxy gave up, and <NOSRV> as no backend tried', () => {
    expect(onlyProxy(configured, timedOut)).toMatchObject({ status: 504, flags: 'sH--', upstreamStatus: null, upstreamTimeMs: expect.any(Number) as number });
    expect(onlyProxy(configured, timedOut).upstreamTimeMs).toBeGreaterThanOrEqual(2000);
    expect(onlyProxy(configured, noServer)).toMatchObject({ status: 503, flags: 'SC--', upstreamAddr: null, upstreamAttempts: 0, apiKey: null });
  });

  it('reads every JSON line as JSON.parse reads it: status, bytes, timers, URI, key (`-` when none was sent) and the date (GMT, to the second)', () => {
    const jsonLines = logLines.filter((line) => line.startsWith('{'));
    expect(jsonLines.length).toBe(44);
    const read = parseLines(configured, jsonLines);
    expect(read.issues).toEqual([]);
    expect(read.records).toHaveLength(jsonLines.length);
    read.records.forEach((record, i) => {
      const truth = JSON.parse(jsonLines[i]!) as Record<string, string | number>;
      const proxy = record as ProxyRecord;
      const uri = String(truth.uri);
      expect({
        status: proxy.status, bytes: proxy.bytesSent, total: proxy.requestTimeMs, connect: proxy.upstreamConnectTimeMs,
        target: proxy.query === null ? proxy.path : `${proxy.path}?${proxy.query}`, key: proxy.apiKey, ua: proxy.userAgent,
        start: proxy.startMs, upstream: proxy.upstreamAddr, flags: proxy.flags ?? '----',
      }).toEqual({
        status: truth.status, bytes: truth.bytes, total: truth.Ta, connect: truth.srv === '<NOSRV>' || truth.Tc === -1 ? null : truth.Tc,
        target: uri, key: truth.key === '-' ? null : truth.key, ua: truth.ua,
        start: gmtDate(String(truth.accept)), upstream: truth.srv === '<NOSRV>' ? null : `${truth.be}/${truth.srv}`, flags: truth.term,
      });
      expect(proxy.timeResolutionMs).toBe(1000);
    });
  });

  it('reads the whole run: every request line, HAProxy\'s own notices ignored', () => {
    const read = parseLines(configured, logLines);
    expect(read.issues).toEqual([]);
    expect([read.records.length, read.ignored]).toEqual([88, logLines.length - 88]);
    const proxies = read.records as ProxyRecord[];
    expect(proxies.filter((record) => record.status === 504)).toHaveLength(10);
    expect(proxies.filter((record) => record.status === 503 && record.upstreamAttempts === 0)).toHaveLength(8);
  });

  it('still reads option httplog lines beside them, and names the log-format when a line fits neither', () => {
    const httplog = 'Jan 15 10:32:01 lb1 haproxy[2211]: 198.51.100.7:53122 [15/Jan/2025:10:31:31.901] fe_api~ be_api/app3 0/0/1/-1/30004 504 198 - - sH-- 312/298/41/12/0 0/0 "POST /v1/reports HTTP/1.1"';
    expect(onlyProxy(configured, httplog)).toMatchObject({ status: 504, path: '/v1/reports' });
    const read = parseLines(configured, ['127.0.0.1:1 [07/Dec/2026:23:14:31.981] fe_text something else entirely']);
    expect(read.issues.map((issue) => [issue.code, issue.field])).toEqual([['PARSE_NO_MATCH', 'log-format']]);
    expect(read.issues[0]!.message).toMatch(/configuration's log-format/);
  });

  it('reads a line behind a syslog header: RFC 3164\'s tag, or RFC 5424\'s, whose zone places the local request date', () => {
    const body = textLine;
    expect(onlyProxy(configured, `Dec  7 23:14:31 lb1 haproxy[25843]: ${body}`)).toMatchObject({ startMs: Date.UTC(2026, 11, 7, 23, 14, 31, 981), clientIp: '127.0.0.1' });
    expect(onlyProxy(configured, `<134>1 2026-12-08T00:14:31.990+01:00 lb1 haproxy 25843 - - ${body}`).startMs).toBe(Date.UTC(2026, 11, 7, 22, 14, 31, 981));
  });

  it('reports a value that is there but wrong by its variable', () => {
    const read = parseLines(configured, [textLine.replace(' 0/0/0/89/89 ', ' 0/0/x/89/89 ')]);
    expect(read.issues.map((issue) => [issue.code, issue.field, issue.message])).toEqual([['PARSE_BAD_FIELD', 'Tc', 'bad timer "x"']]);
  });
});
