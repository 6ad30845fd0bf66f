import { answeredWithoutBackend, type ApmTransaction, type JoinedRequest, type ProxyRecord } from '../model/records.js';
import { orderApm } from './apm-order.js';
import { estimateClockOffset } from './clock-offset.js';
import { emptyJoinStats, joinedShare, type JoinStats } from './join-stats.js';
import { ApmWindow } from './apm-window.js';
import { lineOrderBounds, orderable, type EndBounds } from './line-order.js';
import { matchSlice } from './match-window.js';
import { OffsetTracker, offsetAt } from './offset-tracker.js';
import type { JoinOptions } from './options.js';
import { PendingProxies } from './pending-proxies.js';
import { DEFAULT_TIMING, matchedAsQueueWait, NO_MATCH_COST, proxyStartMs } from './pair-cost.js';
import { TimingTracker } from './timing-tracker.js';

/**
 * The streaming join. Both inputs arrive roughly in time order (proxy by end time, APM by start
 * time). Records wait in a window until no later record can change their fate:
 *   - a proxy record is final once the proxy stream has passed its start by `horizonMs`
 *     (proxies log at the end, so a 30 s request arrives 30 s after its start);
 *   - an APM transaction is final once every proxy record that could claim it is final.
 * The first records calibrate the clock offset and the timing tolerance; then the window slides
 * in slices, and each slice's confident pairs move the offset along with any clock drift.
 * Memory is bounded by the records inside the window, never by the input's length.
 */

const SLICE_MS = 5_000;
const CALIBRATION_SPAN_MS = 120_000;
const CALIBRATION_MAX_RECORDS = 20_000;
/** Proxy records that must be able to vote before the record budget may end the calibration's wait (see votersFrom). */
const CALIBRATION_MIN_VOTERS = 1_000;
/** Tolerated disorder of APM exports, ms. */
const APM_LAG_MS = 5_000;
/** Pairs at least this confident steer the drift tracker. */
const TRACKING_CONFIDENCE = 0.9;
/**
 * The jitter measured at calibration is widened by this factor (and never below 1 ms): start
 * differences are not Gaussian (dispatch delays are skewed, rounding is uniform), and a too-narrow
 * tolerance refuses true pairs.
 */
const SIGMA_MARGIN = 1.5;
const MIN_SIGMA_MS = 1;

/**
 * Proxy records per step of the join. The join reads and decides a batch at a time (when to
 * calibrate, where a slice falls), so it takes the proxy stream in batches of its own: how files,
 * spooled segments or parse workers happened to batch the records then changes nothing, and
 * `alf analyze` of the files, a window replayed by `alf scan` and a queued reduce join alike. (The
 * APM stream is read in smaller steps, as far as the next slice needs, so its batches are taken
 * as they come: a merge of several files or segments cuts them at BATCH_LINES, as one file's are.)
 */
const JOIN_BATCH = 2048;

/** The same records in batches of exactly `size` (the last may be shorter); a batch of that size passes as it is. */
async function* evenBatches<T>(batches: AsyncIterable<T[]>, size: number): AsyncGenerator<T[]> {
  let out: T[] = [];
  for await (const batch of batches) {
    if (out.length === 0 && batch.length === size) {
      yield batch;
      continue;
    }
    for (const item of batch) {
      out.push(item);
      if (out.length === size) {
        yield out;
        out = [];
      }
    }
  }
  if (out.length > 0) yield out;
}

