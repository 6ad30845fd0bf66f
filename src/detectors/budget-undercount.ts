import type { Count, FindingBase, Flag, Instant, Ratio, Seconds, Share, Table, Text } from '../model/finding.js';
import { formatNumber, formatRatio, formatRounded, formatShare } from '../model/figure-format.js';
import { roundTo } from '../model/round.js';
import { answerNotDelivered, cutOffAfterTimedAttempt, type JoinedRequest, type ProxyRecord, upstreamTimed } from '../model/records.js';
import { routeOf } from '../model/route.js';
import { HEALTHY_BACKGROUND, severityOf } from '../model/severity.js';
import { BoundedCounter } from '../statistics/bounded-counter.js';
import type { Detector, DetectorContext } from './detector.js';
import { EvidenceSample } from '../statistics/evidence-sample.js';
import { LimiterReplay } from './budget-undercount/limiter-replay.js';
import { KeyWindows } from './budget-undercount/budget-window-ledger.js';

/**
 * Worker-time budgets per API key, accounted two ways:
 *   accounted  the backend time the proxy logged (upstream time; an aborted request contributes
 *              only the time until the proxy gave up), which is what a proxy-side limiter sees;
 *   true       the backend's own duration from APM where the request was joined (else the
 *              proxy's figure, or without any APM input an estimate for aborted requests).
 * With a budget (`--budget 600s/5m`) the limiter is replayed both ways (src/detectors/budget-undercount/limiter-replay.ts:
 * a fixed-window limiter that checks at request start against the usage reported by requests that
 * had finished by then; the accounted limiter hears the proxy's figure when the proxy logs the
 * request, the true one hears the backend's duration when the backend finishes): when each would
 * have fired, which requests got through that true accounting would have refused, and how much
 * worker time the key consumed with each limiter in the windows where its true use was over budget.
 * The ratio of the two is the impact factor: "the key consumed 3.3× what a correctly accounted
 * limiter would have allowed".
 *
 * A key's true time is known when every aborted request of it was joined to its APM transaction
 * (answered requests: the proxy waited for them, so its time is the backend's); estimated when
 * some were priced at their route's mean; unknown when some were neither. An unknown true time is
 * shown as unknown, never as the accounted time.
 */

export type TrueTime = 'known' | 'estimated' | 'unknown';

export interface BudgetUndercountFigures {
  apiKey: Text;
  requests: Count;
  /** Requests the proxy logged as aborted or without an upstream answer. */
  abortedRequests: Count;
  /** Backend time the proxy logged (what a proxy-side limiter sees). */
  accountedSeconds: Seconds;
  /** The backend's own time (APM where joined); null where it is only estimated. */
  trueSeconds: Seconds | null;
  /** Without APM: accounted time plus aborted requests priced at their route's mean answered time. */
  estimatedTrueSeconds: Seconds | null;
  estimated: Flag;
  /** Backend seconds the proxy did not account: true (or estimated) minus accounted. */
  unaccountedSeconds: Seconds;
  /** The unaccounted part of the true (or estimated) time. */
  undercountShare: Share;
  budget: Text | null;
  windowsOverBudget: Count | null;
  windowsMissedByProxy: Count | null;
  requestsThatShouldHaveBeenThrottled: Count | null;
  firstTrueThrottleAt: Instant | null;
  firstAccountedThrottleAt: Instant | null;
  /** Worker time consumed under the proxy's limiter over what a correctly accounted one allows, in over-budget windows. */
  impactFactor: Ratio | null;
}

export type BudgetUndercountFinding = FindingBase<'budget-undercount', BudgetUndercountFigures>;

export interface BudgetPerKeyFigures {
  keys: Count;
  budget: Text | null;
  /** The budget's allowance per window, when a budget was given. */
  allowanceSeconds: Seconds | null;
  windowSeconds: Seconds;
  overflowedKeys: Count;
}

export type BudgetPerKeyColumns = ['apiKey', 'requests', 'joined', 'aborted', 'accountedSeconds', 'trueSeconds', 'undercountShare',
  'windowsOverBudget', 'windowsMissedByProxy', 'requestsThatShouldHaveBeenThrottled', 'impactFactor', 'trueTime'];
