import type { TopLevelSpec } from 'vega-lite';
import type { FigureValue, Finding } from '../src/model/finding.js';
import type { Analysis } from '../src/pipeline/analysis.js';
import { joinedShare } from '../src/join/join-stats.js';
import { buildBudgetWindowsChart } from './charts/budget-windows.js';
import { buildClientVsBackendChart } from './charts/client-vs-backend.js';
import { buildLatencyDistributionChart, type Wall } from './charts/latency-distribution.js';
import { buildRequestTimelineChart } from './charts/request-timeline.js';
import { escapeHtml } from './escape-html.js';
import { renderSvg } from './render-svg.js';
import { buildVerdict } from './verdict.js';
import { REPORT_STYLE } from './html-style.js';

/**
 * The HTML incident report: one file, no script, no network. Charts are vega-lite specs
 * rendered to inline SVG at build time; a Content-Security-Policy forbids every outside
 * request and every script, so even a bug in escaping could not run code from a log.
 */

const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

interface Chart {
  id: string;
  title: string;
  caption: string;
  spec: TopLevelSpec;
}

function charts(analysis: Analysis): Chart[] {
  const out: Chart[] = [];
  const knee = analysis.findings.find((f) => f.kind === 'client-timeout-knee');
  const kneeSeconds = knee ? Number(knee.figures.timeoutSeconds) : null;
  if (analysis.charts.scatter.length > 0) {
    const dimension = knee?.figures.topCohortDimension;
    const cohort = knee && knee.figures.topCohort !== null && (dimension === 'userAgent' || dimension === 'apiKey')
      ? { dimension, value: String(knee.figures.topCohort) } as const
      : null;
    out.push({
      id: 'client-vs-backend',
      title: 'Client-facing time against backend time',
      caption:
        `Each point is a request seen by both the proxy and the APM agent (${analysis.charts.scatter.length} sampled of ${analysis.charts.scatterSampledFrom}). ` +
        'On the dashed diagonal the proxy waited as long as the backend worked; a flat band below it is where clients gave up while the backend kept going' +
        (kneeSeconds !== null ? ` (the red line marks the knee at ${kneeSeconds.toFixed(2)} s).` : '.'),
      spec: buildClientVsBackendChart({ points: analysis.charts.scatter, kneeSeconds, cohort }),
    });
  }
  if (analysis.charts.latency.length > 0) {
    const walls: Wall[] = [];
    if (kneeSeconds !== null) walls.push({ seconds: kneeSeconds, label: `knee ${kneeSeconds.toFixed(2)} s` });
    for (const finding of analysis.findings) {
      const wall = finding.figures.wallSeconds;
      if (typeof wall === 'number') walls.push({ seconds: wall, label: `wall ${wall} s` });
    }
    out.push({
      id: 'latency-distribution',
      title: 'Distribution of client-facing time',
      caption: 'Look for spikes: a sharp peak at one value is a timeout wall (a client, proxy or gateway limit), marked in red when detected.',
      spec: buildLatencyDistributionChart(analysis.charts.latency, walls),
    });
  }
  if (analysis.charts.timeline.length > 0) {
    out.push({
      id: 'request-timeline',
      title: 'Requests over time',
      caption: 'All requests by status class, and the responses the proxy made without a backend answer ("no upstream") by status: look for when they start.',
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
        'Backend worker time per window as the proxy accounted it and as the backend really spent it' +
        (budgetSeconds !== null ? `, against the budget (red dashed line at ${budgetSeconds} s): where only the true line crosses it, the limiter never fired.` : '.'),
      spec: buildBudgetWindowsChart(shown.slice(0, 600), budgetSeconds),
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

function value(v: FigureValue): string {
  if (v === null) return '–';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Math.round(v * 1000) / 1000);
  return escapeHtml(String(v));
}

function renderFinding(finding: Finding, index: number): string {
  const figures = Object.entries(finding.figures).filter(([, v]) => v !== null);
  const table = finding.table && finding.table.rows.length > 0
    ? `<table class="data"><thead><tr>${finding.table.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead><tbody>` +
      finding.table.rows.slice(0, 25).map((row) => `<tr>${row.map((cell) => `<td>${value(cell)}</td>`).join('')}</tr>`).join('') +
      '</tbody></table>'
    : '';
  const evidence = finding.evidence.length > 0
    ? `<h4>Evidence</h4><ul class="evidence">${finding.evidence.map((e) =>
        `<li><span class="where">${escapeHtml(e.file)}:${e.line}</span>${e.note ? ` <span class="note">${escapeHtml(e.note)}</span>` : ''}<pre>${escapeHtml(e.text.slice(0, 2000))}</pre></li>`).join('')}</ul>`
    : '';
  return `<section class="finding severity-${finding.severity}" id="finding-${index + 1}" data-kind="${escapeHtml(finding.kind)}">
<h3><span class="badge">${finding.severity}</span> ${escapeHtml(finding.title)}</h3>
<p>${escapeHtml(finding.explanation)}</p>
${finding.nextStep ? `<p class="next"><strong>Next step:</strong> ${escapeHtml(finding.nextStep)}</p>` : ''}
${figures.length > 0 ? `<dl class="figures">${figures.map(([k, v]) => `<div><dt>${escapeHtml(k)}</dt><dd>${value(v)}</dd></div>`).join('')}</dl>` : ''}
${table}
${evidence}
</section>`;
}

function renderInputs(analysis: Analysis): string {
  const { totals, timeRange } = analysis.inputs;
  const rows = analysis.inputs.files.map((f) => {
    const problem = f.error ?? f.undetected;
    const examples = f.firstIssues.map((i) => `${i.line}: ${i.message}`).join('\n');
    return `<tr><td>${escapeHtml(f.file)}</td><td>${escapeHtml(f.format ?? 'unknown')}</td><td>${f.linesRead}</td><td>${f.records}</td>` +
      `<td${f.skipped > 0 ? ` title="${escapeHtml(examples)}"` : ''}>${f.skipped}</td><td>${f.ignored}</td><td>${problem ? escapeHtml(problem) : ''}</td></tr>`;
  }).join('');
  const join = analysis.join;
  const joinText = analysis.settings.hasApm
    ? `${(joinedShare(join) * 100).toFixed(1)}% of ${join.proxyRecords} proxy records joined to APM transactions ` +
      `(${join.joinedById} by id, ${join.joinedHeuristic} by time and URL; ${join.lowConfidence} refused for low confidence); ` +
      `estimated clock offset ${join.offsetMs ?? '–'} ms (APM minus proxy, from ${join.offsetSupportingPairs} pairs); ` +
      `${join.unjoinedApm} APM transactions without a proxy record.`
    : 'No APM input: findings rest on the proxy log alone, and backend times are what the proxy saw.';
  return `<section class="inputs"><h2>Inputs</h2>
<p>${analysis.inputs.files.length} files: ${totals.linesRead} lines read, ${totals.records} parsed, ${totals.skipped} skipped, ${totals.ignored} ignored` +
    `${timeRange ? `; ${escapeHtml(timeRange.from)} to ${escapeHtml(timeRange.to)}` : ''}.</p>
<table class="data"><thead><tr><th>file</th><th>format</th><th>read</th><th>parsed</th><th>skipped</th><th>ignored</th><th>problem</th></tr></thead><tbody>${rows}</tbody></table>
<p class="join"><strong>Join quality:</strong> ${escapeHtml(joinText)}</p></section>`;
}

export async function renderHtml(analysis: Analysis): Promise<string> {
  const rendered = await Promise.all(charts(analysis).map(async (chart) => ({ chart, svg: await renderSvg(chart.spec) })));
  const figures = rendered.map(({ chart, svg }) =>
    `<figure class="chart" id="chart-${chart.id}"><h3>${escapeHtml(chart.title)}</h3>${svg}<figcaption>${escapeHtml(chart.caption)}</figcaption></figure>`).join('\n');
  const verdict = buildVerdict(analysis).map(escapeHtml).join(' ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="alf ${escapeHtml(analysis.alfVersion)}">
<title>alf incident report</title>
<style>${REPORT_STYLE}</style>
</head>
<body>
<header><h1>alf incident report</h1><p class="meta">Generated ${escapeHtml(analysis.generatedAt)} by alf ${escapeHtml(analysis.alfVersion)}</p></header>
<section class="verdict"><h2>Verdict</h2><p id="verdict">${verdict}</p></section>
${renderInputs(analysis)}
<section class="charts"><h2>Charts</h2>
${figures}
</section>
<section class="findings"><h2>Findings (${analysis.findings.length})</h2>
${analysis.findings.map(renderFinding).join('\n')}
</section>
</body>
</html>
`;
}
