import { describe, expect, it } from 'vitest';
import { findChangePoint, latencyByRoute } from '../../src/detectors/latency-by-route.js';
import { LogHistogram } from '../../src/statistics/log-histogram.js';
import { cleanTraffic, latencyShift } from '../generators/scenarios.js';
import { runDetectors } from './run-detectors.js';

const run = (requests: Parameters<typeof runDetectors>[0]) => runDetectors(requests, { detectors: [latencyByRoute] });

describe('latency by route', () => {
  it('reports p50/p90/p99 per route and status class as info, ids folded into :id', () => {
    const [baseline, ...changes] = run(cleanTraffic({ seed: 81 }).requests);
    expect(changes).toEqual([]);
    expect(baseline!.severity).toBe('info');
    const rows = baseline!.table!.rows;
    const orders = rows.find((row) => row[0] === 'GET /api/v1/orders/:id' && row[1] === '2xx')!;
    // Backend lognormal with median 45 ms, plus a few ms of proxy overhead.
    expect(Number(orders[3])).toBeGreaterThan(0.04);
    expect(Number(orders[3])).toBeLessThan(0.06);
    expect(Number(orders[4])).toBeGreaterThan(Number(orders[3]));
    expect(Number(orders[5])).toBeGreaterThanOrEqual(Number(orders[4]));
  });

  it('finds the step when a route gets three times slower, near the true time', () => {
    const s = latencyShift({ seed: 82 });
    const change = run(s.requests).find((f) => f.severity === 'low')!;
    expect(change.figures.route).toBe(`GET ${s.truth.shiftedRoute}`);
    expect(Math.abs(Date.parse(String(change.figures.changeAt)) - s.truth.shiftAtMs!)).toBeLessThanOrEqual(120_000);
    expect(Number(change.figures.factor)).toBeGreaterThan(2.5);
  });

  it('LogHistogram: quantiles within one bin, and merging adds', () => {
    const a = new LogHistogram(40);
    const b = new LogHistogram(40);
    for (let ms = 1; ms <= 1000; ms++) (ms % 2 ? a : b).add(ms);
    a.merge(b);
    expect(a.total).toBe(1000);
    expect(Math.abs(a.quantile(0.5)! - 500) / 500).toBeLessThan(0.06);
    expect(Math.abs(a.quantile(0.99)! - 990) / 990).toBeLessThan(0.06);
    expect(new LogHistogram().quantile(0.5)).toBeNull();
  });

  it('findChangePoint: a flat series has none', () => {
    const periods = Array.from({ length: 20 }, () => {
      const h = new LogHistogram(20);
      for (let i = 0; i < 50; i++) h.add(100 + i);
      return h;
    });
    expect(findChangePoint(periods)).toBeNull();
  });

  it('findChangePoint: a step of a millisecond (1 ms to 2 ms, a timer\'s resolution) is none; the same factor at 20 to 40 ms is one', () => {
    const series = (beforeMs: number, afterMs: number) => Array.from({ length: 20 }, (_, index) => {
      const h = new LogHistogram(20);
      for (let i = 0; i < 50; i++) h.add(index < 10 ? beforeMs : afterMs);
      return h;
    });
    expect(findChangePoint(series(1, 2))).toBeNull();
    expect(findChangePoint(series(20, 40))?.index).toBe(10);
  });
});

describe('LogHistogram quantiles', () => {
  it('never lie outside the values seen: one 30.004 s request is 30.004 s at every quantile, not its bin\'s middle', () => {
    const sketch = new LogHistogram(40);
    sketch.add(30_004);
    for (const q of [0.5, 0.9, 0.99]) expect(sketch.quantile(q)).toBe(30_004);
    const merged = new LogHistogram(40);
    merged.merge(sketch);
    merged.add(12);
    expect(merged.quantile(0.99)).toBe(30_004);
    // Inside the range, a quantile is its bin's middle (within about 6%).
    expect(Math.abs(merged.quantile(0.01)! - 12) / 12).toBeLessThan(0.06);
  });
});
