import type { TopLevelSpec } from 'vega-lite';
import type { ScatterPoint } from '../../src/summaries/scatter-sample.js';
import { utcLabel } from '../page/cube-view.js';
import { findingsOfKind } from '../../src/detectors/detector.js';
import { formatNumber } from '../format.js';
import type { ReportChart } from './report-chart.js';

/**
 * Client-facing time against backend (APM) time, one point per sampled joined request.
 * Points on the diagonal are requests where the proxy waited as long as the backend worked;
 * a horizontal band at T is the knee: clients that gave up at T while the backend went on.
 * The knee's cohort (its top user agent or key) gets its own colour.
 */
export interface ClientVsBackendInput {
  points: readonly ScatterPoint[];
  kneeSeconds: number | null;
  /** Further client timeouts (other clients' knees), drawn like the first. */
  moreKneeSeconds?: readonly number[];
  cohort: { dimension: 'userAgent' | 'apiKey' | 'clientNet'; value: string } | null;
}

const ALL = 'requests';
const OTHERS = 'other clients';

export function buildClientVsBackendChart(input: ClientVsBackendInput): TopLevelSpec {
  const cohort = input.cohort;
  // Route, key, status and time ride along for the tooltip and the page's filters.
  const values = input.points.map((point) => ({
    client: point.clientSeconds,
    backend: point.backendSeconds,
    group: cohortLabel(point, cohort),
    time: point.timeMs,
    logged: utcLabel(point.timeMs, true),
    route: point.route ?? '–',
    key: point.apiKey ?? '–',
    status: point.status,
  }));
  const groups = cohort === null ? [ALL] : [truncate(cohort.value), OTHERS];
  const maxSeconds = Math.max(1, ...values.map((v) => Math.max(v.client, v.backend)));
  const layers: NonNullable<Extract<TopLevelSpec, { layer: unknown }>['layer']> = [
    {
      data: { name: 'main' },
      // aria off for the points only: a per-point aria-label would triple the page's size and no
      // screen reader user wants 4000 of them; axes, legend and markers keep theirs.
      mark: { type: 'point', filled: true, size: 14, opacity: 0.55, aria: false, tooltip: true },
      encoding: {
        tooltip: [
          { field: 'client', type: 'quantitative', title: 'client-facing (s)', format: ',.3~f' },
          { field: 'backend', type: 'quantitative', title: 'backend (s)', format: ',.3~f' },
          { field: 'status', type: 'nominal', title: 'status' },
          { field: 'route', type: 'nominal', title: 'route' },
          { field: 'key', type: 'nominal', title: 'API key' },
          { field: 'logged', type: 'nominal', title: 'logged' },
        ],
        x: { field: 'backend', type: 'quantitative', title: 'backend time, APM (s)', scale: { domain: [0, maxSeconds] } },
        y: { field: 'client', type: 'quantitative', title: 'client-facing time, proxy (s)', scale: { domain: [0, maxSeconds] } },
        color: {
          field: 'group', type: 'nominal', title: null, legend: { orient: 'top', labelLimit: 320 },
          // Fixed order and colours: the cohort is always orange, everyone else blue, in every report.
          scale: { domain: groups, range: groups.map((group) => (group === OTHERS || group === ALL ? '#4c78a8' : '#f58518')) },
        },
      },
    },
    {
      name: 'diagonal',
      data: { values: [{ x: 0, y: 0, x2: maxSeconds, y2: maxSeconds }] },
      mark: { type: 'rule', strokeDash: [4, 4], color: '#888', tooltip: 'client-facing time = backend time' },
      encoding: {
        x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' },
        x2: { field: 'x2' }, y2: { field: 'y2' },
      },
    },
  ];
  if (input.kneeSeconds !== null) {
    const knees = [input.kneeSeconds, ...(input.moreKneeSeconds ?? [])];
    layers.push(
      {
        name: 'knee_marker',
        data: { values: knees.map((knee) => ({ knee, tip: `clients give up at ${knee.toFixed(2)} s` })) },
        mark: { type: 'rule', color: '#d62728', strokeWidth: 2, tooltip: true },
        encoding: { y: { field: 'knee', type: 'quantitative' }, tooltip: { field: 'tip' } },
      },
      {
        name: 'knee_label',
        data: { values: knees.map((knee) => ({ knee, label: `knee ≈ ${knee.toFixed(2)} s`, tip: `clients give up at ${knee.toFixed(2)} s` })) },
        mark: { type: 'text', align: 'right', dy: -8, color: '#d62728', fontWeight: 'bold', tooltip: true },
        encoding: { y: { field: 'knee', type: 'quantitative' }, x: { datum: maxSeconds }, text: { field: 'label' }, tooltip: { field: 'tip' } },
      },
    );
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 560,
    height: 380,
    datasets: { main: values },
    layer: layers,
  };
}

function cohortLabel(point: ScatterPoint, cohort: ClientVsBackendInput['cohort']): string {
  if (cohort === null) return ALL;
  const value = cohort.dimension === 'userAgent' ? point.userAgent : cohort.dimension === 'apiKey' ? point.apiKey : null;
  return value === cohort.value ? truncate(cohort.value) : OTHERS;
}

function truncate(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

export const clientVsBackendChart: ReportChart = {
  id: 'client-vs-backend',
  draw(analysis) {
    if (analysis.charts.scatter.length === 0) return null;
    const knees = findingsOfKind(analysis.findings, 'client-timeout-knee');
    const knee = knees[0];
    const kneeSeconds = knee?.figures.timeoutSeconds ?? null;
    const dimension = knee?.figures.topCohortDimension;
    const cohort = knee && knee.figures.topCohort !== null && (dimension === 'userAgent' || dimension === 'apiKey')
      ? { dimension, value: knee.figures.topCohort } as const
      : null;
    return {
      title: 'Client-facing time against backend time',
      caption:
        'Look for a flat band below the dashed diagonal: clients that gave up while the backend kept working' +
        (kneeSeconds !== null ? ` (red line: the knee at ${kneeSeconds.toFixed(2)} s${cohort ? `, orange: "${cohort.value}"` : ''})` : '') +
        `. On the diagonal the proxy waited as long as the backend worked. ${formatNumber(analysis.charts.scatter.length)} of ` +
        `${formatNumber(analysis.charts.scatterSampledFrom)} joined requests shown (seeded sample).`,
      spec: buildClientVsBackendChart({ points: analysis.charts.scatter, kneeSeconds, moreKneeSeconds: knees.slice(1).map((k) => k.figures.timeoutSeconds), cohort }),
      live: { source: 'rows', datasets: ['main'], fields: { time: 'time', route: 'route', key: 'key', status: 'status' } },
    };
  },
};
