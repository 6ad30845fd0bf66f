import { fileProblem, formatLabel } from '../src/model/file-stats.js';
import { findingsOfKind } from '../src/detectors/detector.js';
import { detectorOf, type Finding } from '../src/detectors/registry.js';
import { severityRank, type FigureValue } from '../src/model/finding.js';
import type { Analysis } from '../src/pipeline/analysis.js';
import { escapeHtml } from './escape-html.js';
import { countBySeverity, figureEntries, figureLabel, formatCell, formatFigure, formatInstant, formatNumber, formatSeverityCounts, formatShare, plural } from './format.js';
import { compileToVega, renderSvg } from './render-svg.js';
import { REPORT_CHARTS } from './charts/registry.js';
import type { Chart } from './charts/report-chart.js';
import { describeLimits } from './limits-note.js';
import { buildVerdict } from './verdict.js';
import { REPORT_STYLE } from './html-style.js';
import { BREAKDOWN_COLUMNS, BREAKDOWN_TITLES, breakdownCells } from './page/breakdown-table.js';
import { breakdown, cubeTotals, NO_FILTER, statusChoices, type BreakdownDimension } from './page/cube-view.js';
import { encodeRows, type PageChart, type PageData } from './page/page-data.js';
import { cspHash, pageScript } from './page-script.js';

/**
 * The HTML incident report: one file, no network. Charts are vega-lite specs rendered to inline
 * SVG at build time, so the page reads whole without any script (and in print). One inline
 * script, allowed by its SHA-256 in the Content-Security-Policy (no 'unsafe-inline', nothing
 * else may run or be fetched), makes it interactive: sortable tables, findings that open to
 * their evidence, filters by time range, route, key and status that redraw the charts (vega
 * with its CSP-safe interpreter) and the breakdown tables from the traffic cube, and charts
 * drawn at the width of the screen. Log content reaches the page only as escaped text or as
 * JSON inside a data block whose `<` are escaped, which the script turns into text nodes.
 *
 * Reading order, for an on-call engineer with a minute: verdict, numbers at a glance, the
 * ranked findings table (each row links to its details), the charts with a caption saying what
 * to look for, traffic by route, key and status, then inputs and join quality, and each finding
 * in full. Long parts (evidence, tables) fold into <details>.
 */

/** The charts this analysis has data for, in report order (reports/charts/registry.ts). */
export function reportCharts(analysis: Analysis): Chart[] {
  return REPORT_CHARTS.flatMap((chart) => {
    const drawn = chart.draw(analysis);
    return drawn === null ? [] : [{ id: chart.id, ...drawn }];
  });
}

function figure(finding: Finding, name: string, value: FigureValue): string {
  return escapeHtml(formatFigure(finding.kind, name, value));
}

/** A finding's table cell in its column's unit: numbers right-aligned and sorted by value, not by their text. */
function tableCell(finding: Finding, column: string, value: FigureValue): string {
  const text = escapeHtml(formatCell(finding.kind, column, value));
  return typeof value === 'number' ? `<td class="num" data-sort="${value}">${text}</td>` : `<td>${text}</td>`;
}

/** Wide tables scroll sideways on a narrow screen instead of squeezing their columns to a letter each. */
function scrolling(table: string): string {
  return `<div class="table-scroll">${table}</div>`;
}

/** The few figures that say how big a finding is, for the summary table. */
function keyFigures(finding: Finding): string {
  return figureEntries(finding)
    .filter(([, v]) => v !== null && typeof v !== 'boolean')
    .slice(0, 3)
    .map(([k, v]) => `${escapeHtml(figureLabel(k))} <strong>${figure(finding, k, v)}</strong>`)
    .join(' · ');
}

