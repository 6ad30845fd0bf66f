import { describe, expect, it } from 'vitest';
import { emptyProxyRecord, type JoinedRequest } from '../../src/model/records.js';
import { MAX_CELLS, NAMED_VALUES, OTHER, TrafficCubeSummary, type TrafficCube } from '../../src/summaries/traffic-cube.js';

const T0 = Date.UTC(2025, 0, 15, 10, 0, 0);

function request(path: string, apiKey: string | null, status: number, endMs = T0, requestTimeMs = 20): JoinedRequest {
  const proxy = emptyProxyRecord('test', 'access.log', 1, '');
  proxy.path = path;
  proxy.apiKey = apiKey;
  proxy.status = status;
  proxy.endMs = endMs;
  proxy.startMs = endMs;
  proxy.requestTimeMs = requestTimeMs;
  return { proxy, apm: null, method: 'none', confidence: 0, offsetMs: null };
}

/** Requests per (route, key, status) name, summed over the cube's cells. */
function totals(cube: TrafficCube): Map<string, number> {
  const out = new Map<string, number>();
  for (const cell of cube.cells) {
    const name = `${cube.routes[cell[1]!]} ${cube.keys[cell[2]!]} ${cube.statuses[cell[3]!]}`;
    out.set(name, (out.get(name) ?? 0) + cell[4]!);
  }
  return out;
}

describe('traffic cube', () => {
  it('stays bounded over many days of many routes and keys: past the cap at day-wide buckets, new combinations count as "(other)"', () => {
    const cube = new TrafficCubeSummary();
    const day = 86_400_000;
    let observed = 0;
    // 60 days of 40 routes × 40 keys, one request each: 96,000 combinations, beyond MAX_CELLS even in day buckets.
    for (let d = 0; d < 60; d++) {
      for (let r = 0; r < 40; r++) {
        for (let k = 0; k < 40; k++) {
          cube.observe(request(`/v1/r${r}`, `key-${k}`, 200, T0 + d * day + r * 1000));
          observed++;
        }
      }
    }
    expect(cube.bucketSeconds).toBe(86_400);
    expect(cube.cellsKept).toBeGreaterThanOrEqual(MAX_CELLS);
    expect(cube.cellsKept).toBeLessThanOrEqual(MAX_CELLS + 60);
    const summary = cube.summary();
    expect(summary.cells.reduce((sum, cell) => sum + cell[4]!, 0)).toBe(observed);
    // The last day's requests are all in its "(other)" cell: none lost, none made up.
    const lastBucket = summary.buckets.length - 1;
    const lastDay = summary.cells.filter((cell) => cell[0] === lastBucket);
    expect(lastDay.reduce((sum, cell) => sum + cell[4]!, 0)).toBe(1600);
    expect(lastDay.every((cell) => summary.routes[cell[1]!] === OTHER && summary.keys[cell[2]!] === OTHER)).toBe(true);
  });

  it('counts each route, key and status in its own cell', () => {
    const cube = new TrafficCubeSummary();
    cube.observe(request('/v1/orders', 'k1', 200));
    cube.observe(request('/v1/orders', 'k1', 200));
    cube.observe(request('/v1/orders', 'k2', 500));
    cube.observe(request('/v1/users', null, 404));
    expect(totals(cube.summary())).toEqual(new Map([
      ['/v1/orders k1 200', 2], ['/v1/orders k2 500', 1], ['/v1/users (none) 404', 1],
    ]));
  });

  it('names the busiest routes and keys even when they were interned late, among a thousand others', () => {
    // 1,100 routes and keys: past the interning cap (1,000, the last 100 are counted as "(other)")
    // and past the ids that once made the combination id a boxed number (from the 512th route on):
    // the busiest ones are the 600th to the 629th.
    const cube = new TrafficCubeSummary();
    let observed = 0;
    for (let i = 0; i < 1_100; i++) {
      const repeats = i >= 600 && i < 600 + NAMED_VALUES ? 5 : 1;
      for (let r = 0; r < repeats; r++) {
        cube.observe(request(`/r${i}`, `k${i}`, 200 + (i % 7)));
        observed++;
      }
    }
    const summary = cube.summary();
    const named = summary.routes.filter((route) => route !== OTHER);
    expect(named).toHaveLength(NAMED_VALUES);
    expect(new Set(named)).toEqual(new Set(Array.from({ length: NAMED_VALUES }, (_, n) => `/r${600 + n}`)));
    expect(summary.keys.filter((key) => key !== OTHER).sort()).toEqual(Array.from({ length: NAMED_VALUES }, (_, n) => `k${600 + n}`).sort());
    const byName = totals(summary);
    for (let n = 0; n < NAMED_VALUES; n++) expect(byName.get(`/r${600 + n} k${600 + n} ${200 + ((600 + n) % 7)}`)).toBe(5);
    expect([...byName.values()].reduce((a, b) => a + b, 0)).toBe(observed);
    expect(summary.statuses).toEqual([200, 201, 202, 203, 204, 205, 206]);
  });

  it('keeps each cell\'s client-facing times on the latency bins, through every widening of the buckets', () => {
    const cube = new TrafficCubeSummary();
    const times = [3, 20, 20, 450, 5_000, 31_000];
    // Two routes every 29 minutes for 100 days: the buckets widen from a minute to a day on the way.
    for (let minute = 0; minute < 100 * 1440; minute += 29) {
      for (const [i, ms] of times.entries()) cube.observe(request(i % 2 === 0 ? '/even' : '/odd', 'k', 200, T0 + minute * 60_000, ms));
    }
    const summary = cube.summary();
    expect(summary.bucketSeconds).toBe(86_400);
    const perTime = new Map<number, number>();
    for (const cell of summary.cells) {
      let binned = 0;
      for (let i = 6; i < cell.length; i += 2) {
        const bin = summary.bins[cell[i]!]!;
        const ms = times.find((t) => t / 1000 >= bin.lowSeconds && t / 1000 < bin.highSeconds);
        expect(ms, `a bin of ${bin.lowSeconds}-${bin.highSeconds} s holds none of the times observed`).toBeDefined();
        perTime.set(ms!, (perTime.get(ms!) ?? 0) + cell[i + 1]!);
        binned += cell[i + 1]!;
      }
      expect(binned).toBe(cell[4]);
    }
    const minutes = Math.ceil((100 * 1440) / 29);
    expect(perTime).toEqual(new Map([[3, minutes], [20, 2 * minutes], [450, minutes], [5_000, minutes], [31_000, minutes]]));
  });
});
