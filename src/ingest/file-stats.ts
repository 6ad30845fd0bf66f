import type { ParseIssue, ParseIssueCode } from '../model/parse-issue.js';

/**
 * What a run says about each input. For line formats, read = records + skipped + ignored, always.
 * Document formats (JSON exports) may hold several records on one line, so there records can
 * exceed lines; every line is still counted once as read.
 */
export interface FileStats {
  file: string;
  /** Format id used, or null when none fitted. */
  format: string | null;
  kind: 'proxy' | 'apm' | null;
  linesRead: number;
  records: number;
  /** Lines that should have been records and were not (each has a ParseIssue). */
  skipped: number;
  /** Blank lines, headers, continuation lines: not records by design. */
  ignored: number;
  issuesByCode: Partial<Record<ParseIssueCode, number>>;
  /** The first few issues, as examples (file:line and a short sample). */
  firstIssues: ParseIssue[];
  /** Records that arrived too far out of time order for the join window. */
  lateRecords: number;
  firstTimeMs: number | null;
  lastTimeMs: number | null;
  /** Set when the file could not be read to the end (I/O error, truncated gzip). */
  error: string | null;
  /** Set when no format fitted the file's first lines: says which came closest and why not. */
  undetected: string | null;
}

export const ISSUE_EXAMPLES_PER_FILE = 5;

export function emptyFileStats(file: string): FileStats {
  return {
    file, format: null, kind: null, linesRead: 0, records: 0, skipped: 0, ignored: 0,
    issuesByCode: {}, firstIssues: [], lateRecords: 0, firstTimeMs: null, lastTimeMs: null, error: null, undetected: null,
  };
}

export function countIssue(stats: FileStats, issue: ParseIssue): void {
  stats.skipped++;
  stats.issuesByCode[issue.code] = (stats.issuesByCode[issue.code] ?? 0) + 1;
  if (stats.firstIssues.length < ISSUE_EXAMPLES_PER_FILE) stats.firstIssues.push(issue);
}
