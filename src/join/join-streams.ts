import type { ApmTransaction, JoinedRequest, ProxyRecord } from '../model/records.js';
import { estimateClockOffset } from './clock-offset.js';
import { emptyJoinStats, type JoinStats } from './join-stats.js';
import { apmJoinKey } from './keys.js';
import { matchSlice, type ApmIndex } from './match-window.js';
import type { JoinOptions } from './options.js';
import { NO_MATCH_COST, proxyStartMs } from './pair-cost.js';

/**
 * The streaming join. Both inputs arrive roughly in time order (proxy by end time, APM by start
 * time). Records wait in a window until no later record can change their fate:
 *   - a proxy record is final once the proxy stream has passed its start by `horizonMs`
 *     (proxies log at the end, so a 30 s request arrives 30 s after its start);
 *   - an APM transaction is final once every proxy record that could claim it is final.
 * The first records calibrate the clock offset; then the window slides in slices.
 * Memory is bounded by the records inside the window, never by the input's length.
 */

const SLICE_MS = 5_000;
const CALIBRATION_SPAN_MS = 120_000;
const CALIBRATION_MAX_RECORDS = 20_000;
/** Tolerated disorder of APM exports, ms. */
const APM_LAG_MS = 5_000;

export async function* joinStreams(
  proxyBatches: AsyncIterable<ProxyRecord[]>,
  apmBatches: AsyncIterable<ApmTransaction[]> | null,
  options: JoinOptions,
  stats: JoinStats = emptyJoinStats(),
): AsyncGenerator<JoinedRequest[]> {
  if (apmBatches === null) {
    for await (const batch of proxyBatches) {
      stats.proxyRecords += batch.length;
      stats.unjoinedProxy += batch.length;
      yield batch.map((proxy) => ({ proxy, apm: null, method: 'none' as const, confidence: 0, offsetMs: null }));
    }
    return;
  }

  const proxyIterator = proxyBatches[Symbol.asyncIterator]();
  const apmIterator = apmBatches[Symbol.asyncIterator]();
  let proxyDone = false;
  let apmDone = false;
  let proxyWatermark = -Infinity;
  let apmWatermark = -Infinity;
  let firstProxyEnd = Infinity;
  let firstApmStart = Infinity;
  let offset: number | null = options.offsetMs ?? null;
  if (offset !== null) stats.offsetMs = offset;
  let finalized = -Infinity;

  let pending: ProxyRecord[] = [];
  const apmWindow: ApmTransaction[] = [];
  let apmHead = 0;
  const index: ApmIndex = { byKey: new Map(), byTraceId: new Map(), byRequestId: new Map(), taken: new Set() };
  let staleInKeyLists = 0;
  // Widest distance between a proxy start and its partner's corrected start that any pair may have.
  const reachMs = Math.sqrt(2 * NO_MATCH_COST) * (options.startSigmaMs + 1000 / 3.4);

  function addApm(transaction: ApmTransaction): void {
    stats.apmRecords++;
    firstApmStart = Math.min(firstApmStart, transaction.startMs);
    if (transaction.startMs >= apmWatermark || apmWindow.length === apmHead) {
      apmWindow.push(transaction);
    } else {
      stats.apmOutOfOrder[transaction.file] = (stats.apmOutOfOrder[transaction.file] ?? 0) + 1;
      insertSorted(apmWindow, apmHead, transaction);
    }
    apmWatermark = Math.max(apmWatermark, transaction.startMs);
    const key = apmJoinKey(transaction);
    if (key !== null) {
      let list = index.byKey.get(key);
      if (!list) index.byKey.set(key, (list = []));
      if (list.length === 0 || list[list.length - 1]!.startMs <= transaction.startMs) list.push(transaction);
      else insertSorted(list, 0, transaction);
    }
    if (transaction.traceId !== null) index.byTraceId.set(transaction.traceId, transaction);
    if (transaction.requestId !== null) index.byRequestId.set(transaction.requestId, transaction);
  }

  function addProxy(record: ProxyRecord): void {
    stats.proxyRecords++;
    firstProxyEnd = Math.min(firstProxyEnd, record.endMs);
    proxyWatermark = Math.max(proxyWatermark, record.endMs);
    if (proxyStartMs(record) < finalized - reachMs) {
      stats.lateRecords[record.file] = (stats.lateRecords[record.file] ?? 0) + 1;
    }
    pending.push(record);
  }

  function calibrate(): void {
    const estimate = estimateClockOffset(pending, apmWindow.slice(apmHead), options.maxSkewMs);
    offset = estimate?.offsetMs ?? 0;
    stats.offsetMs = Math.round(offset);
    stats.offsetSupportingPairs = estimate?.supportingPairs ?? 0;
    stats.offsetSpreadMs = estimate ? Math.round(estimate.spreadMs * 10) / 10 : null;
  }

  function readyToCalibrate(): boolean {
    if (proxyDone && apmDone) return true;
    if (pending.length + apmWindow.length - apmHead >= CALIBRATION_MAX_RECORDS) return true;
    return proxyWatermark - firstProxyEnd >= CALIBRATION_SPAN_MS && apmWatermark - firstApmStart >= CALIBRATION_SPAN_MS;
  }

  /** Proxy starts below the returned time can no longer gain or lose partners. */
  function safeCut(currentOffset: number): number {
    const proxyReady = proxyDone ? Infinity : proxyWatermark - options.horizonMs;
    const apmReady = apmDone ? Infinity : apmWatermark - currentOffset - reachMs - APM_LAG_MS;
    return Math.min(proxyReady, apmReady);
  }

  function processSlice(cut: number, currentOffset: number): JoinedRequest[] {
    const out: JoinedRequest[] = [];
    const slice: ProxyRecord[] = [];
    const keep: ProxyRecord[] = [];
    for (const record of pending) (proxyStartMs(record) < cut ? slice : keep).push(record);
    pending = keep;
    const result = matchSlice(slice, index, currentOffset, options.startSigmaMs, options.minConfidence);
    stats.lowConfidence += result.lowConfidence;
    for (const pair of result.joined) {
      if (pair.method === 'id') stats.joinedById++;
      else stats.joinedHeuristic++;
      stats.confidenceDeciles[Math.min(9, Math.floor(pair.confidence * 10))]!++;
      out.push(pair);
    }
    for (const proxy of result.unmatched) {
      stats.unjoinedProxy++;
      out.push({ proxy, apm: null, method: 'none', confidence: 0, offsetMs: null });
    }
    // APM transactions no remaining proxy record can reach are final.
    const expiry = cut - reachMs;
    while (apmHead < apmWindow.length && apmWindow[apmHead]!.startMs - currentOffset < expiry) {
      const transaction = apmWindow[apmHead++]!;
      staleInKeyLists++;
      if (transaction.traceId !== null && index.byTraceId.get(transaction.traceId) === transaction) index.byTraceId.delete(transaction.traceId);
      if (transaction.requestId !== null && index.byRequestId.get(transaction.requestId) === transaction) index.byRequestId.delete(transaction.requestId);
      if (index.taken.delete(transaction)) continue;
      stats.unjoinedApm++;
      out.push({ proxy: null, apm: transaction, method: 'none', confidence: 0, offsetMs: null });
    }
    compactIfStale(expiry + currentOffset);
    finalized = cut;
    return out;
  }

  function compactIfStale(expiryApmTime: number): void {
    if (apmHead > 4096 && apmHead * 2 > apmWindow.length) {
      apmWindow.splice(0, apmHead);
      apmHead = 0;
    }
    if (staleInKeyLists > 4096 && staleInKeyLists * 2 > apmWindow.length - apmHead) {
      for (const [key, list] of index.byKey) {
        let drop = 0;
        while (drop < list.length && list[drop]!.startMs < expiryApmTime) drop++;
        if (drop === list.length) index.byKey.delete(key);
        else if (drop > 0) list.splice(0, drop);
      }
      staleInKeyLists = 0;
    }
  }

  while (!(proxyDone && apmDone)) {
    const lead = offset ?? 0;
    const pullApm = !apmDone && (proxyDone || apmWatermark - lead < proxyWatermark + reachMs + APM_LAG_MS);
    if (pullApm) {
      const next = await apmIterator.next();
      if (next.done) apmDone = true;
      else for (const transaction of next.value) addApm(transaction);
    } else {
      const next = await proxyIterator.next();
      if (next.done) proxyDone = true;
      else for (const record of next.value) addProxy(record);
    }
    stats.peakBufferedRecords = Math.max(stats.peakBufferedRecords, pending.length + apmWindow.length - apmHead);
    if (offset === null) {
      if (!readyToCalibrate()) continue;
      calibrate();
    }
    const currentOffset = offset as number;
    const cut = safeCut(currentOffset);
    if (cut === Infinity || cut - finalized >= SLICE_MS) {
      const out = processSlice(cut, currentOffset);
      if (out.length > 0) yield out;
    }
  }
  if (offset === null) calibrate();
  const out = processSlice(Infinity, offset as unknown as number);
  if (out.length > 0) yield out;
}

function insertSorted(list: ApmTransaction[], from: number, transaction: ApmTransaction): void {
  let low = from;
  let high = list.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (list[mid]!.startMs <= transaction.startMs) low = mid + 1;
    else high = mid;
  }
  list.splice(low, 0, transaction);
}
