import type { JoinedRequest } from '../model/records.js';
import { WideningBuckets } from './widening-buckets.js';

/**
 * Requests per time bucket, by status class, and proxy-made responses (no upstream answer)
 * by status. The bucket widens (1 min, 5 min, 1 h...) so a long log keeps a bounded series.
 */
export interface TimelineRow {
  time: string;
  series: string;
  count: number;
}

const MAX_BUCKETS = 2000;

function addSeries(into: Map<string, number>, from: Map<string, number>): void {
  for (const [series, count] of from) into.set(series, (into.get(series) ?? 0) + count);
}

export class Timeline {
  private readonly buckets = new WideningBuckets<Map<string, number>>(MAX_BUCKETS, () => new Map(), addSeries);

  observe(request: JoinedRequest): void {
    const proxy = request.proxy;
    if (proxy === null) return;
    const counts = this.buckets.at(proxy.endMs);
    const statusClass = proxy.status === null ? 'no status' : `${Math.floor(proxy.status / 100)}xx`;
    increment(counts, `all ${statusClass}`);
    if (proxy.upstreamLogged && proxy.upstreamStatus === null) increment(counts, `no upstream ${proxy.status ?? '-'}`);
  }

  get bucketSeconds(): number {
    return this.buckets.bucketSeconds;
  }

  rows(): TimelineRow[] {
    const rows: TimelineRow[] = [];
    for (const [bucket, counts] of this.buckets.entries()) {
      for (const [series, count] of counts) rows.push({ time: new Date(bucket).toISOString(), series, count });
    }
    return rows;
  }
}

function increment(counts: Map<string, number>, series: string): void {
  counts.set(series, (counts.get(series) ?? 0) + 1);
}
