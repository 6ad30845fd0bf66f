/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The functions passed to page.evaluate run in the browser: they need the DOM types.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtml } from '../../reports/html.js';
import type { Analysis } from '../../src/pipeline/analysis.js';
import { CHROMIUM_PATH, HAS_CHROMIUM, launchChromium } from './chromium.js';
import { analyzeDirectory, INCIDENT_DIR } from './report-fixtures.js';

/**
 * The report as people use it in Chromium: the filters redraw the charts and the traffic tables
 * (checked against counts taken from the log itself), tables sort, every chart mark has a
 * tooltip, a finding's row opens its evidence, and the page reads at 420 px and uses 1400 px.
 */

if (!HAS_CHROMIUM) console.warn(`SKIPPED: interactive report tests need ${CHROMIUM_PATH}`);

/** The bundled incident's access log, read independently of alf: [end ms, status, key]. */
const LOG = readFileSync(join(INCIDENT_DIR, 'access.log'), 'utf8').trim().split('\n').map((line) => {
  const fields = line.split('|');
  return { endMs: Math.round(Number(fields[0]) * 1000), status: Number(fields[1]), key: fields[12]! };
});

describe.skipIf(!HAS_CHROMIUM)('the interactive report in Chromium', { timeout: 90_000 }, () => {
  let browser: Browser;
  let analysis: Analysis;
  let file: string;
  let html: string;

  beforeAll(async () => {
    browser = await launchChromium();
    analysis = await analyzeDirectory(INCIDENT_DIR);
    html = await renderHtml(analysis);
    file = join(mkdtempSync(join(tmpdir(), 'alf-interactive-')), 'report.html');
    writeFileSync(file, html);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  async function open(width: number): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    const errors: string[] = [];
    page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
    page.on('pageerror', (error) => errors.push(String(error)));
    await page.goto(pathToFileURL(file).href);
    await page.waitForFunction(() => document.body.dataset.ready !== undefined);
    return { page, errors };
  }

  /** Total requests in the breakdown-by-status table as shown. */
  const shownRequests = (page: Page): Promise<number> => page.evaluate(() =>
    [...document.querySelectorAll('table.breakdown[data-dimension="status"] tbody tr')]
      .reduce((sum, row) => sum + Number((row as HTMLTableRowElement).cells[1]!.dataset.sort), 0));

  it('runs its one script under a CSP that allows exactly that script, by hash, and no inline style attribute', async () => {
    const code = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!;
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    const csp = /Content-Security-Policy" content="([^"]*)"/.exec(html)![1]!;
    const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
    expect(csp).toBe(`default-src 'none'; script-src ${hash(code)}; style-src ${hash(style)}; img-src data:; base-uri 'none'; form-action 'none'`);
    expect(html).not.toMatch(/\sstyle="/);
    const { page, errors } = await open(1280);
    // vega's expressions run through its interpreter: a `new Function` would be a CSP error here.
    expect(errors).toEqual([]);
    expect(await page.evaluate(() => document.body.dataset.ready)).toBe('true');
    expect(await page.evaluate(() => document.querySelectorAll('figure.chart.live').length)).toBe(5);
    await page.close();
  });

  it('filters by status class, redrawing the traffic tables and the timeline\'s bars', async () => {
    const { page } = await open(1280);
    expect(await shownRequests(page)).toBe(LOG.length);
    await page.selectOption('select[name="status"]', '5xx');
    await page.waitForFunction(() => document.body.classList.contains('filtered'));
    const expected = LOG.filter((line) => line.status >= 500 && line.status < 600).length;
    expect(expected).toBeGreaterThan(0);
    expect(await shownRequests(page)).toBe(expected);
    expect(await page.textContent('#filter-summary')).toContain(`${expected.toLocaleString('en-US')} of ${LOG.length.toLocaleString('en-US')} requests`);
    // Every bar left in the timeline is a 5xx bar (the 5xx colour of the chart's scale).
    const fills = await page.evaluate(() => [...document.querySelectorAll('#chart-request-timeline .chart-live g.classes_marks path')].map((path) => path.getAttribute('fill')));
    expect(fills.length).toBeGreaterThan(0);
    expect(new Set(fills)).toEqual(new Set(['#e45756']));
    await page.close();
  });

  it('filters by time range to the minute, as counted in the log', async () => {
    const { page } = await open(1280);
    const cube = analysis.charts.cube;
    const from = cube.buckets.indexOf(Date.parse('2017-03-14T09:30:00Z'));
    const to = cube.buckets.indexOf(Date.parse('2017-03-14T09:45:00Z'));
    expect(from).toBeGreaterThan(0);
    await page.fill('input[name="from"]', String(from));
    await page.fill('input[name="to"]', String(to));
    await page.waitForFunction(() => document.body.classList.contains('filtered'));
    const expected = LOG.filter((line) => line.endMs >= Date.parse('2017-03-14T09:30:00Z') && line.endMs < Date.parse('2017-03-14T09:45:00Z')).length;
    expect(await shownRequests(page)).toBe(expected);
    expect(await page.textContent('#from-label')).toBe('2017-03-14 09:30');
    expect(await page.textContent('#to-label')).toBe('2017-03-14 09:45');
    // The scatter keeps only points logged in the range.
    const points = analysis.charts.scatter.filter((point) => point.timeMs >= Date.parse('2017-03-14T09:30:00Z') && point.timeMs < Date.parse('2017-03-14T09:45:00Z')).length;
    expect(await page.evaluate(() => document.querySelectorAll('#chart-client-vs-backend .chart-live g.mark-symbol.role-mark path').length)).toBe(points);
    // "show all" brings everything back.
    await page.click('form.filters button[type="reset"]');
    await page.waitForFunction(() => !document.body.classList.contains('filtered'));
    expect(await shownRequests(page)).toBe(LOG.length);
    await page.close();
  });

  it('filters by API key: the tables, the scatter and the per-key chart keep that key only', async () => {
    const { page } = await open(1280);
    await page.selectOption('select[name="key"]', 'key_3xp0rt3r');
    await page.waitForFunction(() => document.body.classList.contains('filtered'));
    expect(await shownRequests(page)).toBe(LOG.filter((line) => line.key === 'key_3xp0rt3r').length);
    const keys = await page.evaluate(() => [...document.querySelectorAll('table.breakdown[data-dimension="key"] tbody tr td:first-child')].map((td) => td.textContent));
    expect(keys).toEqual(['key_3xp0rt3r']);
    const points = analysis.charts.scatter.filter((point) => point.apiKey === 'key_3xp0rt3r').length;
    expect(await page.evaluate(() => document.querySelectorAll('#chart-client-vs-backend .chart-live g.mark-symbol.role-mark path').length)).toBe(points);
    const facets = await page.evaluate(() => [...document.querySelectorAll('#chart-budget-windows .chart-live g.role-row-header text')].map((t) => t.textContent).filter((t) => t && t.startsWith('key_')));
    expect(facets).toEqual(['key_3xp0rt3r']);
    // The upstream chart carries no key: it says so rather than pretend.
    expect(await page.textContent('#chart-upstream-errors .filter-note')).toContain('Not filtered by API key');
    await page.close();
  });

  it('sorts a table by a column, numbers by value, both ways', async () => {
    const { page } = await open(1280);
    const column = (index: number) => page.evaluate((i) =>
      [...document.querySelectorAll('table.breakdown[data-dimension="route"] tbody tr')].map((row) => Number((row as HTMLTableRowElement).cells[i]!.dataset.sort)), index);
    await page.click('table.breakdown[data-dimension="route"] th:nth-child(6) button');
    const ascending = await column(5);
    expect(ascending.length).toBeGreaterThan(2);
    expect(ascending).toEqual([...ascending].sort((a, b) => a - b));
    expect(await page.getAttribute('table.breakdown[data-dimension="route"] th:nth-child(6)', 'aria-sort')).toBe('ascending');
    await page.click('table.breakdown[data-dimension="route"] th:nth-child(6) button');
    expect(await column(5)).toEqual([...ascending].sort((a, b) => b - a));
    // The findings summary sorts by severity rank, not by the badge's text.
    await page.click('table.summary th:nth-child(2) button');
    const severities = await page.evaluate(() => [...document.querySelectorAll('table.summary tbody tr td:nth-child(2)')].map((td) => td.textContent));
    expect(severities[0]).toBe('info');
    expect(severities[severities.length - 1]).toBe('high');
    await page.close();
  });

  it('opens a finding\'s evidence from its row in the summary', async () => {
    const { page } = await open(1280);
    const low = analysis.findings.findIndex((finding) => finding.severity === 'low' && finding.evidence.length > 0);
    expect(low).toBeGreaterThanOrEqual(0);
    const id = `finding-${low + 1}`;
    expect(await page.evaluate((i) => (document.querySelector(`#${i} details.evidence`) as HTMLDetailsElement).open, id)).toBe(false);
    await page.click(`table.summary tr[data-finding="${id}"] td:nth-child(4)`);
    expect(await page.evaluate((i) => (document.querySelector(`#${i} details.evidence`) as HTMLDetailsElement).open, id)).toBe(true);
    const lines = await page.evaluate((i) => [...document.querySelectorAll(`#${i} details.evidence li .where`)].map((e) => e.textContent), id);
    expect(lines).toEqual(analysis.findings[low]!.evidence.map((e) => `${e.file}:${e.line}`));
    await page.close();
  });

  it('has a tooltip on every kind of mark of every chart (a line on each of its points)', async () => {
    const { page } = await open(1280);
    const groups = await page.evaluate(() => [...document.querySelectorAll('figure.chart .chart-live g.role-mark')]
      // Lines are drawn with a point on each datum that carries its tooltip (vega gives a whole line one
      // tooltip at best); every other data mark must answer a hover itself.
      .filter((group) => !group.closest('.role-axis, .role-legend, .role-title, .role-row-header, .role-column-header') && !group.classList.contains('mark-group') && !group.classList.contains('mark-line'))
      .map((group, index) => {
        group.setAttribute('data-probe', String(index));
        return { index, chart: group.closest('figure')!.id, name: group.getAttribute('class') };
      }));
    expect(groups.length).toBeGreaterThanOrEqual(12);
    for (const group of groups) {
      let title = '';
      // Up to three items of this group that are on top where they are drawn (a point under a rule would show the rule's tooltip).
      for (let attempt = 0; attempt < 3 && title === ''; attempt++) {
        const target = await page.evaluate(([i, skip]) => {
          let found = 0;
          for (const item of document.querySelectorAll(`[data-probe="${i}"] > *`)) {
            item.scrollIntoView({ block: 'center', inline: 'center' });
            const rect = item.getBoundingClientRect();
            if (rect.width === 0 && rect.height === 0) continue;
            const candidates: [number, number][] = [];
            // A line is hit on its stroke: points on its path first; otherwise along both diagonals of its box.
            if (item instanceof SVGGeometryElement && item.getScreenCTM() !== null) {
              const length = item.getTotalLength();
              for (const t of [0.5, 0.3, 0.7]) {
                const at = item.getPointAtLength(length * t).matrixTransform(item.getScreenCTM()!);
                candidates.push([at.x, at.y]);
              }
            }
            for (const t of [0.5, 0.25, 0.75]) candidates.push([rect.left + rect.width * t, rect.top + rect.height * t], [rect.left + rect.width * t, rect.bottom - rect.height * t]);
            const hit = candidates.find(([x, y]) => item.contains(document.elementFromPoint(x, y)));
            if (hit && found++ === skip) return { x: hit[0], y: hit[1] };
          }
          return null;
        }, [group.index, attempt] as const);
        if (target === null) break;
        await page.mouse.move(0, 0);
        await page.mouse.move(target.x, target.y);
        // vega's tooltip handler writes the hovered item's tooltip as the chart container's title.
        title = await page.waitForFunction((chart) => document.querySelector(`#${chart} .chart-live`)!.getAttribute('title') || null, group.chart, { timeout: 1500 })
          .then((handle) => handle.jsonValue() as Promise<string>).catch(() => '');
        await page.evaluate((chart) => document.querySelector(`#${chart} .chart-live`)!.removeAttribute('title'), group.chart);
      }
      expect(title, `${group.chart} ${group.name}`).not.toBe('');
      // Numbers and times read as such (an unparsed time would show NaN).
      expect(title, `${group.chart} ${group.name}`).not.toContain('NaN');
    }
    await page.close();
  });

  it('reads at 420 px: nothing wider than the screen, charts redrawn at its width with legible text, no table squeezed', async () => {
    const { page, errors } = await open(420);
    expect(errors).toEqual([]);
    const layout = await page.evaluate(() => {
      const charts = [...document.querySelectorAll('figure.chart')].map((figure) => {
        const svg = figure.querySelector('.chart-live svg')!;
        const texts = [...svg.querySelectorAll('text')].map((t) => t.getBoundingClientRect().height).filter((h) => h > 0);
        return { id: figure.id, width: svg.getBoundingClientRect().width, figure: figure.getBoundingClientRect().width, smallestText: Math.min(...texts) };
      });
      const cells = [...document.querySelectorAll('table.data td')].filter((td) => (td.textContent ?? '').length >= 6 && td.getBoundingClientRect().width > 0)
        .map((td) => ({ text: td.textContent, width: td.getBoundingClientRect().width }));
      return { scrollWidth: document.documentElement.scrollWidth, charts, narrowest: cells.sort((a, b) => a.width - b.width)[0] };
    });
    expect(layout.scrollWidth).toBeLessThanOrEqual(420);
    for (const chart of layout.charts) {
      expect(chart.width, chart.id).toBeLessThanOrEqual(chart.figure + 1);
      // Drawn at the phone's width, not a desktop chart scaled down to 5 px text.
      expect(chart.width, chart.id).toBeGreaterThan(300);
      expect(chart.smallestText, chart.id).toBeGreaterThanOrEqual(9);
    }
    // A cell of six characters or more is at least four characters wide (~30 px): no column of letters.
    expect(layout.narrowest!.width, JSON.stringify(layout.narrowest)).toBeGreaterThanOrEqual(30);
    await page.close();
  });

  it('uses a desktop\'s width at 1400 px: charts side by side, wider than the fixed 560 px plot', async () => {
    const { page } = await open(1400);
    const layout = await page.evaluate(() => ({
      main: document.querySelector('main')!.getBoundingClientRect().width,
      figures: [...document.querySelectorAll('figure.chart')].map((figure) => ({ top: Math.round(figure.getBoundingClientRect().top), width: figure.querySelector('.chart-live svg')!.getBoundingClientRect().width })),
      headers: [...document.querySelectorAll('table.data th')].map((th) => th.getBoundingClientRect().height),
    }));
    expect(layout.main).toBeGreaterThan(1300);
    // Two charts share a row.
    expect(new Set(layout.figures.map((f) => f.top)).size).toBeLessThan(layout.figures.length);
    expect(Math.max(...layout.figures.map((f) => f.width))).toBeGreaterThan(600);
    // No header wraps ("requ ests"): one line each.
    expect(Math.max(...layout.headers)).toBeLessThan(40);
    await page.close();
  });
});
