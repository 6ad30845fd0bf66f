import type { Count, FindingBase, Flag, Instant, Ratio, Scalar, Seconds, Share, Table, Text } from '../model/finding.js';
import { formatNumber, formatRounded, formatShare } from '../model/figure-format.js';
import { roundTo } from '../model/round.js';
import { HEALTHY_BACKGROUND, severityOf } from '../model/severity.js';
import { cutOffBeforeAnswer, type JoinedRequest, type ProxyRecord } from '../model/records.js';
import { ownString } from '../model/own-string.js';
import { BoundedCounter, OTHER } from '../statistics/bounded-counter.js';
import { beganLate, type Detector, type DetectorContext } from './detector.js';
import { EvidenceSample } from '../statistics/evidence-sample.js';
import { BreakpointSketch } from '../statistics/knee-breakpoint.js';

/**
 * Client-timeout knee: client-facing time tracks backend time up to T, then stops, because
 * clients with a T-second timeout hang up while the backend keeps working.
 *
 * Method: the density of client-facing times among "cut-off" requests, those whose backend
 * (APM) ran clearly longer than the client waited, or, without APM, those the proxy logged as
 * client-closed or with no upstream answer. Cut-off requests from a client timeout pile up at
 * one client time; a sharp peak in that density (the densest 100 ms window holding a large
 * share of them, far above the average density) is the knee, and its median is T.
 * Cohorts (user agent, API key, client /24) are counted per 50 ms bin so "who" is answered
 * without keeping requests.
 *
 * Every client timeout is a knee of its own: two clients that give up at 1.5 s and 2.5 s make two
 * peaks, and each is found in turn (the densest first, then the densest of what is left, at least
 * 0.3 s away), each with its own cohort and share.
 */

const BIN_MS = 5;
const MAX_MS = 300_000;
const WINDOW_BINS = 20; // 100 ms
const COHORT_BIN_MS = 50;
const COHORT_CAP = 5_000;
/** Client addresses counted for the network totals (folded into /24s at the end). */
const CLIENT_IP_CAP = 50_000;
const MIN_PEAK_REQUESTS = 10;
const MIN_PEAK_SHARE = 0.2;
const MIN_DENSITY_RATIO = 5;
/** A client that gives up in under half a second is not what a knee is about (and nginx's 0.000 static answers pile up at 0). */
const MIN_KNEE_MS = 500;
/** Client timeouts reported at most; a second knee must lie this far from the first. */
const MAX_KNEES = 4;
const KNEE_SEPARATION_MS = 300;
/** Statuses a proxy or gateway answers when *it* gave up on the backend: a wall, not a client timeout (timeout-walls reports those). */
const PROXY_TIMEOUT_STATUSES = new Set([502, 503, 504]);

export const COHORT_DIMENSIONS = ['userAgent', 'apiKey', 'clientNet'] as const;
export type CohortDimension = (typeof COHORT_DIMENSIONS)[number];

interface Tally {
  n: number;
}

/** Backend ran clearly longer than the client waited. */
export function backendOutlived(clientMs: number, backendMs: number): boolean {
  return backendMs > clientMs + Math.max(250, 0.25 * clientMs);
}

function networkOf(ip: string): string {
  const lastDot = ip.lastIndexOf('.');
  if (lastDot > 0 && !ip.includes(':')) return `${ip.slice(0, lastDot)}.0/24`;
  const parts = ip.split(':');
  return parts.length > 3 ? `${parts.slice(0, 3).join(':')}::/48` : ip;
}

/**
 * The client's /24 (IPv4) or /48 (IPv6), memoised: the same network string object comes back for
 * every request of an address, so the cohort Map hashes it once instead of building it per request.
 */
const networks = new Map<string, string>();
const MAX_MEMOISED_NETWORKS = 50_000;

function clientNet(ip: string | null): string | null {
  if (ip === null) return null;
  let network = networks.get(ip);
  if (network === undefined) {
    if (networks.size >= MAX_MEMOISED_NETWORKS) networks.clear();
    // Owned copies: a key cut from a line would pin its whole read chunk for the run.
    network = ownString(networkOf(ip));
    networks.set(ownString(ip), network);
  }
  return network;
}

