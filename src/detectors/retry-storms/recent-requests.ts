/**
 * The latest request per (client, method, URL) over a sliding time window, with no allocation per
 * request: the key is a 64-bit fingerprint of the text (two 32-bit hashes), the values live in
 * typed arrays of an open-addressing table, and expiry is by generation. A request is remembered in
 * the current generation; when a generation's time has passed, the previous generation is dropped
 * whole and the current one takes its place.
 *
 * Logs are only roughly in time order (a line written at a slow request's end sits among lines of
 * requests that started a minute later), so the clock is the newest time seen, and an entry is
 * kept until that clock has moved at least one generation past the newest time seen when it was
 * remembered: make the generation the lookback window plus the disorder to tolerate.
 *
 * Why not a Map from a concatenated key: per request that built and flattened a ~100-character
 * string and kept it and an entry object alive for the window, long enough to be promoted to the old
 * generation. 500 k combined lines, retry storms alone, median CPU of 5: 1.23 s over the parse with
 * the Map, 0.30 s with this table (perf, issue 8).
 *
 * A fingerprint collision (two URLs with the same 64 bits; odds ~1e-9 among 200 k live keys) only
 * makes one request look like a repeat of another.
 */

const INITIAL_SLOTS = 1 << 12;
/** Int32s per slot: fingerprint high, fingerprint low, end time (ms from the base), flags. */
const STRIDE = 4;
const USED = 0x40000000;

/**
 * Open addressing with linear probing over ONE Int32Array, four values per slot, so a probe reads
 * one cache line instead of one per parallel array (used, high, low, end, flags: five before).
 */
class FingerprintTable {
  readonly slots: number;
  size = 0;
  readonly cells: Int32Array;

  constructor(slots: number) {
    this.slots = slots;
    this.cells = new Int32Array(slots * STRIDE);
  }

  /** The cell offset holding this fingerprint, or -1. */
  find(high: number, low: number): number {
    const cells = this.cells;
    const mask = this.slots - 1;
    for (let slot = low & mask; ; slot = (slot + 1) & mask) {
      const at = slot * STRIDE;
      if (cells[at + 3] === 0) return -1;
      if (cells[at + 1] === low && cells[at] === high) return at;
    }
  }

  /** The cell offset for this fingerprint, claimed if new. The caller keeps the load under one half. */
  claim(high: number, low: number): number {
    const cells = this.cells;
    const mask = this.slots - 1;
    for (let slot = low & mask; ; slot = (slot + 1) & mask) {
      const at = slot * STRIDE;
      if (cells[at + 3] === 0) {
        cells[at] = high;
        cells[at + 1] = low;
        cells[at + 3] = USED;
        this.size++;
        return at;
      }
      if (cells[at + 1] === low && cells[at] === high) return at;
    }
  }

  clear(): void {
    this.cells.fill(0);
    this.size = 0;
  }

  /** A table twice the size holding the same entries. */
  grown(): FingerprintTable {
    const next = new FingerprintTable(this.slots * 2);
    const cells = this.cells;
    for (let at = 0; at < cells.length; at += STRIDE) {
      if (cells[at + 3] === 0) continue;
      const to = next.claim(cells[at]!, cells[at + 1]!);
      next.cells[to + 2] = cells[at + 2]!;
      next.cells[to + 3] = cells[at + 3]!;
    }
    return next;
  }
}

/** What was remembered for a fingerprint: when it ended, whether it failed, and the attempt it was. */
export interface RecentHit {
  endMs: number;
  failed: boolean;
  attempts: number;
  /** Whether the retry chain it belongs to is counted (has an attempt inside the run's slice). */
  chainCounted: boolean;
}

const FAILED = 0x8000;
const CHAIN_COUNTED = 0x4000;
const MAX_ATTEMPTS = 0x3fff;
/** End times are kept as int32 ms from a base: past ±24 days from it, everything is forgotten and the base moves. */
const MAX_OFFSET_MS = 0x7fffffff;

