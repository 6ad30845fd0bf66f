import { describe, expect, it } from 'vitest';
import { clientTimeoutKnee, findKnee } from '../../src/detectors/client-timeout-knee.js';
import { timeoutWalls } from '../../src/detectors/timeout-walls.js';
import { fitSegmented } from '../../src/statistics/knee-breakpoint.js';
import { emptyProxyRecord, type JoinedRequest } from '../../src/model/records.js';
import { apiGatewayWall, cleanTraffic, foundingCase } from '../generators/scenarios.js';
import { ofKind, runDetectors } from './run-detectors.js';

const knee = (requests: Parameters<typeof runDetectors>[0]) => runDetectors(requests, { detectors: [clientTimeoutKnee] });

describe('client-timeout knee', () => {
  for (const timeout of [4.67, 5, 10]) {
    it(`estimates a ${timeout} s client timeout within 0.05 s, with APM, and names the client`, () => {
      const scenario = foundingCase({ seed: 11 }, timeout);
      const [finding] = knee(scenario.requests);
      expect(finding?.severity).toBe('high');
      expect(Math.abs(Number(finding!.figures.timeoutSeconds) - timeout)).toBeLessThan(0.05);
      expect(finding!.figures.topCohort).toBe(scenario.truth.kneeUserAgent);
      expect(finding!.figures.topCohortShareOfKnee).toBeGreaterThan(0.9);
      expect(finding!.evidence.length).toBeGreaterThan(0);
      expect(finding!.evidence[0]!.file).toBe('scenario.log');
    });
  }

  it('is confirmed by the segmented regression: slope 1, then flat at T', () => {
    const [finding] = knee(foundingCase({ seed: 12 }, 5).requests);
    expect(finding!.figures.breakpointAgrees).toBe(true);
    expect(Math.abs(Number(finding!.figures.breakpointPlateauSeconds) - 5)).toBeLessThan(0.05);
    expect(Number(finding!.figures.breakpointSlopeBefore)).toBeGreaterThan(0.9);
    expect(Math.abs(Number(finding!.figures.breakpointSlopeAfter))).toBeLessThan(0.1);
  });

  it('finds the knee without APM from the wall of client-closed / upstream-less times, as high as its impact (a tenth of all requests)', () => {
    const scenario = foundingCase({ seed: 13, withApm: false }, 4.67);
    const [finding] = knee(scenario.requests);
    expect(Number(finding!.figures.shareOfAllRequests)).toBeGreaterThan(0.05);
    expect(finding?.severity).toBe('high');
    expect(finding!.figures.basedOnApm).toBe(false);
    expect(finding!.figures.breakpointSeconds).toBeNull();
    expect(Math.abs(Number(finding!.figures.timeoutSeconds) - 4.67)).toBeLessThan(0.05);
    expect(finding!.figures.topCohort).toBe(scenario.truth.kneeUserAgent);
  });

  it('stays silent on clean traffic, with and without APM', () => {
    for (const seed of [1, 2, 3]) {
      expect(knee(cleanTraffic({ seed }).requests)).toEqual([]);
      expect(knee(cleanTraffic({ seed, withApm: false }).requests)).toEqual([]);
    }
  });

  it('leaves a gateway timeout (504 at 29 s) to the wall detector', () => {
    expect(ofKind(knee(apiGatewayWall({ seed: 4, withApm: false }).requests), 'client-timeout-knee')).toEqual([]);
    expect(ofKind(knee(apiGatewayWall({ seed: 4 }).requests), 'client-timeout-knee')).toEqual([]);
  });

  it('findKnee: a spread of cut-off times is no knee; a pile is', () => {
    const spread = new Uint32Array(60_001);
    for (let i = 100; i < 6000; i += 50) spread[i] = 1;
    expect(findKnee(spread, 118)).toBeNull();
    const pile = new Uint32Array(60_001);
    for (let i = 100; i < 6000; i += 50) pile[i] = 1;
    pile[1000] = 40;
    pile[1001] = 40;
    const found = findKnee(pile, 198);
    expect(found).not.toBeNull();
    expect(Math.abs(found!.timeoutMs - 5005)).toBeLessThanOrEqual(10);
  });

  it('findKnee: every cut-off request in one 25 ms pile is the cleanest knee, not "no peak"', () => {
    const pile = new Uint32Array(60_001);
    for (let i = 928; i < 933; i++) pile[i] = 139;
    const found = findKnee(pile, 695);
    expect(found).not.toBeNull();
    expect(Math.abs(found!.timeoutMs - 4650)).toBeLessThanOrEqual(15);
  });

  it('fitSegmented: recovers a break between y = x and a plateau, and needs points on both sides', () => {
    const points = Array.from({ length: 40 }, (_, i) => {
      const x = 0.25 * (i + 0.5);
      return { x, y: Math.min(x, 3.2), n: 10 };
    });
    const fit = fitSegmented(points)!;
    expect(Math.abs(fit.plateauMs - 3200)).toBeLessThan(60);
    expect(fit.slopeAfter).toBeCloseTo(0, 1);
    expect(fitSegmented(points.slice(0, 4))).toBeNull();
  });

  it('names the user agent, not the network every client shares, when one other client also ends at the knee', () => {
    // All clients behind one NAT (one /24): the network is 100% of the knee but only a sliver of its
    // own requests end there; the exporter's user agent is nearly all of the knee and ends there mostly.
    const requests: JoinedRequest[] = [];
    const add = (i: number, userAgent: string, clientMs: number, backendMs: number): void => {
      const proxy = Object.assign(emptyProxyRecord('nginx', 'nat.log', i + 1, 'line'), {
        startMs: i * 1_000, endMs: i * 1_000 + clientMs, requestTimeMs: clientMs, status: clientMs < backendMs ? 499 : 200,
        clientClosed: clientMs < backendMs, upstreamLogged: true, upstreamAddr: '10.0.0.9:8080', upstreamStatus: clientMs < backendMs ? null : 200,
        clientIp: `127.0.0.${1 + (i % 200)}`, userAgent, method: 'GET', path: `/v2/x/${i}`,
      });
      const apm = { kind: 'apm' as const, format: 'x', file: 'apm', line: i + 1, startMs: i * 1_000, durationMs: backendMs, queueMs: null, name: null,
        method: null, path: null, status: null, userAgent: null, host: null, traceId: null, requestId: null, apiKey: null, raw: '' };
      requests.push({ proxy, apm, method: 'heuristic', confidence: 1, offsetMs: 0 });
    };
    let i = 0;
    for (let k = 0; k < 90; k++) add(i++, 'exporter/1.0', 3_000 + (k % 5), 20_000);
    for (let k = 0; k < 20; k++) add(i++, 'exporter/1.0', 800, 800);
    add(i++, 'Mozilla/5.0', 3_002, 9_000);
    for (let k = 0; k < 2_000; k++) add(i++, 'Mozilla/5.0', 200 + (k % 700), 200 + (k % 700));
    const [finding] = knee(requests.sort((a, b) => a.proxy!.endMs - b.proxy!.endMs));
    expect(Math.abs(Number(finding!.figures.timeoutSeconds) - 3)).toBeLessThan(0.05);
    expect(finding!.figures.topCohortDimension).toBe('userAgent');
    expect(finding!.figures.topCohort).toBe('exporter/1.0');
  });

  it("counts a cohort's own requests among those with a client time: lines without one could never be at the knee", () => {
    const requests: JoinedRequest[] = [];
    const add = (i: number, clientMs: number | null): void => {
      const proxy = Object.assign(emptyProxyRecord('nginx', 'x.log', i + 1, 'line'), {
        startMs: i * 1_000, endMs: i * 1_000 + (clientMs ?? 0), requestTimeMs: clientMs, status: 499, clientClosed: true,
        upstreamLogged: true, upstreamAddr: '10.0.0.9:8080', upstreamStatus: null,
        clientIp: '127.0.0.1', userAgent: 'exporter/1.0', method: 'GET', path: `/v2/x/${i}`,
      });
      requests.push({ proxy, apm: null, method: 'none', confidence: 0, offsetMs: null });
    };
    let i = 0;
    for (let k = 0; k < 60; k++) add(i++, 3_000 + (k % 5));
    for (let k = 0; k < 60; k++) add(i++, 600 + 30 * k);
    // The same client's lines without a request time (a second log_format without $request_time).
    for (let k = 0; k < 1_000; k++) add(i++, null);
    const [finding] = knee(requests);
    expect(finding!.figures.topCohort).toBe('exporter/1.0');
    expect(finding!.figures.topCohortShareOfOwnRequests).toBe(0.5);
  });

  it("counts a cohort's own requests among those that ran 0.5 s or more: a client's fast calls do not hide that its slow ones all end at the knee", () => {
    const requests: JoinedRequest[] = [];
    let i = 0;
    const add = (clientMs: number, backendMs: number): void => {
      const proxy = Object.assign(emptyProxyRecord('nginx', 'x.log', i + 1, 'line'), {
        startMs: i * 100, endMs: i * 100 + clientMs, requestTimeMs: clientMs, status: clientMs < backendMs ? 499 : 200,
        clientClosed: clientMs < backendMs, upstreamLogged: true, upstreamAddr: '10.0.0.9:8080', upstreamStatus: clientMs < backendMs ? null : 200,
        clientIp: '127.0.0.1', userAgent: 'mobile-app/7.1', method: 'GET', path: `/v2/x/${i}`,
      });
      const apm = { kind: 'apm' as const, format: 'x', file: 'apm', line: i + 1, startMs: i * 100, durationMs: backendMs, queueMs: null, name: null,
        method: null, path: null, status: null, userAgent: null, host: null, traceId: null, requestId: null, apiKey: null, raw: '' };
      requests.push({ proxy, apm, method: 'heuristic', confidence: 1, offsetMs: 0 });
      i++;
    };
    for (let k = 0; k < 50; k++) add(5_000 + (k % 7), 12_000 + 100 * k);
    for (let k = 0; k < 10_000; k++) add(40 + (k % 200), 40 + (k % 200));
    const [finding] = knee(requests);
    expect(finding!.figures.topCohort).toBe('mobile-app/7.1');
    expect(finding!.figures.topCohortShareOfOwnRequests).toBe(1);
    expect(finding!.explanation).toContain("100.0% of that client's requests that ran 0.5 s or more end there");
    // The sentence cites the figure as the reports print it (one set of numbers).
    expect(finding!.figures.topCohortShareOfOwnRequests).toBe(1);
  });
});

