import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import Papa from 'papaparse';
import { beforeAll, describe, expect, it } from 'vitest';
import { csvLines } from '../../reports/joined-csv-export.js';
import type { Analysis } from '../../src/pipeline/analysis.js';
import { ROOT } from '../cli/run-cli.js';
import { CRASH, runCliAsync, type HostileRun } from './hostile-cli.js';

/**
 * Nothing from a log ever runs: log content with real payloads (script tags, event-handler
 * attributes, `</script>`, javascript: links, Markdown fences and table pipes, spreadsheet
 * formulas, ANSI/OSC terminal escapes, bidi overrides) goes through every output of a real run.
 * The payloads sit where findings quote them: the knee's user agent, the under-counted key,
 * request paths and methods, evidence lines.
 */

const dir = mkdtempSync(join(tmpdir(), 'alf-inject-'));
const ESC = '\u001b';
const HTML_UA = `</script><script>alert(1)</script><img src=x onerror=alert(2)>"'><svg/onload=alert(3)></style></title>--><!--]]>${ESC}[2J${ESC}]0;owned\u0007\u202eexe.txt`;
const MD_UA = '``` </details> [x](javascript:alert(4)) ![i](http://evil/x.png) | a | b | ` \\` <b>bold</b> *em* _u_ &amp;';
const KEY = `key_<img/src=x/onerror=alert(5)>\`\`${ESC}[31m`;
const FORMULAS = ['=HYPERLINK("http://evil","x")', '+cmd', '-2+3', '@SUM(A1)', '\t=1+1', '\r=1+1'];
const PAYLOAD_PATH = (i: number): string => `${FORMULAS[i % FORMULAS.length]!}/<script>alert(${i})</script>`;

let html = '';
let markdown: HostileRun;
let json: Analysis;
let stderr = '';
let detect: HostileRun;
let csvRows: string[][] = [];
const logPath = join(dir, `access-${ESC}]0;title\u0007.log`);

beforeAll(async () => {
  const lines = readFileSync(join(ROOT, 'samples', 'incident', 'access.log'), 'utf8').trimEnd().split('\n');
  const hostile = lines.map((line, i) => {
    const fields = line.split('|');
    // $request_method (8) and $request_uri (10): spreadsheet formulas and markup in a few paths.
    if (i % 97 === 0) {
      fields[8] = FORMULAS[i % FORMULAS.length]!.replace(/[\t\r]/g, '');
      fields[10] = PAYLOAD_PATH(i).replace(/[\t\r|]/g, '');
    }
    if (fields[12] === 'key_3xp0rt3r') fields[12] = KEY;
    if (fields[13] === 'newrelic exporter') fields[13] = i % 2 === 0 ? HTML_UA : MD_UA;
    return fields.join('|');
  });
  // A first line that is skipped: its message (quoting the bad value) goes to the terminal summary.
  hostile.unshift(hostile[0]!.replace(/\|200\|/, `|2${ESC}[31m${ESC}]8;;http://evil${ESC}\\\u202e0\u009b|`));
  writeFileSync(logPath, `${hostile.join('\n')}\n`);
  const conf = join(ROOT, 'samples', 'incident', 'nginx-log-format.conf');
  const apm = join(ROOT, 'samples', 'incident', 'newrelic-transactions.csv');
  const common = [logPath, '--log-format', conf, '--apm', apm, '--budget', '600s/5m'];
  const htmlOut = join(dir, 'report.html');
  const csvOut = join(dir, 'pairs.csv');
  const [htmlRun, mdRun, jsonRun, detectRun] = await Promise.all([
    runCliAsync(['analyze', ...common, '--out', htmlOut, '--joined', csvOut], 60_000),
    runCliAsync(['analyze', ...common, '--format', 'md', '-q'], 60_000),
    runCliAsync(['analyze', ...common, '--format', 'json'], 60_000),
    runCliAsync(['detect', logPath, '--log-format', conf], 60_000),
  ]);
  for (const run of [htmlRun, mdRun, jsonRun, detectRun]) {
    expect(run.stderr).not.toMatch(CRASH);
    expect(run.signal).toBeNull();
  }
  expect(htmlRun.status).toBe(0);
  html = readFileSync(htmlOut, 'utf8');
  markdown = mdRun;
  json = JSON.parse(jsonRun.stdout) as Analysis;
  stderr = htmlRun.stderr;
  detect = detectRun;
  csvRows = Papa.parse<string[]>(readFileSync(csvOut, 'utf8'), { skipEmptyLines: true }).data;
}, 120_000);

