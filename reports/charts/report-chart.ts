import type { TopLevelSpec } from 'vega-lite';
import type { ChartId } from '../../src/model/finding.js';
import type { Analysis } from '../../src/pipeline/analysis.js';
import type { PageChart } from '../page/page-data.js';

/** Where a chart's data comes from when the page's filters change (see PageChart). */
export type LiveSource =
  | { source: 'timeline' | 'latency' }
  | { source: 'rows'; datasets: string[]; fields: NonNullable<PageChart['rowFields']> };

/** A chart as the report shows it. */
export interface Chart {
  id: ChartId;
  title: string;
  caption: string;
  spec: TopLevelSpec;
  live: LiveSource;
}

/**
 * A chart of the HTML report. Its module holds the vega-lite spec and this: which data of an
 * analysis it draws and what its caption tells the reader. reports/charts/registry.ts lists the
 * charts in report order; a detector points at one by `id` (Detector.chart).
 */
export interface ReportChart {
  readonly id: ChartId;
  /** The chart for this analysis, or null when there is nothing to draw. */
  draw(analysis: Analysis): Omit<Chart, 'id'> | null;
}
