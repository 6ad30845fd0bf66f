import type { TopLevelSpec } from 'vega-lite';
import { fileProblem } from '../src/ingest/file-stats.js';
import type { FigureValue, Finding } from '../src/model/finding.js';
import type { Analysis } from '../src/pipeline/analysis.js';
import { joinedShare } from '../src/join/join-stats.js';
import { buildBudgetWindowsChart } from './charts/budget-windows.js';
import { buildClientVsBackendChart } from './charts/client-vs-backend.js';
import { buildLatencyDistributionChart, type Wall } from './charts/latency-distribution.js';
import { buildRequestTimelineChart } from './charts/request-timeline.js';
import { buildUpstreamErrorsChart, hasUpstreamTrouble } from './charts/upstream-errors.js';
import { escapeHtml } from './escape-html.js';
import { figureLabel, formatFigure, formatInstant, formatNumber, formatShare } from './format.js';
import { renderSvg } from './render-svg.js';
import { describeLimits } from './limits-note.js';
import { buildVerdict } from './verdict.js';
import { REPORT_STYLE } from './html-style.js';

/**
 * The HTML incident report: one file, no script, no network. Charts are vega-lite specs
 * rendered to inline SVG at build time; a Content-Security-Policy forbids every outside
 * request and every script, so even a bug in escaping could not run code from a log.
 *
 * Reading order, for an on-call engineer with a minute: verdict, numbers at a glance, the
 * ranked findings table (each row links to its details), then inputs and join quality, the
 * charts with a caption saying what to look for, and each finding in full. Long parts
 * (evidence, tables) fold into <details>, which needs no script.
 */

const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

interface Chart {
  id: string;
  title: string;
  caption: string;
  spec: TopLevelSpec;
}

/** Which chart shows a finding's story, for the "see chart" link. */
const CHART_FOR_KIND: Record<string, string> = {
  'client-timeout-knee': 'client-vs-backend',
  'proxy-made-responses': 'request-timeline',
  'budget-undercount': 'budget-windows',
  'budget-per-key': 'budget-windows',
  'timeout-walls': 'latency-distribution',
  'upstream-trouble': 'upstream-errors',
  'keepalive-disabled': 'upstream-errors',
};

