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

/**
 * Latency counts of every cell, keyed by cell × LATENCY_KEY_SPAN + bin: one open-addressed table
 * in two typed arrays, so a request costs one probe in flat memory. It was a Cell object per cell
 * holding a Map of bin counts: two Map operations behind two pointers per request, and 50,000
 * small Maps for the collector to trace. The cube alone over the bench's 1 M high-cardinality
 * extended records, in-process: 786-798 -> 517-531 ms CPU (medians of 7, two alternating rounds).
 */
class CellBinCounts {
  private keys: Int32Array;
  private counts: Float64Array;
  private shift: number;
  private used = 0;

  constructor(bits = 12) {
    this.keys = new Int32Array(1 << bits);
    this.counts = new Float64Array(1 << bits);
    this.shift = 32 - bits;
  }

  /** Adds `count` at `key` (a non-negative int below 2^31 - 1). */
  add(key: number, count: number): void {
    const stored = key + 1; // 0 marks an empty slot
    const mask = this.keys.length - 1;
    let slot = Math.imul(stored, 0x9e3779b1) >>> this.shift;
    for (;;) {
      const at = this.keys[slot]!;
      if (at === stored) {
        this.counts[slot]! += count;
        return;
      }
      if (at === 0) break;
      slot = (slot + 1) & mask;
    }
    this.keys[slot] = stored;
    this.counts[slot] = count;
    if (++this.used * 2 > this.keys.length) this.grow();
  }

  forEach(visit: (key: number, count: number) => void): void {
    for (let slot = 0; slot < this.keys.length; slot++) {
      const stored = this.keys[slot]!;
      if (stored !== 0) visit(stored - 1, this.counts[slot]!);
    }
  }

  private grow(): void {
    const keys = this.keys;
    const counts = this.counts;
    const bits = 32 - this.shift + 1;
    this.keys = new Int32Array(1 << bits);
    this.counts = new Float64Array(1 << bits);
    this.shift = 32 - bits;
    this.used = 0;
    for (let slot = 0; slot < keys.length; slot++) if (keys[slot] !== 0) this.add(keys[slot]! - 1, counts[slot]!);
  }
}

/** Latency bins run 0..140: a cell's bins are its index × 256 plus the bin. Cells stay far below 2^23. */
const LATENCY_KEY_SPAN = 256;

/** Per-cell counts in typed arrays, indexed by a cell number. */
class CellColumns {
  requests = new Float64Array(1024);
  proxyMade = new Float64Array(1024);
  count = 0;

  /** A new cell's number. */
  add(): number {
    if (this.count === this.requests.length) {
      this.requests = grown(this.requests);
      this.proxyMade = grown(this.proxyMade);
    }
    return this.count++;
  }
}

