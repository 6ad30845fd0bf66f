import type { JoinedRequest } from '../model/records.js';
import { LatencyHistogram } from '../summaries/latency-histogram.js';
import { ScatterSample } from '../summaries/scatter-sample.js';
import { Timeline } from '../summaries/timeline.js';
import { TrafficCubeSummary } from '../summaries/traffic-cube.js';
import { UpstreamTimeline } from '../summaries/upstream-timeline.js';
import type { Analysis } from './analysis.js';

/**
 * The chart data of a run (`analysis.charts`): bounded summaries of every joined request, which
 * the report's charts draw (reports/charts/). Each summary here says which fields it fills; the
 * pipeline runs them all like the detectors, so adding one is its module in src/summaries/, a line
 * here and its field in Analysis['charts'] (the JSON output's contract).
 */
type ChartData = Analysis['charts'];

export interface ChartSummary<Field extends keyof ChartData> {
  readonly fields: readonly Field[];
  start(): RunningSummary<Field>;
}

interface RunningSummary<Field extends keyof ChartData> {
  observe(request: JoinedRequest): void;
  finish(): Pick<ChartData, Field>;
}

function summary<Field extends keyof ChartData>(fields: readonly Field[], start: () => RunningSummary<Field>): ChartSummary<Field> {
  return { fields, start };
}

/** In the order their fields appear in the JSON output. */
export const CHART_SUMMARIES = [
  summary(['scatter', 'scatterSampledFrom'], () => {
    const scatter = new ScatterSample();
    return { observe: (request) => scatter.observe(request), finish: () => ({ scatter: scatter.points, scatterSampledFrom: scatter.seen }) };
  }),
  summary(['latency'], () => {
    const latency = new LatencyHistogram();
    return { observe: (request) => latency.observe(request), finish: () => ({ latency: latency.bins() }) };
  }),
  summary(['timeline', 'timelineBucketSeconds'], () => {
    const timeline = new Timeline();
    return { observe: (request) => timeline.observe(request), finish: () => ({ timeline: timeline.rows(), timelineBucketSeconds: timeline.bucketSeconds }) };
  }),
  summary(['upstreams'], () => {
    const upstreams = new UpstreamTimeline();
    return { observe: (request) => upstreams.observe(request), finish: () => ({ upstreams: upstreams.summary() }) };
  }),
  summary(['cube'], () => {
    const cube = new TrafficCubeSummary();
    return { observe: (request) => cube.observe(request), finish: () => ({ cube: cube.summary() }) };
  }),
];

/** A field of analysis.charts no summary fills does not compile: it is named here. */
type Unfilled = Exclude<keyof ChartData, (typeof CHART_SUMMARIES)[number]['fields'][number]>;
const EVERY_FIELD_FILLED: Record<Unfilled, never> = {};
void EVERY_FIELD_FILLED;

/** Every chart summary of a run, observed and finished together. */
export function startChartSummaries(): { observeBatch(batch: readonly JoinedRequest[]): void; finish(): ChartData } {
  const running: RunningSummary<keyof ChartData>[] = CHART_SUMMARIES.map((chart) => chart.start() as RunningSummary<keyof ChartData>);
  return {
    observeBatch(batch) {
      for (const summary of running) for (const request of batch) summary.observe(request);
    },
    finish() {
      return Object.assign({}, ...running.map((summary) => summary.finish())) as ChartData;
    },
  };
}