function cohortValue(record: ProxyRecord, dimension: CohortDimension): string | null {
  switch (dimension) {
    case 'userAgent': return record.userAgent;
    case 'apiKey': return record.apiKey;
    case 'clientNet': return clientNet(record.clientIp);
  }
}

export interface KneeEstimate {
  timeoutMs: number;
  peakRequests: number;
  cutOffRequests: number;
  densityRatio: number;
}

/** Finds the densest 100 ms window of a 5 ms histogram and whether it stands out as a knee. */
export function findKnee(histogram: Uint32Array, total: number): KneeEstimate | null {
  if (total < MIN_PEAK_REQUESTS) return null;
  let windowSum = 0;
  let bestSum = 0;
  let bestEnd = -1;
  let lowest = -1;
  let highest = -1;
  for (let i = 0; i < histogram.length; i++) {
    const count = histogram[i]!;
    if (count > 0) {
      if (lowest < 0) lowest = i;
      highest = i;
    }
    windowSum += count;
    if (i >= WINDOW_BINS) windowSum -= histogram[i - WINDOW_BINS]!;
    if (windowSum > bestSum) {
      bestSum = windowSum;
      bestEnd = i;
    }
  }
  if (bestEnd < 0) return null;
  const start = Math.max(0, bestEnd - WINDOW_BINS + 1);
  // At least 1 s of span: when every cut-off request sits in the peak (the cleanest knee there is),
  // the observed span is the window itself and the ratio would say "no peak".
  const spanBins = Math.max(2 * MIN_DENSITY_RATIO * WINDOW_BINS, highest - lowest + 1);
  const meanPerWindow = (total / spanBins) * WINDOW_BINS;
  const densityRatio = bestSum / meanPerWindow;
  if (bestSum < MIN_PEAK_REQUESTS || bestSum < MIN_PEAK_SHARE * total || densityRatio < MIN_DENSITY_RATIO) return null;
  // Median of the window, interpolated inside its bin.
  let seen = 0;
  const half = bestSum / 2;
  let timeoutMs = (start + WINDOW_BINS / 2) * BIN_MS;
  for (let i = start; i <= bestEnd; i++) {
    const count = histogram[i]!;
    if (seen + count >= half) {
      timeoutMs = (i + (half - seen) / Math.max(1, count)) * BIN_MS;
      break;
    }
    seen += count;
  }
  return { timeoutMs: Math.round(timeoutMs), peakRequests: bestSum, cutOffRequests: total, densityRatio };
}

/**
 * Every knee of a histogram, densest first: after each, its ±KNEE_SEPARATION_MS is taken out and
 * what is left is searched again, so a second client timeout is measured against the cut-off
 * requests that are not the first one's.
 */
export function findKnees(histogram: Uint32Array, total: number): KneeEstimate[] {
  const rest = histogram.slice();
  let left = total;
  const knees: KneeEstimate[] = [];
  while (knees.length < MAX_KNEES) {
    const knee = findKnee(rest, left);
    if (knee === null) break;
    knees.push(knee);
    const from = Math.max(0, Math.floor((knee.timeoutMs - KNEE_SEPARATION_MS) / BIN_MS));
    const to = Math.min(rest.length, Math.ceil((knee.timeoutMs + KNEE_SEPARATION_MS) / BIN_MS));
    for (let i = from; i < to; i++) {
      left -= rest[i]!;
      rest[i] = 0;
    }
  }
  return knees.sort((a, b) => b.peakRequests - a.peakRequests);
}

