import type { ApmTransaction } from '../model/records.js';

/**
 * A transaction's place in the join window: every index (by key, by id, in start order) holds the
 * same slot, so being joined is a flag on it. A Set of taken transactions cost an identity hash
 * per record (add, has, delete: 10% of the join's CPU time in join.bench.ts).
 */
export interface ApmSlot {
  readonly apm: ApmTransaction;
  readonly startMs: number;
  taken: boolean;
  /** Scratch for grouping within one slice: which pass last saw the slot, and its node there. */
  mark: number;
  node: number;
}

export function apmSlot(apm: ApmTransaction): ApmSlot {
  return { apm, startMs: apm.startMs, taken: false, mark: 0, node: 0 };
}

/**
 * APM transactions in the window by method, then path, each list in start order. Two levels
 * instead of one `${method} ${path}` string: the concatenated key was built and hashed afresh for
 * every proxy record, while a path string read from a log hashes once and keeps its hash.
 * Measured (test/bench/join.bench.ts, 200 k records): see the commit that introduced it.
 */
export class KeyIndex {
  private readonly byMethod = new Map<string, Map<string, ApmSlot[]>>();

  get(method: string, path: string): ApmSlot[] | undefined {
    return this.byMethod.get(method)?.get(path);
  }

  /** The list for a key, created when missing. */
  list(method: string, path: string): ApmSlot[] {
    let paths = this.byMethod.get(method);
    if (!paths) this.byMethod.set(method, (paths = new Map()));
    let list = paths.get(path);
    if (!list) paths.set(path, (list = []));
    return list;
  }

  /** Drops transactions that started before `time` from every list, and lists left empty. */
  dropBefore(time: number): void {
    for (const [method, paths] of this.byMethod) {
      for (const [path, list] of paths) {
        let drop = 0;
        while (drop < list.length && list[drop]!.startMs < time) drop++;
        if (drop === list.length) paths.delete(path);
        else if (drop > 0) list.splice(0, drop);
      }
      if (paths.size === 0) this.byMethod.delete(method);
    }
  }
}
