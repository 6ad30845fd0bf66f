import { describe, expect, it } from 'vitest';
import { budgetUndercount } from '../../src/detectors/budget-undercount.js';
import { LimiterReplay } from '../../src/detectors/budget-undercount/limiter-replay.js';
import { parseBudget } from '../../src/model/budget.js';
import { emptyApmTransaction, emptyProxyRecord, type JoinedRequest } from '../../src/model/records.js';
import { cleanTraffic, foundingCase } from '../generators/scenarios.js';
import { ofKind, runDetectors } from './run-detectors.js';

const budget = parseBudget('600s/5m');
const run = (requests: Parameters<typeof runDetectors>[0], hasApm = true) =>
  runDetectors(requests, { detectors: [budgetUndercount], settings: { budget, hasApm } });

describe('budget under-count and replay', () => {
  it('founding case: the exporter key is under-counted, the proxy limiter never fires, impact > 1', () => {
    const scenario = foundingCase({ seed: 31 });
    const [finding, ...others] = ofKind(run(scenario.requests), 'budget-undercount');
    expect(others).toEqual([]);
    expect(finding!.severity).toBe('high');
    expect(finding!.figures.apiKey).toBe(scenario.truth.kneeApiKey);
    expect(Number(finding!.figures.trueSeconds)).toBeGreaterThan(5 * Number(finding!.figures.accountedSeconds));
    expect(finding!.figures.firstAccountedThrottleAt).toBeNull();
    expect(Number(finding!.figures.windowsMissedByProxy)).toBe(finding!.figures.windowsOverBudget);
    expect(Number(finding!.figures.impactFactor)).toBeGreaterThan(1.5);
    // Impact is a ratio ("3.3× the worker time"), never a percentage above 100.
    expect(finding!.explanation).toContain(`${Number(finding!.figures.impactFactor).toFixed(1)}× the worker time`);
    expect(finding!.explanation).not.toMatch(/\d{3,}%/);
    expect(finding!.figures.estimated).toBe(false);
  });

  it('without APM the true time is an estimate and says so', () => {
    const scenario = foundingCase({ seed: 32, withApm: false });
    const [finding] = ofKind(run(scenario.requests, false), 'budget-undercount');
    // The founding 404s carry no upstream attempt time, so only logged aborts can be priced; if found, it must be flagged as an estimate.
    if (finding) {
      expect(finding.figures.estimated).toBe(true);
      expect(finding.explanation).toContain('estimated');
    }
    const perKey = ofKind(run(scenario.requests, false), 'budget-per-key')[0]!;
    expect(perKey.explanation).toContain('no APM input');
  });

  it('says what to change by who cut the requests off: the client (let the proxy wait) or the proxy\'s own timeout (not an abort setting)', () => {
    // 40 exports of one key, each cut off at 3 s while its backend ran 30 s: by the client (499), or by the proxy (504, no upstream answer).
    const exports = (clientClosed: boolean): JoinedRequest[] => Array.from({ length: 40 }, (_, i) => {
      const startMs = Date.UTC(2026, 0, 15, 10) + i * 5_000;
      const proxy = emptyProxyRecord('test', 'access.log', i + 1, '');
      Object.assign(proxy, {
        apiKey: 'k_export', path: '/v1/exports/7', method: 'GET', startMs, endMs: startMs + 3_000, requestTimeMs: 3_000,
        status: clientClosed ? 499 : 504, clientClosed, upstreamLogged: true, upstreamStatus: null, upstreamAttempts: 1, upstreamTimeMs: 3_000, upstreamAddr: '10.0.0.7:8080',
      });
      const apm = { ...emptyApmTransaction('test', 'export.csv', i + 2, ''), startMs, durationMs: 30_000, path: '/v1/exports/7', method: 'GET', status: 200 };
      return { proxy, apm, method: 'heuristic', confidence: 1, offsetMs: 0 };
    });
    const [byClient] = ofKind(run(exports(true)), 'budget-undercount');
    expect(byClient!.nextStep).toContain('proxy_ignore_client_abort');
    const [byProxy] = ofKind(run(exports(false)), 'budget-undercount');
    expect(byProxy!.nextStep).not.toContain('proxy_ignore_client_abort');
    expect(byProxy!.nextStep).toContain('its own timeout');
    expect(byProxy!.explanation).toContain('40 of them the proxy gave up on at its own timeout');
  });

  it('clean traffic under budget: only the per-key info table', () => {
    for (const seed of [1, 2]) {
      const findings = run(cleanTraffic({ seed }).requests);
      expect(findings.map((f) => f.kind)).toEqual(['budget-per-key']);
      expect(findings[0]!.severity).toBe('info');
    }
  });
});

