/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The functions passed to page.evaluate run in the browser: they need the DOM types.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtml, reportCharts } from '../../reports/html.js';
import type { Analysis } from '../../src/pipeline/analysis.js';
import { CHROMIUM_PATH, HAS_CHROMIUM, launchChromium } from './chromium.js';
import { analyzeDirectory, INCIDENT_DIR, PAYLOADS, writeHostileIncident } from './report-fixtures.js';

/**
 * The HTML report as a reader gets it: built by the real pipeline, written to a file and opened
 * from file:// in headless Chromium. Checks what a reader (and an attacker) would see: no script
 * runs, nothing is fetched, every chart draws, and the knee marker sits where the data says.
 */

if (!HAS_CHROMIUM) {
  console.warn(`SKIPPED: HTML report tests in Chromium need ${CHROMIUM_PATH} (apt-get install chromium; .ci/run does this).`);
}

const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts');

interface Opened {
  page: Page;
  url: string;
  requests: string[];
  errors: string[];
  dialogs: string[];
}

describe.skipIf(!HAS_CHROMIUM)('HTML report in Chromium', { timeout: 60_000 }, () => {
  let browser: Browser;
  const dir = mkdtempSync(join(tmpdir(), 'alf-report-'));
  let incident: Analysis;
  let incidentFile: string;
  let hostile: Analysis;
  let hostileFile: string;
  let hostileHtml: string;

  beforeAll(async () => {
    browser = await launchChromium();
    incident = await analyzeDirectory(INCIDENT_DIR);
    incidentFile = join(dir, 'incident.html');
    writeFileSync(incidentFile, await renderHtml(incident));
    hostile = await analyzeDirectory(writeHostileIncident());
    hostileFile = join(dir, 'hostile.html');
    hostileHtml = await renderHtml(hostile);
    writeFileSync(hostileFile, hostileHtml);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  async function open(file: string): Promise<Opened> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const opened: Opened = { page, url: pathToFileURL(file).href, requests: [], errors: [], dialogs: [] };
    page.on('request', (request) => opened.requests.push(request.url()));
    page.on('console', (message) => {
      if (message.type() === 'error') opened.errors.push(message.text());
    });
    page.on('pageerror', (error) => opened.errors.push(String(error)));
    page.on('dialog', (dialog) => {
      opened.dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await page.goto(opened.url, { waitUntil: 'load' });
    // The page's script marks the body once the live charts are drawn (or failed to be).
    await page.waitForFunction(() => document.body.dataset.ready !== undefined);
    // Give anything that could fire late (an img onerror, a meta refresh) the chance to.
    await page.waitForTimeout(300);
    return opened;
  }

  it('opens from file:// with no console error and no request but the document itself', async () => {
    const { page, url, requests, errors } = await open(incidentFile);
    expect(errors).toEqual([]);
    expect(requests).toEqual([url]);
    expect(await page.evaluate(() => document.body.dataset.ready)).toBe('true');
    expect(await page.title()).toContain('alf incident report');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
    await page.close();
  });

  it('draws marks in every chart the analysis calls for', async () => {
    const { page } = await open(incidentFile);
    const expected = reportCharts(incident).map((chart) => `chart-${chart.id}`);
    // The bundled incident has every story: knee, timeline, budget, walls and 502s per upstream.
    expect(expected).toEqual(['chart-client-vs-backend', 'chart-latency-distribution', 'chart-request-timeline', 'chart-budget-windows', 'chart-upstream-errors']);
    const drawn = await page.evaluate(() =>
      [...document.querySelectorAll('figure.chart')].map((figure) => {
        // Data marks only: axes, legends and facet headers are not role-mark groups.
        // The live chart (the static one is hidden once it is drawn).
        const marks = [...figure.querySelectorAll('.chart-live svg g.role-mark:is(.mark-symbol, .mark-rect, .mark-line, .mark-rule, .mark-area) > *')];
        const visible = marks.filter((mark) => {
          const box = mark.getBoundingClientRect();
          return box.width > 0 || box.height > 0;
        });
        return { id: figure.id, svgs: figure.querySelectorAll('.chart-live svg').length, visible: visible.length };
      }));
    expect(drawn.map((d) => d.id)).toEqual(expected);
    for (const chart of drawn) {
      expect(chart.svgs, chart.id).toBe(1);
      expect(chart.visible, chart.id).toBeGreaterThan(0);
    }
    // The scatter draws its whole sample.
    expect(drawn[0]!.visible).toBeGreaterThanOrEqual(incident.charts.scatter.length);
    await page.close();
  });

  it('puts the knee marker at the knee seconds on the scatter y scale', async () => {
    const knee = incident.findings.find((f) => f.kind === 'client-timeout-knee');
    const kneeSeconds = knee?.figures.timeoutSeconds;
    expect(typeof kneeSeconds).toBe('number');
    const { page } = await open(incidentFile);
    const measured = await page.evaluate(() => {
      const figure = document.querySelector('#chart-client-vs-backend .chart-live')!;
      const axis = [...figure.querySelectorAll('g.role-axis')].find((g) => (g.getAttribute('aria-label') ?? '').startsWith('Y-axis'));
      if (!axis) return null;
      const ticks = [...axis.querySelectorAll('g.role-axis-tick line')].map((line) => {
        const box = line.getBoundingClientRect();
        return box.top + box.height / 2;
      });
      const labels = [...axis.querySelectorAll('g.role-axis-label text')].map((text) => Number((text.textContent ?? '').replace(/,/g, '')));
      const marker = figure.querySelector('g.knee_marker_marks line');
      if (!marker) return null;
      const box = marker.getBoundingClientRect();
      return { ticks, labels, markerY: box.top + box.height / 2 };
    });
    expect(measured).not.toBeNull();
    const { ticks, labels, markerY } = measured!;
    expect(labels.length).toBeGreaterThanOrEqual(3);
    expect(ticks.length).toBe(labels.length);
    // Least-squares line through (tick value, pixel): the y scale as drawn.
    const n = labels.length;
    const meanV = labels.reduce((s, v) => s + v, 0) / n;
    const meanP = ticks.reduce((s, p) => s + p, 0) / n;
    const slope = labels.reduce((s, v, i) => s + (v - meanV) * (ticks[i]! - meanP), 0) / labels.reduce((s, v) => s + (v - meanV) ** 2, 0);
    const expectedY = meanP + slope * ((kneeSeconds as number) - meanV);
    expect(slope).toBeLessThan(0); // larger seconds are higher up
    expect(Math.abs(markerY - expectedY)).toBeLessThan(3);
    await page.close();
  });

  it('links every row of the findings summary to its finding', async () => {
    const { page } = await open(incidentFile);
    const links = await page.evaluate(() =>
      [...document.querySelectorAll('table.summary a')].map((a) => {
        const href = a.getAttribute('href') ?? '';
        return { href, target: document.getElementById(href.slice(1))?.querySelector('h3')?.textContent ?? null, text: a.textContent };
      }));
    expect(links.length).toBe(incident.findings.length);
    links.forEach((link, i) => {
      expect(link.href).toBe(`#finding-${i + 1}`);
      expect(link.target).toContain(incident.findings[i]!.title);
    });
    await page.close();
  });

  it('prints to PDF', async () => {
    const { page } = await open(incidentFile);
    await page.emulateMedia({ media: 'print' });
    const hidden = await page.evaluate(() => getComputedStyle(document.querySelector('.meta a')!).display);
    expect(hidden).toBe('none');
    const pdf = await page.pdf({ format: 'A4' });
    expect(pdf.subarray(0, 4).toString()).toBe('%PDF');
    expect(pdf.length).toBeGreaterThan(50_000);
    await page.close();
  });

  it('runs none of the script-injection payloads in a hostile log, and shows them as text', async () => {
    // The payloads really reached the report's prose and charts (else this test would prove nothing).
    const knee = hostile.findings.find((f) => f.kind === 'client-timeout-knee');
    expect(knee?.figures.topCohort).toBe(PAYLOADS.userAgent);
    expect(hostile.findings.some((f) => f.kind === 'budget-undercount' && f.figures.apiKey === PAYLOADS.apiKey)).toBe(true);
    expect(hostile.charts.upstreams.upstreams.some((u) => u.upstream === PAYLOADS.upstream)).toBe(true);

    expect(hostileHtml).not.toMatch(/<iframe|<img|<svg\/onload/i);
    // The page's own two script elements, and no other.
    expect([...hostileHtml.matchAll(/<script\b[^>]*>/gi)].map((m) => m[0])).toEqual(['<script type="application/json" id="alf-data">', '<script>']);
    const { page, url, requests, errors, dialogs } = await open(hostileFile);
    expect(dialogs).toEqual([]);
    expect(errors).toEqual([]);
    expect(requests).toEqual([url]);
    const state = await page.evaluate(() => ({
      pwned: (window as unknown as { __pwned?: unknown }).__pwned ?? null,
      active: document.querySelectorAll('iframe, img, object, embed, foreignObject, base, meta[http-equiv="refresh"]').length,
      scripts: [...document.querySelectorAll('script')].map((script) => script.getAttribute('type') ?? 'code'),
      ready: document.body.dataset.ready,
      handlers: [...document.querySelectorAll('*')].flatMap((el) => [...el.attributes].filter((a) => a.name.toLowerCase().startsWith('on')).map((a) => `${el.tagName} ${a.name}`)),
      outsideLinks: [...document.querySelectorAll('[href], [src], [xlink\\:href]')].map((el) => el.getAttribute('href') ?? el.getAttribute('src') ?? '').filter((href) => !href.startsWith('#')),
      verdict: document.getElementById('verdict')?.textContent ?? '',
      legend: [...document.querySelectorAll('#chart-client-vs-backend g.role-legend text')].map((t) => t.textContent ?? ''),
      facets: [...document.querySelectorAll('#chart-budget-windows text')].map((t) => t.textContent ?? ''),
      headings: [...document.querySelectorAll('section.finding h3')].map((h) => h.textContent ?? ''),
      upstreamHeaders: [...document.querySelectorAll('#chart-upstream-errors text')].map((t) => t.textContent ?? ''),
      findings: document.querySelectorAll('section.finding').length,
      charts: document.querySelectorAll('figure.chart').length,
      footer: document.querySelector('body > footer') !== null,
      styles: document.querySelectorAll('style').length,
    }));
    expect(state.pwned).toBeNull();
    expect(state.active).toBe(0);
    expect(state.scripts).toEqual(['application/json', 'code']);
    // The page's script ran over the hostile data and drew every chart from it.
    expect(state.ready).toBe('true');
    expect(state.handlers).toEqual([]);
    expect(state.outsideLinks).toEqual([]);
    // Escaped, the payloads read as the text they are.
    expect(state.verdict).toContain(PAYLOADS.userAgent);
    // The legend truncates long labels (with an ellipsis) to its pixel limit; the start must be there, as text.
    expect(state.legend, JSON.stringify(state.legend)).toContainEqual(expect.stringContaining(PAYLOADS.userAgent.slice(0, 30)));
    // Facet headers truncate to their pixel limit too; the finding's heading carries the whole key.
    expect(state.facets, JSON.stringify(state.facets)).toContainEqual(expect.stringContaining(PAYLOADS.apiKey.slice(0, 12)));
    expect(state.headings).toContainEqual(expect.stringContaining(PAYLOADS.apiKey));
    expect(state.upstreamHeaders).toContainEqual(expect.stringContaining(PAYLOADS.upstream));
    // Nothing broke the page's structure: every finding and chart is there and the page ends where it should.
    expect(state.findings).toBe(hostile.findings.length);
    expect(state.charts).toBe(reportCharts(hostile).length);
    expect(state.footer).toBe(true);
    expect(state.styles).toBe(1);
    await page.close();
  });
});
