import { describe, expect, it } from 'vitest';
import { renderHtml } from '../../reports/html.js';
import { renderJson } from '../../reports/json.js';
import { markdownText, renderMarkdown } from '../../reports/markdown.js';
import { render } from '../../src/cli/commands/analyze.js';
import type { Finding } from '../../src/detectors/registry.js';
import type { Analysis } from '../../src/pipeline/analysis.js';
import { analyzeDirectory, INCIDENT_DIR } from './report-fixtures.js';

/**
 * The Markdown and JSON reports carry the same findings as the HTML one, and log content cannot
 * break the Markdown: backticks cannot close a code span early, `|` cannot add a table column,
 * and brackets cannot make a link.
 */

/** Splits a GFM table row at unescaped pipes (GFM splits before parsing code spans). */
function tableCells(row: string): string[] {
  return row.trim().replace(/^\|/, '').replace(/\|$/, '').split(/(?<!\\)\|/);
}

/**
 * CommonMark code spans in a line: an opening run of n backticks closes at the next run of exactly n.
 * Returns each span's content with one padding space stripped from both ends, as CommonMark does.
 */
function codeSpans(line: string): string[] {
  return splitCode(line).spans;
}

/** The line's prose (code spans removed) and its code spans' contents. */
function splitCode(line: string): { prose: string; spans: string[] } {
  const spans: string[] = [];
  let prose = '';
  let i = 0;
  while (i < line.length) {
    const open = /`+/g;
    open.lastIndex = i;
    const start = open.exec(line);
    if (!start) break;
    const fence = start[0];
    const close = new RegExp(`(?<!\`)${fence}(?!\`)`, 'g');
    close.lastIndex = start.index + fence.length;
    const end = close.exec(line);
    if (!end) break;
    let content = line.slice(start.index + fence.length, end.index);
    if (content.startsWith(' ') && content.endsWith(' ') && content.trim() !== '') content = content.slice(1, -1);
    spans.push(content);
    prose += line.slice(i, start.index);
    i = end.index + fence.length;
  }
  return { prose: prose + line.slice(i), spans };
}

const HOSTILE_EVIDENCE = 'GET /a`b``c|d|e ```x` | `` | <script>alert(1)</script> [x](javascript:alert(1))';
const HOSTILE_KEY = 'key|with`ticks`|and [link](javascript:alert(2)) *bold* <b>';

function hostileAnalysis(base: Analysis): Analysis {
  const finding: Finding = {
    kind: 'budget-per-key',
    severity: 'high',
    title: `API key ${HOSTILE_KEY}: odd`,
    explanation: `Line breaks\nand # headings\n| a | table |`,
    nextStep: 'Check `this` and [that](http://example.invalid).',
    figures: { keys: 2, budget: '``|``', allowanceSeconds: null, windowSeconds: 300, overflowedKeys: 0 },
    table: {
      columns: ['apiKey', 'requests', 'joined', 'aborted', 'accountedSeconds', 'trueSeconds', 'undercountShare',
        'windowsOverBudget', 'windowsMissedByProxy', 'requestsThatShouldHaveBeenThrottled', 'impactFactor', 'trueTime'],
      rows: [[HOSTILE_KEY, 10, 0, 0, 1, 12.345, 0.5, null, null, null, null, 'known'], ['a|b', 2, 0, 0, 1, null, null, null, null, null, null, 'unknown']],
    },
    series: { windows: [] },
    evidence: [{ file: 'logs/a`|b.log', line: 7, text: HOSTILE_EVIDENCE, note: 'note with | and `' }],
  };
  return { ...base, findings: [finding, ...base.findings] };
}

describe('Markdown and JSON reports', () => {
  it('carry the same findings, in the same order, as the analysis the HTML is built from', async () => {
    const analysis = await analyzeDirectory(INCIDENT_DIR);
    expect(analysis.findings.length).toBeGreaterThan(3);
    const json = JSON.parse(await render(analysis, 'json')) as Analysis;
    expect(json.findings).toEqual(JSON.parse(JSON.stringify(analysis.findings)));
    expect(json.charts.upstreams.rows.length).toBeGreaterThan(0);
    const md = await render(analysis, 'md');
    const headings = md.split('\n').filter((line) => line.startsWith('### '));
    expect(headings).toEqual(json.findings.map((f, i) => `### ${i + 1}. [${f.severity}] ${markdownText(f.title)}`));
    // Every evidence line of every finding is quoted verbatim in a code span.
    const spans = md.split('\n').flatMap(codeSpans);
    for (const finding of json.findings) {
      for (const evidence of finding.evidence) expect(spans).toContain(evidence.text.slice(0, 400));
    }
  }, 60_000);

  it('keeps backticks and pipes from log content inside their code spans and table cells', async () => {
    const analysis = hostileAnalysis(await analyzeDirectory(INCIDENT_DIR));
    const md = renderMarkdown(analysis);
    const lines = md.split('\n');
    // The evidence line comes back exactly from its code span.
    expect(lines.flatMap(codeSpans)).toContain(HOSTILE_EVIDENCE);
    expect(lines.flatMap(codeSpans)).toContain('logs/a`|b.log:7');
    // Every table row has as many cells as its header.
    let columns = 0;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (!line.startsWith('|')) { columns = 0; continue; }
      if (columns === 0) { columns = tableCells(line).length; continue; }
      expect(tableCells(line).length, line).toBe(columns);
    }
    // The hostile key in the findings table: one cell, whose code span is the key with pipes escaped.
    const row = lines.find((line) => line.startsWith('|') && line.includes('key\\|with'));
    expect(row).toBeDefined();
    const cell = tableCells(row!)[0]!.trim().replace(/\\\|/g, '|');
    expect(codeSpans(cell)).toEqual([HOSTILE_KEY]);
    // Prose: no live link, emphasis, raw HTML or heading made of log content.
    const prose = lines.map((line) => splitCode(line).prose).join('\n');
    expect(prose).toContain('\\[link\\]');
    expect(prose).not.toMatch(/(?<!\\)\[link\]\(/);
    expect(prose).not.toMatch(/(?<!\\)<b>/);
    expect(prose).not.toMatch(/(?<!\\)\*bold\*/);
    expect(lines.filter((line) => line.startsWith('# '))).toEqual(['# alf incident report']);
    expect(lines.some((line) => line.startsWith('| a | table'))).toBe(false);
  }, 60_000);

  it('leaves raw log text raw in JSON (escaped by JSON itself)', async () => {
    const analysis = hostileAnalysis(await analyzeDirectory(INCIDENT_DIR));
    const json = JSON.parse(renderJson(analysis)) as Analysis;
    expect(json.findings[0]!.evidence[0]!.text).toBe(HOSTILE_EVIDENCE);
  }, 60_000);
});

describe('the HTML report\'s time range card', () => {
  it('gives the end\'s date when the logs span more than one day, and leaves it out within one', async () => {
    const analysis = await analyzeDirectory(INCIDENT_DIR);
    expect(await renderHtml(analysis)).toContain('2017-03-14 09:00:00 UTC – 09:59:59 UTC');
    const weeks = { ...analysis, inputs: { ...analysis.inputs, timeRange: { from: '2024-07-31T17:37:47.000Z', to: '2024-12-03T15:03:15.000Z' } } };
    expect(await renderHtml(weeks)).toContain('2024-07-31 17:37:47 UTC – 2024-12-03 15:03:15 UTC');
  });
});
