import { createWriteStream, type WriteStream } from 'node:fs';
import Papa from 'papaparse';
import type { JoinedRequest } from '../src/model/records.js';
import type { JoinedObserver } from '../src/pipeline/analyze.js';
import { replaceControlCharacters } from './control-characters.js';

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
  // What names the transaction where its line does not: a JSON export of one line holds every
  // span on line 1 (a Datadog Spans API answer, a Tempo trace).
  'apm_start', 'apm_trace_id', 'apm_request_id',
] as const;

const BATCH_ROWS = 4096;

/**
 * Spreadsheets run a cell starting with = + - @ (or tab / CR) as a formula; papaparse's
 * escapeFormulae prefixes such text cells with ' (OWASP "CSV injection") and leaves numbers
 * alone, so a negative offset stays a number. Our own pattern, not papaparse's default
 * `/^[=+\-@\t\r].*$/`, which misses a cell holding a newline after the formula.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * CSV text for rows (no trailing newline), formula-neutralised, with log text's control characters
 * replaced as in every other report (a NUL or an ESC sequence from a path is no cell content a
 * spreadsheet or a terminal `cat` should get).
 */
export function csvLines(rows: readonly (readonly (string | number)[])[]): string {
  const clean = rows.map((row) => row.map((cell) => (typeof cell === 'string' ? replaceControlCharacters(cell) : cell)));
  return Papa.unparse(clean, { newline: '\n', escapeFormulae: FORMULA_START });
}

const seconds = (ms: number | null | undefined): number | '' => (ms === null || ms === undefined ? '' : Math.round(ms) / 1000);

export function joinedRow(request: JoinedRequest): (string | number)[] | null {
  const proxy = request.proxy;
  if (proxy === null) return null;
  const apm = request.apm;
  return [
    proxy.file, proxy.line, proxy.requestId ?? '',
    apm?.file ?? '', apm?.line ?? '',
    proxy.method ?? '', proxy.path ?? '',
    seconds(proxy.requestTimeMs), seconds(proxy.upstreamTimeMs), apm ? Math.round(apm.durationMs) / 1000 : '',
    request.offsetMs === null ? '' : Math.round(request.offsetMs), apm ? request.confidence : '', request.method,
    apm ? new Date(apm.startMs).toISOString() : '', apm?.traceId ?? '', apm?.requestId ?? '',
  ];
}

export class JoinedCsvExport implements JoinedObserver {
  private rows: (string | number)[][] = [];
  private readonly out: WriteStream;
  private failure: Error | null = null;

  constructor(path: string) {
    this.out = createWriteStream(path);
    this.out.on('error', (error) => { this.failure = error; });
    this.out.write(`${csvLines([JOINED_CSV_COLUMNS])}\n`);
  }

  observe(request: JoinedRequest): void {
    const row = joinedRow(request);
    if (row === null) return;
    this.rows.push(row);
    if (this.rows.length >= BATCH_ROWS) this.flush();
  }

  private flush(): void {
    if (this.rows.length === 0) return;
    this.out.write(`${csvLines(this.rows)}\n`);
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
