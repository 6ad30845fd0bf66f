import type { ParseIssue, ParseIssueCode } from './parse-issue.js';

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
  /** Doubts about the file as a whole (not skipped lines): e.g. durations in an unexpected unit. */
  warnings: ParseIssue[];
  /** The container runtime's wrapper its lines were read out of (src/lines/container-log.ts), when they had one. */
  container?: ContainerWrapper;
}

/** A line wrapper: CRI (containerd, CRI-O), Docker's json-file driver, the times `docker logs --timestamps` puts before each line, or a syslog header. */
export type ContainerWrapper = 'cri' | 'docker-json' | 'timestamps' | 'syslog';

/** How outputs name each wrapper. */
export const CONTAINER_WRAPPER_NAMES: Readonly<Record<ContainerWrapper, string>> = {
  // The same prefix as a CloudWatch Logs export's lines (`2025-01-15T10:32:01.123Z {json}`): a CloudWatch export was named "docker logs".
  cri: 'CRI container log', 'docker-json': 'Docker json-file', timestamps: 'time-prefixed (`docker logs --timestamps`, a CloudWatch Logs export)',
  syslog: 'syslog (a file syslog wrote, `journalctl`)',
};

export const ISSUE_EXAMPLES_PER_FILE = 5;

export function emptyFileStats(file: string): FileStats {
  return {
    file, format: null, kind: null, linesRead: 0, records: 0, skipped: 0, ignored: 0,
    issuesByCode: {}, firstIssues: [], lateRecords: 0, firstTimeMs: null, lastTimeMs: null, error: null, undetected: null, warnings: [],
  };
}

/** The format a file was read as, as people read it: with the container wrapper it came in, if any. */
export function formatLabel(stats: FileStats): string | null {
  if (stats.format === null || stats.container === undefined) return stats.format;
  return `${stats.format} in ${CONTAINER_WRAPPER_NAMES[stats.container]} lines`;
}

/** The one thing to say about a file next to its counts: why it failed, or what is doubtful. */
export function fileProblem(stats: FileStats): string | null {
  return stats.error ?? stats.undetected ?? stats.warnings[0]?.message ?? null;
}

/**
 * A file-level doubt, kept once per kind (code and field): a file read in byte ranges has each
 * range's parser say it again, and the first (in file order) is the one to show.
 */
export function noteWarning(stats: FileStats, warning: ParseIssue): void {
  if (stats.warnings.length >= ISSUE_EXAMPLES_PER_FILE) return;
  if (stats.warnings.some((kept) => kept.code === warning.code && kept.field === warning.field)) return;
  stats.warnings.push(warning);
}

export function countIssue(stats: FileStats, issue: ParseIssue): void {
  stats.skipped++;
  stats.issuesByCode[issue.code] = (stats.issuesByCode[issue.code] ?? 0) + 1;
  if (stats.firstIssues.length < ISSUE_EXAMPLES_PER_FILE) stats.firstIssues.push(issue);
}
