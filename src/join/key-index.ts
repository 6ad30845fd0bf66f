import type { ApmTransaction } from '../model/records.js';
import { CONCRETE, compileTemplate, templateMatches, type CompiledTemplate, type KeyParts } from './keys.js';

/**
 * A transaction's place in the join window: every index (by key, by id, in start order) holds the
 * same slot, so being joined is a flag on it. A Set of taken transactions cost an identity hash
 * per record (add, has, delete: 10% of the join's CPU time in join.bench.ts).
 */
export interface ApmSlot {
  readonly apm: ApmTransaction;
  readonly startMs: number;
  /** The key list it is in (KeyIndex), or null when it has no key. */
  readonly key: KeyParts | null;
  taken: boolean;
  /** Scratch for grouping within one slice: which pass last saw the slot, and its node there. */
  mark: number;
  node: number;
}

export function apmSlot(apm: ApmTransaction, key: KeyParts | null = null): ApmSlot {
  return { apm, startMs: apm.startMs, key, taken: false, mark: 0, node: 0 };
}

/**
 * APM transactions in the window by kind (concrete path or route template, keys.ts), then path,
 * each list in start order. Two levels instead of one concatenated string: a key built afresh for
 * every proxy record was hashed afresh, while a path string read from a log hashes once and keeps
 * its hash. Measured (test/bench/join.bench.ts, 200 k records): see the commit that introduced it.
 *
 * A proxy that logs route templates (API Gateway `resourcePath`) looks up the concrete paths its
 * template matches: each concrete path is tested once per template, in order of first sight.
 */
export class KeyIndex {
  private readonly byKind = new Map<string, Map<string, ApmSlot[]>>();
  /** Concrete paths in order of first sight (again after being dropped), for templates to scan once each. */
  private pathLog: string[] = [];
  private readonly templateScans = new Map<string, { template: CompiledTemplate; scanned: number; paths: Set<string> }>();

  get(kind: string, path: string): ApmSlot[] | undefined {
    return this.byKind.get(kind)?.get(path);
  }

  /** The list for a key, created when missing. */
  list(kind: string, path: string): ApmSlot[] {
    let paths = this.byKind.get(kind);
    if (!paths) this.byKind.set(kind, (paths = new Map()));
    let list = paths.get(path);
    if (!list) {
      paths.set(path, (list = []));
      if (kind === CONCRETE) this.pathLog.push(path);
    }
    return list;
  }

  /** Concrete paths in the window (or recently in it) that the route template (a `*` pattern) matches. */
  concreteMatching(pattern: string): ReadonlySet<string> {
    let scan = this.templateScans.get(pattern);
    if (!scan) this.templateScans.set(pattern, (scan = { template: compileTemplate(pattern), scanned: 0, paths: new Set() }));
    const log = this.pathLog;
    for (; scan.scanned < log.length; scan.scanned++) {
      const path = log[scan.scanned]!;
      if (templateMatches(scan.template, path.split('/'))) scan.paths.add(path);
    }
    return scan.paths;
  }

  /**
   * Takes a transaction out of its key list as it leaves the window (it is at or near the head: lists
   * run in start order, and transactions leave in start order), and the list with it once empty.
   * Why at once: ApmWindow.expire says what the sweeps that did this before cost.
   */
  remove(slot: ApmSlot): void {
    const key = slot.key;
    if (key === null) return;
    const paths = this.byKind.get(key.kind);
    const list = paths?.get(key.path);
    if (paths === undefined || list === undefined) return;
    const at = list[0] === slot ? 0 : list.indexOf(slot);
    if (at < 0) return;
    if (list.length > 1) {
      list.splice(at, 1);
      return;
    }
    paths.delete(key.path);
    // Paths seen long ago: start the log and the templates' scans afresh from the paths left.
    const concrete = this.byKind.get(CONCRETE);
    if (this.pathLog.length > 4 * (concrete?.size ?? 0) + 10_000) {
      this.pathLog = concrete ? [...concrete.keys()] : [];
      this.templateScans.clear();
    }
  }
}