export class RecentRequests {
  private current = new FingerprintTable(INITIAL_SLOTS);
  private previous = new FingerprintTable(INITIAL_SLOTS);
  private generationStartMs = Number.NEGATIVE_INFINITY;
  private newestMs = Number.NEGATIVE_INFINITY;
  private baseMs = Number.NaN;
  /** Reused for every lookup's answer, so a lookup allocates nothing. */
  private readonly hit: RecentHit = { endMs: 0, failed: false, attempts: 0, chainCounted: false };

  constructor(
    private readonly generationMs: number,
    /** Most entries one generation holds; past it the generation turns over early. */
    private readonly maxEntries: number,
  ) {}

  /** The latest request with this fingerprint still remembered, or null. The answer is reused by the next call. */
  latest(high: number, low: number): RecentHit | null {
    let table = this.current;
    let at = table.find(high, low);
    if (at < 0) {
      table = this.previous;
      at = table.find(high, low);
      if (at < 0) return null;
    }
    const flags = table.cells[at + 3]!;
    this.hit.endMs = this.baseMs + table.cells[at + 2]!;
    this.hit.failed = (flags & FAILED) !== 0;
    this.hit.attempts = flags & MAX_ATTEMPTS;
    this.hit.chainCounted = (flags & CHAIN_COUNTED) !== 0;
    return this.hit;
  }

  /** Remembers a request; `timeMs` (its time in the log) drives expiry. */
  remember(high: number, low: number, endMs: number, failed: boolean, attempts: number, timeMs: number, chainCounted = false): void {
    if (timeMs > this.newestMs) this.newestMs = timeMs;
    if (this.newestMs - this.generationStartMs >= this.generationMs) this.turnOver();
    if (this.current.size * 2 >= this.current.slots) {
      if (this.current.size >= this.maxEntries) this.turnOver();
      else this.current = this.current.grown();
    }
    let offsetMs = Math.round(endMs - this.baseMs);
    if (!(Math.abs(offsetMs) < MAX_OFFSET_MS)) {
      // The first request, or one weeks away from the base (a log spanning months): rebase.
      this.current.clear();
      this.previous.clear();
      this.baseMs = Math.round(endMs);
      offsetMs = 0;
    }
    const table = this.current;
    const at = table.claim(high, low);
    table.cells[at + 2] = offsetMs;
    table.cells[at + 3] = USED | (failed ? FAILED : 0) | (chainCounted ? CHAIN_COUNTED : 0) | Math.min(attempts, MAX_ATTEMPTS);
  }

  /** Entries remembered, over both generations (a key in both counts twice). */
  get size(): number {
    return this.current.size + this.previous.size;
  }

  private turnOver(): void {
    const dropped = this.previous;
    dropped.clear();
    // A gap of two generations or more: nothing in the current generation can matter either.
    if (this.newestMs - this.generationStartMs >= 2 * this.generationMs) this.current.clear();
    this.previous = this.current;
    this.current = dropped;
    this.generationStartMs = this.newestMs;
  }
}

/**
 * A 64-bit fingerprint of a request's identity (client, method, path, query) as two 32-bit hashes,
 * FNV-1a and a multiply-xorshift hash over the same characters, written into `out`.
 * This hashing is most of what the detector costs per request (~5 ns a character).
 */
export function fingerprintRequest(client: string, method: string | null, path: string, query: string | null, out: Int32Array): void {
  let fnv = 0x811c9dc5 | 0;
  let mix = 0x9e3779b9 | 0;
  for (let part = 0; part < 4; part++) {
    const text = part === 0 ? client : part === 1 ? method : part === 2 ? path : query;
    if (text !== null) {
      for (let i = 0; i < text.length; i++) {
        const code = text.charCodeAt(i);
        fnv = Math.imul(fnv ^ code, 0x01000193);
        mix = Math.imul(mix ^ code, 0x5bd1e995);
        mix ^= mix >>> 15;
      }
    }
    // An out-of-band value after each part (0x10000 is no UTF-16 code unit), so ("a", "bc") and
    // ("ab", "c") differ, and so do null and "".
    const end = 0x10000 + part * 2 + (text === null ? 1 : 0);
    fnv = Math.imul(fnv ^ end, 0x01000193);
    mix = Math.imul(mix ^ end, 0x5bd1e995);
    mix ^= mix >>> 13;
  }
  out[0] = fnv;
  out[1] = mix;
}