function renderSummaryTable(findings: readonly Finding[]): string {
  if (findings.length === 0) return '<p>No findings.</p>';
  const rows = findings.map((f, index) =>
    `<tr class="severity-${f.severity}" data-finding="finding-${index + 1}"><td class="num" data-sort="${index + 1}">${index + 1}</td>` +
    `<td data-sort="${severityRank(f.severity)}"><span class="badge badge-${f.severity}">${f.severity}</span></td>` +
    `<td><a href="#finding-${index + 1}">${escapeHtml(f.title)}</a></td><td class="key-figures">${keyFigures(f)}</td></tr>`).join('\n');
  return scrolling(`<table class="data summary"><thead><tr><th>#</th><th>severity</th><th>finding</th><th>how big</th></tr></thead><tbody>\n${rows}\n</tbody></table>`);
}

function renderFinding(finding: Finding, index: number, chartIds: ReadonlySet<string>): string {
  const figures = figureEntries(finding).filter(([, v]) => v !== null);
  const table = 'table' in finding ? finding.table : undefined;
  const columns: readonly string[] = table?.columns ?? [];
  const tableRows: readonly (readonly FigureValue[])[] = table?.rows ?? [];
  const tableHtml = tableRows.length > 0
    ? `<details class="table"${tableRows.length <= 10 ? ' open' : ''}><summary>Table (${formatNumber(tableRows.length)} rows${tableRows.length > 25 ? ', first 25 shown' : ''})</summary>` +
      scrolling(`<table class="data"><thead><tr>${columns.map((c) => `<th>${escapeHtml(figureLabel(c))}</th>`).join('')}</tr></thead><tbody>` +
      tableRows.slice(0, 25).map((row) => `<tr>${row.map((cell, i) => tableCell(finding, columns[i] ?? '', cell)).join('')}</tr>`).join('') +
      '</tbody></table>') + '</details>'
    : '';
  // High findings show their evidence open: it is what the reader will paste into the ticket.
  const open = finding.severity === 'high' || finding.severity === 'critical' ? ' open' : '';
  const evidence = finding.evidence.length > 0
    ? `<details class="evidence"${open}><summary>Evidence (${plural(finding.evidence.length, 'log line')})</summary><ul class="evidence">${finding.evidence.map((e) =>
        `<li><span class="where">${escapeHtml(e.file)}:${e.line}</span>${e.note ? ` <span class="note">${escapeHtml(e.note)}</span>` : ''}<pre>${escapeHtml(e.text.slice(0, 2000))}</pre></li>`).join('')}</ul></details>`
    : '';
  const chart = detectorOf(finding.kind)?.chart;
  const chartLink = chart && chartIds.has(chart) ? ` <a class="see-chart" href="#chart-${chart}">see chart</a>` : '';
  return `<section class="finding severity-${finding.severity}" id="finding-${index + 1}" data-kind="${escapeHtml(finding.kind)}">
<h3><span class="badge badge-${finding.severity}">${finding.severity}</span> ${index + 1}. ${escapeHtml(finding.title)}${chartLink}</h3>
<p>${escapeHtml(finding.explanation)}</p>
${finding.nextStep ? `<p class="next"><strong>Next step:</strong> ${escapeHtml(finding.nextStep)}</p>` : ''}
${figures.length > 0 ? `<dl class="figures">${figures.map(([k, v]) => `<div><dt>${escapeHtml(figureLabel(k))}</dt><dd>${figure(finding, k, v)}</dd></div>`).join('')}</dl>` : ''}
${tableHtml}
${evidence}
</section>`;
}

