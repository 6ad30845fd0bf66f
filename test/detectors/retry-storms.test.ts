import { describe, expect, it } from 'vitest';
import { retryStorms } from '../../src/detectors/retry-storms.js';
import { emptyProxyRecord, type JoinedRequest } from '../../src/model/records.js';
import { cleanTraffic, retryStorm, upstreamTrouble } from '../generators/scenarios.js';
import { runDetectors } from './run-detectors.js';

const run = (requests: readonly JoinedRequest[]) => runDetectors(requests, { detectors: [retryStorms] });

function attempt(startMs: number, status: number, path = '/api/x'): JoinedRequest {
  const proxy = Object.assign(emptyProxyRecord('nginx', 'r.log', 1, `${status}`), {
    startMs, endMs: startMs + 10, requestTimeMs: 10, status, method: 'GET', path, apiKey: 'key_a', clientIp: '1.2.3.4',
  });
  return { proxy, apm: null, method: 'none', confidence: 0, offsetMs: null };
}

describe('retry storms', () => {
  it('finds the client that hammers a failing backend, with its amplification factor', () => {
    const s = retryStorm({ seed: 71 });
    const [finding, ...rest] = run(s.requests);
    expect(rest).toEqual([]);
    expect(finding!.figures.client).toBe(s.truth.stormClient);
    expect(['medium', 'high']).toContain(finding!.severity);
    expect(Math.abs(Number(finding!.figures.amplificationFactor) - s.truth.stormAmplification!)).toBeLessThan(0.2);
    expect(Number(finding!.figures.longestChain)).toBeGreaterThanOrEqual(4);
  });

  it('stays silent on clean traffic', () => {
    for (const seed of [1, 2, 3]) expect(run(cleanTraffic({ seed }).requests).filter((f) => f.severity !== 'info')).toEqual([]);
  });

  it('clients that revisit the same URL anyway are not storming when an upstream fails', () => {
    const findings = run(upstreamTrouble('burst', { seed: 72 }).requests);
    expect(findings.filter((f) => f.severity !== 'info')).toEqual([]);
  });

  it('counts a chain: 3 failures then success = 4 attempts for 1 request', () => {
    const requests: JoinedRequest[] = [];
    for (let i = 0; i < 30; i++) {
      const t = i * 60_000;
      const path = `/api/x/${i}`;
      requests.push(attempt(t, 503, path), attempt(t + 100, 503, path), attempt(t + 200, 503, path), attempt(t + 300, 200, path));
    }
    const [finding] = run(requests);
    expect(finding!.figures.amplificationFactor).toBe(4);
    expect(finding!.figures.retries).toBe(90);
    expect(finding!.figures.longestChain).toBe(4);
  });

  it('names its worst minute on a short log, and a wider window once the client has been seen for hours', () => {
    const chains = (hours: number): JoinedRequest[] => {
      const requests: JoinedRequest[] = [];
      for (let i = 0; i < 30; i++) {
        const t = Math.round((i * hours * 3_600_000) / 30);
        requests.push(attempt(t, 503, `/x/${i}`), attempt(t + 100, 503, `/x/${i}`), attempt(t + 200, 503, `/x/${i}`), attempt(t + 300, 200, `/x/${i}`));
      }
      return requests;
    };
    expect(run(chains(1))[0]!.explanation).toContain('in its worst minute (from ');
    // Five hours is more than its 120 one-minute buckets: they merged into 4-minute ones.
    expect(run(chains(5))[0]!.explanation).toContain('in its worst 4-minute window (from ');
  });

  it('a repeat after a success, or long after a failure, is not a retry', () => {
    const requests: JoinedRequest[] = [];
    for (let i = 0; i < 40; i++) requests.push(attempt(i * 60_000, 503, `/a/${i}`), attempt(i * 60_000 + 30_000, 503, `/a/${i}`));
    for (let i = 0; i < 40; i++) requests.push(attempt(5_000_000 + i * 100, 200, '/poll'));
    expect(run(requests.sort((a, b) => a.proxy!.endMs - b.proxy!.endMs))).toEqual([]);
  });

  it('finds retries in a log whose lines are a minute out of time order', () => {
    // nginx writes a line at the request's end: a slow request's line sits among lines of requests
    // that started up to a minute later. Those lines must not make it forget the failures before them.
    const requests: JoinedRequest[] = [];
    for (let i = 0; i < 30; i++) {
      const t = i * 120_000;
      const path = `/api/y/${i}`;
      const slow = attempt(t, 200, `/slow/${i}`);
      slow.proxy!.endMs = t + 60_000;
      requests.push(attempt(t, 503, path), slow, attempt(t + 2_000, 503, path), attempt(t + 4_000, 200, path));
    }
    const [finding] = run(requests);
    expect(finding!.figures.retries).toBe(60);
  });
});
