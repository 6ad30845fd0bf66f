import type { TopLevelSpec } from 'vega-lite';
import type { LatencyBar } from '../page/cube-view.js';

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
