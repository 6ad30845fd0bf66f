import type { ApmTransaction } from '../model/records.js';

/**
 * APM transactions in the window by method, then path, each list in start order. Two levels
 * instead of one `${method} ${path}` string: the concatenated key was built and hashed afresh for
 * every proxy record, while a path string read from a log hashes once and keeps its hash.
 * Measured (test/bench/join.bench.ts, 200 k records): see the commit that introduced it.
 */
export class KeyIndex {
  private readonly byMethod = new Map<string, Map<string, ApmTransaction[]>>();

  get(method: string, path: string): ApmTransaction[] | undefined {
    return this.byMethod.get(method)?.get(path);
  }

  /** The list for a key, created when missing. */
  list(method: string, path: string): ApmTransaction[] {
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
