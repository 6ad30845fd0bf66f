import { readFileSync } from 'node:fs';
import Papa from 'papaparse';
import { runCli } from '../cli/run-cli.js';

/**
 * Runs the built CLI (`alf analyze … --format json`) on a run's files and reads what the tests
 * look at: docs/findings.schema.json describes the whole document; only the parts read here are typed.
 */

export type Figure = string | number | boolean | null;

export interface Finding {
  kind: string;
  severity: string;
  title: string;
  explanation: string;
  figures: Record<string, Figure>;
  table?: { columns: string[]; rows: Figure[][] };
}

export interface FileStats {
  file: string;
  format: string | null;
  linesRead: number;
  records: number;
  skipped: number;
  ignored: number;
  firstIssues: { line: number; message: string; sample?: string }[];
}

export interface AlfReport {
  inputs: { files: FileStats[]; totals: { proxyRecords: number; apmRecords: number } };
  verdict: { text: string; cites: { pointer: string; value: Figure }[] }[];
  join: { proxyRecords: number; apmRecords: number; joinedHeuristic: number; joinedById: number; unjoinedProxy: number; unjoinedApm: number; lowConfidence: number; startSigmaMs?: number; offsetMs?: number | null };
  findings: Finding[];
}

export function analyze(args: readonly string[]): AlfReport {
  const result = runCli(['analyze', ...args, '--format', 'json', '--quiet']);
  if (result.status !== 0) throw new Error(`alf analyze ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return JSON.parse(result.stdout) as AlfReport;
}

export function findingsOf(report: AlfReport, kind: string): Finding[] {
  return report.findings.filter((finding) => finding.kind === kind);
}

/** A table of a finding as objects keyed by column. */
export function tableRows(finding: Finding): Record<string, Figure>[] {
  const table = finding.table;
  if (!table) return [];
  return table.rows.map((row) => Object.fromEntries(table.columns.map((column, i) => [column, row[i] ?? null])));
}

export function fileStats(report: AlfReport, path: string): FileStats {
  const stats = report.inputs.files.find((file) => file.file === path);
  if (!stats) throw new Error(`alf did not report on ${path}`);
  return stats;
}

/** A row of `--joined pairs.csv` (reports/joined-csv-export.ts). */
export interface JoinedPair {
  proxy_line: number;
  proxy_request_id: string;
  apm_line: number | null;
  path: string;
  proxy_time_s: number | null;
  upstream_time_s: number | null;
  apm_duration_s: number | null;
  join_method: string;
}

export function readJoinedPairs(path: string): JoinedPair[] {
  const parsed = Papa.parse<Record<string, string>>(readFileSync(path, 'utf8'), { header: true, skipEmptyLines: true });
  const number = (text: string | undefined) => (text === undefined || text === '' ? null : Number(text));
  return parsed.data.map((row) => ({
    proxy_line: Number(row.proxy_line),
    proxy_request_id: row.proxy_request_id ?? '',
    apm_line: number(row.apm_line),
    path: row.path ?? '',
    proxy_time_s: number(row.proxy_time_s),
    upstream_time_s: number(row.upstream_time_s),
    apm_duration_s: number(row.apm_duration_s),
    join_method: row.join_method ?? '',
  }));
}