describe('log content in reports', () => {
  it('the payloads really reached the findings (else this test proves nothing)', () => {
    const text = JSON.stringify(json.findings);
    expect(text).toContain(JSON.stringify(HTML_UA).slice(1, -1));
    expect(text).toContain(JSON.stringify(KEY).slice(1, -1));
  });

  it('HTML: no script but the page\'s own (allowed by hash), no event-handler attribute, no javascript: URL, no raw payload tag', () => {
    // Two script elements, the page's data block and its code, each closed once: no payload opened or closed one.
    expect([...html.matchAll(/<script\b[^>]*>/gi)].map((m) => m[0])).toEqual(['<script type="application/json" id="alf-data">', '<script>']);
    expect(html.match(/<\/script/gi)).toHaveLength(2);
    const code = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!;
    const csp = /Content-Security-Policy" content="([^"]*)"/.exec(html)![1]!;
    expect(csp).toContain(`script-src 'sha256-${createHash('sha256').update(code).digest('base64')}'`);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    // In the data block, a payload's "<" is escaped: it cannot end the block.
    const block = /<script type="application\/json" id="alf-data">([\s\S]*?)<\/script>/.exec(html)![1]!;
    expect(block).not.toContain('<');
    expect(block).toContain('key_\\u003cimg/src=x/onerror=alert(5)>');
    expect(JSON.stringify(JSON.parse(block))).toContain('key_<img/src=x/onerror=alert(5)>');
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toMatch(/<svg\/onload/i);
    // Every tag (including those inside inline SVG) is free of on* attributes and javascript: URLs.
    for (const tag of html.match(/<[a-zA-Z][^>]*>/g) ?? []) {
      expect(tag).not.toMatch(/\son[a-z]+\s*=/i);
      expect(tag).not.toMatch(/(?:href|src|xlink:href)\s*=\s*["']?\s*javascript:/i);
    }
    // The payload is still shown, as text.
    expect(html).toContain('&lt;/script&gt;&lt;script&gt;alert(1)');
    // Terminal escapes do not survive into the page's own markup (charts: see the next test).
    const withoutSvg = html.replace(/<svg[\s\S]*?<\/svg>/g, '');
    expect(withoutSvg).not.toContain(ESC);
    expect(withoutSvg).not.toContain('\u0007');
    // The CSP forbids scripts and outside requests even if markup slipped through.
    expect(html).toMatch(/Content-Security-Policy[^>]*default-src 'none'/);
  });

  // vega escapes markup in chart labels but passes control characters through; an ESC from a key
  // or user agent would make the SVG invalid XML (and live if the file is printed on a terminal).
  it('HTML charts: no control characters inside the inline SVG', () => {
    const svg = (html.match(/<svg[\s\S]*?<\/svg>/g) ?? []).join('');
    expect(svg.length).toBeGreaterThan(0);
    // eslint-disable-next-line no-control-regex
    expect(svg).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/);
  });

  it('Markdown: payloads stay inside code spans or are escaped', () => {
    expect(markdown.status).toBe(0);
    const md = markdown.stdout;
    expect(md).not.toContain(ESC);
    for (const line of md.split('\n')) {
      // Remove code spans as CommonMark does (a run of n backticks closes at the next run of exactly n).
      let outside = '';
      let i = 0;
      while (i < line.length) {
        if (line[i] !== '`') { outside += line[i]; i++; continue; }
        let n = 0;
        while (line[i + n] === '`') n++;
        const rest = line.slice(i + n);
        const close = [...rest.matchAll(/`+/g)].find((m) => m[0].length === n);
        if (!close) { outside += line.slice(i, i + n); i += n; continue; }
        i += n + close.index! + n;
      }
      // Outside code, no raw HTML and no link or image syntax can come from the log.
      expect(outside, line).not.toMatch(/(?<!\\)<(?:script|img|svg|b|\/details)/i);
      expect(outside, line).not.toMatch(/(?<!\\)\]\((?:javascript|http)/i);
      expect(outside, line).not.toMatch(/^```/);
    }
  });

  it('terminal: the stderr summary and alf detect print no control characters, even from a file name', () => {
    expect(stderr).toContain('lines read');
    expect(stderr).toMatch(/first skipped line 1: bad value for \$status/);
    expect(detect.stdout).toContain('nginx');
    for (const text of [stderr, detect.stdout, detect.stderr, markdown.stderr]) {
      // eslint-disable-next-line no-control-regex
      expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    }
  });

  it('CSV (--joined): no cell that came from a log starts a formula', () => {
    expect(csvRows.length).toBeGreaterThan(100);
    const header = csvRows[0]!;
    const textColumns = ['proxy_file', 'proxy_request_id', 'apm_file', 'method', 'path'].map((name) => header.indexOf(name));
    expect(textColumns.every((index) => index >= 0)).toBe(true);
    let formulas = 0;
    for (const row of csvRows.slice(1)) {
      for (const index of textColumns) {
        const cell = row[index] ?? '';
        expect(cell, `row ${row.join(',')}`).not.toMatch(/^[=+\-@\t\r]/);
        if (cell.startsWith("'")) formulas++;
      }
    }
    expect(formulas).toBeGreaterThan(0);
    for (const formula of FORMULAS) expect(Papa.parse<string[]>(csvLines([[formula]])).data[0]![0]!.startsWith("'")).toBe(true);
    expect(csvLines([['/v1/orders']])).toBe('/v1/orders');
  });
});