function renderGlance(analysis: Analysis): string {
  const { totals, timeRange } = analysis.inputs;
  // The proxy-made figure is the detector's own (every class but static answers), so card and verdict agree.
  const proxyMade = findingsOfKind(analysis.findings, 'proxy-made-responses')[0]?.figures;
  // With a slice, the cards count what it kept, of what was read: the figures below are about those.
  const slice = analysis.slice;
  const kept = (count: number, of: number): string => (slice ? `${formatNumber(count)} of ${formatNumber(of)}` : formatNumber(of));
  const tiles: [string, string][] = [
    ['proxy requests', kept(slice?.proxyKept ?? 0, totals.proxyRecords)],
    ['APM transactions', analysis.settings.hasApm ? kept(slice?.apmKept ?? 0, totals.apmRecords) : 'none'],
    ['joined to APM', analysis.settings.hasApm ? formatShare(analysis.join.joinedShare) : '–'],
    ['made by the proxy', proxyMade ? `${formatNumber(proxyMade.madeByProxy)} (${formatShare(proxyMade.madeByProxyShare)})` : '–'],
    ['findings', formatSeverityCounts(countBySeverity(analysis.findings))],
  ];
  if (timeRange) {
    // The end's date is left out only when it is the start's: a log of weeks read as one day.
    const from = formatInstant(timeRange.from);
    const to = formatInstant(timeRange.to);
    tiles.push(['time range', `${from} – ${to.slice(0, 10) === from.slice(0, 10) ? to.slice(11) : to}`]);
  }
  return `<dl class="glance">${tiles.map(([label, text]) => `<div><dt>${escapeHtml(label)}</dt><dd>${escapeHtml(text)}</dd></div>`).join('')}</dl>`;
}

/** Joined pairs per confidence decile as a tiny bar chart in plain HTML: most pairs should sit in the last bar. */
function renderDeciles(deciles: readonly number[]): string {
  const max = Math.max(1, ...deciles);
  const total = deciles.reduce((sum, n) => sum + n, 0);
  // An SVG, not styled spans: the page's CSP allows its one stylesheet by hash and no style attribute.
  const bars = deciles.map((n, i) => {
    const label = `confidence ${(i / 10).toFixed(1)}–${((i + 1) / 10).toFixed(1)}: ${formatNumber(n)} pairs`;
    const height = Math.max(n > 0 ? 1 : 0, Math.round((n / max) * 56));
    return `<g><title>${escapeHtml(label)}</title><rect class="bar" x="${i * 40 + 2}" y="${60 - height}" width="36" height="${height}"/>` +
      `<text x="${i * 40 + 20}" y="${Math.min(56, 60 - height) - 3}" text-anchor="middle">${formatNumber(n)}</text></g>`;
  }).join('');
  return `<div class="deciles-wrap"><svg class="deciles" viewBox="0 -12 400 74" role="img" aria-label="Joined pairs by confidence decile, 0 to 1">${bars}<line x1="0" y1="60.5" x2="400" y2="60.5"/></svg>` +
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
    const count = (n: number): string => `<td class="num" data-sort="${n}">${formatNumber(n)}</td>`;
    return `<tr><td class="where">${escapeHtml(f.file)}</td><td>${escapeHtml(formatLabel(f) ?? 'unknown')}</td>${count(f.linesRead)}${count(f.records)}` +
      `${count(f.skipped)}${count(f.ignored)}<td>${problem ? escapeHtml(problem) : ''}${examples}</td></tr>`;
  }).join('\n');
  const join = analysis.join;
  const joinText = analysis.settings.hasApm
    ? `<p class="join"><strong>${formatShare(join.joinedShare)}</strong> of ${formatNumber(join.proxyRecords)} proxy records joined to APM transactions ` +
      `(${formatNumber(join.joinedById)} by id, ${formatNumber(join.joinedHeuristic)} by time and URL; ${formatNumber(join.lowConfidence)} refused for low confidence); ` +
      `clock offset <strong>${join.offsetMs === null ? '–' : `${formatNumber(join.offsetMs)} ms`}</strong> (APM minus proxy, from ${formatNumber(join.offsetSupportingPairs)} pairs` +
      `${join.offsetSpreadMs !== null ? `, spread ${formatNumber(join.offsetSpreadMs)} ms` : ''}); ` +
      `${formatNumber(join.unjoinedProxy)} proxy records and ${formatNumber(join.unjoinedApm)} APM transactions without a partner.</p>` +
      renderDeciles(join.confidenceDeciles)
    : '<p class="join">No APM input: findings rest on the proxy log alone, and backend times are what the proxy saw.</p>';
  return `<section class="inputs" id="inputs"><h2>Inputs and join quality</h2>
<p>${plural(analysis.inputs.files.length, 'file')}: ${formatNumber(totals.linesRead)} lines read, ${formatNumber(totals.records)} parsed, ` +
    `${formatNumber(totals.skipped)} skipped, ${formatNumber(totals.ignored)} ignored` +
    `${timeRange ? `; ${escapeHtml(formatInstant(timeRange.from))} to ${escapeHtml(formatInstant(timeRange.to))}` : ''}.</p>
${scrolling(`<table class="data inputs"><thead><tr><th>file</th><th>format</th><th>read</th><th>parsed</th><th>skipped</th><th>ignored</th><th>problem</th></tr></thead><tbody>
${rows}
</tbody></table>`)}
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

/** The compiled vega spec for the page, with the datasets the page fills itself emptied (their rows travel once, in the page data). */
function pageChart(chart: Chart, svg: string): PageChart {
  const spec = compileToVega(chart.spec) as { width?: number; signals?: { name: string; value?: unknown }[]; data?: { name: string; values?: unknown[] }[] };
  const filled = chart.live.source === 'rows' ? chart.live.datasets : ['main'];
  const rows: PageChart['rows'] = {};
  for (const dataset of spec.data ?? []) {
    if (!filled.includes(dataset.name) || dataset.values === undefined) continue;
    if (chart.live.source === 'rows') rows[dataset.name] = encodeRows(dataset.values as Record<string, unknown>[]);
    dataset.values = [];
  }
  const widthSignals = (spec.signals ?? []).filter((signal) => /(?:^|_)width$/.test(signal.name) && typeof signal.value === 'number').map((signal) => signal.name);
  const plotWidth = typeof spec.width === 'number' ? spec.width : Number((spec.signals ?? []).find((signal) => widthSignals.includes(signal.name))?.value ?? 560);
  const drawnWidth = Number(/<svg[^>]*\swidth="([\d.]+)"/.exec(svg)?.[1] ?? plotWidth);
  return {
    id: chart.id, spec, source: chart.live.source, rows,
    rowFields: chart.live.source === 'rows' ? chart.live.fields : undefined,
    widthSignals, topLevelWidth: typeof spec.width === 'number',
    extraWidth: Math.max(0, drawnWidth - plotWidth), maxWidth: 1000,
  };
}

/** JSON inside a <script type="application/json">: no `<` survives, so no log text can close the block or open a tag. */
function jsonBlock(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** The filter bar: hidden until the script shows it (without script, nothing on the page pretends to filter). */
function renderFilters(): string {
  return `<form class="filters" id="filters" hidden aria-label="Filter the charts and the traffic tables">
