/**
 * A client's busiest minute for retries: the clock minute with the most retries, and how many
 * requests the client sent in it. Three live minutes are counted at once, so lines up to two
 * minutes out of time order (nginx writes a slow request's line at its end) still land in their
 * own minute; an older line is left out of the count.
 *
 * It replaced a timeline of one-minute buckets that merged into wider ones once a client had been
 * seen for two hours: on a log spanning weeks the "busiest minute" was a 2,048-minute window (a
 * developer's XAMPP access log, 19,439 lines over three weeks).
 */

const LIVE = 3;

export interface BusiestMinute {
  startMs: number;
  requests: number;
  retries: number;
}

export class PeakMinute {
  private readonly minutes = new Float64Array(LIVE).fill(Number.NEGATIVE_INFINITY);
  private readonly requests = new Float64Array(LIVE);
  private readonly retries = new Float64Array(LIVE);
  private best: BusiestMinute | null = null;

  observe(startMs: number, retry: boolean): void {
    const minute = Math.floor(startMs / 60_000);
    const slot = ((minute % LIVE) + LIVE) % LIVE;
    const live = this.minutes[slot]!;
    if (minute < live) return;
    if (minute > live) {
      this.settle(slot);
      this.minutes[slot] = minute;
      this.requests[slot] = 0;
      this.retries[slot] = 0;
    }
    this.requests[slot]!++;
    if (retry) this.retries[slot]!++;
  }

  /** The minute with the most retries so far (the earliest of equals), or null before any retry. */
  busiest(): BusiestMinute | null {
    for (let slot = 0; slot < LIVE; slot++) this.settle(slot);
    return this.best;
  }

  private settle(slot: number): void {
    const retries = this.retries[slot]!;
    if (retries === 0) return;
    const startMs = this.minutes[slot]! * 60_000;
    const best = this.best;
    if (best === null || retries > best.retries || (retries === best.retries && startMs < best.startMs)) {
      this.best = { startMs, requests: this.requests[slot]!, retries };
    }
  }
}
