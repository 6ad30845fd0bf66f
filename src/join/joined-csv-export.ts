import { createWriteStream, type WriteStream } from 'node:fs';
import Papa from 'papaparse';
import type { JoinedRequest } from '../model/records.js';
import type { JoinedObserver } from '../pipeline/analyze.js';

/**
 * `alf analyze --joined pairs.csv`: one row per proxy record, with its APM partner (if any), so a
 * join can be checked by hand or fed to a spreadsheet. APM transactions without a proxy record are
 * counted in the report's join stats, not listed here.
 *
 * Rows are written in batches as the join streams, so the export is bounded in memory too.
 */

export const JOINED_CSV_COLUMNS = [
  'proxy_file', 'proxy_line', 'proxy_request_id', 'apm_file', 'apm_line', 'method', 'path',
  'proxy_time_s', 'upstream_time_s', 'apm_duration_s', 'offset_ms', 'confidence', 'join_method',
] as const;

const BATCH_ROWS = 4096;

/**
 * Spreadsheets run a cell starting with = + - @ (or tab / CR) as a formula; a leading ' keeps
 * it text (OWASP "CSV injection"). Only strings from the logs are neutralised: the numbers are
 * ours, and a negative offset must stay a number.
 */
export function neutraliseCell(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

const seconds = (ms: number | null | undefined): number | '' => (ms === null || ms === undefined ? '' : Math.round(ms) / 1000);

export function joinedRow(request: JoinedRequest): (string | number)[] | null {
  const proxy = request.proxy;
  if (proxy === null) return null;
  const apm = request.apm;
  return [
    neutraliseCell(proxy.file), proxy.line, neutraliseCell(proxy.requestId ?? ''),
    neutraliseCell(apm?.file ?? ''), apm?.line ?? '',
    neutraliseCell(proxy.method ?? ''), neutraliseCell(proxy.path ?? ''),
    seconds(proxy.requestTimeMs), seconds(proxy.upstreamTimeMs), apm ? Math.round(apm.durationMs) / 1000 : '',
    request.offsetMs === null ? '' : Math.round(request.offsetMs), apm ? request.confidence : '', request.method,
  ];
}

export class JoinedCsvExport implements JoinedObserver {
  private rows: (string | number)[][] = [];
  private readonly out: WriteStream;
  private failure: Error | null = null;

  constructor(path: string) {
    this.out = createWriteStream(path);
    this.out.on('error', (error) => { this.failure = error; });
    this.out.write(`${Papa.unparse([JOINED_CSV_COLUMNS as unknown as string[]], { newline: '\n' })}\n`);
  }

  observe(request: JoinedRequest): void {
    const row = joinedRow(request);
    if (row === null) return;
    this.rows.push(row);
    if (this.rows.length >= BATCH_ROWS) this.flush();
  }

  private flush(): void {
    if (this.rows.length === 0) return;
    this.out.write(`${Papa.unparse(this.rows, { newline: '\n' })}\n`);
    this.rows = [];
  }

  async close(): Promise<void> {
    this.flush();
    await new Promise<void>((resolve, reject) => {
      this.out.end(() => (this.failure ? reject(this.failure) : resolve()));
      this.out.once('error', reject);
    });
  }
}
