/**
 * Exact one-to-one assignment for a small connected group of candidate pairs, by enumerating every
 * consistent matching (each proxy takes one free transaction or none). It yields the most likely
 * matching and, for each pair, its exact posterior: the likelihood of all matchings containing it
 * over the likelihood of all matchings.
 *
 * Why: the best-edge-first approximation divides a pair's weight by every competing edge, even
 * competitors that could only win together with an impossible partner swap, so on busy URLs it
 * refuses pairs that are in fact clear. Measured on join-scenarios (ms timestamps, 100 req/s on one
 * URL, ±2 s skew): recall 0.940 → 0.986 at precision 0.998 (README "Join quality").
 * The state count is capped; larger groups fall back to the greedy approximation.
 */

export interface LocalEdge {
  proxy: number;
  apm: number;
  weight: number;
}

/**
 * A factor on two choices made together, for what single pairs cannot say: two log lines of one
 * second whose partners would have ended in the reverse order (line-order.ts). 1 when unrelated.
 */
export type JointFactor = (proxyA: number, edgeA: number, proxyB: number, edgeB: number) => number;

export interface ExactResult {
  /** Edge index chosen for each proxy, -1 for none. */
  best: Int32Array;
  /** Posterior of every edge. */
  posterior: Float64Array;
}

export function exactAssignment(
  proxyCount: number,
  apmCount: number,
  edges: readonly LocalEdge[],
  noMatchWeight: number,
  maxLeaves: number,
  joint: JointFactor | null = null,
): ExactResult | null {
  const byProxy: number[][] = Array.from({ length: proxyCount }, () => []);
  edges.forEach((edge, i) => byProxy[edge.proxy]!.push(i));
  const used = new Uint8Array(apmCount);
  const path = new Int32Array(proxyCount).fill(-1);
  const best = new Int32Array(proxyCount).fill(-1);
  const mass = new Float64Array(edges.length);
  let total = 0;
  let bestWeight = -1;
  let leaves = 0;

  function visit(proxy: number, weight: number): boolean {
    if (proxy === proxyCount) {
      if (++leaves > maxLeaves) return false;
      total += weight;
      for (let p = 0; p < proxyCount; p++) if (path[p]! >= 0) mass[path[p]!]! += weight;
      if (weight > bestWeight) {
        bestWeight = weight;
        best.set(path);
      }
      return true;
    }
    path[proxy] = -1;
    if (!visit(proxy + 1, weight * noMatchWeight)) return false;
    for (const e of byProxy[proxy]!) {
      const edge = edges[e]!;
      if (used[edge.apm]) continue;
      let factor = edge.weight;
      if (joint !== null) for (let p = 0; p < proxy; p++) if (path[p]! >= 0) factor *= joint(p, path[p]!, proxy, e);
      used[edge.apm] = 1;
      path[proxy] = e;
      const ok = visit(proxy + 1, weight * factor);
      used[edge.apm] = 0;
      path[proxy] = -1;
      if (!ok) return false;
    }
    return true;
  }

  if (!visit(0, 1)) return null;
  const posterior = new Float64Array(edges.length);
  for (let e = 0; e < edges.length; e++) posterior[e] = mass[e]! / total;
  return { best, posterior };
}
