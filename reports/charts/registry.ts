import { budgetWindowsChart } from './budget-windows.js';
import { clientVsBackendChart } from './client-vs-backend.js';
import { latencyDistributionChart } from './latency-distribution.js';
import type { ReportChart } from './report-chart.js';
import { requestTimelineChart } from './request-timeline.js';
import { upstreamErrorsChart } from './upstream-errors.js';

/**
 * The charts of the HTML report, in the order it shows them. Adding a chart: its module (the
 * vega-lite spec and a `ReportChart`), and its import and name here; `npm run schema` then adds
 * its id to ChartId (src/model/chart-ids.generated.ts), which detectors point at.
 */
export const REPORT_CHARTS: readonly ReportChart[] = [
  clientVsBackendChart,
  latencyDistributionChart,
  requestTimelineChart,
  budgetWindowsChart,
  upstreamErrorsChart,
];
