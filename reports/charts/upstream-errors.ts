import type { TopLevelSpec } from 'vega-lite';
import type { UpstreamTroubleFinding } from '../../src/detectors/upstream-trouble.js';
import type { UpstreamTimelineSummary } from '../../src/summaries/upstream-timeline.js';
import { formatNumber, formatShare } from '../format.js';
import { utcLabel } from '../page/cube-view.js';
import { findingsOfKind } from '../../src/detectors/detector.js';
import type { ReportChart } from './report-chart.js';

/**
 * Upstream trouble over time, one row per upstream address: 502/503/504 and responses the proxy
 * made without an upstream answer, stacked per time bucket. Below, when the logs carry it,
 * connect time per address (mean and max per bucket). Errors on one address point at that
 * backend; on every address at once, at the network or the proxy; connect time above zero on
 * every request means connections are not being reused. An address's error count in its row header
 * is its upstream-trouble finding's own; the bars also show responses the proxy made without an
 * upstream answer (client aborts among them), which are no upstream's errors.
 */

const KINDS = ['502', '503', '504', 'no upstream answer (proxy-made)'] as const;
const KIND_COLOURS = ['#d62728', '#9467bd', '#8c564b', '#ff9896'];
/** More bars than this per row are merged into wider buckets: the page stays small and legible. */
const MAX_BARS = 240;

type Concat = Extract<TopLevelSpec, { vconcat: unknown }>['vconcat'][number];

/** Whether the chart would draw anything: some upstream error, or some measured connect time. */
export function hasUpstreamTrouble(summary: UpstreamTimelineSummary): boolean {
  return summary.connectMeasured > 0 || summary.upstreams.some((u) => u.errors > 0);
}

