import { describe, expect, it } from 'vitest';
import { clientTimeoutKnee } from '../../src/detectors/client-timeout-knee.js';
import { nearestKnownLimit } from '../../src/detectors/known-limits.js';
import { findWalls, timeoutWalls } from '../../src/detectors/timeout-walls.js';
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
