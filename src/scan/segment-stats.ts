import { emptyFileStats, ISSUE_EXAMPLES_PER_FILE, type FileStats } from '../model/file-stats.js';

/**
 * Per-file counters travel with spooled records (as a segment's trailer) and are added up per
 * window on replay, so a window's report says what its files read, parsed and skipped.
 */
export function addFileStats(into: FileStats, add: FileStats): void {
  into.format ??= add.format;
  if (add.container !== undefined) into.container ??= add.container;
  into.kind ??= add.kind;
  into.linesRead += add.linesRead;
  into.records += add.records;
  into.skipped += add.skipped;
  into.ignored += add.ignored;
  for (const [code, n] of Object.entries(add.issuesByCode)) {
    const key = code as keyof FileStats['issuesByCode'];
    into.issuesByCode[key] = (into.issuesByCode[key] ?? 0) + (n ?? 0);
  }
  for (const issue of add.firstIssues) if (into.firstIssues.length < ISSUE_EXAMPLES_PER_FILE) into.firstIssues.push(issue);
  into.lateRecords += add.lateRecords;
  if (add.firstTimeMs !== null && (into.firstTimeMs === null || add.firstTimeMs < into.firstTimeMs)) into.firstTimeMs = add.firstTimeMs;
  if (add.lastTimeMs !== null && (into.lastTimeMs === null || add.lastTimeMs > into.lastTimeMs)) into.lastTimeMs = add.lastTimeMs;
  into.error ??= add.error;
  into.undetected ??= add.undetected;
}

/** Sums stats by file name; sorted by name so every replay of the same records reports alike. */
export class StatsByFile {
  private readonly byFile = new Map<string, FileStats>();

  add(stats: FileStats): void {
    let into = this.byFile.get(stats.file);
    if (!into) this.byFile.set(stats.file, (into = emptyFileStats(stats.file)));
    addFileStats(into, stats);
  }

  list(): FileStats[] {
    return [...this.byFile.values()].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  }
}
