import { ownString } from '../model/own-string.js';
import { type JoinedRequest, upstreamMissing } from '../model/records.js';
import { routeOf } from '../model/route.js';
import { latencyBinIndex, latencyBinSeconds } from './latency-histogram.js';

/**
 * Requests per time bucket × route × API key × status, each cell with its count, the responses
 * the proxy made without an upstream answer, and its client-facing times on the latency
 * histogram's bins. The HTML report filters this cube in the page (time range, route, key,
 * status) and redraws the timeline, the latency distribution and the breakdown tables from it,
 * so every filtered figure is a sum of counted cells, never an estimate from a sample.
 *
 * Bounded: routes and keys are interned up to a cap (then "(other)"), buckets widen on round
 * widths when there are too many of them or too many cells, and at the end only the busiest
 * routes and keys keep their own name.
 */

const WIDTHS_MS = [60_000, 300_000, 900_000, 3_600_000, 21_600_000, 86_400_000];
const MAX_BUCKETS = 360;
/**
 * Cells kept. Past it buckets widen; at the widest (a day) a combination not yet counted is added
 * to its bucket's "(other)" route and key cell instead, so a log of many days with thousands of
 * routes and keys stays bounded: 6 M joined high-cardinality lines had grown the heap by 12 MB a
 * million lines (54 k cube cells and their latency Maps between two heap snapshots), and 20 M
 * ran out of a 200 MB heap.
 */
export const MAX_CELLS = 50_000;
/** Distinct routes, keys and statuses interned; ids run to INTERN_CAP (the overflow's), below comboId's ID_LIMIT. */
const INTERN_CAP = 1_000;
/** Routes and keys named in the report; the rest are summed as "(other)". */
export const NAMED_VALUES = 30;
export const OTHER = '(other)';
export const NONE = '(none)';

/** [bucket, route, key, status, requests, proxy-made, ...(bin, count) pairs]: indices into the arrays beside it. */
export type CubeCell = number[];

export interface TrafficCube {
  bucketSeconds: number;
  /** Bucket starts, epoch ms, ascending. */
  buckets: number[];
  /** First and last logged time, epoch ms: the first and last buckets are partial. */
  firstMs: number | null;
  lastMs: number | null;
  routes: string[];
  keys: string[];
  /** Client-facing statuses; null: none logged. */
  statuses: (number | null)[];
  /** The latency bins cells refer to, in seconds. */
  bins: { lowSeconds: number; highSeconds: number }[];
  cells: CubeCell[];
}

interface Cell {
  requests: number;
  proxyMade: number;
  /** Latency bin index → count. */
  latency: Map<number, number>;
}

class Interner<T> {
  readonly values: T[] = [];
  private readonly index = new Map<T, number>();
  /** The overflow value's id once the cap is reached: values past the cap skip a second lookup. */
  private overflowId = -1;

  constructor(private readonly cap: number, private readonly overflow: T) {}

  id(value: T): number {
    const id = this.index.get(value);
    return id !== undefined ? id : this.add(value);
  }

  /** The overflow value's id (interned on first use, even below the cap). */
  overflowValueId(): number {
    if (this.overflowId < 0) this.overflowId = this.index.get(this.overflow) ?? this.push(this.overflow);
    return this.overflowId;
  }

  private add(value: T): number {
    if (this.values.length >= this.cap) {
      return this.overflowValueId();
    }
    return this.push(value);
  }

  private push(value: T): number {
    const id = this.values.length;
    this.values.push(value);
    this.index.set(value, id);
    return id;
  }
}

function mergeCell(into: Cell, from: Cell): void {
  into.requests += from.requests;
  into.proxyMade += from.proxyMade;
  for (const [bin, count] of from.latency) into.latency.set(bin, (into.latency.get(bin) ?? 0) + count);
}