describe('client-timeout knee: one knee per client timeout', () => {
  /** nginx without APM: two clients with their own timeouts hammer slow endpoints; everyone else is fast. */
  function twoCohorts(withApm: boolean): JoinedRequest[] {
    const requests: JoinedRequest[] = [];
    let i = 0;
    const add = (userAgent: string, apiKey: string, ip: string, timeoutMs: number | null, backendMs: number): void => {
      const cut = timeoutMs !== null && backendMs > timeoutMs;
      const clientMs = cut ? timeoutMs + (i % 7) : backendMs + 1;
      const proxy = Object.assign(emptyProxyRecord('nginx', 'access.log', i + 1, `line ${i + 1}`), {
        startMs: i * 200, endMs: i * 200 + clientMs, requestTimeMs: clientMs, status: cut ? 499 : 200, clientClosed: cut,
        upstreamLogged: true, upstreamAddr: '127.0.0.1:8080', upstreamAttempts: 1, upstreamStatus: cut ? null : 200,
        upstreamTimeMs: clientMs, clientIp: ip, userAgent, apiKey, method: 'GET', path: `/v1/reports/${i}`,
      });
      const apm = withApm ? { kind: 'apm' as const, format: 'x', file: 'apm', line: i + 1, startMs: i * 200, durationMs: backendMs, queueMs: null, name: null,
        method: null, path: null, status: null, userAgent: null, host: null, traceId: null, requestId: null, apiKey: null, raw: '' } : null;
      requests.push({ proxy, apm, method: apm ? 'heuristic' : 'none', confidence: apm ? 1 : 0, offsetMs: apm ? 0 : null });
      i++;
    };
    for (let k = 0; k < 3_000; k++) {
      const slow = 1_000 + ((k * 7919) % 9_000);
      if (k % 3 === 0) add('report-sync/2.1', 'key_sync', '198.51.100.7', 1_500, slow);
      else if (k % 3 === 1) add('python-requests/2.31.0', 'key_batch', '203.0.113.40', 2_500, slow);
      else add('Mozilla/5.0', 'key_web', `192.0.2.${k % 200}`, null, 20 + (k % 300));
    }
    return requests.sort((a, b) => a.proxy!.endMs - b.proxy!.endMs);
  }

  for (const withApm of [false, true]) {
    it(`two clients with 1.5 s and 2.5 s timeouts make two knees, each naming its client, key and network (${withApm ? 'with' : 'without'} APM)`, () => {
      const knees = ofKind(knee(twoCohorts(withApm)), 'client-timeout-knee');
      expect(knees).toHaveLength(2);
      const byTimeout = [...knees].sort((a, b) => Number(a.figures.timeoutSeconds) - Number(b.figures.timeoutSeconds));
      const [first, second] = byTimeout as [typeof knees[0], typeof knees[0]];
      expect(Math.abs(Number(first.figures.timeoutSeconds) - 1.5)).toBeLessThan(0.05);
      expect(first.figures).toMatchObject({ userAgent: 'report-sync/2.1', apiKey: 'key_sync', clientNetwork: '198.51.100.0/24' });
      expect(Math.abs(Number(second.figures.timeoutSeconds) - 2.5)).toBeLessThan(0.05);
      expect(second.figures).toMatchObject({ userAgent: 'python-requests/2.31.0', apiKey: 'key_batch', clientNetwork: '203.0.113.0/24' });
      for (const finding of knees) {
        expect(Number(finding.figures.userAgentShareOfKnee)).toBe(1);
        expect(Number(finding.figures.shareOfAllRequests)).toBeGreaterThan(0.2);
        expect(finding.title).toContain(String(finding.figures.topCohort));
      }
    });
  }

  it('the wall detector refers each knee to its own finding instead of an anonymous wall', () => {
    const walls = ofKind(runDetectors(twoCohorts(false), { detectors: [clientTimeoutKnee, timeoutWalls] }), 'timeout-walls');
    expect(walls.length).toBeGreaterThan(0);
    for (const wall of walls) {
      expect(wall.severity).toBe('info');
      expect(wall.figures.wallSeconds).toBeUndefined();
    }
    expect(walls.map((wall) => Math.round(Number(wall.figures.sameAsKneeSeconds) * 2) / 2).sort()).toEqual([1.5, 2.5]);
  });
});