describe('budget chart rows', () => {
  /** One answered request of `key` in the 5-minute window `window`; with `extraMs`, its backend took that much longer than the proxy logged. */
  function requestOf(key: string, window: number, extraMs: number): JoinedRequest {
    const proxy = emptyProxyRecord('test', 'access.log', 1, '');
    proxy.apiKey = key;
    proxy.path = '/v1/report';
    proxy.status = 200;
    proxy.upstreamLogged = true;
    proxy.upstreamStatus = 200;
    proxy.upstreamAttempts = 1;
    proxy.upstreamTimeMs = 100;
    proxy.requestTimeMs = 100;
    proxy.startMs = Date.UTC(2025, 0, 15) + window * 300_000 + 1_000;
    proxy.endMs = proxy.startMs + 100;
    if (extraMs === 0) return { proxy, apm: null, method: 'none', confidence: 0, offsetMs: null };
    const apm = emptyApmTransaction('test', 'apm.csv', 1, '');
    apm.startMs = proxy.startMs;
    apm.durationMs = 100 + extraMs;
    return { proxy, apm, method: 'heuristic', confidence: 0.9, offsetMs: 0 };
  }

  it('past 30,000 closed windows, drops back to 20,000, first the rows of the keys whose gap was smallest then, the first keys seen first among equals', () => {
    // 420 keys, one request each per window for 150 windows: 63,000 windows, past the 20,000
    // rows kept and the 10,000 let past them before dropping (first when window 76 begins). Until
    // window 80 every key's gap is 0 (a tie, broken by the order keys were first seen); from then
    // on "first" and "last" run 10 s over what the proxy logged each request, so they end as the
    // keys the chart draws. "first" was seen first and lost its early windows while tied; "last"
    // was seen last, and the rows dropped never reached it.
    const keys = ['first', ...Array.from({ length: 418 }, (_, i) => `filler-${i}`), 'last'];
    const requests: JoinedRequest[] = [];
    for (let window = 0; window < 150; window++) {
      for (const key of keys) requests.push(requestOf(key, window, window >= 80 && (key === 'first' || key === 'last') ? 10_000 : 0));
    }
    const perKey = ofKind(runDetectors(requests, { detectors: [budgetUndercount], settings: { budget: null, hasApm: true } }), 'budget-per-key')[0]!;
    const windows = (perKey as unknown as { series: { windows: { key: string; windowStart: string }[] } }).series.windows;
    const startsOf = (key: string): string[] => windows.filter((row) => row.key === key).map((row) => row.windowStart);
    expect(startsOf('last')).toHaveLength(150);
    const first = startsOf('first');
    // Every window from 80 on, and none of the 72 tied windows closed when the first drop took them.
    expect(first.length).toBeGreaterThanOrEqual(70);
    expect(first.length).toBeLessThanOrEqual(150 - 72);
    // What "first" kept is its latest windows, in order, up to the end.
    expect(first).toEqual(startsOf('last').slice(150 - first.length));
  });
});

describe('limiter replay', () => {
  it('checks at request start against reports made by then, not reports made later', () => {
    const limiter = new LimiterReplay(1000, 60_000);
    limiter.report(5_000, 800);
    limiter.report(9_000, 500);
    expect(limiter.usageAt(4_999)).toBe(0);
    expect(limiter.admits(8_000)).toBe(true);
    expect(limiter.usageAt(8_000)).toBe(800);
    expect(limiter.admits(9_000)).toBe(false);
    // A report that arrives late (out of order) still lands at its own time.
    limiter.report(7_000, 100);
    expect(limiter.usageAt(8_000)).toBe(900);
    expect(limiter.usageAt(9_500)).toBe(1400);
  });

  it('starts every window from zero', () => {
    const limiter = new LimiterReplay(1000, 60_000);
    limiter.report(59_000, 5000);
    expect(limiter.admits(59_500)).toBe(false);
    expect(limiter.admits(60_000)).toBe(true);
  });
});