/**
 * Combination id of route, key and status ids, each below ID_LIMIT (the interning cap and one
 * overflow id): 30 bits, a small integer to V8, so a cell lookup hashes no boxed number. It was
 * (route * 2048 + key) * 2048 + status, past 2^31 from the 512th route on: a heap number per
 * record and a number hash per lookup. With the overflow id kept (values past the cap looked up
 * once, not twice), the cube's observe went 1,360 -> 560 ms CPU (`node --cpu-prof`, `alf analyze`
 * of the bench's 1 M high-cardinality extended lines: 5,000 API keys, ~2,000 routes).
 */
const ID_BITS = 10;
const ID_LIMIT = 1 << ID_BITS;

function comboId(route: number, key: number, status: number): number {
  return (((route << ID_BITS) | key) << ID_BITS) | status;
}

function splitCombo(combo: number): [number, number, number] {
  return [combo >>> (2 * ID_BITS), (combo >>> ID_BITS) & (ID_LIMIT - 1), combo & (ID_LIMIT - 1)];
}

export class TrafficCubeSummary {
  private widthIndex = 0;
  private buckets = new Map<number, Map<number, Cell>>();
  private cellCount = 0;
  private readonly routes = new Interner<string>(INTERN_CAP, OTHER);
  private readonly keys = new Interner<string>(INTERN_CAP, OTHER);
  private readonly statuses = new Interner<number | null>(INTERN_CAP, null);
  private firstMs: number | null = null;
  private lastMs: number | null = null;

  observe(request: JoinedRequest): void {
    const proxy = request.proxy;
    if (proxy === null) return;
    const time = proxy.endMs;
    if (this.firstMs === null || time < this.firstMs) this.firstMs = time;
    if (this.lastMs === null || time > this.lastMs) this.lastMs = time;
    const route = routeOf(proxy);
    const combo = comboId(
      this.routes.id(route === null ? NONE : route),
      this.keys.id(proxy.apiKey === null ? NONE : proxy.apiKey),
      this.statuses.id(proxy.status),
    );
    const cell = this.cellAt(time, combo);
    cell.requests++;
    if (upstreamMissing(proxy)) cell.proxyMade++;
    if (proxy.requestTimeMs !== null) {
      const bin = latencyBinIndex(proxy.requestTimeMs);
      cell.latency.set(bin, (cell.latency.get(bin) ?? 0) + 1);
    }
  }

  private cellAt(time: number, combo: number): Cell {
    const width = WIDTHS_MS[this.widthIndex]!;
    let bucket = Math.floor(time / width) * width;
    let cells = this.buckets.get(bucket);
    const canWiden = this.widthIndex < WIDTHS_MS.length - 1;
    if ((cells === undefined && this.buckets.size >= MAX_BUCKETS && canWiden) || (this.cellCount >= MAX_CELLS && canWiden && !cells?.has(combo))) {
      this.widen();
      return this.cellAt(time, combo);
    }
    if (cells === undefined) this.buckets.set(bucket, (cells = new Map()));
    if (this.cellCount >= MAX_CELLS && !cells.has(combo)) {
      combo = comboId(this.routes.overflowValueId(), this.keys.overflowValueId(), combo & (ID_LIMIT - 1));
    }
    let cell = cells.get(combo);
    if (cell === undefined) {
      cell = { requests: 0, proxyMade: 0, latency: new Map() };
      cells.set(combo, cell);
      this.cellCount++;
    }
    return cell;
  }

  private widen(): void {
    this.widthIndex++;
    const width = WIDTHS_MS[this.widthIndex]!;
    const merged = new Map<number, Map<number, Cell>>();
    let count = 0;
    for (const [bucket, cells] of this.buckets) {
      const target = Math.floor(bucket / width) * width;
      let into = merged.get(target);
      if (into === undefined) merged.set(target, (into = new Map()));
      for (const [combo, cell] of cells) {
        const existing = into.get(combo);
        if (existing === undefined) {
          into.set(combo, cell);
          count++;
        } else {
          mergeCell(existing, cell);
        }
      }
    }
    this.buckets = merged;
    this.cellCount = count;
  }

