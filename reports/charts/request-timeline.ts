import type { TopLevelSpec } from 'vega-lite';
import { PROXY_MADE_SERIES, type TimelineBar } from '../page/cube-view.js';
import { NO_FILTER, timelineBars } from '../page/cube-view.js';
import type { ReportChart } from './report-chart.js';

/**
 * Requests over time: one bar per time bucket, stacked by status class, and a step line of the
 * responses the proxy made without an upstream answer. Heights are requests per minute over the
 * part of the bucket the log covers, so a log that ends mid-bucket shows no false drop, and a
 * log shorter than one bucket still draws its bar. Every bar and step has a tooltip.
 */

const CLASSES = ['2xx', '3xx', '1xx', '4xx', '5xx', 'no status', PROXY_MADE_SERIES];
const COLOURS = ['#4c78a8', '#72b7b2', '#b279a2', '#f58518', '#e45756', '#9d755d', '#222222'];

export function timeAxis(spanMs: number): { format: string; labelOverlap: 'greedy'; tickCount: number; labelAngle: number; title: string } {
  // Days apart: the date matters; within a day, the clock.
  return { format: spanMs > 36 * 3_600_000 ? '%b %d %H:%M' : '%H:%M', labelOverlap: 'greedy', tickCount: 8, labelAngle: 0, title: 'time (UTC)' };
}

export function buildRequestTimelineChart(bars: readonly TimelineBar[], bucketSeconds: number): TopLevelSpec {
  const starts = bars.map((bar) => bar.start);
  const span = starts.length > 0 ? Math.max(...starts) - Math.min(...starts) + bucketSeconds * 1000 : 0;
  const x = { field: 'start', type: 'temporal', scale: { type: 'utc' }, axis: timeAxis(span) } as const;
  // The legend names only what the log has (a filter keeps the colours: the domain is the whole log's).
  const present = CLASSES.filter((series) => bars.some((bar) => bar.series === series));
  const bucket = bucketSeconds >= 3600 ? `${bucketSeconds / 3600} h` : `${bucketSeconds / 60} min`;
  const tooltip = [
    { field: 'label', type: 'nominal', title: 'from' },
    { field: 'series', type: 'nominal', title: 'requests' },
    { field: 'count', type: 'quantitative', title: `in this ${bucket}`, format: ',' },
    { field: 'perMinute', type: 'quantitative', title: 'per minute', format: ',.1f' },
  ] as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 560,
    height: 220,
    datasets: { main: bars.map((bar) => ({ ...bar })) },
    data: { name: 'main' },
    encoding: {
      color: { field: 'series', type: 'nominal', title: null, scale: { domain: present, range: present.map((series) => COLOURS[CLASSES.indexOf(series)]!) }, legend: { orient: 'top', columns: 4, labelLimit: 260 } },
    },
    layer: [
      {
        name: 'classes',
        transform: [{ filter: { not: { field: 'series', equal: PROXY_MADE_SERIES } } }],
        mark: { type: 'rect', tooltip: true },
        encoding: {
          x, x2: { field: 'end' },
          y: { field: 'from', type: 'quantitative', title: `requests per minute (${bucket} buckets)` },
          y2: { field: 'to' },
          tooltip: [...tooltip],
        },
      },
      {
        // The line as a whole says what it is; each of its points gives its bucket's numbers.
        name: 'proxy_made',
        transform: [{ filter: { field: 'series', equal: PROXY_MADE_SERIES } }],
        mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2, tooltip: `${PROXY_MADE_SERIES}, per minute: hover a point for its bucket` },
        encoding: { x, y: { field: 'perMinute', type: 'quantitative' } },
      },
      {
        name: 'proxy_made_points',
        transform: [{ filter: { field: 'series', equal: PROXY_MADE_SERIES } }],
        mark: { type: 'point', filled: true, size: 20, tooltip: true },
        encoding: { x, y: { field: 'perMinute', type: 'quantitative' }, tooltip: [...tooltip] },
      },
    ],
  };
}

export const requestTimelineChart: ReportChart = {
  id: 'request-timeline',
  draw(analysis) {
    const cube = analysis.charts.cube;
    if (cube.cells.length === 0) return null;
    return {
      title: 'Requests over time',
      caption: 'Look for when the black line (responses the proxy made without an upstream answer) rises and whether it tracks the traffic; the bars are every request by status class. Heights are per minute, so a log that ends mid-bucket shows no false drop.',
      spec: buildRequestTimelineChart(timelineBars(cube, NO_FILTER), cube.bucketSeconds),
      live: { source: 'timeline' },
    };
  },
};