export interface KneeFigures {
  /** The client timeout T: the median client time of the requests in the knee. */
  timeoutSeconds: Seconds;
  /** Cut-off requests that ended within 0.1 s of T. */
  requestsAtKnee: Count;
  /** Requests at the knee among all proxy requests. */
  shareOfAllRequests: Share;
  /** Cut-off requests of the whole run, at any client time: the population the knees are found in. */
  cutOffRequests: Count;
  /** Requests in the knee's 100 ms against the mean density of cut-off times. */
  densityRatio: Ratio;
  /** Backend time where a segmented regression of client on backend time breaks (with APM; the knee it matches). */
  breakpointSeconds: Seconds | null;
  breakpointPlateauSeconds: Seconds | null;
  breakpointSlopeBefore: Scalar | null;
  breakpointSlopeAfter: Scalar | null;
  /** Whether the regression's plateau lands on T with slopes of about 1 then 0. */
  breakpointAgrees: Flag | null;
  joinedPairs: Count;
  /** Median backend (APM) duration of the requests at the knee. */
  backendMedianSecondsAtKnee: Seconds | null;
  /** Backend seconds worked after the client had gone, summed over the requests at the knee (APM). */
  backendSecondsAfterClientLeft: Seconds | null;
  /** The first request at the knee. */
  firstAt: Instant | null;
  /** The cohort that explains the knee best: most of the knee, and mostly at the knee. */
  topCohortDimension: CohortDimension | null;
  topCohort: Text | null;
  topCohortShareOfKnee: Share | null;
  /** Of the top cohort's requests that ran 0.5 s or more, the share that ended at the knee. */
  topCohortShareOfOwnRequests: Share | null;
  /** The user agent most of the knee came with, and its share of the knee. */
  userAgent: Text | null;
  userAgentShareOfKnee: Share | null;
  apiKey: Text | null;
  apiKeyShareOfKnee: Share | null;
  /** The client /24 (IPv4) or /48 (IPv6) most of the knee came from. */
  clientNetwork: Text | null;
  clientNetworkShareOfKnee: Share | null;
  method: Text;
  basedOnApm: Flag;
  hasApmInput: Flag;
}

export type KneeCohortColumns = ['dimension', 'value', 'requestsAtKnee', 'shareOfKnee', 'shareOfOwnRequests'];
export type KneeCohortRow = [dimension: CohortDimension, value: Text, requestsAtKnee: Count, shareOfKnee: Share, shareOfOwnRequests: Share];

/** A client timeout: clients that give up at T while the backend (or, without APM, the proxy's upstream) kept going. */
export interface KneeFinding extends FindingBase<'client-timeout-knee', KneeFigures> {
  table: Table<KneeCohortColumns, KneeCohortRow>;
}

interface CohortPick {
  dimension: CohortDimension;
  value: string;
  atKnee: number;
  total: number;
  share: number;
  specificity: number;
}