  /** Cells held now: at most MAX_CELLS, plus one "(other)" cell per bucket and status past it. */
  get cellsKept(): number {
    return this.cellCount;
  }

  get bucketSeconds(): number {
    return WIDTHS_MS[this.widthIndex]! / 1000;
  }

  /** The cube, with only the busiest routes and keys named. */
  summary(): TrafficCube {
    const routeTotals = new Array<number>(this.routes.values.length).fill(0);
    const keyTotals = new Array<number>(this.keys.values.length).fill(0);
    for (const cells of this.buckets.values()) {
      for (const [combo, cell] of cells) {
        const [route, key] = splitCombo(combo);
        routeTotals[route]! += cell.requests;
        keyTotals[key]! += cell.requests;
      }
    }
    const routeMap = topNames(this.routes.values, routeTotals);
    const keyMap = topNames(this.keys.values, keyTotals);
    const statusOrder = this.statuses.values.map((status, id) => ({ status, id }))
      .sort((a, b) => (a.status ?? 1000) - (b.status ?? 1000));
    const statusMap = new Map(statusOrder.map((entry, position) => [entry.id, position]));
    const bucketStarts = [...this.buckets.keys()].sort((a, b) => a - b);
    const binIndex = new Map<number, number>();
    const usedBins: number[] = [];
    const folded = new Map<string, { at: number[]; cell: Cell }>();
    bucketStarts.forEach((start, bucketPosition) => {
      for (const [combo, cell] of this.buckets.get(start)!) {
        const [route, key, status] = splitCombo(combo);
        const at = [bucketPosition, routeMap.index[route]!, keyMap.index[key]!, statusMap.get(status)!];
        const id = at.join(',');
        const existing = folded.get(id);
        if (existing === undefined) folded.set(id, { at, cell: { requests: cell.requests, proxyMade: cell.proxyMade, latency: new Map(cell.latency) } });
        else mergeCell(existing.cell, cell);
        for (const bin of cell.latency.keys()) {
          if (!binIndex.has(bin)) {
            binIndex.set(bin, -1);
            usedBins.push(bin);
          }
        }
      }
    });
    usedBins.sort((a, b) => a - b).forEach((bin, position) => binIndex.set(bin, position));
    const cells: CubeCell[] = [];
    for (const { at, cell } of folded.values()) {
      const latency = [...cell.latency].sort((a, b) => a[0] - b[0]).flatMap(([bin, count]) => [binIndex.get(bin)!, count]);
      cells.push([...at, cell.requests, cell.proxyMade, ...latency]);
    }
    return {
      bucketSeconds: this.bucketSeconds,
      buckets: bucketStarts,
      firstMs: this.firstMs,
      lastMs: this.lastMs,
      routes: routeMap.names,
      keys: keyMap.names,
      statuses: statusOrder.map((entry) => entry.status),
      bins: usedBins.map(latencyBinSeconds),
      cells,
    };
  }
}

/** The NAMED_VALUES busiest values by name (ties by name), everything else as "(other)". */
function topNames(values: readonly string[], totals: readonly number[]): { names: string[]; index: number[] } {
  const ranked = values.map((value, id) => ({ value, id, total: totals[id]! }))
    .filter((entry) => entry.value !== OTHER)
    .sort((a, b) => b.total - a.total || (a.value < b.value ? -1 : 1));
  const named = ranked.slice(0, NAMED_VALUES);
  const names = named.map((entry) => ownString(entry.value));
  const index = new Array<number>(values.length);
  named.forEach((entry, position) => { index[entry.id] = position; });
  const needsOther = named.length < values.length;
  if (needsOther) names.push(OTHER);
  for (let id = 0; id < values.length; id++) if (index[id] === undefined) index[id] = names.length - 1;
  return { names, index };
}
