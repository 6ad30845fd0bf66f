import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { APM_FORMATS } from '../../parsers/apm-formats.js';
import { FORMATS, findFormat } from '../../parsers/registry.js';
import type { FormatDef } from '../../parsers/format.js';
import { DEFAULT_JOIN_OPTIONS } from '../../src/join/options.js';
import { runScan, type ScanOptions, type ScanSummary } from '../../src/scan/run-scan.js';

/** One AWS ALB access-log line (docs/formats.md, Application Load Balancer) ending at `endMs`, distinct per `i`. */
export function albLine(endMs: number, i: number): string {
  const totalMs = 20 + (i % 37) * 3;
  const created = new Date(endMs - totalMs).toISOString().replace('Z', '000Z');
  const end = new Date(endMs).toISOString().replace('Z', '000Z');
  const target = ((totalMs - 2) / 1000).toFixed(3);
  const status = i % 53 === 0 ? 502 : 200;
  return `https ${end} app/prod-api/5d1e3f0a9b8c7d6e 203.0.113.${i % 200}:${10000 + (i % 50000)} 10.0.3.17:8080 0.001 ${target} 0.001 ${status} ${status} 300 ${1000 + i} ` +
    `"GET https://api.example.com:443/v1/orders/${i} HTTP/1.1" "okhttp/4.12.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 ` +
    `arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api-tg/0a1b2c3d4e5f6a7b "Root=1-67878e80-${i.toString(16).padStart(24, '0')}" ` +
    `"api.example.com" "session-reused" 3 ${created} "forward" "-" "-" "10.0.3.17:8080" "${status}" "-" "-" TID_${i.toString(16).padStart(32, '0')}`;
}

/** `count` lines, one every `stepMs` from `startMs`, numbered from `first`. */
export function albLines(startMs: number, first: number, count: number, stepMs = 1000): string {
  let text = '';
  for (let k = 0; k < count; k++) text += `${albLine(startMs + k * stepMs, first + k)}\n`;
  return text;
}

export function scanOptions(sources: string[], dir: string, extra: Partial<ScanOptions> = {}, logFormat?: FormatDef): ScanOptions {
  return {
    sources, exclude: [], statePath: join(dir, 'state.json'), outDir: join(dir, 'out'), windowMs: 3_600_000,
    sinceMs: null, nowMs: Date.now(), shard: null, concurrency: 4,
    parse: {
      candidates: logFormat ? [...APM_FORMATS, logFormat, ...FORMATS.filter((f) => f.kind === 'proxy')] : FORMATS,
      formatById: (id) => (logFormat?.id === id ? logFormat : findFormat(id)),
    },
    replay: { budget: null, join: DEFAULT_JOIN_OPTIONS },
    progress: null,
    ...extra,
  };
}

export async function scan(sources: string[], dir: string, extra: Partial<ScanOptions> = {}): Promise<ScanSummary> {
  return runScan(scanOptions(sources, dir, extra));
}

interface WindowReport {
  join: { proxyRecords: number; apmRecords: number };
  inputs: { totals: { linesRead: number; records: number; skipped: number } };
  findings: unknown[];
}

/** Every window report in an out directory, by file name. */
export function windowReports(outDir: string): Map<string, WindowReport> {
  const out = new Map<string, WindowReport>();
  for (const name of readdirSync(outDir).sort()) {
    if (/^alf-.*\.json$/.test(name)) out.set(name, JSON.parse(readFileSync(join(outDir, name), 'utf8')) as WindowReport);
  }
  return out;
}

/** Proxy requests counted over all windows. */
export function totalProxyRequests(outDir: string): number {
  let total = 0;
  for (const report of windowReports(outDir).values()) total += report.join.proxyRecords;
  return total;
}

/** A report without what differs between runs of the same input (times of generation). */
export function comparable(report: unknown): unknown {
  return JSON.parse(JSON.stringify(report, (key, value: unknown) => (key === 'generatedAt' ? undefined : value)));
}
