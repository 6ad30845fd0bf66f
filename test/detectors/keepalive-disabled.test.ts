import { describe, expect, it } from 'vitest';
import { keepaliveDisabled } from '../../src/detectors/keepalive-disabled.js';
import { emptyProxyRecord, type JoinedRequest } from '../../src/model/records.js';
import { cleanTraffic, keepaliveDisabled as scenario } from '../generators/scenarios.js';
import { runDetectors } from './run-detectors.js';

const run = (requests: readonly JoinedRequest[]) => runDetectors(requests, { detectors: [keepaliveDisabled] });

function connects(address: string, connectMs: (i: number) => number | null, count = 200, connectionRequests: number | null = null): JoinedRequest[] {
  return Array.from({ length: count }, (_, i) => {
    const proxy = Object.assign(emptyProxyRecord('nginx', 'a.log', i + 1, `line ${i}`), {
      upstreamLogged: true, upstreamStatus: 200, upstreamAttempts: 1, upstreamAddr: address, requestTimeMs: 50, upstreamTimeMs: 45,
      upstreamConnectTimeMs: connectMs(i), connectionRequests,
    });
    return { proxy, apm: null, method: 'none' as const, confidence: 0, offsetMs: null };
  });
}

describe('keep-alive disabled', () => {
  it('a new TLS connection on every request to one upstream: medium, with the latency it costs', () => {
    const s = scenario({ seed: 61 });
    const [finding, ...rest] = run(s.requests);
    expect(rest).toEqual([]);
    expect(finding!.figures.upstream).toBe(s.truth.keepaliveDisabledUpstream);
    expect(finding!.severity).toBe('medium');
    expect(Number(finding!.figures.newConnectionShare)).toBeGreaterThan(0.95);
    expect(Number(finding!.figures.meanConnectMs)).toBeGreaterThan(25);
    expect(Number(finding!.figures.latencyCostMs)).toBeGreaterThan(20);
  });

  it('says so where requests on new connections were no slower, rather than a cost of 0.0 ms', () => {
    // 3 requests in 4 open a connection of 2 ms; all take 45 ms upstream either way (as in a real HAProxy log: 2.1 ms both).
    const [finding] = run(connects('10.0.3.17:8080', (i) => (i % 4 === 0 ? 0 : 2)));
    expect(finding!.figures.latencyCostMs).toBe(0);
    expect(finding!.explanation).toContain('here requests on a new connection were no slower at the median (45.0 ms against 45.0 ms)');
    expect(finding!.explanation).not.toContain('about 0.0 ms');
  });

  it('stays silent on clean traffic (keep-alive on, a new connection now and then)', () => {
    for (const seed of [1, 2, 3]) expect(run(cleanTraffic({ seed }).requests)).toEqual([]);
  });

  it('nginx 0.000 on loopback is ambiguous: a mix of 0 and 1 ms is not reported as disabled', () => {
    expect(run(connects('127.0.0.1:8080', (i) => (i % 3 === 0 ? 1 : 0)))).toEqual([]);
  });

  it('a consistent 1 ms on loopback is reported, but only as low (the handshake is cheap)', () => {
    const [finding] = run(connects('127.0.0.1:8080', () => 1));
    expect(finding!.severity).toBe('low');
    expect(finding!.figures.loopback).toBe(true);
  });

  it('connect time compares groups on the same upstream: cost = slower median of new connections', () => {
    const requests = connects('10.1.1.1:443', (i) => (i % 2 === 0 ? 30 : 0));
    requests.forEach((r, i) => { if (i % 2 === 0) r.proxy!.upstreamTimeMs = 80; });
    const [finding] = run(requests);
    expect(finding!.figures.newConnectionShare).toBe(0.5);
    expect(Math.abs(Number(finding!.figures.latencyCostMs) - 35)).toBeLessThan(5);
  });

  it('too few measured requests, or no connect times at all: nothing', () => {
    expect(run(connects('10.1.1.1:443', () => 30, 20))).toEqual([]);
    expect(run(connects('10.1.1.1:443', () => null))).toEqual([]);
  });

  it('without connect times, connection_requests = 1 everywhere means clients do not reuse connections', () => {
    const [finding] = run(connects('10.1.1.1:443', () => null, 100, 1));
    expect(finding!.figures.side).toBe('client');
    expect(finding!.severity).toBe('low');
  });
});
