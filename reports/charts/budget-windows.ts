import type { TopLevelSpec } from 'vega-lite';
import type { FigureValue } from '../../src/model/finding.js';

/**
 * Per API key and window: worker time as the proxy accounted it and as the backend spent it,
 * against the budget line. The gap between the two bars is the under-count.
 */
export function buildBudgetWindowsChart(rows: readonly Record<string, FigureValue>[], budgetSeconds: number | null): TopLevelSpec {
  const values = rows.flatMap((row) => [
    { key: String(row.key), window: String(row.windowStart), accounting: 'accounted by proxy', seconds: Number(row.accountedSeconds) },
    { key: String(row.key), window: String(row.windowStart), accounting: 'true (APM)', seconds: Number(row.trueSeconds) },
  ]);
  const layers: NonNullable<Extract<TopLevelSpec, { layer: unknown }>['layer']> = [
    {
      mark: { type: 'line', point: { size: 18 }, strokeWidth: 1.5 },
      encoding: {
        x: { field: 'window', type: 'temporal', title: 'window start (UTC)' },
        y: { field: 'seconds', type: 'quantitative', title: 'worker time per window (s)' },
        color: { field: 'accounting', type: 'nominal', title: null, legend: { orient: 'top' } },
        strokeDash: { field: 'accounting', type: 'nominal', legend: null },
      },
    },
  ];
  if (budgetSeconds !== null) {
    // A datum, not a data source: every facet cell shares the spec's data.
    layers.push({
      name: 'budget_line',
      mark: { type: 'rule', color: '#d62728', strokeDash: [5, 3] },
      encoding: { y: { datum: budgetSeconds } },
    });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values },
    facet: { row: { field: 'key', type: 'nominal', title: 'API key', header: { labelAngle: 0, labelAlign: 'left', labelLimit: 200 } } },
    spec: { width: 560, height: 120, layer: layers },
    resolve: { scale: { y: 'independent' } },
  };
}
