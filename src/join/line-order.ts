import { upstreamTimed, type ApmTransaction, type JoinedRequest, type ProxyRecord } from '../model/records.js';
import { robustCost } from './pair-cost.js';

/**
 * Whole-second stamps, sharpened by the log's line order. A proxy writes its line when the
 * response has gone out, so the lines of one file are in end order; the APM export gives the end of
 * every backend answer to the millisecond. Once some pairs of a second are sure, every other line
 * of that second must have ended between the sure pair logged just before it and the one logged
 * just after it: at 45 req/s, a window of a few tens of ms instead of 1 s. That is what tells
 * apart look-alikes in one second (the same URL, agent and key at a tick's burst while the worker
 * pool queues), which neither the stamp nor the duration can (measured on real nginx, see README
 * "Join quality").
 *
 * Everything here is in the APM's clock: a line's "end mark" is the APM end of its partner plus
 * the time the response took from the upstream to the client (request time minus upstream time),
 * so the clock offset never enters, and a wrong offset cannot narrow a window wrongly.
 *
 * Only lines of the same file and the same stamp bound each other: a file that is several logs
 * concatenated (or several workers' lines interleaved) stays in order within a second at most, and
 * a wrong bound then costs a pair its window's tail (robustCost), not the pair.
 */

/** The end marks of one slice's proxy records, as bounds on their partner's end mark; NaN where unknown. */
export interface EndBounds {
  readonly low: Float64Array;
  readonly high: Float64Array;
}

/**
 * How far a line's end mark may run ahead of a line logged after it before it costs, ms. A line
 * reaches the log a little after the backend's answer: measured on real nginx in front of a
 * 20-worker pool at 45 req/s, $msec minus the end mark was −1.4 to +43 ms, 99% under 15 ms, so
 * two lines' marks can invert by a few ms, rarely by tens. nginx workers each stamp with their
 * own cached clock, so with several workers lines can also trail each other by an event-loop turn.
 */
const SLACK_MS = 5;
/** Beyond the slack: a Gaussian core and exponential tails (a wrong sure pair must not veto a true one). */
const ORDER_SIGMA_MS = 10;
const ORDER_TAIL_MS = 30;

/** The cost of an end mark running `inversionMs` ahead of one logged after it. */
export function inversionCost(inversionMs: number): number {
  const excess = inversionMs - SLACK_MS;
  return excess > 0 ? robustCost(excess, ORDER_SIGMA_MS, ORDER_TAIL_MS, ORDER_TAIL_MS) : 0;
}

/** The end mark a record and a transaction would have as a pair: the APM end, plus the response's way to the client. */
export function endMark(proxy: ProxyRecord, apm: ApmTransaction): number {
  return apm.startMs + apm.durationMs + (proxy.requestTimeMs ?? proxy.upstreamTimeMs!) - proxy.upstreamTimeMs!;
}

/** Whether a record's pairs can be placed by line order: a whole-second stamp and a timed answer. */
export function orderable(proxy: ProxyRecord): boolean {
  return proxy.timeResolutionMs > 10 && upstreamTimed(proxy);
}

/**
 * Bounds from the sure pairs of a rehearsal: for each orderable record, the latest end mark of a
 * sure pair logged before it and the earliest of one logged after it, within its file and stamp.
 * Null when line order cannot be trusted: no sure pair to check it by, or more than one in twenty
 * sure pairs whose end marks contradict their lines' order.
 */
export function lineOrderBounds(slice: readonly ProxyRecord[], sure: readonly JoinedRequest[]): EndBounds | null {
  const marks = new Map<ProxyRecord, number>();
  for (const pair of sure) {
    if (pair.proxy !== null && pair.apm !== null && orderable(pair.proxy)) marks.set(pair.proxy, endMark(pair.proxy, pair.apm));
  }
  if (marks.size === 0) return null;
  const groups = new Map<string, number[]>();
  slice.forEach((proxy, i) => {
    const key = orderGroup(proxy);
    if (key === null) return;
    const group = groups.get(key);
    if (group) group.push(i);
    else groups.set(key, [i]);
  });
  const low = new Float64Array(slice.length).fill(NaN);
  const high = new Float64Array(slice.length).fill(NaN);
  let comparisons = 0;
  let inversions = 0;
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    group.sort((a, b) => slice[a]!.line - slice[b]!.line);
    let latest = -Infinity;
    for (const i of group) {
      const mark = marks.get(slice[i]!);
      if (latest > -Infinity) {
        low[i] = latest;
        if (mark !== undefined) {
          comparisons++;
          if (latest - mark > INVERTED_MS) inversions++;
        }
      }
      if (mark !== undefined && mark > latest) latest = mark;
    }
    let earliest = Infinity;
    for (let g = group.length - 1; g >= 0; g--) {
      const i = group[g]!;
      if (earliest < Infinity) high[i] = earliest;
      const mark = marks.get(slice[i]!);
      if (mark !== undefined && mark < earliest) earliest = mark;
    }
  }
  // Lines not written in end order (a log sorted or merged by something else): the order says nothing.
  return inversions === 0 || inversions * 20 <= comparisons ? { low, high } : null;
}

/** Sure pairs whose end marks run further apart than this against their line order contradict it, ms. */
const INVERTED_MS = 50;

/** What the line order says about pairing record `i` of the slice with a transaction: 0 inside its bounds and their slack. */
export function lineOrderCost(bounds: EndBounds, i: number, proxy: ProxyRecord, apm: ApmTransaction): number {
  if (!orderable(proxy)) return 0;
  const low = bounds.low[i]!;
  const high = bounds.high[i]!;
  if (Number.isNaN(low) && Number.isNaN(high)) return 0;
  const mark = endMark(proxy, apm);
  return (Number.isNaN(low) ? 0 : inversionCost(low - mark)) + (Number.isNaN(high) ? 0 : inversionCost(mark - high));
}

/** The stamp group a record's line belongs to (file and stamp), for ordering pairs against each other; null when not orderable. */
export function orderGroup(proxy: ProxyRecord): string | null {
  return orderable(proxy) ? `${proxy.endMs} ${proxy.file}` : null;
}
