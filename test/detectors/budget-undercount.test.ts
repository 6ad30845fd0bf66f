import { describe, expect, it } from 'vitest';
import { budgetUndercount } from '../../src/detectors/budget-undercount.js';
import { LimiterReplay } from '../../src/detectors/budget-undercount/limiter-replay.js';
import { parseBudget } from '../../src/model/budget.js';
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

  it('clean traffic under budget: only the per-key info table', () => {
    for (const seed of [1, 2]) {
      const findings = run(cleanTraffic({ seed }).requests);
      expect(findings.map((f) => f.kind)).toEqual(['budget-per-key']);
      expect(findings[0]!.severity).toBe('info');
    }
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
