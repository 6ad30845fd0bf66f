import type { Finding } from '../src/detectors/registry.js';
import type { FigureValue } from '../src/model/finding.js';
import { fileProblem, formatLabel } from '../src/model/file-stats.js';
import type { Analysis } from '../src/pipeline/analysis.js';
import { figureEntries, figureLabel, formatCell, formatFigure, formatInstant, formatNumber, formatShare, plural } from './format.js';
import { buildVerdict } from './verdict.js';
import { describeLimits } from './limits-note.js';
import { replaceControlCharacters } from './control-characters.js';

/**
 * Markdown for tickets and chat. Log content goes in code spans or fenced blocks with a fence
 * longer than any backtick run inside, so a log line cannot close the block and inject markup.
 * Prose that carries log content (titles naming a key or user agent) has its inline markup
 * characters backslash-escaped, and every table cell escapes `|`, so neither can break a table.
 */


function inlineCode(text: string): string {
  const clean = replaceControlCharacters(text).replace(/[\r\n\t]+/g, ' ');
  const longest = Math.max(0, ...(clean.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  return `${fence} ${clean} ${fence}`;
}

/**
 * Text that may hold log content, as inline Markdown: one line, with the characters that open
 * inline constructs (emphasis, code, links, images, raw HTML, entities, tables) escaped.
 */
export function markdownText(text: string): string {
  return replaceControlCharacters(text).replace(/[\r\n\t]+/g, ' ').replace(/[\\`*_[\]<>|~&!]/g, (ch) => `\\${ch}`);
}

/** A value formatted in its unit: text (which may be log content) in a code span, our numbers as plain text. */
function cell(value: FigureValue, formatted: string): string {
  if (value === null) return '–';
  const text = typeof value === 'string' && formatted === value ? inlineCode(value) : markdownText(formatted);
  return text.replace(/\|/g, '\\|');
}

/** A cell that holds our own text (a file name, a format id): a code span. */
function textCell(value: string | null): string {
  return cell(value, value ?? '');
}

function renderFinding(finding: Finding, index: number): string {
  const lines = [`### ${index + 1}. [${finding.severity}] ${markdownText(finding.title)}`, '', markdownText(finding.explanation), ''];
  if (finding.nextStep) lines.push(`**Next step:** ${markdownText(finding.nextStep)}`, '');
  const figures = figureEntries(finding).filter(([, value]) => value !== null);
  if (figures.length > 0) {
    lines.push(figures.map(([name, value]) => `- ${markdownText(figureLabel(name))}: ${cell(value, formatFigure(finding.kind, name, value))}`).join('\n'), '');
  }
  const table = 'table' in finding ? finding.table : undefined;
  const columns: readonly string[] = table?.columns ?? [];
  const rows: readonly (readonly FigureValue[])[] = table?.rows ?? [];
  if (rows.length > 0) {
    lines.push(`| ${columns.map((c) => markdownText(figureLabel(c))).join(' | ')} |`, `| ${columns.map(() => '---').join(' | ')} |`);
    for (const row of rows.slice(0, 20)) lines.push(`| ${row.map((value, i) => cell(value, formatCell(finding.kind, columns[i] ?? '', value))).join(' | ')} |`);
    if (rows.length > 20) lines.push('', `(${formatNumber(rows.length - 20)} more rows in the JSON report)`);
    lines.push('');
  }
  if (finding.evidence.length > 0) {
    lines.push('Evidence:', '');
    for (const evidence of finding.evidence) {
      lines.push(`- ${inlineCode(`${evidence.file}:${evidence.line}`)}${evidence.note ? ` (${markdownText(evidence.note)})` : ''}`);
      lines.push(`  ${inlineCode(evidence.text.slice(0, 400))}`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

function summaryTable(findings: readonly Finding[]): string[] {
  if (findings.length === 0) return ['No findings.'];
  return [
    '| # | severity | finding |',
    '| --- | --- | --- |',
    ...findings.map((f, i) => `| ${i + 1} | ${f.severity} | ${markdownText(f.title).replace(/\|/g, '\\|')} |`),
  ];
}

export function renderMarkdown(analysis: Analysis): string {
  const limits = describeLimits(analysis.limits);
  const { totals, timeRange } = analysis.inputs;
  const join = analysis.join;
  const out = [
    '# alf incident report',
    '',
    buildVerdict(analysis).map(markdownText).join(' '),
    '',
    `## Findings (${analysis.findings.length})`,
    '',
    ...summaryTable(analysis.findings),
    '',
    '## Inputs',
    '',
    `${plural(analysis.inputs.files.length, 'file')}, ${plural(totals.linesRead, 'line')} read, ${formatNumber(totals.records)} parsed, ` +
      `${formatNumber(totals.skipped)} skipped, ${formatNumber(totals.ignored)} ignored` +
      `${timeRange ? `; ${formatInstant(timeRange.from)} to ${formatInstant(timeRange.to)}` : ''}.`,
    '',
    analysis.settings.hasApm
      ? `**Join:** ${formatShare(join.joinedShare)} of ${formatNumber(join.proxyRecords)} proxy records joined (${formatNumber(join.joinedById)} by id, ` +
        `${formatNumber(join.joinedHeuristic)} by time and URL, ${formatNumber(join.lowConfidence)} refused for low confidence), ` +
        `clock offset ${join.offsetMs === null ? '–' : `${formatNumber(join.offsetMs)} ms`}, ${formatNumber(join.unjoinedApm)} APM transactions unjoined; ` +
        `pairs by confidence decile (0–0.1 … 0.9–1): ${join.confidenceDeciles.map(formatNumber).join(' / ')}.`
      : '**Join:** no APM input; findings rest on the proxy log alone.',
    '',
    ...(limits === null ? [] : [limits, '']),
    '| file | format | read | parsed | skipped | ignored | problem |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...analysis.inputs.files.map((f) =>
      `| ${textCell(f.file)} | ${textCell(formatLabel(f))} | ${formatNumber(f.linesRead)} | ${formatNumber(f.records)} | ${formatNumber(f.skipped)} | ` +
      `${formatNumber(f.ignored)} | ${textCell(fileProblem(f))} |`),
    '',
    '## Findings in detail',
    '',
    ...analysis.findings.map(renderFinding),
  ];
  return `${out.join('\n')}\n`;
}