function grown(array: Float64Array): Float64Array<ArrayBuffer> {
  const bigger = new Float64Array(array.length * 2);
  bigger.set(array);
  return bigger;
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
  /** Bucket start → combination id → cell number. */
  private buckets = new Map<number, Map<number, number>>();
  private columns = new CellColumns();
  private latency = new CellBinCounts();
  /** The bucket asked for last: records come in rough time order, so most skip the bucket lookup. */
  private lastBucket = Number.NaN;
  private lastCells: Map<number, number> | undefined;
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
    this.columns.requests[cell]!++;
    if (upstreamMissing(proxy)) this.columns.proxyMade[cell]!++;
    if (proxy.requestTimeMs !== null) this.latency.add(cell * LATENCY_KEY_SPAN + latencyBinIndex(proxy.requestTimeMs), 1);
  }

  private cellAt(time: number, combo: number): number {
    const width = WIDTHS_MS[this.widthIndex]!;
    const bucket = Math.floor(time / width) * width;
    let cells = bucket === this.lastBucket ? this.lastCells : this.buckets.get(bucket);
    const found = cells?.get(combo);
    if (found !== undefined) {
      this.lastBucket = bucket;
      this.lastCells = cells;
      return found;
    }
    const canWiden = this.widthIndex < WIDTHS_MS.length - 1;
    if ((cells === undefined && this.buckets.size >= MAX_BUCKETS && canWiden) || (this.columns.count >= MAX_CELLS && canWiden)) {
      this.widen();
      return this.cellAt(time, combo);
    }
    if (cells === undefined) this.buckets.set(bucket, (cells = new Map()));
    this.lastBucket = bucket;
    this.lastCells = cells;
    if (this.columns.count >= MAX_CELLS) {
      combo = comboId(this.routes.overflowValueId(), this.keys.overflowValueId(), combo & (ID_LIMIT - 1));
      const other = cells.get(combo);
      if (other !== undefined) return other;
    }
    const cell = this.columns.add();
    cells.set(combo, cell);
    return cell;
  }

  /** Next bucket width: cells of the same combination in one wider bucket are summed into one. */
  private widen(): void {
    this.widthIndex++;
    const width = WIDTHS_MS[this.widthIndex]!;
    const old = this.columns;
    const renumbered = new Int32Array(old.count);
    const merged = new Map<number, Map<number, number>>();
    const columns = new CellColumns();
    for (const [bucket, cells] of this.buckets) {
      const target = Math.floor(bucket / width) * width;
      let into = merged.get(target);
      if (into === undefined) merged.set(target, (into = new Map()));
      for (const [combo, cell] of cells) {
        let to = into.get(combo);
        if (to === undefined) into.set(combo, (to = columns.add()));
        renumbered[cell] = to;
        columns.requests[to]! += old.requests[cell]!;
        columns.proxyMade[to]! += old.proxyMade[cell]!;
      }
    }
    const latency = new CellBinCounts();
    this.latency.forEach((key, count) => {
      const cell = Math.floor(key / LATENCY_KEY_SPAN);
      latency.add(renumbered[cell]! * LATENCY_KEY_SPAN + (key - cell * LATENCY_KEY_SPAN), count);
    });
    this.buckets = merged;
    this.columns = columns;
    this.latency = latency;
    this.lastBucket = Number.NaN;
    this.lastCells = undefined;
  }

  /** Cells held now: at most MAX_CELLS, plus one "(other)" cell per bucket and status past it. */
  get cellsKept(): number {
    return this.columns.count;
  }

  get bucketSeconds(): number {
    return WIDTHS_MS[this.widthIndex]! / 1000;
  }

  /** The cube, with only the busiest routes and keys named. */
  summary(): TrafficCube {
    const { requests, proxyMade } = this.columns;
    const routeTotals = new Array<number>(this.routes.values.length).fill(0);
    const keyTotals = new Array<number>(this.keys.values.length).fill(0);
    for (const cells of this.buckets.values()) {
      for (const [combo, cell] of cells) {
        const [route, key] = splitCombo(combo);
        routeTotals[route]! += requests[cell]!;
        keyTotals[key]! += requests[cell]!;
      }
    }
    const routeMap = topNames(this.routes.values, routeTotals);
    const keyMap = topNames(this.keys.values, keyTotals);
    const statusOrder = this.statuses.values.map((status, id) => ({ status, id }))
      .sort((a, b) => (a.status ?? 1000) - (b.status ?? 1000));
    const statusMap = new Map(statusOrder.map((entry, position) => [entry.id, position]));
    const binsOf: number[][] = Array.from({ length: this.columns.count }, () => []);
    const usedBins = new Set<number>();
    this.latency.forEach((key, count) => {
      const cell = Math.floor(key / LATENCY_KEY_SPAN);
      const bin = key - cell * LATENCY_KEY_SPAN;
      binsOf[cell]!.push(bin, count);
      usedBins.add(bin);
    });
    const binOrder = [...usedBins].sort((a, b) => a - b);
    const binIndex = new Map(binOrder.map((bin, position) => [bin, position]));
    const bucketStarts = [...this.buckets.keys()].sort((a, b) => a - b);
    const folded = new Map<string, { at: number[]; requests: number; proxyMade: number; latency: Map<number, number> }>();
    bucketStarts.forEach((start, bucketPosition) => {
      for (const [combo, cell] of this.buckets.get(start)!) {
        const [route, key, status] = splitCombo(combo);
        const at = [bucketPosition, routeMap.index[route]!, keyMap.index[key]!, statusMap.get(status)!];
        const id = at.join(',');
        let into = folded.get(id);
        if (into === undefined) folded.set(id, (into = { at, requests: 0, proxyMade: 0, latency: new Map() }));
        into.requests += requests[cell]!;
        into.proxyMade += proxyMade[cell]!;
        const bins = binsOf[cell]!;
        for (let i = 0; i < bins.length; i += 2) into.latency.set(bins[i]!, (into.latency.get(bins[i]!) ?? 0) + bins[i + 1]!);
      }
    });
    const cells: CubeCell[] = [];
    for (const { at, requests: count, proxyMade: made, latency } of folded.values()) {
      const bins = [...latency].sort((a, b) => a[0] - b[0]).flatMap(([bin, binCount]) => [binIndex.get(bin)!, binCount]);
      cells.push([...at, count, made, ...bins]);
    }
    return {
      bucketSeconds: this.bucketSeconds,
      buckets: bucketStarts,
      firstMs: this.firstMs,
      lastMs: this.lastMs,
      routes: routeMap.names,
      keys: keyMap.names,
      statuses: statusOrder.map((entry) => entry.status),
      bins: binOrder.map(latencyBinSeconds),
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
