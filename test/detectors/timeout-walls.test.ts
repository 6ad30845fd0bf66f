import { describe, expect, it } from 'vitest';
import { clientTimeoutKnee } from '../../src/detectors/client-timeout-knee.js';
import { nearestKnownLimit } from '../../src/detectors/timeout-walls/known-limits.js';
import { findWalls, timeoutWalls } from '../../src/detectors/timeout-walls.js';
import { emptyProxyRecord, type JoinedRequest, type ProxyRecord } from '../../src/model/records.js';
import { apiGatewayWall, cleanTraffic, foundingCase, upstreamTrouble } from '../generators/scenarios.js';
import { runDetectors } from './run-detectors.js';

const run = (requests: Parameters<typeof runDetectors>[0]) =>
  runDetectors(requests, { detectors: [clientTimeoutKnee, timeoutWalls] }).filter((f) => f.kind === 'timeout-walls');

describe('timeout walls', () => {
  it('finds the API Gateway 29 s wall, names the limit and sets figures.wallSeconds', () => {
    for (const withApm of [true, false]) {
      const [wall, ...rest] = run(apiGatewayWall({ seed: 41, withApm }).requests);
      expect(rest).toEqual([]);
      expect(Math.abs(Number(wall!.figures.wallSeconds) - 29)).toBeLessThan(0.1);
      expect(wall!.figures.likelyLimitSeconds).toBe(29);
      expect(wall!.title).toContain('API Gateway');
      expect(Number(wall!.figures.gatewayTimeouts)).toBeGreaterThan(10);
      expect(['medium', 'high']).toContain(wall!.severity);
      expect(wall!.evidence.length).toBeGreaterThan(0);
    }
  });

  it('finds the 60 s proxy read timeout during an upstream outage', () => {
    const walls = run(upstreamTrouble('burst', { seed: 42 }).requests);
    expect(walls.some((w) => w.figures.likelyLimitSeconds === 60)).toBe(true);
  });

  it('refers to the knee instead of reporting the same wall twice', () => {
    const walls = run(foundingCase({ seed: 43 }, 5).requests);
    expect(walls).toHaveLength(1);
    expect(walls[0]!.severity).toBe('info');
    expect(walls[0]!.figures.wallSeconds).toBeUndefined();
    expect(Math.abs(Number(walls[0]!.figures.sameAsKneeSeconds) - 5)).toBeLessThan(0.05);
  });

  it('stays silent on clean traffic', () => {
    for (const seed of [1, 2, 3, 4]) expect(run(cleanTraffic({ seed }).requests)).toEqual([]);
  });

  it('takes answered requests that end together in one burst for a page load, not a wall; the same spread over minutes is one', () => {
    const answered = (k: number, spacingMs: number): JoinedRequest => {
      const startMs = Date.UTC(2023, 1, 22, 3, 22, 37) + k * spacingMs;
      const clientMs = 580 + (k % 4) * 5;
      const proxy = Object.assign(emptyProxyRecord('cloudfront', 'cf.log', k + 1, `line ${k}`), {
        startMs, endMs: startMs + clientMs, requestTimeMs: clientMs, status: 200, method: 'GET', path: `/static/media/asset-${k}.png`, clientIp: '13.248.48.9',
      });
      return { proxy, apm: null, method: 'none', confidence: 0, offsetMs: null };
    };
    const spread = (spacingMs: number) => [
      ...Array.from({ length: 30 }, (_, k) => answered(k, spacingMs)),
      // A few requests of other lengths, as around any page load.
      ...[280, 310, 1_170, 1_600, 990, 1_080].map((ms, k) => ({ ...answered(100 + k, spacingMs), proxy: { ...answered(100 + k, spacingMs).proxy!, requestTimeMs: ms } })),
    ];
    expect(run(spread(600))).toEqual([]);
    const [wall] = run(spread(30_000));
    expect(wall!.figures).toMatchObject({ cause: 'slow-answers' });
    expect(wall!.severity).toBe('low');
  });

  it('findWalls: smooth latency has no wall; a spike at an unusual value is one', () => {
    const smooth = new Uint32Array(30_000);
    for (let i = 0; i < smooth.length; i++) smooth[i] = Math.round(200 * Math.exp(-i / 400));
    expect(findWalls(smooth)).toEqual([]);
    const spiked = smooth.slice();
    spiked[4_200]! += 50; // 42.00 s
    const [wall] = findWalls(spiked);
    expect(Math.abs(wall!.ms - 42_000)).toBeLessThanOrEqual(10);
    expect(nearestKnownLimit(42)).toBeNull();
  });

  it('nearestKnownLimit: 29.02 is API Gateway, 60.3 is nginx/ALB, 45 is nothing', () => {
    expect(nearestKnownLimit(29.02)?.seconds).toBe(29);
    expect(nearestKnownLimit(60.3)?.seconds).toBe(60);
    expect(nearestKnownLimit(45)).toBeNull();
  });
});

