/**
 * A mergeable latency sketch: counts on log-spaced bins (`perDecade` bins per factor of ten,
 * from 1 ms to 10^7 ms). Quantiles come back within one bin (about 6% relative error at 40 per
 * decade), memory is fixed, and two sketches merge by adding counts, so per-route, per-window
 * sketches can be combined without keeping samples.
 */
const DECADES = 7;

export class LogHistogram {
  readonly counts: Uint32Array;
  total = 0;
  /** The smallest and largest value seen: a quantile never lies outside them (one 30.004 s request is "30.004 s", not its bin's middle). */
  minMs = Infinity;
  maxMs = -Infinity;

  constructor(readonly perDecade = 40) {
    this.counts = new Uint32Array(perDecade * DECADES + 1);
  }

  private index(ms: number): number {
    // Bin 0 holds everything under 1 ms (nginx logs 0.000 for cached or local answers).
    if (!(ms >= 1)) return 0;
    return Math.min(this.counts.length - 1, Math.floor(Math.log10(ms) * this.perDecade) + 1);
  }

  add(ms: number, count = 1): void {
    this.counts[this.index(ms)]! += count;
    this.total += count;
    if (ms < this.minMs) this.minMs = ms;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  merge(other: LogHistogram): void {
    if (other.perDecade !== this.perDecade) throw new Error('LogHistogram.merge: different resolutions');
    for (let i = 0; i < this.counts.length; i++) this.counts[i]! += other.counts[i]!;
    this.total += other.total;
    this.minMs = Math.min(this.minMs, other.minMs);
    this.maxMs = Math.max(this.maxMs, other.maxMs);
  }

  /** The q-quantile in ms (geometric middle of its bin, within the values seen), or null when empty. */
  quantile(q: number): number | null {
    if (this.total === 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) {
        const middle = i === 0 ? 0.5 : 10 ** ((i - 0.5) / this.perDecade);
        return Math.min(this.maxMs, Math.max(this.minMs, middle));
      }
    }
    return null;
  }
}
