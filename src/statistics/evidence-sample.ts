import type { Evidence } from '../model/finding.js';
import type { LogRecord } from '../model/records.js';
import { ownString } from '../model/own-string.js';

/**
 * Keeps the `capacity` best-scoring evidence lines seen so far (highest score wins; ties keep
 * the earliest). Bounded, so a detector can offer every candidate without holding them all.
 */
export class EvidenceSample {
  private items: { score: number; evidence: Evidence }[] = [];

  constructor(private readonly capacity: number) {}

  /**
   * `note` may be a function, so callers on a per-request path build the text only for lines
   * that are kept (latency by route offers every request).
   */
  offer(record: LogRecord, score: number, note?: string | (() => string)): void {
    if (this.items.length >= this.capacity && score <= this.items[this.items.length - 1]!.score) return;
    const evidence: Evidence = { file: record.file, line: record.line, text: ownString(record.raw) };
    if (note !== undefined) evidence.note = typeof note === 'function' ? note() : note;
    this.items.push({ score, evidence });
    this.items.sort((a, b) => b.score - a.score);
    if (this.items.length > this.capacity) this.items.pop();
  }

  get size(): number {
    return this.items.length;
  }

  list(): Evidence[] {
    return this.items.map((item) => item.evidence);
  }
}