export function reportCharts(analysis: Analysis): Chart[] {
  const out: Chart[] = [];
  const knee = analysis.findings.find((f) => f.kind === 'client-timeout-knee');
  const kneeSeconds = knee && typeof knee.figures.timeoutSeconds === 'number' ? knee.figures.timeoutSeconds : null;
  if (analysis.charts.scatter.length > 0) {
    const dimension = knee?.figures.topCohortDimension;
    const cohort = knee && knee.figures.topCohort !== null && (dimension === 'userAgent' || dimension === 'apiKey')
      ? { dimension, value: String(knee.figures.topCohort) } as const
      : null;
    out.push({
      id: 'client-vs-backend',
      title: 'Client-facing time against backend time',
      caption:
        'Look for a flat band below the dashed diagonal: clients that gave up while the backend kept working' +
        (kneeSeconds !== null ? ` (red line: the knee at ${kneeSeconds.toFixed(2)} s${cohort ? `, orange: "${cohort.value}"` : ''})` : '') +
        `. On the diagonal the proxy waited as long as the backend worked. ${formatNumber(analysis.charts.scatter.length)} of ` +
        `${formatNumber(analysis.charts.scatterSampledFrom)} joined requests shown (seeded sample).`,
      spec: buildClientVsBackendChart({ points: analysis.charts.scatter, kneeSeconds, cohort }),
    });
  }
  if (analysis.charts.latency.length > 0) {
    const walls: Wall[] = [];
    for (const finding of analysis.findings) {
      const wall = finding.figures.wallSeconds;
      if (typeof wall === 'number' && !walls.some((w) => Math.abs(w.seconds - wall) / wall < 0.02)) {
        const limit = finding.figures.likelyLimit;
        walls.push({ seconds: wall, label: `wall ${formatNumber(wall)} s${typeof limit === 'string' ? ` (${limit})` : ''}` });
      }
    }
    // The knee is a client-side wall too; skip it when a wall detector already marked the same place.
    if (kneeSeconds !== null && !walls.some((w) => Math.abs(w.seconds - kneeSeconds) / kneeSeconds < 0.02)) {
      walls.push({ seconds: kneeSeconds, label: `knee ${kneeSeconds.toFixed(2)} s` });
    }
    out.push({
      id: 'latency-distribution',
      title: 'Distribution of client-facing time',
      caption: 'Look for a sharp spike at one value: that is a timeout wall (a client, proxy or gateway limit such as 5, 29 or 60 s); detected walls are marked in red.',
      spec: buildLatencyDistributionChart(analysis.charts.latency, walls),
    });
  }
  if (analysis.charts.timeline.length > 0) {
    out.push({
      id: 'request-timeline',
      title: 'Requests over time',
      caption: 'Look for when the "no upstream" lines (responses the proxy made without a backend answer) start and whether they track the traffic; "all" lines are every request by status class.',
      spec: buildRequestTimelineChart(analysis.charts.timeline, analysis.charts.timelineBucketSeconds),
    });
  }
  const perKey = analysis.findings.find((f) => f.kind === 'budget-per-key');
  const windows = perKey?.series?.windows ?? [];
  const undercounted = new Set(analysis.findings.filter((f) => f.kind === 'budget-undercount').map((f) => String(f.figures.apiKey)));
  if (windows.length > 0) {
    const shown = windows.filter((row) => undercounted.size === 0 || undercounted.has(String(row.key)));
    const budgetSeconds = analysis.settings.budget ? budgetAllowanceSeconds(perKey!) : null;
    out.push({
      id: 'budget-windows',
      title: 'Worker time per API key and window',
      caption:
        'Look for windows where only the orange (true) line crosses the red budget line: the limiter, fed the proxy\'s accounted times, never fired there. ' +
        'Dotted verticals are the replayed limiter\'s throttle times, with true times (orange) and accounted times (blue).',
      spec: buildBudgetWindowsChart(shown.slice(0, 600), budgetSeconds),
    });
  }
  const upstreams = analysis.charts.upstreams;
  if (upstreams && hasUpstreamTrouble(upstreams)) {
    out.push({
      id: 'upstream-errors',
      title: 'Upstream errors and connect time by upstream address',
      caption:
        'Look for bursts: errors on one address point at that backend, on every address at once at the network or the proxy. ' +
        (upstreams.connectMeasured > 0
          ? 'Below, connect time per address: above zero on every request means connections are not reused.'
          : 'These logs carry no upstream connect time.'),
      spec: buildUpstreamErrorsChart(upstreams),
    });
  }
  return out;
}

function budgetAllowanceSeconds(perKey: Finding): number | null {
  const text = perKey.figures.budget;
  if (typeof text !== 'string') return null;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)\//.exec(text);
  if (!match) return null;
  const factor: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };
  return Number(match[1]) * factor[match[2]!]!;
}

function figure(name: string, value: FigureValue): string {
  return escapeHtml(formatFigure(name, value));
}

/** The few figures that say how big a finding is, for the summary table. */
function keyFigures(finding: Finding): string {
  return Object.entries(finding.figures)
    .filter(([, v]) => v !== null && typeof v !== 'boolean')
    .slice(0, 3)
    .map(([k, v]) => `${escapeHtml(figureLabel(k))} <strong>${figure(k, v)}</strong>`)
    .join(' · ');
}

