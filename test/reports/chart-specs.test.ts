import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv } from 'ajv';
import { compile, type TopLevelSpec } from 'vega-lite';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildBudgetWindowsChart } from '../../reports/charts/budget-windows.js';
import { buildClientVsBackendChart } from '../../reports/charts/client-vs-backend.js';
import { buildLatencyDistributionChart } from '../../reports/charts/latency-distribution.js';
import { buildRequestTimelineChart } from '../../reports/charts/request-timeline.js';
import { buildUpstreamErrorsChart } from '../../reports/charts/upstream-errors.js';
import { reportCharts } from '../../reports/html.js';
import { latencyBars, NO_FILTER, timelineBars } from '../../reports/page/cube-view.js';
import { renderSvg } from '../../reports/render-svg.js';
import type { Analysis } from '../../src/pipeline/analysis.js';
import { UpstreamTimeline } from '../../src/summaries/upstream-timeline.js';
import { emptyProxyRecord } from '../../src/model/records.js';
import { analyzeDirectory, INCIDENT_DIR } from './report-fixtures.js';

/**
 * Every chart spec the report builds is valid against vega-lite's own JSON schema (the one the
 * package ships) and compiles without a warning: the way vega-lite tests its examples.
 */

const require = createRequire(import.meta.url);
const schema = JSON.parse(readFileSync(require.resolve('vega-lite/vega-lite-schema.json'), 'utf8')) as object;
const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true, validateFormats: false });
const validate = ajv.compile(schema);

function upstreamsWithConnectTimes() {
  const summary = new UpstreamTimeline();
  const t0 = Date.UTC(2024, 0, 1);
  for (let i = 0; i < 600; i++) {
    const proxy = {
      ...emptyProxyRecord('test', 'a.log', i + 1, ''), upstreamLogged: true, endMs: t0 + i * 2000,
      upstreamAddr: `10.0.0.${i % 3}:80`, status: i % 17 === 0 ? 504 : 200, upstreamStatus: i % 17 === 0 ? null : 200,
      upstreamConnectTimeMs: (i % 5) * 3,
    };
    summary.observe({ proxy, apm: null, method: 'none', confidence: 0, offsetMs: null });
  }
  return summary.summary();
}

function specsOf(analysis: Analysis): [string, TopLevelSpec][] {
  return reportCharts(analysis).map((chart) => [chart.id, chart.spec]);
}

describe('chart specs', () => {
  let incident: Analysis;
  beforeAll(async () => {
    incident = await analyzeDirectory(INCIDENT_DIR);
  }, 60_000);

  function cases(): [string, TopLevelSpec][] {
    return [
      ...specsOf(incident),
      ['client-vs-backend without knee', buildClientVsBackendChart({ points: incident.charts.scatter.slice(0, 50), kneeSeconds: null, cohort: null })],
      ['latency with walls', buildLatencyDistributionChart(latencyBars(incident.charts.cube, NO_FILTER), [{ seconds: 29, label: 'wall 29 s' }, { seconds: 60, label: 'wall 60 s' }])],
      ['timeline, hourly', buildRequestTimelineChart(timelineBars(incident.charts.cube, NO_FILTER), 3600)],
      ['budget without budget line', buildBudgetWindowsChart([{ key: 'k', windowStart: '2024-01-01T00:00:00.000Z', accountedSeconds: 1, trueSeconds: 2, accountedThrottleAt: null, trueThrottleAt: null }], null)],
      ['upstreams with connect times', buildUpstreamErrorsChart(upstreamsWithConnectTimes())],
    ];
  }

  it('builds every chart for the bundled incident', () => {
    expect(specsOf(incident).map(([id]) => id)).toEqual(['client-vs-backend', 'latency-distribution', 'request-timeline', 'budget-windows', 'upstream-errors']);
  });

  it('validates each spec against vega-lite-schema.json', () => {
    for (const [id, spec] of cases()) {
      const valid = validate(JSON.parse(JSON.stringify(spec)));
      expect(valid ? [] : validate.errors?.slice(0, 5), id).toEqual([]);
    }
  });

  it('has a validator that rejects a broken spec (so the check above can fail)', () => {
    const broken = { ...(specsOf(incident)[0]![1] as object), mark: 'no-such-mark', layer: 7 };
    expect(validate(broken)).toBe(false);
  });

  it('compiles each spec without warnings', () => {
    for (const [id, spec] of cases()) {
      const warnings: string[] = [];
      const collect = {
        level: () => collect, error: (...args: unknown[]) => { warnings.push(`error ${args.join(' ')}`); return collect; },
        warn: (...args: unknown[]) => { warnings.push(args.join(' ')); return collect; },
        info: () => collect, debug: () => collect,
      };
      const compiled = compile(spec, { logger: collect as never });
      expect(compiled.spec.marks?.length ?? 0, id).toBeGreaterThan(0);
      expect(warnings, id).toEqual([]);
    }
  });

  it('renders the connect-time panel when connect times were measured', async () => {
    const svg = await renderSvg(buildUpstreamErrorsChart(upstreamsWithConnectTimes()));
    expect(svg).toContain('upstream connect time (ms)');
    expect(svg).toContain('10.0.0.1:80');
  });
});
