import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_JOIN_OPTIONS } from '../../src/join/options.js';
import { severityRank } from '../../src/model/finding.js';
import { analyze } from '../../src/pipeline/analyze.js';
import type { Analysis } from '../../src/pipeline/analysis.js';
import { HEALTHY_COMBINED, healthyCombinedLog } from '../generators/healthy-traffic.js';

/**
 * A healthy 100 k-line `combined` log (1.5% client drops, 0.4% scattered 500/503, 1% 404s from
 * scanners and favicons, probes every 5 s): the control every detector must stay quiet on.
 */
describe('a healthy 100 k-line combined log with its background noise', () => {
  let analysis: Analysis;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'alf-healthy-'));
    const path = join(dir, 'access.log');
    writeFileSync(path, `${healthyCombinedLog().join('\n')}\n`);
    analysis = await analyze({ inputs: [path], apmInputs: [], budget: null, join: DEFAULT_JOIN_OPTIONS, keepGoing: false });
  }, 120_000);

  it('is read whole', () => {
    expect(analysis.inputs.totals).toMatchObject({ records: HEALTHY_COMBINED.lines, skipped: 0 });
  });

  it('raises nothing above low, and its verdict says nothing stands out', () => {
    const loud = analysis.findings.filter((finding) => severityRank(finding.severity) > severityRank('low'));
    expect(loud.map((finding) => finding.title)).toEqual([]);
    expect(analysis.verdict[0]!.text).toMatch(/^No anomaly stands out/);
  });

  it('invents no upstream, and its server errors are a share of all requests', () => {
    const trouble = analysis.findings.filter((finding) => finding.kind === 'upstream-trouble');
    for (const finding of trouble) {
      if (finding.kind !== 'upstream-trouble') continue;
      expect(finding.figures.upstream).toBeNull();
      expect(finding.figures.requests).toBe(HEALTHY_COMBINED.lines);
      expect(finding.figures.errorRate).toBeLessThan(0.01);
      expect(finding.figures.pattern).toBe('transient');
    }
  });
});