export const clientTimeoutKnee: Detector<KneeFinding> = {
  id: 'client-timeout-knee',
  title: 'Client-timeout knee',
  kinds: ['client-timeout-knee'],
  chart: 'client-vs-backend',
  headline: { 'client-timeout-knee': 'requestsAtKnee' },
  verdict(knees, cite, context) {
    if (knees.length === 1) {
      const knee = knees[0]!;
      const since = beganLate(knee.figures.firstAt, context) ? `Since ${cite(knee, 'firstAt')}, c` : 'C';
      const who = knee.figures.topCohort !== null ? ` (mostly "${knee.figures.topCohort}")` : '';
      const backend = knee.figures.backendMedianSecondsAtKnee !== null ? `; their backend work ran a median ${cite(knee, 'backendMedianSecondsAtKnee')}` : '';
      return `${since}lients${who} give up after about ${cite(knee, 'timeoutSeconds')}` +
        (knee.figures.basedOnApm ? ' while the backend keeps working' : '') +
        `: ${cite(knee, 'requestsAtKnee')} requests (${cite(knee, 'shareOfAllRequests')} of all) end at that wall${backend}.`;
    }
    const each = knees.map((knee) =>
      `${cite(knee, 'timeoutSeconds')} (${cite(knee, 'requestsAtKnee')} requests${knee.figures.topCohort !== null ? `, mostly "${knee.figures.topCohort}"` : ''})`);
    return `Clients give up at ${knees.length} different timeouts: ${each.slice(0, -1).join(', ')} and ${each[each.length - 1]}` +
      (knees.every((knee) => knee.figures.basedOnApm) ? ', while the backend keeps working.' : '.');
  },
  start() {
    const histogram = new Uint32Array(MAX_MS / BIN_MS + 1);
    let proxyRequests = 0;
    let cutOff = 0;
    let cutOffWithApm = 0;
    let joinedPairs = 0;
    // Cut-off requests per cohort and 50 ms bin (only cut-off requests: few).
    const cutOffs = Object.fromEntries(
      COHORT_DIMENSIONS.map((dimension) => [dimension, new BoundedCounter<Map<number, number>>(COHORT_CAP, () => new Map())]),
    ) as Record<CohortDimension, BoundedCounter<Map<number, number>>>;
    // Requests per cohort that ran at least MIN_KNEE_MS, for "x% of that client's requests that ran
    // 0.5 s or more". Networks are counted by address and folded into /24s at the end: looking up
    // each request's network as well cost one more lookup per request (3.8% of a 500 k-line profile).
    const userAgentTotals = new BoundedCounter<Tally>(COHORT_CAP, () => ({ n: 0 }));
    const apiKeyTotals = new BoundedCounter<Tally>(COHORT_CAP, () => ({ n: 0 }));
    const clientIpTotals = new BoundedCounter<Tally>(CLIENT_IP_CAP, () => ({ n: 0 }));
    // Candidates for evidence, bucketed by client-time bin so the ones nearest T can be picked at the end.
    const evidenceByBin = new Map<number, EvidenceSample>();
    const backendAtBin = new Map<number, number[]>();
    // Per 50 ms bin: backend ms worked after the client left (APM), and the first request's end.
    const lostMsAtBin = new Map<number, number>();
    const firstMsAtBin = new Map<number, number>();
    const breakpoint = new BreakpointSketch();

    return {
      observe(request: JoinedRequest) {
        const proxy = request.proxy;
        if (proxy === null) return;
        proxyRequests++;
        const clientMs = proxy.requestTimeMs;
        // A cohort's own share is of its requests that could have ended at a knee: with a client
        // time of at least MIN_KNEE_MS. A client whose slow calls all hit its timeout is then near
        // 100% however many fast calls it also makes; counting every request, the bench's top user
        // agent read "0% of that client's requests end there" (598 of ~200 k). It also saves three
        // lookups on every fast request: 1 M extended lines joined to New Relic, 13.52 -> 12.84 s
        // CPU (medians of 5); on a log without request times (nginx `combined`) they were already
        // skipped: 2 M lines, 4.28 -> 4.02 s wall.
        if (clientMs === null) return;
        if (clientMs >= MIN_KNEE_MS) {
          if (proxy.userAgent !== null) userAgentTotals.get(proxy.userAgent).n++;
          if (proxy.apiKey !== null) apiKeyTotals.get(proxy.apiKey).n++;
          if (proxy.clientIp !== null) clientIpTotals.get(proxy.clientIp).n++;
        }
        const apm = request.apm;
        let isCutOff: boolean;
        if (apm !== null) joinedPairs++;
        if (apm !== null) breakpoint.observe(apm.durationMs, clientMs);
        if (PROXY_TIMEOUT_STATUSES.has(proxy.status ?? 0)) return;
        if (apm !== null) {
          const outlived = backendOutlived(clientMs, apm.durationMs);
          if (outlived) cutOffWithApm++;
          // A hang-up the proxy logged (499) is the client giving up whatever the backend's margin:
          // requiring the backend to outlive it by a quarter dropped the ones it finished soon after,
          // and a real nginx's 93 hang-ups at a 2 s timeout read as 78 with the export and 93 without.
          isCutOff = outlived || proxy.clientClosed;
        } else {
          // Without APM: the client hung up, or the proxy logged no answer from an upstream it did use.
          isCutOff = cutOffBeforeAnswer(proxy);
        }
        if (!isCutOff || clientMs > MAX_MS || clientMs < MIN_KNEE_MS) return;
        cutOff++;
        histogram[Math.floor(clientMs / BIN_MS)]!++;
        const cohortBin = Math.floor(clientMs / COHORT_BIN_MS);
        for (const dimension of COHORT_DIMENSIONS) {
          const value = cohortValue(proxy, dimension);
          if (value === null) continue;
          const bins = cutOffs[dimension].get(value);
          bins.set(cohortBin, (bins.get(cohortBin) ?? 0) + 1);
        }
        const first = firstMsAtBin.get(cohortBin);
        if (first === undefined || proxy.endMs < first) firstMsAtBin.set(cohortBin, proxy.endMs);
        let sample = evidenceByBin.get(cohortBin);
        if (!sample) evidenceByBin.set(cohortBin, (sample = new EvidenceSample(3)));
        const backendMs = apm?.durationMs ?? null;
        sample.offer(proxy, backendMs ?? 0,
          backendMs !== null
            ? `client ${(clientMs / 1000).toFixed(3)} s, backend (APM) ${(backendMs / 1000).toFixed(3)} s`
            : `client ${(clientMs / 1000).toFixed(3)} s, status ${proxy.status ?? '-'}, upstream status -`);
        if (backendMs !== null) {
          lostMsAtBin.set(cohortBin, (lostMsAtBin.get(cohortBin) ?? 0) + Math.max(0, backendMs - clientMs));
          let list = backendAtBin.get(cohortBin);
          if (!list) backendAtBin.set(cohortBin, (list = []));
          if (list.length < 2000) list.push(backendMs);
        }
      },

      finish(context: DetectorContext): KneeFinding[] {
        const knees = findKnees(histogram, cutOff);
        if (knees.length === 0) return [];
        const withApm = cutOffWithApm > 0;
        const networkTotals = new Map<string, number>();
        for (const [ip, count] of clientIpTotals) {
          const network = ip === OTHER ? OTHER : clientNet(ip)!;
          networkTotals.set(network, (networkTotals.get(network) ?? 0) + count.n);
        }
        const totalOf = (dimension: CohortDimension, value: string): number =>
          dimension === 'clientNet' ? (networkTotals.get(value) ?? 0) : ((dimension === 'userAgent' ? userAgentTotals : apiKeyTotals).peek(value)?.n ?? 0);
        // Cross-check: where the median client time per backend bin stops following the backend.
        // One fit for the run: it speaks for the knee its plateau lands on.
        const fit = withApm ? breakpoint.fit() : null;
        const fitKnee = fit === null ? null : knees.reduce((best, knee) => Math.abs(knee.timeoutMs - fit.plateauMs) < Math.abs(best.timeoutMs - fit.plateauMs) ? knee : best);
        return knees.map((knee): KneeFinding => {
          const center = Math.floor(knee.timeoutMs / COHORT_BIN_MS);
          const kneeBins = [center - 1, center, center + 1];
          const table: KneeCohortRow[] = [];
          // The cohort that explains the most of the knee; on a tie the earlier dimension (user agent) wins.
          let top: CohortPick | null = null;
          const topOf: Partial<Record<CohortDimension, CohortPick>> = {};
          for (const dimension of COHORT_DIMENSIONS) {
            let dimensionKnee = 0;
            const rows: { value: string; atKnee: number; total: number }[] = [];
            for (const [value, bins] of cutOffs[dimension]) {
              const atKnee = kneeBins.reduce((sum, bin) => sum + (bins.get(bin) ?? 0), 0);
              if (atKnee === 0) continue;
              dimensionKnee += atKnee;
              rows.push({ value, atKnee, total: totalOf(dimension, value) });
            }
            rows.sort((a, b) => b.atKnee - a.atKnee);
            for (const row of rows.slice(0, 5)) {
              table.push([dimension, row.value, row.atKnee, roundTo(row.atKnee / Math.max(1, dimensionKnee), 3), roundTo(row.atKnee / Math.max(1, row.total), 3)]);
            }
            // "Who" is the cohort that is both most of the knee and mostly at the knee: share of the knee
            // times the share of its own requests that end there. By share alone, a /24 every client
            // shares (one NAT, one office) is 100% of the knee and wins over the user agent that is
            // 99% of it and ends there 81% of the time (seen on real nginx logs).
            for (const row of rows) {
              const share = row.atKnee / Math.max(1, dimensionKnee);
              const specificity = share * (row.atKnee / Math.max(1, row.total));
              const pick = { dimension, ...row, share, specificity };
              if (topOf[dimension] === undefined) topOf[dimension] = pick;
              if (top === null || specificity > top.specificity) top = pick;
            }
          }
          const backendNearKnee = kneeBins.flatMap((bin) => backendAtBin.get(bin) ?? []).sort((a, b) => a - b);
          const backendMedianMs = backendNearKnee.length > 0 ? backendNearKnee[Math.floor(backendNearKnee.length / 2)]! : null;
          const lostMs = withApm ? kneeBins.reduce((sum, bin) => sum + (lostMsAtBin.get(bin) ?? 0), 0) : null;
          const firstMs = Math.min(...kneeBins.map((bin) => firstMsAtBin.get(bin) ?? Infinity));
          const evidence = [...kneeBins]
            .sort((a, b) => Math.abs(a - center) - Math.abs(b - center))
            .flatMap((bin) => evidenceByBin.get(bin)?.list() ?? [])
            .slice(0, 5);

          const seconds = knee.timeoutMs / 1000;
          // Prose cites the figures' own values, formatted as every report formats them (one set of numbers).
          const secondsText = formatRounded(seconds, 3);
          const kneeFit = knee === fitKnee ? fit : null;
          const breakpointAgrees = kneeFit !== null && Math.abs(kneeFit.plateauMs - knee.timeoutMs) <= 50 && Math.abs(kneeFit.slopeAfter) < 0.1 && kneeFit.slopeBefore > 0.8;
          const picked = top as CohortPick | null;
          const cohortShareOfKnee = picked ? picked.share : null;
          const ownShare = picked ? picked.atKnee / Math.max(1, picked.total) : null;
          const who = picked
            ? `${formatShare(roundTo(cohortShareOfKnee ?? 0, 3))} of them come from ${describeCohort(picked.dimension)} "${picked.value}", ` +
              `and ${formatShare(roundTo(ownShare ?? 0, 3))} of that client's requests that ran ${MIN_KNEE_MS / 1000} s or more end there`
            : 'no single client stands out';
          const others = knees.length > 1 ? ` It is one of ${knees.length} client timeouts in these logs; each is reported with its own clients.` : '';
          const explanation = withApm
            ? `Client-facing time tracks backend time until about ${secondsText} s, then stops: ${formatNumber(knee.peakRequests)} requests ` +
              `end within 0.1 s of ${secondsText} s while their backend kept working` +
              (backendMedianMs !== null ? ` (median backend time ${formatRounded(backendMedianMs / 1000, 3)} s)` : '') +
              `. This is a client-side timeout of about ${secondsText} s: ${who}. ` +
              (kneeFit !== null
                ? breakpointAgrees
                  ? `A segmented regression of median client time on backend time confirms it: slope ${formatRounded(kneeFit.slopeBefore, 3)} up to a backend time of ${formatRounded(kneeFit.breakpointMs / 1000, 3)} s, then flat (${formatRounded(kneeFit.slopeAfter, 3)}) at ${formatRounded(kneeFit.plateauMs / 1000, 3)} s. `
                  : `A segmented regression of median client time on backend time does not confirm it (break at ${formatRounded(kneeFit.breakpointMs / 1000, 3)} s, then ${formatRounded(kneeFit.plateauMs / 1000, 3)} s with slope ${formatRounded(kneeFit.slopeAfter, 3)}): the timeout affects a minority of the slow requests. `
                : '') +
              'The proxy logged these requests when the client hung up, so its times (and anything accounted from them) stop at the timeout.' + others
            : `A wall of ${formatNumber(knee.peakRequests)} requests ends within 0.1 s of ${secondsText} s with no upstream answer or a client-closed status. ` +
              `This looks like a client-side timeout of about ${secondsText} s: ${who}. ` +
              (context.hasApm
                ? 'None of these requests joined an APM transaction, so the backend\'s real duration is unknown.'
                : 'Without APM data the backend\'s real duration is unknown.') + others;
          const pick = (dimension: CohortDimension) => topOf[dimension] ?? null;
          return {
            kind: 'client-timeout-knee',
            severity: severityOf({
              affected: knee.peakRequests, total: proxyRequests, background: HEALTHY_BACKGROUND.none,
              cohortShare: ownShare, lostSeconds: lostMs === null ? null : lostMs / 1000,
            }),
            // Without APM the backend's side is unknown: the title says only what the proxy logged.
            title: `Clients give up at ${secondsText} s ${withApm ? 'while the backend keeps working' : 'before the backend answers'}` +
              (picked && knees.length > 1 ? ` (mostly ${describeCohort(picked.dimension)} "${picked.value}")` : ''),
            explanation,
            nextStep:
              'Find the client with this timeout (user agent and key above) and raise its timeout or make the call asynchronous. ' +
              'If a rate limiter or budget counts backend time from the proxy log, set `proxy_ignore_client_abort on;` in nginx ' +
              'so the proxy waits for and logs the real upstream time, or account from APM data.',
            figures: {
              timeoutSeconds: roundTo(seconds, 3),
              requestsAtKnee: knee.peakRequests,
              shareOfAllRequests: roundTo(knee.peakRequests / Math.max(1, proxyRequests), 4),
              cutOffRequests: knee.cutOffRequests,
              densityRatio: Math.round(knee.densityRatio * 10) / 10,
              breakpointSeconds: kneeFit === null ? null : roundTo(kneeFit.breakpointMs / 1000, 3),
              breakpointPlateauSeconds: kneeFit === null ? null : roundTo(kneeFit.plateauMs / 1000, 3),
              breakpointSlopeBefore: kneeFit === null ? null : roundTo(kneeFit.slopeBefore, 3),
              breakpointSlopeAfter: kneeFit === null ? null : roundTo(kneeFit.slopeAfter, 3),
              breakpointAgrees: kneeFit === null ? null : breakpointAgrees,
              joinedPairs,
              backendMedianSecondsAtKnee: backendMedianMs === null ? null : roundTo(backendMedianMs / 1000, 3),
              backendSecondsAfterClientLeft: lostMs === null ? null : roundTo(lostMs / 1000, 1),
              firstAt: Number.isFinite(firstMs) ? new Date(firstMs).toISOString() : null,
              topCohortDimension: picked?.dimension ?? null,
              topCohort: picked?.value ?? null,
              topCohortShareOfKnee: cohortShareOfKnee === null ? null : roundTo(cohortShareOfKnee, 3),
              topCohortShareOfOwnRequests: ownShare === null ? null : roundTo(ownShare, 3),
              userAgent: pick('userAgent')?.value ?? null,
              userAgentShareOfKnee: pick('userAgent') ? roundTo(pick('userAgent')!.share, 3) : null,
              apiKey: pick('apiKey')?.value ?? null,
              apiKeyShareOfKnee: pick('apiKey') ? roundTo(pick('apiKey')!.share, 3) : null,
              clientNetwork: pick('clientNet')?.value ?? null,
              clientNetworkShareOfKnee: pick('clientNet') ? roundTo(pick('clientNet')!.share, 3) : null,
              method: withApm ? 'density of client time where the client hung up or the backend outlived it' : 'density of client time of client-closed or upstream-less requests',
              basedOnApm: withApm,
              hasApmInput: context.hasApm,
            },
            table: { columns: ['dimension', 'value', 'requestsAtKnee', 'shareOfKnee', 'shareOfOwnRequests'], rows: table },
            evidence,
          };
        });
      },
    };
  },
};



function describeCohort(dimension: CohortDimension): string {
  return dimension === 'userAgent' ? 'user agent' : dimension === 'apiKey' ? 'API key' : 'client network';
}

