import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { escapeHtml } from '../../reports/escape-html.js';
import { formatFigure } from '../../reports/format.js';
import { renderHtml } from '../../reports/html.js';
import { renderJson } from '../../reports/json.js';
import { markdownText, renderMarkdown } from '../../reports/markdown.js';
import { findingsOfKind } from '../../src/detectors/detector.js';
import { unitOf } from '../../src/findings/figure-units.js';
import { emptyFileStats } from '../../src/model/file-stats.js';
import { DEFAULT_JOIN_OPTIONS } from '../../src/join/options.js';
import { parseBudget } from '../../src/model/budget.js';
import { formatByUnit } from '../../src/model/figure-format.js';
import type { FigureValue } from '../../src/model/finding.js';
import type { ApmTransaction, ProxyRecord } from '../../src/model/records.js';
import { analyze, analyzeRecords } from '../../src/pipeline/analyze.js';
import type { Analysis } from '../../src/pipeline/analysis.js';
import { healthyCombinedLog } from '../generators/healthy-traffic.js';
import { SCENARIOS } from '../generators/scenarios.js';
import { analyzeDirectory, INCIDENT_DIR } from '../reports/report-fixtures.js';

/**
 * One set of numbers: every figure is computed once, by the finding that owns it, and the verdict,
 * the cards, the charts' labels, the Markdown and the JSON show that value. Checked on the report of
 * every seeded scenario (through the real pipeline, join included), samples/incident and a healthy
 * combined log.
 */

async function scenarioAnalysis(name: string): Promise<Analysis> {
  const scenario = SCENARIOS[name]!({ seed: 77, durationSeconds: 900 });
  const proxies = scenario.requests.map((request) => request.proxy).filter((proxy): proxy is ProxyRecord => proxy !== null);
  const apm = scenario.requests.map((request) => request.apm).filter((record): record is ApmTransaction => record !== null).sort((a, b) => a.startMs - b.startMs);
  const stats = (file: string, kind: 'proxy' | 'apm', records: number) => ({ ...emptyFileStats(file), kind, format: kind === 'proxy' ? 'scenario' : 'scenario-apm', records, linesRead: records });
  async function* once<T>(records: T[]): AsyncGenerator<T[]> {
    yield records;
  }
  return analyzeRecords({
    proxyStreams: [once(proxies)], apmStreams: [once(apm)],
    files: () => [stats('scenario.log', 'proxy', proxies.length), stats('scenario-apm.json', 'apm', apm.length)],
    budget: parseBudget('600s/5m'), join: DEFAULT_JOIN_OPTIONS,
  });
}

/** The value at a JSON Pointer (RFC 6901) in a document. */
function at(document: unknown, pointer: string): unknown {
  return pointer.split('/').slice(1).map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], document);
}

interface Rendered {
  analysis: Analysis;
  json: Analysis;
  html: string;
  md: string;
}

const reports = new Map<string, Rendered>();

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'alf-numbers-'));
  const healthy = join(dir, 'access.log');
  writeFileSync(healthy, `${healthyCombinedLog({ seed: 5, lines: 20_000, startMs: Date.UTC(2024, 0, 2), rate: 10, clientDrops: 0.015, serverErrors: 0.004, notFound: 0.01 }).join('\n')}\n`);
  const analyses: [string, Analysis][] = [
    ['samples/incident', await analyzeDirectory(INCIDENT_DIR)],
    ['healthy combined', await analyze({ inputs: [healthy], apmInputs: [], budget: null, join: DEFAULT_JOIN_OPTIONS, keepGoing: false })],
  ];
  for (const name of Object.keys(SCENARIOS)) analyses.push([`scenario ${name}`, await scenarioAnalysis(name)]);
  for (const [name, analysis] of analyses) {
    reports.set(name, { analysis, json: JSON.parse(renderJson(analysis)) as Analysis, html: await renderHtml(analysis), md: renderMarkdown(analysis) });
  }
}, 300_000);

const each = (check: (report: Rendered, name: string) => void) => () => {
  expect(reports.size).toBeGreaterThanOrEqual(10);
  for (const [name, report] of reports) check(report, name);
};