export type BudgetPerKeyRow = [apiKey: Text, requests: Count, joined: Count, aborted: Count, accountedSeconds: Seconds, trueSeconds: Seconds | null,
  undercountShare: Share | null, windowsOverBudget: Count | null, windowsMissedByProxy: Count | null, requestsThatShouldHaveBeenThrottled: Count | null,
  impactFactor: Ratio | null, trueTime: TrueTime];

/** One closed or open window of a key, for the budget chart. */
export interface BudgetWindowRow {
  key: Text;
  windowStart: Instant;
  accountedSeconds: Seconds;
  /** Null when the key's true time is unknown (see BudgetPerKeyRow's trueTime). */
  trueSeconds: Seconds | null;
  accountedThrottleAt: Instant | null;
  trueThrottleAt: Instant | null;
}

export interface BudgetPerKeyFinding extends FindingBase<'budget-per-key', BudgetPerKeyFigures> {
  table: Table<BudgetPerKeyColumns, BudgetPerKeyRow>;
  /** Per-window usage of the keys drawn in the budget chart. */
  series: { windows: BudgetWindowRow[] };
}

export type BudgetFinding = BudgetUndercountFinding | BudgetPerKeyFinding;

interface KeyUsage {
  requests: number;
  joined: number;
  aborted: number;
  /** Of the aborted, those the client hung up on (the rest the proxy gave up on: its own timeout). */
  abortedByClient: number;
  /** Aborted requests whose backend time is neither joined nor estimated. */
  unknownTrue: number;
  accountedMs: number;
  trueMs: number;
  estimatedMs: number;
  windows: KeyWindows;
  accountedLimiter: LimiterReplay | null;
  trueLimiter: LimiterReplay | null;
  evidence: EvidenceSample;
}

interface RouteMean {
  count: number;
  totalMs: number;
}

const KEY_CAP = 10_000;
const NO_BUDGET_WINDOW_MS = 300_000;
/** How long a window stays open for late-arriving requests (proxies log at the end; the limiter replay looks back 15 min). */
const WINDOW_GRACE_MS = 20 * 60_000;
/** Closed windows kept as chart rows across all keys; past it, the keys with the smallest gap lose theirs. */
const MAX_CHART_ROWS = 20_000;
/**
 * Rows let past the cap before dropping back to it: rows were dropped at every window's end once
 * past the cap, a walk of every key (~5,000) each time; with this slack about one window's end in
 * four on the high-cardinality bench profile.
 */
const CHART_ROW_SLACK = 10_000;

