import { describe, expect, it } from 'vitest';
import { haproxy } from '../../parsers/haproxy.js';
import { onlyProxy, parseLines } from './parse-lines.js';

// docs/formats.md, HAProxy: [%tr] = START (local time, ms, read as UTC); timers in ms with -1.
const OK = '203.0.113.24:53122 [15/Jan/2025:10:32:01.373] fe_api~ be_api/app3 0/0/1/81/84 200 2101 - - ---- 312/298/41/12/0 0/0 "GET /v1/orders?limit=20 HTTP/1.1"';
const START = Date.UTC(2025, 0, 15, 10, 32, 1, 373);

describe('haproxy', () => {
  it('maps an httplog line without syslog prefix', () => {
    const record = onlyProxy(haproxy, OK);
    expect(record).toMatchObject({
      format: 'haproxy', startMs: START, endMs: START + 84, timeResolutionMs: 1, requestTimeMs: 84,
      method: 'GET', path: '/v1/orders', query: 'limit=20', status: 200, bytesSent: 2101,
      upstreamLogged: true, upstreamStatus: 200, upstreamTimeMs: 81, upstreamHeaderTimeMs: 81, upstreamConnectTimeMs: 1,
      upstreamAddr: 'be_api/app3', upstreamAttempts: 1, clientIp: '203.0.113.24', flags: null, clientClosed: false,
    });
  });

  it('reads the formats.md syslog example: sH, Tr = -1 means no upstream answer', () => {
    const record = onlyProxy(haproxy, haproxy.example);
    expect(record).toMatchObject({
      startMs: Date.UTC(2025, 0, 15, 10, 31, 31, 901), requestTimeMs: 30004, status: 504, flags: 'sH--',
      upstreamStatus: null, upstreamTimeMs: null, upstreamConnectTimeMs: 1, clientClosed: false, clientIp: '198.51.100.7',
    });
  });

  it('maps CH (client aborted while waiting) to clientClosed, tolerating status -1', () => {
    const record = onlyProxy(haproxy, OK.replace('0/0/1/81/84 200', '0/0/1/-1/12000 -1').replace('----', 'CH--'));
    expect(record).toMatchObject({ clientClosed: true, status: null, upstreamStatus: null, flags: 'CH--', requestTimeMs: 12000 });
  });

  it('maps a client timeout (cR) to clientClosed', () => {
    const record = onlyProxy(haproxy, OK.replace('0/0/1/81/84 200', '-1/-1/-1/-1/5001 408').replace('be_api/app3', 'be_api/<NOSRV>').replace('----', 'cR--'));
    expect(record.clientClosed).toBe(true);
  });

  it('maps <NOSRV> to no upstream at all', () => {
    const record = onlyProxy(haproxy, OK.replace('be_api/app3 0/0/1/81/84 200', 'be_api/<NOSRV> 0/-1/-1/-1/0 503').replace('----', 'SC--'));
    expect(record).toMatchObject({
      status: 503, upstreamStatus: null, upstreamAddr: null, upstreamAttempts: 0, upstreamConnectTimeMs: null, upstreamTimeMs: null, flags: 'SC--',
    });
  });

  it('counts retries and reads IPv6 clients', () => {
    const record = onlyProxy(haproxy, OK.replace('203.0.113.24:53122', '2001:db8::7:443').replace('312/298/41/12/0', '312/298/41/12/+1'));
    expect(record.clientIp).toBe('2001:db8::7');
    expect(record.upstreamAttempts).toBe(2);
  });

  it('skips header captures that contain spaces, and keeps <BADREQ> pathless', () => {
    const captured = onlyProxy(haproxy, OK.replace('0/0 "GET', '0/0 {api.example.com|Mozilla/5.0 (X11; Linux x86_64)} {} "GET'));
    expect(captured.path).toBe('/v1/orders');
    const bad = onlyProxy(haproxy, OK.replace('"GET /v1/orders?limit=20 HTTP/1.1"', '"<BADREQ>"').replace('----', 'PR--'));
    expect(bad.method).toBeNull();
    expect(bad.path).toBeNull();
  });

  it('accepts logasap totals (+Ta)', () => {
    expect(onlyProxy(haproxy, OK.replace('/84 200', '/+84 200')).requestTimeMs).toBe(84);
  });

  it('reports malformed lines with code and field', () => {
    const { records, issues, ignored } = parseLines(haproxy, [
      OK.replace('0/0/1/81/84', '0/0/1/81'),
      OK.replace('0/0/1/81/84', '0/0/x/81/84'),
      OK.replace('15/Jan/2025:10:32:01.373', '15/Jan/2025:10:99:01.373'),
      'Jan 15 10:32:01 lb1 haproxy[2211]: Proxy fe_api started.',
      '',
    ]);
    expect(records).toHaveLength(0);
    expect(ignored).toBe(1);
    expect(issues.map((issue) => [issue.code, issue.field])).toEqual([
      ['PARSE_NO_MATCH', 'TR/Tw/Tc/Tr/Ta'],
      ['PARSE_BAD_FIELD', 'Tc'],
      ['PARSE_BAD_TIMESTAMP', 'tr'],
      ['PARSE_NO_MATCH', 'tr'],
    ]);
  });
});
