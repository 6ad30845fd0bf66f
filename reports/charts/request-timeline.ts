import type { TopLevelSpec } from 'vega-lite';
import type { TimelineRow } from '../../src/summaries/timeline.js';

/** Requests over time by status class, and responses the proxy made without a backend by status. */
export function buildRequestTimelineChart(rows: readonly TimelineRow[], bucketSeconds: number): TopLevelSpec {
  const values = rows.map((row) => ({ time: row.time, series: row.series, count: row.count }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 560,
    height: 220,
    data: { values },
    mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.5 },
    encoding: {
      x: { field: 'time', type: 'temporal', title: 'time (UTC)', timeUnit: 'utcyearmonthdatehoursminutes' },
      y: { field: 'count', type: 'quantitative', title: `requests per ${bucketSeconds >= 3600 ? `${bucketSeconds / 3600} h` : `${bucketSeconds / 60} min`}` },
      color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'top', columns: 4 } },
    },
  };
}