export async function* joinStreams(
  proxyBatches: AsyncIterable<ProxyRecord[]>,
  apmInput: AsyncIterable<ApmTransaction[]> | null,
  options: JoinOptions,
  stats: JoinStats = emptyJoinStats(),
): AsyncGenerator<JoinedRequest[]> {
  stats.maxSkewMs = options.maxSkewMs;
  if (apmInput === null) {
    for await (const batch of proxyBatches) {
      stats.proxyRecords += batch.length;
      stats.unjoinedProxy += batch.length;
      yield batch.map((proxy) => ({ proxy, apm: null, method: 'none' as const, confidence: 0, offsetMs: null }));
    }
    return;
  }

  const proxyIterator = evenBatches(proxyBatches, JOIN_BATCH)[Symbol.asyncIterator]();
  const apmIterator = orderApm(apmInput, stats)[Symbol.asyncIterator]();
  let proxyDone = false;
  let apmDone = false;
  let proxyWatermark = -Infinity;
  let firstProxyEnd = Infinity;
  let firstProxyStart = Infinity;
  let tracker: OffsetTracker | null = options.offsetMs === undefined ? null : new OffsetTracker(options.offsetMs, true);
  if (options.offsetMs !== undefined) stats.offsetMs = options.offsetMs;
  const timing = new TimingTracker({ ...DEFAULT_TIMING, startSigmaMs: options.startSigmaMs }, options.startSigmaMs);
  let finalized = -Infinity;

  const pending = new PendingProxies();
  const apm = new ApmWindow(options.routeTemplates, stats);
  // Widest distance between a proxy start and its partner's corrected start that any pair may have.
  const reachMs = Math.sqrt(2 * NO_MATCH_COST) * (options.startSigmaMs + 1000 / 3.4);
  const retainMs = (): number => (apm.idsSeen ? Math.max(reachMs, options.maxSkewMs) : reachMs);

  function addProxy(record: ProxyRecord): void {
    stats.proxyRecords++;
    firstProxyEnd = Math.min(firstProxyEnd, record.endMs);
    firstProxyStart = Math.min(firstProxyStart, proxyStartMs(record));
    proxyWatermark = Math.max(proxyWatermark, record.endMs);
    if (proxyStartMs(record) < finalized - reachMs) {
      stats.lateRecords[record.file] = (stats.lateRecords[record.file] ?? 0) + 1;
    }
    pending.add(record);
  }

  function calibrate(): OffsetTracker {
    // Both streams as far as each other, as if read level: the join reads the APM stream a few
    // seconds ahead of the proxy stream, and chance pairs pile up where the two spans line up. On
    // one URL at 100 requests a second logged in whole seconds (true offset -2 s), the estimate was
    // -1.95 s with both streams read level and +5.1 s with the APM stream 6 s ahead.
    const from = calibrationFrom();
    const transactions = apm.transactions().filter((transaction) => transaction.startMs >= from && transaction.startMs <= proxyWatermark);
    const voters = votersFrom();
    // Requests the proxy answered alone have no partner to vote with (see withoutAnsweredAlone).
    const proxies = pending.peekAll().filter((record) => !answeredWithoutBackend(record) && (voters === -Infinity || proxyStartMs(record) >= voters));
    const estimate = estimateClockOffset(proxies, transactions, options.maxSkewMs, apm.index.templates);
    const offset = estimate?.offsetMs ?? 0;
    stats.offsetMs = Math.round(offset);
    stats.offsetSupportingPairs = estimate?.supportingPairs ?? 0;
    stats.offsetSpreadMs = estimate ? Math.round(estimate.spreadMs * 10) / 10 : null;
    if (estimate?.jitterMs != null) {
      timing.seedStartSigma(Math.min(options.startSigmaMs, Math.max(MIN_SIGMA_MS, SIGMA_MARGIN * estimate.jitterMs)));
    }
    if (estimate === null) stats.notes.push('no plausible pairs to estimate the clock offset from; assumed 0 ms');
    return new OffsetTracker(offset, options.followDrift === false);
  }

  /**
   * Where the APM span the calibration looks at begins: the proxy records' earliest start, less
   * the largest offset searched. An APM export that begins before the proxy log (a wider export, a
   * `--since` slice, a queued window's margin) holds transactions no proxy record seen can be the
   * partner of; counted, they filled the calibration's record budget before the APM stream reached
   * the proxy records' span, and the offset was read from chance pairs alone. `alf analyze
   * --since 00:02 --until 00:04` of the bench's queued-run inputs: offset -17,951 ms from 1
   * supporting pair (true 351 ms) and 11% of proxy records joined, against 88% unsliced.
   */
  const calibrationFrom = (): number => firstProxyStart - options.maxSkewMs;

  /**
   * The mirror case, a proxy log that begins before the export: only proxy records that start at
   * least --max-skew after the export's first transaction vote, since the partners of earlier ones,
   * if any, were never exported. They had voted with chance pairs among the export's first
   * transactions: a proxy log 4 minutes ahead of its export (the bench's queued inputs) read 29 s
   * from 5 pairs, or "no plausible pairs, 0 ms" (true 351 ms). -Infinity: every record votes.
   */
  const votersFrom = (): number => (apm.firstStart > firstProxyStart + options.maxSkewMs ? apm.firstStart + options.maxSkewMs : -Infinity);

  function readyToCalibrate(): boolean {
    if (proxyDone && apmDone) return true;
    // The proxy stream has ended and the APM stream is past any partner its records can have: no
    // transaction to come changes the estimate (it reads transactions up to proxyWatermark). Before,
    // an export read with no proxy log, or a short one, waited whole for the export's end: 433,194
    // New Relic rows alone held 433,194 records, 462 MB peak RSS (263 MB for 200,000 rows).
    if (proxyDone && apm.watermark >= proxyWatermark + options.maxSkewMs + reachMs + APM_LAG_MS) return true;
    // On the record budget only once the APM stream is level with the proxy stream.
    const level = apmDone || apm.watermark >= proxyWatermark - reachMs;
    if (level && pending.size + apm.size >= CALIBRATION_MAX_RECORDS) {
      const voters = pending.countFrom(votersFrom());
      if (voters >= CALIBRATION_MIN_VOTERS && voters + apm.countFrom(calibrationFrom()) >= CALIBRATION_MAX_RECORDS) return true;
    }
    return proxyWatermark - Math.max(firstProxyEnd, votersFrom()) >= CALIBRATION_SPAN_MS && apm.watermark - Math.max(apm.firstStart, calibrationFrom()) >= CALIBRATION_SPAN_MS;
  }

  /**
   * Before calibration, transactions that start too early for any proxy record to reach leave as
   * unjoined, so an export that begins long before the proxy log is not held until the proxy
   * stream gets there: every proxy record ends after the first one's end less --horizon (the
   * disorder the join allows) and starts at most --horizon before it ends.
   */
  function expireUnreachable(out: JoinedRequest[]): void {
    if (!Number.isFinite(firstProxyEnd)) return;
    apm.expire(firstProxyEnd - 2 * options.horizonMs - options.maxSkewMs - reachMs, 0, out);
  }

  /**
   * And before calibration, proxy records that start too early for any transaction (a proxy log
   * that begins before the export) leave as unjoined: transactions arrive in start order, give or
   * take APM_LAG_MS, so none to come can be their partner, and they are not held until the vote.
   */
  function expireUnpartnered(out: JoinedRequest[]): void {
    if (!Number.isFinite(apm.firstStart)) return;
    for (const proxy of pending.takeBefore(apm.firstStart - APM_LAG_MS - options.maxSkewMs - reachMs)) {
      stats.unjoinedProxy++;
      out.push({ proxy, apm: null, method: 'none', confidence: 0, offsetMs: null });
    }
  }

  /**
   * Requests the proxy logged it answered without trying a backend (a static file, a redirect, a
   * limiter's 503) have no transaction: they leave unjoined at once instead of competing with the
   * proxied requests of their path and second, where any partner they took would be another
   * request's. On a healthy edge they are most of the log (test/e2e/healthy-edge.e2e.test.ts).
   */
  function withoutAnsweredAlone(slice: ProxyRecord[], out: JoinedRequest[]): ProxyRecord[] {
    let kept: ProxyRecord[] | null = null;
    for (let i = 0; i < slice.length; i++) {
      const proxy = slice[i]!;
      if (!answeredWithoutBackend(proxy)) {
        kept?.push(proxy);
        continue;
      }
      kept ??= slice.slice(0, i);
      stats.unjoinedProxy++;
      out.push({ proxy, apm: null, method: 'none', confidence: 0, offsetMs: null });
    }
    return kept ?? slice;
  }

  /** Proxy starts below the returned time can no longer gain or lose partners. */
  function safeCut(currentOffset: number): number {
    const proxyReady = proxyDone ? Infinity : proxyWatermark - options.horizonMs;
    const apmReady = apmDone ? Infinity : apm.watermark - currentOffset - reachMs - APM_LAG_MS;
    return Math.min(proxyReady, apmReady);
  }

  function processSlice(cut: number, offsets: OffsetTracker): JoinedRequest[] {
    const out: JoinedRequest[] = [];
    const slice = withoutAnsweredAlone(pending.takeBefore(cut), out);
    const model = offsets.current;
    // Until pairs have taught the tolerances, rehearse on this slice without committing: the first
    // slice is large (it holds the whole calibration span), and matching it with the blunt defaults
    // refused most pairs on busy URLs (measured: recall 0.10 at 300 req/s on a 60 s log).
    for (let round = 0; round < 2 && !timing.learned && slice.length > 0; round++) {
      const rehearsal = matchSlice(slice, apm.index, model, timing.current, options.minConfidence, { rehearsal: true });
      for (const pair of rehearsal.joined) if (pair.confidence >= TRACKING_CONFIDENCE) timing.observe(pair, model);
      timing.update();
      timing.forget();
    }
    // Whole-second stamps: a rehearsal's sure pairs place the other lines of their second by line order.
    let bounds: EndBounds | null = null;
    if (slice.some(orderable)) {
      const rehearsal = matchSlice(slice, apm.index, model, timing.current, options.minConfidence, { rehearsal: true });
      bounds = lineOrderBounds(slice, rehearsal.joined.filter((pair) => pair.confidence >= TRACKING_CONFIDENCE));
    }
    const result = matchSlice(slice, apm.index, model, timing.current, options.minConfidence, { bounds });
    stats.lowConfidence += result.lowConfidence;
    for (const pair of result.joined) {
      if (pair.method === 'id') stats.joinedById++;
      else stats.joinedHeuristic++;
      stats.confidenceDeciles[Math.min(9, Math.floor(pair.confidence * 10))]!++;
      if (pair.confidence >= TRACKING_CONFIDENCE) {
        const start = proxyStartMs(pair.proxy!);
        // The clocks' offset is read from when the request reached the backend, net of any queue time the export gives.
        const arrivalOffset = pair.offsetMs! - (pair.apm!.queueMs ?? 0);
        if (!matchedAsQueueWait(pair.proxy!, arrivalOffset - offsetAt(model, start), timing.current.startSigmaMs)) {
          offsets.observe(start, arrivalOffset);
          timing.observe(pair, model);
        }
      }
      out.push(pair);
    }
    offsets.endSlice();
    timing.update();
    for (const proxy of result.unmatched) {
      stats.unjoinedProxy++;
      out.push({ proxy, apm: null, method: 'none', confidence: 0, offsetMs: null });
    }
    // APM transactions no remaining proxy record can reach are final.
    const expiry = cut - retainMs();
    apm.expire(expiry, offsetAt(model, cut), out);
    finalized = cut;
    return out;
  }

  /**
   * How far the APM stream must have been read, in proxy time. Until calibration, as far as the
   * proxy stream (the offset is estimated from both sides over the same span). After it, only as
   * far as the next slice can reach (by id, --max-skew once ids are seen). A proxy record waits the
   * whole --horizon for late-logged neighbours, but its partners are needed only when its slice is
   * matched: reading the APM stream level with the proxy stream held a horizon of transactions
   * (65 s) in the window for nothing. 1 M extended lines joined to 886 k New Relic rows, same
   * output: peak window 35,892 -> 24,512 records, peak RSS 451 -> 374 MB, CPU 13.56 -> 13.06 s
   * (medians of 5, alternating with the build before).
   */
  const apmNeededUntil = (): number =>
    tracker === null
      ? proxyWatermark + reachMs + APM_LAG_MS
      : proxyWatermark - options.horizonMs + retainMs() + APM_LAG_MS + SLICE_MS;

  while (!(proxyDone && apmDone)) {
    const lead = tracker === null ? 0 : offsetAt(tracker.current, proxyWatermark);
    const pullApm = !apmDone && (proxyDone || apm.watermark - lead < apmNeededUntil());
    if (pullApm) {
      const next = await apmIterator.next();
      if (next.done) apmDone = true;
      else for (const transaction of next.value) apm.add(transaction);
    } else {
      const next = await proxyIterator.next();
      if (next.done) proxyDone = true;
      else for (const record of next.value) addProxy(record);
    }
    if (tracker === null) {
      const unreachable: JoinedRequest[] = [];
      expireUnreachable(unreachable);
      expireUnpartnered(unreachable);
      if (unreachable.length > 0) yield unreachable;
    }
    stats.peakBufferedRecords = Math.max(stats.peakBufferedRecords, pending.size + apm.size);
    if (tracker === null) {
      if (!readyToCalibrate()) continue;
      tracker = calibrate();
    }
    // A slice is cut only once the APM stream has caught up, so where slices fall (and with them
    // the matching's groups and the output's order) depends on the proxy stream alone, as when the
    // APM stream was read level with it.
    const offsetNow = offsetAt(tracker.current, proxyWatermark);
    if (!apmDone && !proxyDone && apm.watermark - offsetNow < apmNeededUntil()) continue;
    const cut = safeCut(offsetNow);
    if (cut === Infinity || cut - finalized >= SLICE_MS) {
      const out = processSlice(cut, tracker);
      if (out.length > 0) yield out;
    }
  }
  tracker ??= calibrate();
  const out = processSlice(Infinity, tracker);
  if (out.length > 0) yield out;
  stats.startSigmaMs = Math.round(timing.current.startSigmaMs * 10) / 10;
  stats.durationSigmaMs = Math.round(timing.current.durationSigmaMs * 10) / 10;
  stats.joinedShare = joinedShare(stats);
  if (options.offsetMs === undefined && stats.offsetMs !== null) {
    stats.offsetMinMs = Math.round(Math.min(tracker.min, stats.offsetMs));
    stats.offsetMaxMs = Math.round(Math.max(tracker.max, stats.offsetMs));
  } else {
    stats.offsetMinMs = stats.offsetMaxMs = stats.offsetMs;
  }
  const late = Object.values(stats.lateRecords).reduce((a, b) => a + b, 0);
  if (late > 0) stats.notes.push(`${late} proxy records arrived later than --horizon allowed and may have missed partners: the log is more disordered than the window`);
  if (stats.apmNestedSpans > 0) {
    stats.notes.push(`${stats.apmNestedSpans} APM span${stats.apmNestedSpans === 1 ? ' was' : 's were'} left out as a framework's own server span inside another transaction of the same trace and request`);
  }
}