export function buildUpstreamErrorsChart(summary: UpstreamTimelineSummary, findings: readonly UpstreamTroubleFinding[] = []): TopLevelSpec {
  const times = [...new Set(summary.rows.map((row) => row.time))].sort();
  const factor = Math.max(1, Math.ceil(times.length / MAX_BARS));
  const bucketMs = summary.bucketSeconds * 1000 * factor;
  const first = times.length > 0 ? Date.parse(times[0]!) : 0;
  const widen = (time: string): number => first + Math.floor((Date.parse(time) - first) / bucketMs) * bucketMs;

  // Row header: the address with its requests and, when it has a finding, that finding's errors.
  const byAddress = new Map(findings.filter((f) => f.figures.upstream !== null).map((f) => [f.figures.upstream, f.figures]));
  const labels = new Map(summary.upstreams.map((u) => {
    const figures = byAddress.get(u.upstream);
    return [
      u.upstream,
      figures === undefined
        ? `${u.upstream}: ${formatNumber(u.requests)} requests`
        : `${u.upstream}: ${formatNumber(figures.requests)} requests, ${formatNumber(figures.errors)} errors (${formatShare(figures.errorRate)})`,
    ];
  }));
  const errors = new Map<string, { time: number; upstream: string; kind: string; count: number }>();
  const add = (time: number, upstream: string, kind: string, count: number): void => {
    if (count === 0) return;
    const id = `${time}\u0000${upstream}\u0000${kind}`;
    const cell = errors.get(id);
    if (cell) cell.count += count;
    else errors.set(id, { time, upstream, kind, count });
  };
  for (const row of summary.rows) {
    const time = widen(row.time);
    const upstream = labels.get(row.upstream) ?? row.upstream;
    add(time, upstream, '502', row.status502);
    add(time, upstream, '503', row.status503);
    add(time, upstream, '504', row.status504);
    add(time, upstream, 'no upstream answer (proxy-made)', row.noUpstream);
  }
  // Rows in the summary's order (busiest first), by a field rather than a list of labels in the
  // spec: the spec then has the same shape in every window of a scan, and its compiled form is
  // reused (reports/render-svg.ts).
  const ranks = new Map(summary.upstreams.map((u, index) => [labels.get(u.upstream) ?? u.upstream, index]));
  // Stacked here rather than by vega-lite: a ranged bar (x to x2) with a stacked y is ambiguous
  // to it, and explicit y/y2 make the drawing exactly the numbers in the data.
  const base = new Map<string, number>();
  const errorValues = [...errors.values()]
    .sort((a, b) => a.time - b.time || KINDS.indexOf(a.kind as (typeof KINDS)[number]) - KINDS.indexOf(b.kind as (typeof KINDS)[number]))
    .map((cell) => {
      const stackId = `${cell.time}\u0000${cell.upstream}`;
      const from = base.get(stackId) ?? 0;
      base.set(stackId, from + cell.count);
      return {
        upstream: cell.upstream, rank: ranks.get(cell.upstream) ?? ranks.size, kind: cell.kind, count: cell.count, from, to: from + cell.count,
        // Epoch ms: vega formats numbers in UTC for axes and tooltips alike.
        time: cell.time, end: cell.time + bucketMs, label: utcLabel(cell.time),
      };
    });
  const x = { field: 'time', type: 'temporal', title: 'time (UTC)', scale: { type: 'utc' }, axis: { format: '%H:%M', labelOverlap: 'greedy', labelAngle: 0 } } as const;

  const panels: Concat[] = [];
  if (errorValues.length > 0) panels.push({
    data: { name: 'main' },
    facet: {
      row: {
        field: 'upstream', type: 'nominal', title: null,
        // Busiest upstream first, as in the summary.
        sort: { field: 'rank', op: 'min', order: 'ascending' },
        header: { labelAngle: 0, labelAlign: 'left', labelAnchor: 'start', labelOrient: 'top', labelLimit: 560 },
      },
    },
    spec: {
      width: 560,
      height: 70,
      // aria off: one aria-label per bar would outweigh the bars; axes and legend keep theirs.
      mark: { type: 'rect', aria: false, tooltip: true },
      encoding: {
        tooltip: [
          { field: 'upstream', type: 'nominal', title: 'upstream' },
          { field: 'label', type: 'nominal', title: 'from' },
          { field: 'kind', type: 'nominal', title: 'error' },
          { field: 'count', type: 'quantitative', title: 'count', format: ',' },
        ],
        x,
        x2: { field: 'end' },
        y: { field: 'from', type: 'quantitative', title: `errors per ${bucketLabel(bucketMs / 1000)}` },
        y2: { field: 'to' },
        color: { field: 'kind', type: 'nominal', title: null, scale: { domain: [...KINDS], range: KIND_COLOURS }, legend: { orient: 'top' } },
      },
    },
  });
  const connectValues = summary.connectMeasured === 0 ? [] : summary.rows.flatMap((row) => row.connectMeanMs === null ? [] : [
      { time: Date.parse(row.time), label: utcLabel(Date.parse(row.time)), upstream: row.upstream, stat: 'mean', ms: row.connectMeanMs },
      { time: Date.parse(row.time), label: utcLabel(Date.parse(row.time)), upstream: row.upstream, stat: 'max', ms: row.connectMaxMs },
    ]);
  if (connectValues.length > 0) {
    panels.push({
      data: { name: 'connect' },
      width: 560,
      height: 160,
      // The lines say what they are; their points (the point overlay takes the tooltip encoding) give each bucket's numbers.
      mark: { type: 'line', strokeWidth: 1.2, interpolate: 'step-after', aria: false, point: { size: 10, opacity: 0.6, tooltip: true }, tooltip: 'upstream connect time: hover a point for its numbers' },
      encoding: {
        tooltip: [
          { field: 'upstream', type: 'nominal', title: 'upstream' },
          { field: 'label', type: 'nominal', title: 'from' },
          { field: 'stat', type: 'nominal', title: 'connect time' },
          { field: 'ms', type: 'quantitative', title: 'ms', format: ',.1f' },
        ],
        x,
        y: { field: 'ms', type: 'quantitative', title: 'upstream connect time (ms)' },
        color: { field: 'upstream', type: 'nominal', title: 'upstream', legend: { orient: 'bottom', columns: 3, labelLimit: 240 } },
        strokeDash: { field: 'stat', type: 'nominal', title: null, scale: { domain: ['mean', 'max'], range: [[1, 0], [3, 3]] }, legend: { orient: 'bottom' } },
      },
    });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    datasets: { main: errorValues, connect: connectValues },
    vconcat: panels,
    // One time axis for both panels, so a burst of errors lines up with a connect-time spike.
    resolve: { scale: { x: 'shared', color: 'independent' } },
  };
}

function bucketLabel(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

export const upstreamErrorsChart: ReportChart = {
  id: 'upstream-errors',
  draw(analysis) {
    const upstreams = analysis.charts.upstreams;
    if (!upstreams || !hasUpstreamTrouble(upstreams)) return null;
    return {
      // Only what the logs carry: no connect time, no connect-time panel and none in the title.
      title: upstreams.connectMeasured > 0 ? 'Upstream errors and connect time by upstream address' : 'Upstream errors by upstream address',
      caption:
        'Look for bursts: errors on one address point at that backend, on every address at once at the network or the proxy. ' +
        (upstreams.connectMeasured > 0
          ? 'Below, connect time per address: above zero on every request means connections are not reused.'
          : 'These logs carry no upstream connect time.'),
      spec: buildUpstreamErrorsChart(upstreams, findingsOfKind(analysis.findings, 'upstream-trouble')),
      live: { source: 'rows', datasets: ['main', 'connect'], fields: { time: 'time' } },
    };
  },
};