export const budgetUndercount: Detector<BudgetFinding> = {
  id: 'budget-undercount',
  title: 'Worker-time budget under-count',
  kinds: ['budget-undercount', 'budget-per-key'],
  chart: 'budget-windows',
  headline: { 'budget-undercount': 'undercountShare' },
  verdict(findings, cite) {
    const undercounted = findings.filter((f): f is BudgetUndercountFinding => f.kind === 'budget-undercount');
    if (undercounted.length === 0) return null;
    const worst = undercounted[0]!;
    const keys = undercounted.map((f) => f.figures.apiKey);
    const f = worst.figures;
    const truth = f.trueSeconds !== null ? `${cite(worst, 'trueSeconds')} true` : `about ${cite(worst, 'estimatedTrueSeconds')} estimated`;
    return `The proxy under-counts worker time for ${keys.length === 1 ? 'API key' : 'API keys'} ${keys.slice(0, 3).join(', ')}` +
      `${keys.length > 3 ? ` and ${keys.length - 3} more` : ''}: ${cite(worst, 'accountedSeconds')} accounted against ${truth}` +
      (f.firstTrueThrottleAt !== null ? `; with true times the limiter would have throttled it from ${cite(worst, 'firstTrueThrottleAt')}` : '') +
      (f.impactFactor !== null && f.impactFactor > 1 ? `, and the key used ${cite(worst, 'impactFactor')} the worker time a correctly accounted limiter allows.` : '.');
  },
  start(settings) {
    const budget = settings.budget;
    const windowMs = budget?.windowMs ?? NO_BUDGET_WINDOW_MS;
    const keys = new BoundedCounter<KeyUsage>(KEY_CAP, () => ({
      requests: 0, joined: 0, aborted: 0, abortedByClient: 0, unknownTrue: 0, accountedMs: 0, trueMs: 0, estimatedMs: 0,
      windows: new KeyWindows(), evidence: new EvidenceSample(5),
      accountedLimiter: budget ? new LimiterReplay(budget.allowanceMs, budget.windowMs) : null,
      trueLimiter: budget ? new LimiterReplay(budget.allowanceMs, budget.windowMs) : null,
    }));
    const allowanceMs = budget?.allowanceMs ?? null;
    let newestStartMs = -Infinity;
    let closedBeforeIndex = -Infinity;
    let chartRows = 0;
    /**
     * The keys that opened a window, by the window's index: closing visits each key once per
     * window it opened, not every key at every window's end (5,000 keys, 288 window ends a day of
     * log, most keys with nothing to close). Holds only indices of open windows, a few at a time.
     */
    const openedAt = new Map<number, KeyUsage[]>();

    /** Closes windows no request can reach any more, for every key, and keeps chart rows bounded. */
    function closeOldWindows(): void {
      const index = Math.floor((newestStartMs - WINDOW_GRACE_MS) / windowMs);
      if (index <= closedBeforeIndex) return;
      closedBeforeIndex = index;
      for (const [opened, usages] of openedAt) {
        if (opened >= index) continue;
        openedAt.delete(opened);
        for (const usage of usages) {
          chartRows += usage.windows.closeBefore(index, allowanceMs);
          // A key's requests after this fall in its open windows: its limiters need nothing older.
          usage.accountedLimiter?.forgetBefore(index);
          usage.trueLimiter?.forgetBefore(index);
        }
      }
      if (chartRows <= MAX_CHART_ROWS + CHART_ROW_SLACK) return;
      dropChartRows();
    }

    /**
     * Drops the chart rows of the keys with the smallest gap between true and accounted time until
     * the rows fit: the shortest run, in gap order (ties in key order), whose rows make up the
     * excess. It sorted every key with rows with a comparator at every window's end past the cap
     * (~5,000 keys, 268 times a day of log on the high-cardinality bench profile). Now it finds
     * the gap that run ends at (a binary search over the gaps, sorted natively as numbers) and
     * drops, in key order, the rows of keys below it, then of keys at it until the rows fit: the
     * same keys as the sort dropped. With the closing queue above, the detector alone over 1 M
     * high-cardinality extended records, in-process: 1,870 -> 1,700 ms a pass (medians of 5,
     * load ~10; closeBefore 456 -> 72 ms a pass, `node --cpu-prof`).
     */
    function dropChartRows(): void {
      const holders: KeyUsage[] = [];
      for (const usage of keys.values()) if (usage.windows.rows.length > 0) holders.push(usage);
      const gaps = new Float64Array(holders.length);
      for (let i = 0; i < holders.length; i++) gaps[i] = holders[i]!.trueMs - holders[i]!.accountedMs;
      const sorted = gaps.slice().sort();
      const excess = chartRows - MAX_CHART_ROWS;
      const rowsUpTo = (gap: number): number => {
        let rows = 0;
        for (let i = 0; i < holders.length; i++) if (gaps[i]! <= gap) rows += holders[i]!.windows.rows.length;
        return rows;
      };
      let low = 0;
      let high = sorted.length - 1;
      while (low < high) {
        const middle = (low + high) >>> 1;
        if (rowsUpTo(sorted[middle]!) >= excess) high = middle;
        else low = middle + 1;
      }
      const last = sorted[low]!;
      for (let i = 0; i < holders.length; i++) {
        if (gaps[i]! >= last) continue;
        chartRows -= holders[i]!.windows.rows.length;
        holders[i]!.windows.rows = [];
      }
      for (let i = 0; i < holders.length && chartRows > MAX_CHART_ROWS; i++) {
        if (gaps[i]! !== last) continue;
        chartRows -= holders[i]!.windows.rows.length;
        holders[i]!.windows.rows = [];
      }
    }

    // Mean answered upstream time per route: the estimate for aborted requests when there is no APM.
    const routeMeans = new BoundedCounter<RouteMean>(20_000, () => ({ count: 0, totalMs: 0 }));

    function trueTime(request: JoinedRequest, proxy: ProxyRecord, accountedMs: number): { ms: number; truth: TrueTime } {
      if (request.apm !== null) return { ms: request.apm.durationMs, truth: 'known' };
      if (!cutOffAfterTimedAttempt(proxy)) return { ms: accountedMs, truth: 'known' };
      if (settings.hasApm || proxy.path === null) return { ms: accountedMs, truth: 'unknown' };
      const mean = routeMeans.peek(routeOf(proxy)!);
      if (!mean || mean.count === 0) return { ms: accountedMs, truth: 'unknown' };
      return { ms: Math.max(accountedMs, mean.totalMs / mean.count), truth: 'estimated' };
    }

    return {
      observe(request: JoinedRequest) {
        const proxy = request.proxy;
        if (proxy === null || proxy.apiKey === null) return;
        const accountedMs = proxy.upstreamTimeMs ?? 0;
        if (upstreamTimed(proxy) && proxy.path !== null) {
          const mean = routeMeans.get(routeOf(proxy)!);
          mean.count++;
          mean.totalMs += proxy.upstreamTimeMs!;
        }
        const truth = trueTime(request, proxy, accountedMs);
        const usage = keys.get(proxy.apiKey);
        usage.requests++;
        if (request.apm !== null) usage.joined++;
        if (answerNotDelivered(proxy)) {
          usage.aborted++;
          if (proxy.clientClosed) usage.abortedByClient++;
        }
        usage.accountedMs += accountedMs;
        usage.trueMs += truth.ms;
        if (truth.truth === 'estimated') usage.estimatedMs += truth.ms - accountedMs;
        if (truth.truth === 'unknown') usage.unknownTrue++;

        if (proxy.startMs > newestStartMs) {
          newestStartMs = proxy.startMs;
          closeOldWindows();
        }
        // A request for a window already closed still counts in the key's totals above.
        const window = usage.windows.window(proxy.startMs, windowMs);
        if (window === null) return;
        if (usage.windows.opened) {
          const opened = Math.floor(proxy.startMs / windowMs);
          const usages = openedAt.get(opened);
          if (usages === undefined) openedAt.set(opened, [usage]);
          else usages.push(usage);
        }
        window.requests++;
        const accountedLimiter = usage.accountedLimiter;
        const trueLimiter = usage.trueLimiter;
        if (budget && accountedLimiter && trueLimiter) {
          // Each limiter checks at request start against what finished requests had reported by then.
          const accountedUsage = accountedLimiter.usageAt(proxy.startMs);
          const trueUsage = trueLimiter.usageAt(proxy.startMs);
          const admittedByAccounted = accountedUsage < budget.allowanceMs;
          const admittedByTrue = trueUsage < budget.allowanceMs;
          if (admittedByAccounted) {
            window.admittedByAccountedMs += truth.ms;
            accountedLimiter.report(proxy.endMs, accountedMs);
          } else if (window.accountedCrossedAt === null || proxy.startMs < window.accountedCrossedAt) {
            // Requests arrive in end order: keep the earliest start that was refused.
            window.accountedCrossedAt = proxy.startMs;
          }
          if (admittedByTrue) {
            window.admittedByTrueMs += truth.ms;
            // With true accounting the time is known when the backend finishes, which may be after the proxy logged.
            trueLimiter.report(Math.max(proxy.endMs, proxy.startMs + truth.ms), truth.ms);
          } else if (window.trueCrossedAt === null || proxy.startMs < window.trueCrossedAt) {
            // Requests arrive in end order: keep the earliest start that was refused.
            window.trueCrossedAt = proxy.startMs;
          }
          if (admittedByAccounted && !admittedByTrue) {
            window.leaked++;
            usage.evidence.offer(proxy, truth.ms,
              `admitted with ${(accountedUsage / 1000).toFixed(1)} s accounted, ${(trueUsage / 1000).toFixed(1)} s true of ${(budget.allowanceMs / 1000).toFixed(0)} s budget`);
          }
        } else if (truth.ms - accountedMs > 1000) {
          usage.evidence.offer(proxy, truth.ms - accountedMs,
            `accounted ${(accountedMs / 1000).toFixed(3)} s, true ${(truth.ms / 1000).toFixed(3)} s`);
        }
        window.accountedMs += accountedMs;
        window.trueMs += truth.ms;
      },

      finish(context: DetectorContext): BudgetFinding[] {
        if (keys.size === 0) return [];
        const rows: BudgetPerKeyRow[] = [];
        const findings: BudgetFinding[] = [];
        const series: BudgetWindowRow[] = [];
        let proxyRequests = 0;
        for (const [, usage] of keys) proxyRequests += usage.requests;
        const ranked = [...keys].sort((a, b) => (b[1].trueMs - b[1].accountedMs) - (a[1].trueMs - a[1].accountedMs));
        for (const [key, usage] of ranked) {
          const summary = usage.windows.summary(allowanceMs);
          const leaked = summary.leaked;
          const impactFactor = summary.consumedTrueMs > 0 ? summary.consumedAccountedMs / summary.consumedTrueMs : null;
          const estimated = usage.estimatedMs > 0;
          const trueTime: TrueTime = usage.unknownTrue > 0 ? 'unknown' : estimated ? 'estimated' : 'known';
          const undercountShare = usage.trueMs > 0 ? 1 - usage.accountedMs / usage.trueMs : 0;
          const firstTrueThrottle = summary.firstTrueThrottleMs;
          const firstAccountedThrottle = summary.firstAccountedThrottleMs;
          rows.push([
            key, usage.requests, usage.joined, usage.aborted,
            roundTo(usage.accountedMs / 1000, 3), trueTime === 'unknown' ? null : roundTo(usage.trueMs / 1000, 3),
            trueTime === 'unknown' ? null : roundTo(undercountShare, 4),
            budget ? summary.over : null, budget ? summary.missed : null, budget ? leaked : null,
            impactFactor === null ? null : roundTo(impactFactor, 2), trueTime,
          ]);
          if (series.length < 2000 && rows.length <= 8) {
            for (const w of usage.windows.chartWindows()) {
              series.push({
                key, windowStart: new Date(w.startMs).toISOString(),
                accountedSeconds: roundTo(w.accountedMs / 1000, 3), trueSeconds: trueTime === 'unknown' ? null : roundTo(w.trueMs / 1000, 3),
                accountedThrottleAt: w.accountedCrossedAt === null ? null : new Date(w.accountedCrossedAt).toISOString(),
                trueThrottleAt: w.trueCrossedAt === null ? null : new Date(w.trueCrossedAt).toISOString(),
              });
            }
          }
          // A key whose true time is unknown is not called under-counted: its figures would be the proxy's own.
          if (trueTime === 'unknown') continue;
          const undercounted = budget ? summary.missed > 0 : undercountShare >= 0.5 && usage.trueMs - usage.accountedMs >= 60_000;
          if (!undercounted) continue;
          const accountedS = usage.accountedMs / 1000;
          const trueS = usage.trueMs / 1000;
          const unaccounted = trueS - accountedS;
          const impactText = impactFactor !== null && impactFactor > 1
            ? ` Replaying the limiter, the key consumed ${formatRatio(roundTo(impactFactor, 2))} the worker time a correctly accounted limiter would have allowed in those windows.`
            : '';
          findings.push({
            kind: 'budget-undercount',
            severity: severityOf({
              affected: usage.aborted, total: proxyRequests, background: HEALTHY_BACKGROUND.none,
              cohortShare: null, lostSeconds: unaccounted,
            }),
            title: `API key ${key}: ${formatRounded(trueS, 3)} s of backend time${estimated ? ' (estimated)' : ''}, but only ${formatRounded(accountedS, 3)} s accounted by the proxy`,
            explanation:
              `Key ${key} used ${formatRounded(trueS, 3)} s of backend worker time${estimated ? ' (estimated: no APM data, aborted requests priced at their route\'s mean)' : ''}, ` +
              `while the proxy's log accounts for ${formatRounded(accountedS, 3)} s (${formatShare(roundTo(undercountShare, 4))} under-counted), ` +
              `mostly from ${formatNumber(usage.aborted)} aborted requests whose backend kept working` +
              (usage.abortedByClient === usage.aborted ? '.' : ` (${formatNumber(usage.aborted - usage.abortedByClient)} of them the proxy gave up on at its own timeout, not the client).`) +
              (budget
                ? ` Against the budget of ${budget.text}, true usage exceeded it in ${summary.over} window(s); the proxy-side limiter never fired in ${summary.missed} of them` +
                  (firstTrueThrottle !== null ? ` (true accounting would first have throttled at ${new Date(firstTrueThrottle).toISOString()}` +
                    (firstAccountedThrottle !== null ? `, the proxy's at ${new Date(firstAccountedThrottle).toISOString()})` : ', the proxy\'s never did)') : '') +
                  `, and ${leaked} requests got through that should have been refused.` + impactText
                : ' Give --budget (e.g. 600s/5m) to replay when a limiter would have fired.'),
            // Whoever cut the requests off is what to change: the client (the proxy can wait anyway) or the proxy's own timeout.
            nextStep: 2 * usage.abortedByClient >= usage.aborted
              ? 'Account worker time from the backend (APM, or the app reporting its own duration), or make the proxy wait for the real upstream time ' +
                '(nginx: `proxy_ignore_client_abort on;`; HAProxy: no `option abortonclose`) before the budget is charged.'
              : 'Account worker time from the backend (APM, or the app reporting its own duration): the proxy stopped waiting at its own timeout while the ' +
                'backend went on (see the timeout wall), so the time it logs stops there; or raise that timeout to what the route needs.',
            figures: {
              apiKey: key,
              requests: usage.requests,
              abortedRequests: usage.aborted,
              accountedSeconds: roundTo(accountedS, 3),
              trueSeconds: estimated ? null : roundTo(trueS, 3),
              estimatedTrueSeconds: estimated ? roundTo(trueS, 3) : null,
              estimated,
              unaccountedSeconds: roundTo(unaccounted, 3),
              undercountShare: roundTo(undercountShare, 4),
              budget: budget?.text ?? null,
              windowsOverBudget: budget ? summary.over : null,
              windowsMissedByProxy: budget ? summary.missed : null,
              requestsThatShouldHaveBeenThrottled: budget ? leaked : null,
              firstTrueThrottleAt: firstTrueThrottle === null ? null : new Date(firstTrueThrottle).toISOString(),
              firstAccountedThrottleAt: firstAccountedThrottle === null ? null : new Date(firstAccountedThrottle).toISOString(),
              impactFactor: impactFactor === null ? null : roundTo(impactFactor, 2),
            },
            evidence: usage.evidence.list(),
          });
        }
        const unknownKeys = rows.filter((row) => row[11] === 'unknown').length;
        findings.push({
          kind: 'budget-per-key',
          severity: 'info',
          title: `Worker time per API key (${keys.size} ${keys.size === 1 ? 'key' : 'keys'})`,
          explanation:
            `Backend worker time per key as the proxy accounted it and as the backend spent it` +
            (context.hasApm ? ' (APM durations where joined)' : ' (no APM input: the true time of aborted requests is estimated from their route\'s answered requests, or unknown)') +
            (budget ? `, replayed against the budget ${budget.text}.` : '.') +
            (unknownKeys > 0 ? ` For ${unknownKeys} key(s) some aborted requests have no backend time (not joined, nothing to estimate from): their true time is unknown, not the accounted time.` : '') +
            (keys.overflowed > 0 ? ` More than ${KEY_CAP} keys: the rest are counted under "(other)".` : ''),
          figures: {
            keys: keys.size, budget: budget?.text ?? null, allowanceSeconds: budget ? budget.allowanceMs / 1000 : null,
            windowSeconds: windowMs / 1000, overflowedKeys: keys.overflowed,
          },
          table: {
            columns: ['apiKey', 'requests', 'joined', 'aborted', 'accountedSeconds', 'trueSeconds', 'undercountShare',
              'windowsOverBudget', 'windowsMissedByProxy', 'requestsThatShouldHaveBeenThrottled', 'impactFactor', 'trueTime'],
            rows,
          },
          series: { windows: series },
          evidence: [],
        });
        return findings;
      },
    };
  },
};
