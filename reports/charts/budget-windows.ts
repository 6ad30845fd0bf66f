import type { TopLevelSpec } from 'vega-lite';
import type { BudgetWindowRow } from '../../src/detectors/budget-undercount.js';
import { utcLabel } from '../page/cube-view.js';
import { findingsOfKind } from '../../src/detectors/detector.js';
import type { ReportChart } from './report-chart.js';

/**
 * Per API key and window: worker time as the proxy accounted it and as the backend spent it,
 * against the budget line. The gap between the two lines is the under-count. Vertical marks are
 * the replayed limiter: when it would have throttled the key in that window with the accounted
 * times (what really happened) and with the true times (what should have happened). A true
 * mark with no accounted mark beside it is a window where the limiter never fired.
 */

const ACCOUNTED = 'accounted by proxy';
const TRUE = 'true (APM)';
const SERIES = [ACCOUNTED, TRUE];
const COLOURS = ['#4c78a8', '#f58518'];

type Layer = NonNullable<Extract<TopLevelSpec, { layer: unknown }>['layer']>[number];

export function buildBudgetWindowsChart(rows: readonly BudgetWindowRow[], budgetSeconds: number | null): TopLevelSpec {
  const values: Record<string, string | number>[] = [];
  for (const row of rows) {
    const key = row.key;
    // Epoch ms: vega formats a number in UTC, where an ISO string in a tooltip would read NaN.
    const window = Date.parse(row.windowStart);
    const from = utcLabel(window);
    values.push({ kind: 'usage', key, window, from, accounting: ACCOUNTED, seconds: row.accountedSeconds });
    if (row.trueSeconds !== null) values.push({ kind: 'usage', key, window, from, accounting: TRUE, seconds: row.trueSeconds });
    if (typeof row.accountedThrottleAt === 'string') values.push({ kind: 'throttle', key, window, accounting: ACCOUNTED, at: Date.parse(row.accountedThrottleAt), from: utcLabel(Date.parse(row.accountedThrottleAt), true) });
    if (typeof row.trueThrottleAt === 'string') values.push({ kind: 'throttle', key, window, accounting: TRUE, at: Date.parse(row.trueThrottleAt), from: utcLabel(Date.parse(row.trueThrottleAt), true) });
  }
  const colour = {
    field: 'accounting', type: 'nominal', title: null,
    scale: { domain: SERIES, range: COLOURS },
    legend: { orient: 'top' },
  } as const;
  const usageX = { field: 'window', type: 'temporal', title: 'window start (UTC)', scale: { type: 'utc' }, axis: { format: '%H:%M', labelOverlap: 'greedy', labelAngle: 0 } } as const;
  const usageY = { field: 'seconds', type: 'quantitative', title: 'worker time per window (s)' } as const;
  const layers: Layer[] = [
    {
      // The line says what it is; its points give each window's numbers.
      name: 'usage',
      transform: [{ filter: "datum.kind === 'usage'" }],
      // aria off on the dense marks: hundreds of per-point aria-labels would double the chart's
      // weight; the axes and legend keep theirs.
      mark: { type: 'line', strokeWidth: 1.5, aria: false, tooltip: 'worker time per window: hover a point for its numbers' },
      encoding: { x: usageX, y: usageY, color: colour },
    },
    {
      name: 'usage_points',
      transform: [{ filter: "datum.kind === 'usage'" }],
      mark: { type: 'point', filled: true, size: 18, aria: false, tooltip: true },
      encoding: {
        tooltip: [
          { field: 'key', type: 'nominal', title: 'API key' },
          { field: 'from', type: 'nominal', title: 'window from' },
          { field: 'accounting', type: 'nominal', title: 'worker time' },
          { field: 'seconds', type: 'quantitative', title: 'seconds', format: ',.1f' },
        ],
        x: usageX, y: usageY, color: colour,
      },
    },
    {
      name: 'throttle_marks',
      transform: [{ filter: "datum.kind === 'throttle'" }],
      // Dashed verticals in the series' colour: "a limiter fed these times throttles here".
      mark: { type: 'rule', strokeDash: [2, 2], strokeWidth: 1.5, aria: false, tooltip: true },
      encoding: {
        x: { field: 'at', type: 'temporal' }, color: colour,
        tooltip: [
          { field: 'key', type: 'nominal', title: 'API key' },
          { field: 'accounting', type: 'nominal', title: 'a limiter fed' },
          { field: 'from', type: 'nominal', title: 'throttles from' },
        ],
      },
    },
  ];
  if (budgetSeconds !== null) {
    // A datum, not a data source: every facet cell shares the spec's data.
    const label = `budget ${budgetSeconds.toLocaleString('en-US')} s`;
    layers.push({
      name: 'budget_line',
      mark: { type: 'rule', color: '#d62728', strokeDash: [5, 3], tooltip: `${label} per window` },
      encoding: { y: { datum: budgetSeconds } },
    }, {
      // The line's own label at its right end, so the red line explains itself.
      name: 'budget_label',
      mark: { type: 'text', align: 'left', baseline: 'bottom', dx: 2, dy: -2, color: '#d62728', fontWeight: 'bold', text: label, tooltip: `${label} per window` },
      encoding: { y: { datum: budgetSeconds }, x: { value: 0 } },
    });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    datasets: { main: values },
    data: { name: 'main' },
    facet: { row: { field: 'key', type: 'nominal', title: 'API key', header: { labelAngle: 0, labelAlign: 'left', labelLimit: 200 } } },
    spec: { width: 560, height: 120, layer: layers },
    resolve: { scale: { y: 'independent' } },
  };
}

export const budgetWindowsChart: ReportChart = {
  id: 'budget-windows',
  draw(analysis) {
    const perKey = findingsOfKind(analysis.findings, 'budget-per-key')[0];
    const windows = perKey?.series.windows ?? [];
    if (windows.length === 0) return null;
    const undercounted = new Set(findingsOfKind(analysis.findings, 'budget-undercount').map((f) => f.figures.apiKey));
    const shown = windows.filter((row) => undercounted.size === 0 || undercounted.has(row.key));
    const budgetSeconds = perKey?.figures.allowanceSeconds ?? null;
    return {
      title: 'Worker time per API key and window',
      caption:
        'Look for windows where only the orange (true) line crosses the red budget line: the limiter, fed the proxy\'s accounted times, never fired there. ' +
        'Dotted verticals are the replayed limiter\'s throttle times, with true times (orange) and accounted times (blue).',
      spec: buildBudgetWindowsChart(shown.slice(0, 600), budgetSeconds),
      live: { source: 'rows', datasets: ['main'], fields: { time: 'window', key: 'key' } },
    };
  },
};