describe('timeout walls: who gave up, and the setting to look at', () => {
  /** Clean background plus one route behind a gateway that gives up at `seconds`, logged in `format`. */
  function gatewayWall(format: string, seconds: number, fields: Partial<ProxyRecord>): JoinedRequest[] {
    const requests = cleanTraffic({ seed: 44, withApm: false }).requests;
    const startMs = requests[0]!.proxy!.startMs;
    for (let k = 0; k < 60; k++) {
      const clientMs = seconds * 1000 + (k % 5);
      const proxy = Object.assign(emptyProxyRecord(format, 'gw.log', 10_000 + k, `gateway line ${k}`), {
        startMs: startMs + k * 20_000, endMs: startMs + k * 20_000 + clientMs, requestTimeMs: clientMs, method: 'GET', path: `/v1/exports/${k}`,
        upstreamLogged: true, upstreamAddr: '10.0.2.50:8080', upstreamAttempts: 1, userAgent: 'python-requests/2.31.0', ...fields,
      });
      requests.push({ proxy, apm: null, method: 'none', confidence: 0, offsetMs: null });
    }
    return requests.sort((a, b) => a.proxy!.endMs - b.proxy!.endMs);
  }

  it('nginx with proxy_read_timeout 5s: a gateway-timeout wall on the route, naming proxy_read_timeout, never a client default', () => {
    const [wall, ...rest] = run(gatewayWall('nginx', 5, { status: 504, upstreamStatus: 504, upstreamTimeMs: 5_000 }));
    expect(rest).toEqual([]);
    expect(wall!.figures).toMatchObject({ cause: 'gateway-timeout', route: '/v1/exports/:id', likelyLimit: null, gatewayTimeouts: 60, clientClosed: 0 });
    expect(Math.abs(Number(wall!.figures.wallSeconds) - 5)).toBeLessThan(0.05);
    expect(String(wall!.figures.setting)).toContain('proxy_read_timeout');
    expect(wall!.title).toContain('proxy_read_timeout');
    expect(`${wall!.title} ${wall!.explanation}`).not.toContain('client default');
    expect(wall!.explanation).toContain('likely set to about 5 s');
    // 60 requests, every one of the route's slow requests: the rule's cohort criterion.
    expect(wall!.severity).toBe('high');
  });

  it('an ALB that answers 504 with -1 target times at 60 s: the idle timeout', () => {
    const [wall] = run(gatewayWall('aws-alb', 60, { status: 504, upstreamStatus: null, upstreamTimeMs: null }));
    expect(wall!.figures).toMatchObject({ cause: 'gateway-timeout', likelyLimitSeconds: 60 });
    expect(String(wall!.figures.setting)).toContain('idle timeout');
  });

  it('API Gateway at 29 s: the integration timeout', () => {
    const [wall] = run(gatewayWall('aws-api-gateway-json', 29, { status: 504, upstreamStatus: null }));
    expect(wall!.figures).toMatchObject({ cause: 'gateway-timeout', likelyLimitSeconds: 29 });
    expect(String(wall!.figures.setting)).toContain('integration timeout');
  });

  it('Envoy UT at 15 s: the route timeout; a backend that resets at 30 s: the application server', () => {
    const [envoy] = run(gatewayWall('envoy', 15, { status: 504, flags: 'UT', upstreamStatus: null }));
    expect(envoy!.figures).toMatchObject({ cause: 'gateway-timeout', likelyLimitSeconds: 15 });
    expect(String(envoy!.figures.setting)).toContain('route `timeout`');
    const [reset] = run(gatewayWall('nginx', 30, { status: 502, upstreamStatus: 502 }));
    expect(reset!.figures).toMatchObject({ cause: 'upstream-reset', setting: null });
    expect(reset!.explanation).toContain('application server');
  });
});