describe('one set of numbers across the verdict, cards, charts, Markdown and JSON', () => {
  it('the JSON carries the verdict, and every figure a sentence cites is the finding\'s own value, shown as the reports show it', each(({ json }, name) => {
    expect(json.verdict.length, name).toBeGreaterThan(0);
    for (const sentence of json.verdict) {
      for (const cite of sentence.cites) {
        expect(at(json, cite.pointer), `${name}: ${cite.pointer}`).toEqual(cite.value);
        const match = /^\/findings\/(\d+)\/figures\/(\w+)$/.exec(cite.pointer);
        if (match === null) continue;
        const finding = json.findings[Number(match[1])]!;
        expect(sentence.text, `${name}: ${cite.pointer}`).toContain(formatByUnit(unitOf(finding.kind, match[2]!), cite.value));
      }
    }
  }));

  it('a title or explanation that states a figure states it as the reports show that figure', each(({ json }, name) => {
    /** Figures each kind's prose states, by where: 6.305 s is "6.31 s" in the figures and in the sentence. */
    const stated: Record<string, { title?: readonly string[]; explanation?: readonly string[] }> = {
      'client-timeout-knee': { title: ['timeoutSeconds'], explanation: ['breakpointSeconds', 'breakpointPlateauSeconds', 'topCohortShareOfOwnRequests', 'topCohortShareOfKnee'] },
      'timeout-walls': { title: ['wallSeconds'], explanation: ['shareOfRequests', 'routeShareAtWall'] },
      'budget-undercount': { title: ['accountedSeconds', 'trueSeconds', 'estimatedTrueSeconds'], explanation: ['undercountShare'] },
      'upstream-trouble': { title: ['errorRate'] },
      'keepalive-disabled': { title: ['newConnectionShare'] },
      'proxy-made-responses': { explanation: ['shareOfRequests'] },
      'retry-storms': { title: ['amplificationFactor'], explanation: ['retryShareAtBusiest'] },
    };
    let checked = 0;
    for (const finding of json.findings) {
      const figures = finding.figures as unknown as Record<string, FigureValue>;
      for (const place of ['title', 'explanation'] as const) {
        for (const figure of stated[finding.kind]?.[place] ?? []) {
          const value = figures[figure];
          if (value === null || value === undefined || (finding.kind === 'upstream-trouble' && figures.pattern === 'connect-spikes')) continue;
          expect(finding[place], `${name}: ${finding.kind} ${figure}`).toContain(formatFigure(finding.kind, figure, value));
          checked++;
        }
      }
    }
    if (name === 'samples/incident') expect(checked).toBeGreaterThanOrEqual(8);
  }));

  it('HTML and Markdown open with the same verdict sentences as the JSON', each(({ json, html, md }, name) => {
    const texts = json.verdict.map((sentence) => sentence.text);
    expect(html, name).toContain(`<p id="verdict">${texts.map(escapeHtml).join(' ')}</p>`);
    expect(md.split('\n')[2], name).toBe(texts.map(markdownText).join(' '));
  }));

  it('the "made by the proxy" card is the proxy-made finding\'s own count', each(({ json, html }, name) => {
    const card = /<dt>made by the proxy<\/dt><dd>([^<]*)<\/dd>/.exec(html)?.[1];
    const figures = findingsOfKind(json.findings, 'proxy-made-responses')[0]?.figures;
    expect(card, name).toBe(figures ? escapeHtml(`${formatByUnit('count', figures.madeByProxy)} (${formatByUnit('share', figures.madeByProxyShare)})`) : '–');
    for (const finding of findingsOfKind(json.findings, 'proxy-made-responses')) expect(finding.figures.madeByProxy, name).toBe(figures!.madeByProxy);
  }));

  it('every figure of every finding reads the same in HTML and Markdown as in the JSON', each(({ json, html, md }, name) => {
    json.findings.forEach((finding, index) => {
      const section = html.slice(html.indexOf(`id="finding-${index + 1}"`), html.indexOf('</section>', html.indexOf(`id="finding-${index + 1}"`)));
      const mdSection = md.slice(md.indexOf(`### ${index + 1}. [`), md.indexOf(`### ${index + 2}. [`) > 0 ? md.indexOf(`### ${index + 2}. [`) : undefined);
      for (const [figure, value] of Object.entries(finding.figures) as [string, FigureValue][]) {
        if (value === null) continue;
        const shown = formatFigure(finding.kind, figure, value);
        expect(section, `${name}: finding ${index + 1} ${figure}`).toContain(`<dd>${escapeHtml(shown)}</dd>`);
        if (typeof value !== 'string') expect(mdSection, `${name}: finding ${index + 1} ${figure}`).toContain(markdownText(shown));
      }
    });
  }));

  it('no share is above 100%, and impact is a ratio: no prose says more than 100%', each(({ json }, name) => {
    for (const finding of json.findings) {
      for (const [figure, value] of Object.entries(finding.figures) as [string, FigureValue][]) {
        if (unitOf(finding.kind, figure) === 'share' && typeof value === 'number') {
          expect(value, `${name}: ${finding.kind} ${figure}`).toBeGreaterThanOrEqual(0);
          expect(value, `${name}: ${finding.kind} ${figure}`).toBeLessThanOrEqual(1);
        }
      }
      for (const text of [finding.title, finding.explanation]) {
        for (const percent of text.match(/\d+(?:\.\d+)?(?=%)/g) ?? []) expect(Number(percent), `${name}: ${text}`).toBeLessThanOrEqual(100);
      }
    }
    for (const sentence of json.verdict) {
      for (const percent of sentence.text.match(/\d+(?:\.\d+)?(?=%)/g) ?? []) expect(Number(percent), `${name}: ${sentence.text}`).toBeLessThanOrEqual(100);
    }
  }));

  it('the upstream chart labels an upstream\'s errors with its finding\'s count', each(({ json, html }, name) => {
    for (const finding of findingsOfKind(json.findings, 'upstream-trouble')) {
      if (finding.figures.upstream === null || finding.figures.pattern === 'connect-spikes') continue;
      const label = `${finding.figures.upstream}: ${formatByUnit('count', finding.figures.requests)} requests, ${formatByUnit('count', finding.figures.errors)} errors`;
      if (html.includes('id="chart-upstream-errors"')) expect(html, `${name}: ${label}`).toContain(escapeHtml(label));
    }
  }));
});