<fieldset class="time"><legend>Time range (UTC)</legend>
<label>from <span id="from-label"></span><input type="range" name="from" min="0" step="1" aria-label="from"></label>
<label>to <span id="to-label"></span><input type="range" name="to" min="0" step="1" aria-label="to"></label></fieldset>
<label>route <select name="route"><option value="">any</option></select></label>
<label>API key <select name="key"><option value="">any</option></select></label>
<label>status <select name="status"><option value="">any</option></select></label>
<button type="reset">show all</button>
<output id="filter-summary" aria-live="polite"></output>
</form>`;
}

/** Traffic by route, key and status from the cube: the tables the page's filters recompute. */
function renderBreakdowns(analysis: Analysis): string {
  const cube = analysis.charts.cube;
  if (cube.cells.length === 0) return '';
  const total = cubeTotals(cube, NO_FILTER).requests;
  const tables = (['route', 'key', 'status'] as BreakdownDimension[]).map((dimension) => {
    const rows = breakdown(cube, NO_FILTER, dimension).map((row) =>
      `<tr>${breakdownCells(row, total).map((cell) => `<td${cell.numeric ? ' class="num"' : ''} data-sort="${escapeHtml(String(cell.sort))}">${escapeHtml(cell.text)}</td>`).join('')}</tr>`).join('');
    return `<div class="breakdown-wrap"><h3>By ${escapeHtml(BREAKDOWN_TITLES[dimension])}</h3>${scrolling(`<table class="data breakdown" data-dimension="${dimension}"><thead><tr>` +
      `<th>${escapeHtml(BREAKDOWN_TITLES[dimension])}</th>${BREAKDOWN_COLUMNS.map((column) => `<th>${escapeHtml(column)}</th>`).join('')}</tr></thead><tbody>${rows}</tbody></table>`)}</div>`;
  }).join('\n');
  const named = cube.routes.includes('(other)') || cube.keys.includes('(other)') ? ` Beyond the ${cube.routes.length - 1} busiest routes or keys, the rest are summed as "(other)".` : '';
  return `<section class="traffic" id="traffic"><h2>Traffic by route, key and status</h2>
