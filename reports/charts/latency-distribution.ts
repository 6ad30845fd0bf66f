import type { TopLevelSpec } from 'vega-lite';
import type { LatencyBin } from '../../src/summaries/latency-histogram.js';

/** Client-facing time distribution on a log axis; known timeout walls are marked. */
export interface Wall {
  seconds: number;
  label: string;
}

export function buildLatencyDistributionChart(bins: readonly LatencyBin[], walls: readonly Wall[]): TopLevelSpec {
  const values = bins.map((bin) => ({ low: Math.max(bin.lowSeconds, 0.001), high: bin.highSeconds, count: bin.count }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 560,
    height: 220,
    layer: [
      {
        data: { values },
        mark: { type: 'rect', color: '#4c78a8' },
        encoding: {
          x: { field: 'low', type: 'quantitative', scale: { type: 'log' }, title: 'client-facing time (s, log scale)' },
          x2: { field: 'high' },
          y: { field: 'count', type: 'quantitative', title: 'requests' },
        },
      },
      {
        name: 'walls',
        data: { values: walls.map((wall) => ({ seconds: wall.seconds, label: wall.label })) },
        layer: [
          { mark: { type: 'rule', color: '#d62728', strokeDash: [3, 3] }, encoding: { x: { field: 'seconds', type: 'quantitative' } } },
          // Rotated, right-aligned from the plot's top edge, so the label runs down inside the plot.
          { mark: { type: 'text', angle: 270, align: 'right', baseline: 'bottom', dx: -4, dy: -3, color: '#d62728' }, encoding: { x: { field: 'seconds', type: 'quantitative' }, y: { value: 0 }, text: { field: 'label' } } },
        ],
      },
    ],
  };
}
