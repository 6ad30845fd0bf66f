import type { TrafficCube } from '../../src/summaries/traffic-cube.js';

/**
 * The traffic cube seen through the report's filters: plain functions over plain data, run by
 * html.ts to draw the page and by the page's script (report-page.ts) to redraw it, so what a
 * filter shows is computed by the same code as what the page showed first.
 */

export interface PageFilter {
  /** Bucket positions: [from, to) over cube.buckets; null: from the first / to the last. */
  fromBucket: number | null;
  toBucket: number | null;
  /** Names as in cube.routes / cube.keys; null: any. */
  route: string | null;
  key: string | null;
  /** A status (`404`), a class (`5xx`), `-` for none, or null: any. */
  status: string | null;
}

export const NO_FILTER: PageFilter = { fromBucket: null, toBucket: null, route: null, key: null, status: null };

export function isFiltered(filter: PageFilter): boolean {
  return filter.fromBucket !== null || filter.toBucket !== null || filter.route !== null || filter.key !== null || filter.status !== null;
}

/** Does a status match the filter's status (`404`, `4xx`, `-`)? */
export function statusMatches(status: number | null, wanted: string | null): boolean {
  if (wanted === null) return true;
  if (wanted === '-') return status === null;
  if (status === null) return false;
  if (wanted.endsWith('xx')) return Math.floor(status / 100) === Number(wanted[0]);
  return status === Number(wanted);
}

/** The time span [fromMs, toMs) a filter keeps. */
export function filterSpan(cube: TrafficCube, filter: PageFilter): { fromMs: number; toMs: number } {
  const width = cube.bucketSeconds * 1000;
  const first = cube.buckets[0] ?? 0;
  const last = cube.buckets[cube.buckets.length - 1] ?? 0;
  return {
    fromMs: filter.fromBucket === null ? -Infinity : cube.buckets[filter.fromBucket] ?? first,
    toMs: filter.toBucket === null ? Infinity : filter.toBucket >= cube.buckets.length ? last + width : cube.buckets[filter.toBucket]!,
  };
}

/** A test per cell, with the filter's names resolved to the cube's indices once. */
export function cellTest(cube: TrafficCube, filter: PageFilter): (cell: readonly number[]) => boolean {
  const route = filter.route === null ? -1 : cube.routes.indexOf(filter.route);
  const key = filter.key === null ? -1 : cube.keys.indexOf(filter.key);
  const statuses = cube.statuses.map((status) => statusMatches(status, filter.status));
  const from = filter.fromBucket ?? 0;
  const to = filter.toBucket ?? cube.buckets.length;
  return (cell) => cell[0]! >= from && cell[0]! < to
    && (filter.route === null || cell[1] === route)
    && (filter.key === null || cell[2] === key)
    && statuses[cell[3]!] === true;
}

export interface CubeTotals {
  requests: number;
  proxyMade: number;
}

export function cubeTotals(cube: TrafficCube, filter: PageFilter): CubeTotals {
  const keep = cellTest(cube, filter);
  const totals = { requests: 0, proxyMade: 0 };
  for (const cell of cube.cells) {
    if (!keep(cell)) continue;
    totals.requests += cell[4]!;
    totals.proxyMade += cell[5]!;
  }
  return totals;
}

/** Status class of a status for the timeline: "2xx"…, or "no status". */
export function statusClass(status: number | null): string {
  return status === null ? 'no status' : `${Math.floor(status / 100)}xx`;
}

/**
 * "2017-03-14 09:05 UTC" (with seconds when asked). Tooltips show times from such strings: a
 * time formatted by vega's expression interpreter (the one a strict CSP allows) reads NaN.
 */
export function utcLabel(ms: number, seconds = false): string {
  return `${new Date(ms).toISOString().slice(0, seconds ? 19 : 16).replace('T', ' ')} UTC`;
}

export interface TimelineBar {
  /** The bucket's start as people read it, for the tooltip. */
  label: string;
  /** Start and end of the bucket, epoch ms (vega formats numbers in UTC; strings it would not); the first and last may be partial. */
  start: number;
  end: number;
  series: string;
  count: number;
  /** Requests per minute over the part of the bucket the log covers: a partial last bucket does not read as a drop. */
  perMinute: number;
  /** Stacked extent of the bar, per minute. */
  from: number;
  to: number;
}

const CLASS_ORDER = ['2xx', '3xx', '1xx', '4xx', '5xx', 'no status'];
export const PROXY_MADE_SERIES = 'made by the proxy (no upstream answer)';