function renderSummaryTable(findings: readonly Finding[]): string {
  if (findings.length === 0) return '<p>No findings.</p>';
  const rows = findings.map((f, index) =>
    `<tr class="severity-${f.severity}"><td>${index + 1}</td><td><span class="badge badge-${f.severity}">${f.severity}</span></td>` +
    `<td><a href="#finding-${index + 1}">${escapeHtml(f.title)}</a></td><td class="key-figures">${keyFigures(f)}</td></tr>`).join('\n');
  return `<table class="data summary"><thead><tr><th>#</th><th>severity</th><th>finding</th><th>how big</th></tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

function renderFinding(finding: Finding, index: number, chartIds: ReadonlySet<string>): string {
  const figures = Object.entries(finding.figures).filter(([, v]) => v !== null);
  const columns = finding.table?.columns ?? [];
  const tableRows = finding.table?.rows ?? [];
  const table = tableRows.length > 0
    ? `<details class="table"${tableRows.length <= 10 ? ' open' : ''}><summary>Table (${formatNumber(tableRows.length)} rows${tableRows.length > 25 ? ', first 25 shown' : ''})</summary>` +
      `<table class="data"><thead><tr>${columns.map((c) => `<th>${escapeHtml(figureLabel(c))}</th>`).join('')}</tr></thead><tbody>` +
      tableRows.slice(0, 25).map((row) => `<tr>${row.map((cell, i) => `<td>${figure(columns[i] ?? '', cell)}</td>`).join('')}</tr>`).join('') +
      '</tbody></table></details>'
    : '';
  // High findings show their evidence open: it is what the reader will paste into the ticket.
  const open = finding.severity === 'high' || finding.severity === 'critical' ? ' open' : '';
  const evidence = finding.evidence.length > 0
    ? `<details class="evidence"${open}><summary>Evidence (${finding.evidence.length} log lines)</summary><ul class="evidence">${finding.evidence.map((e) =>
        `<li><span class="where">${escapeHtml(e.file)}:${e.line}</span>${e.note ? ` <span class="note">${escapeHtml(e.note)}</span>` : ''}<pre>${escapeHtml(e.text.slice(0, 2000))}</pre></li>`).join('')}</ul></details>`
    : '';
  const chart = CHART_FOR_KIND[finding.kind];
  const chartLink = chart && chartIds.has(chart) ? ` <a class="see-chart" href="#chart-${chart}">see chart</a>` : '';
  return `<section class="finding severity-${finding.severity}" id="finding-${index + 1}" data-kind="${escapeHtml(finding.kind)}">
<h3><span class="badge badge-${finding.severity}">${finding.severity}</span> ${index + 1}. ${escapeHtml(finding.title)}${chartLink}</h3>
<p>${escapeHtml(finding.explanation)}</p>
${finding.nextStep ? `<p class="next"><strong>Next step:</strong> ${escapeHtml(finding.nextStep)}</p>` : ''}
${figures.length > 0 ? `<dl class="figures">${figures.map(([k, v]) => `<div><dt>${escapeHtml(figureLabel(k))}</dt><dd>${figure(k, v)}</dd></div>`).join('')}</dl>` : ''}
${table}
${evidence}
</section>`;
}

function renderGlance(analysis: Analysis): string {
  const { totals, timeRange } = analysis.inputs;
  const counts = new Map<string, number>();
  for (const finding of analysis.findings) counts.set(finding.severity, (counts.get(finding.severity) ?? 0) + 1);
  const proxyMade = analysis.charts.timeline.filter((row) => row.series.startsWith('no upstream')).reduce((sum, row) => sum + row.count, 0);
  const tiles: [string, string][] = [
    ['proxy requests', formatNumber(totals.proxyRecords)],
    ['APM transactions', analysis.settings.hasApm ? formatNumber(totals.apmRecords) : 'none'],
    ['joined to APM', analysis.settings.hasApm ? formatShare(joinedShare(analysis.join)) : '–'],
    ['made by the proxy', `${formatNumber(proxyMade)} (${formatShare(totals.proxyRecords > 0 ? proxyMade / totals.proxyRecords : 0)})`],
    ['findings', [...counts].map(([severity, n]) => `${n} ${severity}`).join(', ') || 'none'],
  ];
  if (timeRange) tiles.push(['time range', `${formatInstant(timeRange.from)} – ${formatInstant(timeRange.to).slice(11)}`]);
  return `<dl class="glance">${tiles.map(([label, text]) => `<div><dt>${escapeHtml(label)}</dt><dd>${escapeHtml(text)}</dd></div>`).join('')}</dl>`;
}

/** Joined pairs per confidence decile as a tiny bar chart in plain HTML: most pairs should sit in the last bar. */
function renderDeciles(deciles: readonly number[]): string {
  const max = Math.max(1, ...deciles);
  const total = deciles.reduce((sum, n) => sum + n, 0);
  const bars = deciles.map((n, i) => {
    const label = `confidence ${(i / 10).toFixed(1)}–${((i + 1) / 10).toFixed(1)}: ${formatNumber(n)} pairs`;
    return `<span class="decile" title="${escapeHtml(label)}"><span class="bar" style="height:${Math.round((n / max) * 100)}%"></span><span class="count">${formatNumber(n)}</span></span>`;
  }).join('');
  return `<div class="deciles-wrap"><div class="deciles" role="img" aria-label="Joined pairs by confidence decile, 0 to 1">${bars}</div>` +
    `<div class="deciles-axis"><span>confidence 0</span><span>0.5</span><span>1</span></div>` +
    `<p class="note">${formatNumber(total)} joined pairs by join confidence; ${formatShare(total > 0 ? (deciles[9] ?? 0) / total : 0)} at 0.9 or above.</p></div>`;
}

function limitsNote(analysis: Analysis): string {
  const note = describeLimits(analysis.limits);
  return note === null ? '' : `<p class="note limits">${escapeHtml(note)}</p>\n`;
}

function renderInputs(analysis: Analysis): string {
  const { totals, timeRange } = analysis.inputs;
  const rows = analysis.inputs.files.map((f) => {
    const problem = fileProblem(f);
    const examples = f.firstIssues.length > 0
      ? `<details><summary>first skipped lines</summary><ul class="evidence">${f.firstIssues.map((i) => `<li><span class="where">${escapeHtml(f.file)}:${i.line}</span> ${escapeHtml(i.message)}</li>`).join('')}</ul></details>`
      : '';
    return `<tr><td class="where">${escapeHtml(f.file)}</td><td>${escapeHtml(f.format ?? 'unknown')}</td><td class="num">${formatNumber(f.linesRead)}</td><td class="num">${formatNumber(f.records)}</td>` +
      `<td class="num">${formatNumber(f.skipped)}</td><td class="num">${formatNumber(f.ignored)}</td><td>${problem ? escapeHtml(problem) : ''}${examples}</td></tr>`;
  }).join('\n');
  const join = analysis.join;
  const joinText = analysis.settings.hasApm
    ? `<p class="join"><strong>${formatShare(joinedShare(join))}</strong> of ${formatNumber(join.proxyRecords)} proxy records joined to APM transactions ` +
      `(${formatNumber(join.joinedById)} by id, ${formatNumber(join.joinedHeuristic)} by time and URL; ${formatNumber(join.lowConfidence)} refused for low confidence); ` +
      `clock offset <strong>${join.offsetMs === null ? '–' : `${formatNumber(join.offsetMs)} ms`}</strong> (APM minus proxy, from ${formatNumber(join.offsetSupportingPairs)} pairs` +
      `${join.offsetSpreadMs !== null ? `, spread ${formatNumber(join.offsetSpreadMs)} ms` : ''}); ` +
      `${formatNumber(join.unjoinedProxy)} proxy records and ${formatNumber(join.unjoinedApm)} APM transactions without a partner.</p>` +
      renderDeciles(join.confidenceDeciles)
    : '<p class="join">No APM input: findings rest on the proxy log alone, and backend times are what the proxy saw.</p>';
  return `<section class="inputs" id="inputs"><h2>Inputs and join quality</h2>
<p>${formatNumber(analysis.inputs.files.length)} files: ${formatNumber(totals.linesRead)} lines read, ${formatNumber(totals.records)} parsed, ` +
    `${formatNumber(totals.skipped)} skipped, ${formatNumber(totals.ignored)} ignored` +
    `${timeRange ? `; ${escapeHtml(formatInstant(timeRange.from))} to ${escapeHtml(formatInstant(timeRange.to))}` : ''}.</p>
<table class="data"><thead><tr><th>file</th><th>format</th><th>read</th><th>parsed</th><th>skipped</th><th>ignored</th><th>problem</th></tr></thead><tbody>
${rows}
</tbody></table>
${joinText}
${limitsNote(analysis)}<p class="note">Settings: budget ${escapeHtml(analysis.settings.budget ?? 'none')}, key field ${escapeHtml(analysis.settings.keyField ?? 'guessed')}.</p></section>`;
}

/** The slice asked for on the command line, said before anything else: every figure below is about it alone. */
function renderSlice(analysis: Analysis): string {
  const slice = analysis.slice;
  if (!slice) return '';
  const total = slice.proxyKept + slice.proxyOutside;
  return `<p class="slice" id="slice"><strong>Slice:</strong> ${escapeHtml(slice.description)}: ${formatNumber(slice.proxyKept)} of ${formatNumber(total)} proxy requests ` +
    `(${formatShare(total > 0 ? slice.proxyKept / total : 0)}); every figure below is about them alone.</p>\n`;
}

export async function renderHtml(analysis: Analysis): Promise<string> {
  const chartList = reportCharts(analysis);
  const rendered = await Promise.all(chartList.map(async (chart) => ({ chart, svg: await renderSvg(chart.spec) })));
  const figures = rendered.map(({ chart, svg }) =>
    `<figure class="chart" id="chart-${chart.id}"><h3>${escapeHtml(chart.title)}</h3><figcaption>${escapeHtml(chart.caption)}</figcaption>${svg}</figure>`).join('\n');
  const chartIds = new Set(chartList.map((c) => c.id));
  const verdict = buildVerdict(analysis).map(escapeHtml).join(' ');
  const range = analysis.inputs.timeRange;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="alf ${escapeHtml(analysis.alfVersion)}">
<title>alf incident report${range ? ` ${escapeHtml(formatInstant(range.from))}` : ''}</title>
<style>${REPORT_STYLE}</style>
</head>
<body>
<header><h1>alf incident report</h1><p class="meta">Generated ${escapeHtml(formatInstant(analysis.generatedAt))} by alf ${escapeHtml(analysis.alfVersion)} · ` +
    `<a href="#findings">findings</a> · <a href="#inputs">inputs</a> · <a href="#charts">charts</a> · <a href="#details">details</a></p></header>
${renderSlice(analysis)}<section class="verdict"><h2>Verdict</h2><p id="verdict">${verdict}</p>
${renderGlance(analysis)}</section>
<section class="findings-summary" id="findings"><h2>Findings, most severe first</h2>
${renderSummaryTable(analysis.findings)}
</section>
${renderInputs(analysis)}
<section class="charts" id="charts"><h2>Charts</h2>
${figures || '<p>No chart: nothing to draw from these inputs.</p>'}
</section>
<section class="findings" id="details"><h2>Findings in detail (${analysis.findings.length})</h2>
${analysis.findings.map((f, i) => renderFinding(f, i, chartIds)).join('\n')}
</section>
<footer class="note">Self-contained: no script, no outside request. JSON and Markdown versions carry the same findings: <code>alf analyze … --format json|md</code>.</footer>
</body>
</html>
`;
}