<p class="note">Client times are the upper bound of the histogram bin the median or 95th percentile falls in.${escapeHtml(named)}</p>
<div class="breakdowns">${tables}</div></section>`;
}

/**
 * The spec without its tooltips, for the static SVG: a drawn SVG shows no tooltip, and vega would
 * still evaluate one per item (4,000 scatter points each format seven fields).
 */
function withoutTooltips<T>(spec: T): T {
  return JSON.parse(JSON.stringify(spec), (key, value: unknown) => (key === 'tooltip' ? undefined : value)) as T;
}

export async function renderHtml(analysis: Analysis): Promise<string> {
  const chartList = reportCharts(analysis);
  const rendered = await Promise.all(chartList.map(async (chart) => ({ chart, svg: await renderSvg(withoutTooltips(chart.spec)) })));
  const figures = rendered.map(({ chart, svg }) =>
    `<figure class="chart" id="chart-${chart.id}"><h3>${escapeHtml(chart.title)}</h3><figcaption>${escapeHtml(chart.caption)}</figcaption>` +
    `<p class="filter-note note"></p><div class="chart-static">${svg}</div><div class="chart-live"></div></figure>`).join('\n');
  const chartIds = new Set(chartList.map((c) => c.id));
  const verdict = buildVerdict(analysis).map(escapeHtml).join(' ');
  const range = analysis.inputs.timeRange;
  const page: PageData = {
    cube: analysis.charts.cube,
    statusChoices: statusChoices(analysis.charts.cube),
    charts: rendered.map(({ chart, svg }) => pageChart(chart, svg)),
  };
  const script = await pageScript();
  const csp = `default-src 'none'; script-src '${cspHash(script)}'; style-src '${cspHash(REPORT_STYLE)}'; img-src data:; base-uri 'none'; form-action 'none'`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="alf ${escapeHtml(analysis.alfVersion)}">
<title>alf incident report${range ? ` ${escapeHtml(formatInstant(range.from))}` : ''}</title>
<style>${REPORT_STYLE}</style>
</head>
<body>
<header><h1>alf incident report</h1><p class="meta">Generated ${escapeHtml(formatInstant(analysis.generatedAt))} by alf ${escapeHtml(analysis.alfVersion)} · ` +
    `<a href="#findings">findings</a> · <a href="#charts">charts</a> · <a href="#traffic">traffic</a> · <a href="#inputs">inputs</a> · <a href="#details">details</a></p></header>
${renderSlice(analysis)}<main>
<section class="verdict"><h2>Verdict</h2><p id="verdict">${verdict}</p>
${renderGlance(analysis)}</section>
<section class="findings-summary" id="findings"><h2>Findings, most severe first</h2>
${renderSummaryTable(analysis.findings)}
</section>
${renderFilters()}
<section class="charts" id="charts"><h2>Charts</h2>
<div class="chart-grid">
${figures || '<p>No chart: nothing to draw from these inputs.</p>'}
</div>
</section>
${renderBreakdowns(analysis)}
${renderInputs(analysis)}
<section class="findings" id="details"><h2>Findings in detail (${analysis.findings.length})</h2>
${analysis.findings.map((f, i) => renderFinding(f, i, chartIds)).join('\n')}
</section>
</main>
<footer class="note">Self-contained: no outside request; its one script is allowed by its hash and reads only this page. JSON and Markdown versions carry the same findings: <code>alf analyze … --format json|md</code>.</footer>
<script type="application/json" id="alf-data">${jsonBlock(page)}</script>
<script>${script}</script>
</body>
</html>
`;
}