/** Requests per bucket by status class, stacked, and the proxy-made responses per bucket, all per minute. */
export function timelineBars(cube: TrafficCube, filter: PageFilter): TimelineBar[] {
  const keep = cellTest(cube, filter);
  const width = cube.bucketSeconds * 1000;
  const perBucket = new Map<number, Map<string, number>>();
  for (const cell of cube.cells) {
    if (!keep(cell)) continue;
    let series = perBucket.get(cell[0]!);
    if (series === undefined) perBucket.set(cell[0]!, (series = new Map()));
    const name = statusClass(cube.statuses[cell[3]!] ?? null);
    series.set(name, (series.get(name) ?? 0) + cell[4]!);
    if (cell[5]! > 0) series.set(PROXY_MADE_SERIES, (series.get(PROXY_MADE_SERIES) ?? 0) + cell[5]!);
  }
  const bars: TimelineBar[] = [];
  for (const position of [...perBucket.keys()].sort((a, b) => a - b)) {
    const start = cube.buckets[position]!;
    // The part of the bucket the log covers: whole, except at the log's first and last line.
    const coveredFrom = Math.max(start, cube.firstMs ?? start);
    const coveredTo = Math.min(start + width, (cube.lastMs ?? start + width) + 1000);
    const minutes = Math.max(coveredTo - coveredFrom, 1000) / 60_000;
    const series = perBucket.get(position)!;
    let stacked = 0;
    const names = [...series.keys()].sort((a, b) => order(a) - order(b));
    for (const name of names) {
      const count = series.get(name)!;
      const perMinute = count / minutes;
      const bar = { start, end: start + width, label: utcLabel(start), series: name, count, perMinute, from: 0, to: perMinute };
      if (name !== PROXY_MADE_SERIES) {
        bar.from = stacked;
        bar.to = stacked + perMinute;
        stacked += perMinute;
      }
      bars.push(bar);
    }
  }
  return bars;
}

function order(series: string): number {
  const at = CLASS_ORDER.indexOf(series);
  return at >= 0 ? at : series === PROXY_MADE_SERIES ? 100 : 50;
}

export interface LatencyBar {
  low: number;
  high: number;
  count: number;
}

/** Client-facing times on the cube's bins (the lowest bin starts at 1 ms so a log axis can draw it). */
export function latencyBars(cube: TrafficCube, filter: PageFilter): LatencyBar[] {
  const keep = cellTest(cube, filter);
  const counts = new Array<number>(cube.bins.length).fill(0);
  for (const cell of cube.cells) {
    if (!keep(cell)) continue;
    for (let i = 6; i + 1 < cell.length; i += 2) counts[cell[i]!]! += cell[i + 1]!;
  }
  return counts.flatMap((count, bin) => count === 0 ? [] : [{ low: Math.max(cube.bins[bin]!.lowSeconds, 0.001), high: cube.bins[bin]!.highSeconds, count }]);
}

export interface BreakdownRow {
  name: string;
  requests: number;
  proxyMade: number;
  /** Median and 95th percentile of client-facing time, in seconds: the upper bound of the bin they fall in. */
  medianSeconds: number | null;
  p95Seconds: number | null;
}

export type BreakdownDimension = 'route' | 'key' | 'status';

/** Requests per route, key or status under the filter, busiest first. */
export function breakdown(cube: TrafficCube, filter: PageFilter, dimension: BreakdownDimension): BreakdownRow[] {
  const keep = cellTest(cube, filter);
  const column = dimension === 'route' ? 1 : dimension === 'key' ? 2 : 3;
  const names = dimension === 'route' ? cube.routes : dimension === 'key' ? cube.keys : cube.statuses.map((s) => (s === null ? '-' : String(s)));
  const rows = names.map(() => ({ requests: 0, proxyMade: 0, bins: new Map<number, number>() }));
  for (const cell of cube.cells) {
    if (!keep(cell)) continue;
    const row = rows[cell[column]!]!;
    row.requests += cell[4]!;
    row.proxyMade += cell[5]!;
    for (let i = 6; i + 1 < cell.length; i += 2) row.bins.set(cell[i]!, (row.bins.get(cell[i]!) ?? 0) + cell[i + 1]!);
  }
  return rows
    .map((row, index) => ({
      name: names[index]!, requests: row.requests, proxyMade: row.proxyMade,
      medianSeconds: quantile(cube, row.bins, 0.5), p95Seconds: quantile(cube, row.bins, 0.95),
    }))
    .filter((row) => row.requests > 0)
    .sort((a, b) => b.requests - a.requests || (a.name < b.name ? -1 : 1));
}

function quantile(cube: TrafficCube, bins: Map<number, number>, q: number): number | null {
  let total = 0;
  for (const count of bins.values()) total += count;
  if (total === 0) return null;
  const target = q * total;
  let seen = 0;
  for (const bin of [...bins.keys()].sort((a, b) => a - b)) {
    seen += bins.get(bin)!;
    if (seen >= target) return cube.bins[bin]!.highSeconds;
  }
  return null;
}

/** The status filter's choices: the classes present, then each status present. */
export function statusChoices(cube: TrafficCube): string[] {
  const classes = new Set<string>();
  const codes: string[] = [];
  for (const status of cube.statuses) {
    if (status === null) {
      codes.push('-');
      continue;
    }
    classes.add(`${Math.floor(status / 100)}xx`);
    codes.push(String(status));
  }
  return [...[...classes].sort(), ...codes];
}
