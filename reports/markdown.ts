import type { FigureValue, Finding } from '../src/model/finding.js';
import type { Analysis } from '../src/pipeline/analysis.js';
import { joinedShare } from '../src/join/join-stats.js';
import { buildVerdict } from './verdict.js';

/**
 * Markdown for tickets and chat. Log content goes in code spans or fenced blocks with a fence
 * longer than any backtick run inside, so a log line cannot close the block and inject markup.
 */

function inlineCode(text: string): string {
  const clean = stripControl(text).replace(/\n/g, ' ');
  const longest = Math.max(0, ...(clean.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  return `${fence} ${clean} ${fence}`;
}

function stripControl(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '\uFFFD');
}

function cell(value: FigureValue): string {
  if (value === null) return '–';
  const text = typeof value === 'string' ? value : String(value);
  return inlineCode(text).replace(/\|/g, '\\|');
}

function renderFinding(finding: Finding, index: number): string {
  const lines = [`### ${index + 1}. [${finding.severity}] ${stripControl(finding.title)}`, '', stripControl(finding.explanation), ''];
  if (finding.nextStep) lines.push(`**Next step:** ${stripControl(finding.nextStep)}`, '');
  const figures = Object.entries(finding.figures).filter(([, value]) => value !== null);
  if (figures.length > 0) lines.push(figures.map(([name, value]) => `- ${name}: ${cell(value)}`).join('\n'), '');
  if (finding.table && finding.table.rows.length > 0) {
    lines.push(`| ${finding.table.columns.join(' | ')} |`, `| ${finding.table.columns.map(() => '---').join(' | ')} |`);
    for (const row of finding.table.rows.slice(0, 20)) lines.push(`| ${row.map(cell).join(' | ')} |`);
    lines.push('');
  }
  if (finding.evidence.length > 0) {
    lines.push('Evidence:', '');
    for (const evidence of finding.evidence) {
      lines.push(`- ${inlineCode(`${evidence.file}:${evidence.line}`)}${evidence.note ? ` (${stripControl(evidence.note)})` : ''}`);
      lines.push(`  ${inlineCode(evidence.text.slice(0, 400))}`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

export function renderMarkdown(analysis: Analysis): string {
  const { totals } = analysis.inputs;
  const join = analysis.join;
  const out = [
    '# alf incident report',
    '',
    buildVerdict(analysis).map(stripControl).join(' '),
    '',
    `**Inputs:** ${analysis.inputs.files.length} files, ${totals.linesRead} lines read, ${totals.records} parsed, ${totals.skipped} skipped, ${totals.ignored} ignored.`,
    analysis.settings.hasApm
      ? `**Join:** ${(joinedShare(join) * 100).toFixed(1)}% of ${join.proxyRecords} proxy records joined (${join.joinedById} by id, ${join.joinedHeuristic} by time and URL), clock offset ${join.offsetMs ?? '–'} ms, ${join.unjoinedApm} APM transactions unjoined.`
      : '**Join:** no APM input; findings rest on the proxy log alone.',
    '',
    '| file | format | read | parsed | skipped | ignored | problem |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...analysis.inputs.files.map((f) =>
      `| ${cell(f.file)} | ${cell(f.format)} | ${f.linesRead} | ${f.records} | ${f.skipped} | ${f.ignored} | ${cell(f.error ?? f.undetected)} |`),
    '',
    `## Findings (${analysis.findings.length})`,
    '',
    ...analysis.findings.map(renderFinding),
  ];
  return `${out.join('\n')}\n`;
}
