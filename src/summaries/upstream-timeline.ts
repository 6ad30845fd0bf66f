import { ownString } from '../model/own-string.js';
import { type JoinedRequest, upstreamMissing } from '../model/records.js';
import { WideningBuckets } from './widening-buckets.js';

/**
 * Per upstream address and time bucket: requests, upstream errors (502/503/504 and responses
 * the proxy made without any upstream answer) and connect times. This is the view the gateway
 * failure stories need (docs/case-studies.md): bursts of 502/504 on one address point at that
 * backend, errors on every address at once point at the network or the proxy, and a connect
 * time above zero on every request means connections are not reused.
 *
 * Bounded: at most MAX_UPSTREAMS addresses keep their own series (the first seen; later ones
 * share OTHER), and buckets widen like the request timeline so a long log stays at most
 * MAX_BUCKETS buckets. Connect time keeps sum, count and max per cell: no per-request state.
 */
export interface UpstreamTimelineRow {
  /** Bucket start, ISO 8601 UTC. */
  time: string;
  upstream: string;
  requests: number;
  status502: number;
  status503: number;
  status504: number;
  /** Proxy-made responses: the proxy logged that no upstream answered (any other status). */
  noUpstream: number;
  /** Requests with a measured connect time in this cell. */
  connectMeasured: number;
  connectMeanMs: number | null;
  connectMaxMs: number | null;
}

export interface UpstreamTotals {
  upstream: string;
  requests: number;
  errors: number;
}

export interface UpstreamTimelineSummary {
  bucketSeconds: number;
  rows: UpstreamTimelineRow[];
  /** Per upstream over the whole log, most requests first. */
  upstreams: UpstreamTotals[];
  /** Requests that carried a connect time at all (0: the format does not log it). */
  connectMeasured: number;
}

export const OTHER_UPSTREAMS = '(other)';
export const NO_UPSTREAM_ADDRESS = '(no address)';

const MAX_BUCKETS = 1000;
const MAX_UPSTREAMS = 8;

interface Cell {
  requests: number;
  status502: number;
  status503: number;
  status504: number;
  noUpstream: number;
  connectMeasured: number;
  connectSumMs: number;
  connectMaxMs: number;
}

function emptyCell(): Cell {
  return { requests: 0, status502: 0, status503: 0, status504: 0, noUpstream: 0, connectMeasured: 0, connectSumMs: 0, connectMaxMs: 0 };
}

function mergeInto(into: Cell, from: Cell): void {
  into.requests += from.requests;
  into.status502 += from.status502;
  into.status503 += from.status503;
  into.status504 += from.status504;
  into.noUpstream += from.noUpstream;
  into.connectMeasured += from.connectMeasured;
  into.connectSumMs += from.connectSumMs;
  into.connectMaxMs = Math.max(into.connectMaxMs, from.connectMaxMs);
}

function mergeCells(into: Map<string, Cell>, from: Map<string, Cell>): void {
  for (const [upstream, cell] of from) {
    let intoCell = into.get(upstream);
    if (!intoCell) into.set(upstream, (intoCell = emptyCell()));
    mergeInto(intoCell, cell);
  }
}

export class UpstreamTimeline {
  private readonly buckets = new WideningBuckets<Map<string, Cell>>(MAX_BUCKETS, () => new Map(), mergeCells);
  /**
   * Addresses with their own series (everything else goes to OTHER_UPSTREAMS), each to an owned
   * copy: the buckets' Maps keep the name for the run, and a name cut from a line would pin its
   * read chunk (300 k ALB lines: hundreds of 256 KB chunks).
   */
  private readonly named = new Map<string, string>();
  private readonly totals = new Map<string, UpstreamTotals>();
  private connectMeasured = 0;

  observe(request: JoinedRequest): void {
    const proxy = request.proxy;
    if (proxy === null) return;
    const upstream = this.nameOf(proxy.upstreamAddr);
    const cell = this.cell(proxy.endMs, upstream);
    cell.requests++;
    // The client-facing status classifies the error, so a gateway's own 502/504 (upstream "-")
    // counts as the 5xx it was; only other statuses without an upstream answer are "no upstream".
    const status = proxy.status;
    let error = true;
    if (status === 502) cell.status502++;
    else if (status === 503) cell.status503++;
    else if (status === 504) cell.status504++;
    else if (upstreamMissing(proxy)) cell.noUpstream++;
    else error = false;
    const connect = proxy.upstreamConnectTimeMs;
    if (connect !== null) {
      cell.connectMeasured++;
      cell.connectSumMs += connect;
      if (connect > cell.connectMaxMs) cell.connectMaxMs = connect;
      this.connectMeasured++;
    }
    let total = this.totals.get(upstream);
    if (!total) this.totals.set(upstream, (total = { upstream, requests: 0, errors: 0 }));
    total.requests++;
    if (error) total.errors++;
  }

  private nameOf(address: string | null): string {
    const name = address ?? NO_UPSTREAM_ADDRESS;
    const owned = this.named.get(name);
    if (owned !== undefined) return owned;
    if (this.named.size < MAX_UPSTREAMS) {
      const copy = ownString(name);
      this.named.set(copy, copy);
      return copy;
    }
    return OTHER_UPSTREAMS;
  }

  private cell(timeMs: number, upstream: string): Cell {
    const cells = this.buckets.at(timeMs);
    let cell = cells.get(upstream);
    if (!cell) cells.set(upstream, (cell = emptyCell()));
    return cell;
  }

  get bucketSeconds(): number {
    return this.buckets.bucketSeconds;
  }

  summary(): UpstreamTimelineSummary {
    const rows: UpstreamTimelineRow[] = [];
    for (const [bucket, cells] of this.buckets.entries()) {
      const time = new Date(bucket).toISOString();
      for (const [upstream, cell] of cells) {
        rows.push({
          time,
          upstream,
          requests: cell.requests,
          status502: cell.status502,
          status503: cell.status503,
          status504: cell.status504,
          noUpstream: cell.noUpstream,
          connectMeasured: cell.connectMeasured,
          connectMeanMs: cell.connectMeasured === 0 ? null : cell.connectSumMs / cell.connectMeasured,
          connectMaxMs: cell.connectMeasured === 0 ? null : cell.connectMaxMs,
        });
      }
    }
    const upstreams = [...this.totals.values()].sort((a, b) => b.requests - a.requests || a.upstream.localeCompare(b.upstream));
    return { bucketSeconds: this.bucketSeconds, rows, upstreams, connectMeasured: this.connectMeasured };
  }
}
