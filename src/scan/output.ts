import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { escapeHtml } from '../../reports/escape-html.js';
import { renderJson } from '../../reports/json.js';
import { SEVERITY_ORDER, type Severity } from '../model/finding.js';
import type { Analysis } from '../pipeline/analysis.js';
import { writeFileAtomic } from './atomic-write.js';
import type { Manifest, SourceProblem, WindowSummary } from './manifest.js';
import { DEFAULT_WINDOW_FORMATS, type WindowFormat } from '../model/window-formats.js';

/** Per-window reports under stable names, `alf-<window start>.json|.html`, and an index page. */

export function reportBase(label: string): string {
  return `alf-${label}`;
}

/** Loaded on the first HTML report only: it brings vega (~0.3 s), which a JSON-only scan never needs. */
async function htmlRenderer(): Promise<typeof import('../../reports/html.js').renderHtml> {
  return (await import('../../reports/html.js')).renderHtml;
}

/**
 * Writes the window's report in each of `formats`; a file of a format not asked for is removed, so
 * a report left by an earlier run with other --format never stands beside a newer one as current.
 */
export async function writeWindowReports(
  outDir: string, label: string, startMs: number, analysis: Analysis, formats: readonly WindowFormat[] = DEFAULT_WINDOW_FORMATS,
): Promise<WindowSummary> {
  const path = (format: WindowFormat): string => join(outDir, `${reportBase(label)}.${format}`);
  for (const format of DEFAULT_WINDOW_FORMATS) {
    if (!formats.includes(format)) await rm(path(format), { force: true });
    else await writeFileAtomic(path(format), format === 'json' ? renderJson(analysis) : await (await htmlRenderer())(analysis));
  }
  const findings: Partial<Record<Severity, number>> = {};
  for (const finding of analysis.findings) findings[finding.severity] = (findings[finding.severity] ?? 0) + 1;
  const summary: WindowSummary = { label, startMs, requests: analysis.join.proxyRecords, findings, updatedAt: analysis.generatedAt };
  if (formats.length !== DEFAULT_WINDOW_FORMATS.length) summary.formats = [...formats];
  return summary;
}

/** A static page: escaped text, no script, a CSP that forbids every outside request. */
export function renderIndex(manifest: Manifest): string {
  const windows = Object.values(manifest.windows).sort((a, b) => b.startMs - a.startMs);
  const rows = windows.map((w) => {
    const base = reportBase(w.label);
    const counts = [...SEVERITY_ORDER].reverse().filter((s) => w.findings[s]).map((s) => `${w.findings[s]} ${s}`).join(', ') || 'none';
    const incomplete = w.incomplete?.length ? ` <strong title="${escapeHtml(w.incomplete.map((d) => `${d.segment}: ${d.problem}`).join('\n'))}">incomplete</strong>` : '';
    const formats = w.formats ?? DEFAULT_WINDOW_FORMATS;
    const links = formats.map((format) => `<a href="${escapeHtml(base)}.${format}">${format === 'html' ? 'report' : format}</a>`).join(' · ');
    return `<tr><td>${escapeHtml(new Date(w.startMs).toISOString())}${incomplete}</td><td>${links}</td>` +
      `<td>${w.requests}</td><td>${escapeHtml(counts)}</td><td>${escapeHtml(w.updatedAt)}</td></tr>`;
  });
  const problems = renderProblems(manifest);
  const title = `alf scans${manifest.shard ? ` (shard ${manifest.shard})` : ''}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${escapeHtml(title)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:left}</style>
</head><body>
<h1>${escapeHtml(title)}</h1>
<p>${windows.length} ${windows.length === 1 ? 'window' : 'windows'} of ${manifest.windowMs / 60_000} min; ${manifest.lastRun > 0 ? `run ${manifest.lastRun}` : 'merged from shards'}.</p>
${problems}<table><thead><tr><th>window start (UTC)</th><th>reports</th><th>proxy requests</th><th>findings</th><th>updated</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>
</body></html>
`;
}

const PROBLEMS_SHOWN = 200;

/** What the last run could not read, or found damaged: named until a run reads or repairs it. */
function renderProblems(manifest: Manifest): string {
  const sections: [string, SourceProblem[]][] = [
    ['Sources that could not be read (tried again next run)', manifest.problems?.failed ?? []],
    ['Sources no format fits (not marked read: tried again each run, e.g. with --log-format)', manifest.problems?.unparsed ?? []],
    ['Spool and manifest damage found', manifest.problems?.integrity ?? []],
  ];
  let html = '';
  for (const [title, list] of sections) {
    if (list.length === 0) continue;
    const shown = list.slice(0, PROBLEMS_SHOWN).map((p) => `<li><code>${escapeHtml(p.source)}</code>: ${escapeHtml(p.problem)}</li>`);
    if (list.length > PROBLEMS_SHOWN) shown.push(`<li>and ${list.length - PROBLEMS_SHOWN} more (manifest.json lists them all)</li>`);
    html += `<h2>${escapeHtml(title)}: ${list.length}</h2>\n<ul>\n${shown.join('\n')}\n</ul>\n`;
  }
  return html;
}

export async function writeIndex(outDir: string, manifest: Manifest): Promise<void> {
  await writeFileAtomic(join(outDir, 'index.html'), renderIndex(manifest));
}
