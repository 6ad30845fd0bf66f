import type { JoinedRequest } from '../model/records.js';

/**
 * Requests per time bucket, by status class, and proxy-made responses (no upstream answer)
 * by status. The bucket widens (1 min, 5 min, 1 h...) so a long log keeps a bounded series.
 */
export interface TimelineRow {
  time: string;
  series: string;
  count: number;
}

const WIDTHS_MS = [60_000, 300_000, 900_000, 3_600_000, 21_600_000, 86_400_000];
const MAX_BUCKETS = 2000;

export class Timeline {
  private widthIndex = 0;
  private buckets = new Map<number, Map<string, number>>();

  observe(request: JoinedRequest): void {
    const proxy = request.proxy;
    if (proxy === null) return;
    const statusClass = proxy.status === null ? 'no status' : `${Math.floor(proxy.status / 100)}xx`;
    this.add(proxy.endMs, `all ${statusClass}`);
    if (proxy.upstreamLogged && proxy.upstreamStatus === null) this.add(proxy.endMs, `no upstream ${proxy.status ?? '-'}`);
  }

  private add(timeMs: number, series: string): void {
    const width = WIDTHS_MS[this.widthIndex]!;
    const bucket = Math.floor(timeMs / width) * width;
    let counts = this.buckets.get(bucket);
    if (!counts) {
      if (this.buckets.size >= MAX_BUCKETS && this.widthIndex < WIDTHS_MS.length - 1) {
        this.widen();
        this.add(timeMs, series);
        return;
      }
      this.buckets.set(bucket, (counts = new Map()));
    }
    counts.set(series, (counts.get(series) ?? 0) + 1);
  }

  private widen(): void {
    this.widthIndex++;
    const width = WIDTHS_MS[this.widthIndex]!;
    const merged = new Map<number, Map<string, number>>();
    for (const [bucket, counts] of this.buckets) {
      const target = Math.floor(bucket / width) * width;
      let into = merged.get(target);
      if (!into) merged.set(target, (into = new Map()));
      for (const [series, count] of counts) into.set(series, (into.get(series) ?? 0) + count);
    }
    this.buckets = merged;
  }

  get bucketSeconds(): number {
    return WIDTHS_MS[this.widthIndex]! / 1000;
  }

  rows(): TimelineRow[] {
    const rows: TimelineRow[] = [];
    for (const bucket of [...this.buckets.keys()].sort((a, b) => a - b)) {
      for (const [series, count] of this.buckets.get(bucket)!) rows.push({ time: new Date(bucket).toISOString(), series, count });
    }
    return rows;
  }
}
