import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { renderHtml } from '../../reports/html.js';
import { renderJson } from '../../reports/json.js';
import { renderMarkdown } from '../../reports/markdown.js';
import { analyzeDirectory } from '../reports/report-fixtures.js';
import { DEFAULT_INCIDENT, generateIncident } from '../generators/incident.js';

/**
 * How big and how slow the reports get on a large incident: generates the founding incident
 * stretched to about N proxy lines (default 1 M, ~8 days at its ~1.4 requests/s), runs the real
 * pipeline once, then times each renderer and prints its output size. The report is built from
 * bounded summaries, so its size should stay flat as the log grows; this script is the check.
 *
 * Usage: tsx test/bench/report-size.ts [--lines N] [--runs R] [--json]
 */

const { values } = parseArgs({
  options: { lines: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '3' }, json: { type: 'boolean', default: false } },
});
const targetLines = Number(values.lines);
const runs = Math.max(1, Number(values.runs));
// The sample's rate: 4,941 proxy lines per hour.
const LINES_PER_SECOND = 4941 / 3600;

function ms(from: bigint): number {
  return Number(process.hrtime.bigint() - from) / 1e6;
}

async function time<T>(render: () => T | Promise<T>): Promise<{ output: T; bestMs: number }> {
  let bestMs = Infinity;
  let output: T | undefined;
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    output = await render();
    bestMs = Math.min(bestMs, ms(start));
  }
  return { output: output!, bestMs };
}

const dir = mkdtempSync(join(tmpdir(), 'alf-report-bench-'));
try {
  let start = process.hrtime.bigint();
  const incident = generateIncident({ ...DEFAULT_INCIDENT, durationSeconds: Math.ceil(targetLines / LINES_PER_SECOND) });
  writeFileSync(join(dir, 'nginx-log-format.conf'), incident.logFormat);
  writeFileSync(join(dir, 'access.log'), `${incident.accessLog.join('\n')}\n`);
  writeFileSync(join(dir, 'newrelic-transactions.csv'), `${incident.apmCsv.join('\n')}\n`);
  const generateMs = ms(start);
  const proxyLines = incident.accessLog.length;
  const apmLines = incident.apmCsv.length - 1;

  start = process.hrtime.bigint();
  const analysis = await analyzeDirectory(dir);
  const analyzeMs = ms(start);
  if (analysis.inputs.totals.proxyRecords !== proxyLines) {
    throw new Error(`pipeline parsed ${analysis.inputs.totals.proxyRecords} proxy records of ${proxyLines} lines`);
  }

  const html = await time(() => renderHtml(analysis));
  const md = await time(() => renderMarkdown(analysis));
  const json = await time(() => renderJson(analysis));
  const kib = (text: string): number => Math.round(Buffer.byteLength(text) / 1024);
  const charts = [...html.output.matchAll(/<figure class="chart" id="([^"]+)">([\s\S]*?)<\/figure>/g)].map((m) => ({ id: m[1]!, kib: kib(m[2]!) }));
  const result = {
    proxyLines, apmLines, findings: analysis.findings.length, generateMs: Math.round(generateMs), analyzeMs: Math.round(analyzeMs),
    html: { bestMs: Math.round(html.bestMs), kib: kib(html.output), charts },
    markdown: { bestMs: Math.round(md.bestMs), kib: kib(md.output) },
    json: { bestMs: Math.round(json.bestMs), kib: kib(json.output) },
  };
  if (values.json) {
    console.log(JSON.stringify(result));
  } else {
    console.log(`incident: ${proxyLines.toLocaleString('en-US')} proxy lines, ${apmLines.toLocaleString('en-US')} APM transactions, ${result.findings} findings`);
    console.log(`generate ${result.generateMs} ms, analyze ${result.analyzeMs} ms (not the report; for scale)`);
    console.log(`html      ${String(result.html.bestMs).padStart(6)} ms  ${String(result.html.kib).padStart(6)} KiB  (best of ${runs})`);
    for (const chart of charts) console.log(`  ${chart.id.padEnd(32)} ${String(chart.kib).padStart(6)} KiB`);
    console.log(`markdown  ${String(result.markdown.bestMs).padStart(6)} ms  ${String(result.markdown.kib).padStart(6)} KiB`);
    console.log(`json      ${String(result.json.bestMs).padStart(6)} ms  ${String(result.json.kib).padStart(6)} KiB`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
