import type { TopLevelSpec } from 'vega-lite';
import type { LatencyBar } from '../page/cube-view.js';
import { findingsOfKind } from '../../src/detectors/detector.js';
import { formatNumber } from '../format.js';
import { latencyBars, NO_FILTER } from '../page/cube-view.js';
import type { ReportChart } from './report-chart.js';

/** Client-facing time distribution on a log axis; known timeout walls are marked, their labels above the plot, off the spike. */
export interface Wall {
  seconds: number;
  label: string;
}

export function buildLatencyDistributionChart(bars: readonly LatencyBar[], walls: readonly Wall[]): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 560,
    height: 220,
    datasets: { main: bars.map((bar) => ({ ...bar })) },
    layer: [
      {
        data: { name: 'main' },
        mark: { type: 'rect', color: '#4c78a8', tooltip: true },
        encoding: {
          x: { field: 'low', type: 'quantitative', scale: { type: 'log' }, title: 'client-facing time (s, log scale)' },
          x2: { field: 'high' },
          y: { field: 'count', type: 'quantitative', title: 'requests' },
          tooltip: [
            { field: 'low', type: 'quantitative', title: 'from (s)', format: ',.3~f' },
            { field: 'high', type: 'quantitative', title: 'to (s)', format: ',.3~f' },
            { field: 'count', type: 'quantitative', title: 'requests', format: ',' },
          ],
        },
      },
      {
        name: 'walls',
        // Each label a line higher than the one before: walls close together do not overprint.
        data: { values: walls.map((wall, index) => ({ seconds: wall.seconds, label: wall.label, pixelsAbove: -4 - 14 * index })) },
        layer: [
          { mark: { type: 'rule', color: '#d62728', strokeDash: [3, 3], tooltip: true }, encoding: { x: { field: 'seconds', type: 'quantitative' }, tooltip: { field: 'label' } } },
          // Above the plot, left-aligned from the wall: a tall spike at the wall never hides its label.
          {
            mark: { type: 'text', align: 'left', baseline: 'bottom', dx: 3, color: '#d62728', fontWeight: 'bold', tooltip: true },
            encoding: { x: { field: 'seconds', type: 'quantitative' }, y: { field: 'pixelsAbove', type: 'quantitative', scale: null }, text: { field: 'label' }, tooltip: { field: 'label' } },
          },
        ],
      },
    ],
  };
}

export const latencyDistributionChart: ReportChart = {
  id: 'latency-distribution',
  draw(analysis) {
    if (analysis.charts.latency.length === 0) return null;
    const walls: Wall[] = [];
    for (const finding of findingsOfKind(analysis.findings, 'timeout-walls')) {
      if (!('wallSeconds' in finding.figures)) continue;
      const wall = finding.figures.wallSeconds;
      if (!walls.some((w) => Math.abs(w.seconds - wall) / wall < 0.02)) {
        const limit = finding.figures.likelyLimit;
        walls.push({ seconds: wall, label: `wall ${formatNumber(wall)} s${limit !== null ? ` (${limit})` : ''}` });
      }
    }
    // Knees are client-side walls too; each is marked unless a wall already marks the same place.
    for (const { figures: { timeoutSeconds } } of findingsOfKind(analysis.findings, 'client-timeout-knee')) {
      if (!walls.some((w) => Math.abs(w.seconds - timeoutSeconds) / timeoutSeconds < 0.02)) {
        walls.push({ seconds: timeoutSeconds, label: `knee ${timeoutSeconds.toFixed(2)} s` });
      }
    }
    return {
      title: 'Distribution of client-facing time',
      caption: 'Look for a sharp spike at one value: that is a timeout wall (a client, proxy or gateway limit such as 5, 29 or 60 s); detected walls are marked in red.',
      spec: buildLatencyDistributionChart(latencyBars(analysis.charts.cube, NO_FILTER), walls),
      live: { source: 'latency' },
    };
  },
};
