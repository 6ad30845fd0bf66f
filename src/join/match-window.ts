import type { ApmTransaction, JoinedRequest, ProxyRecord } from '../model/records.js';
import { lowerBound } from './clock-offset.js';
import { proxyJoinKey } from './keys.js';
import { NO_MATCH_COST, pairCost, proxyStartMs, startSigma } from './pair-cost.js';

/**
 * One-to-one matching of the proxy records of one time slice against the APM transactions
 * around them. Exact ids first; then every plausible pair becomes a weighted edge, and edges
 * are accepted best-first over the whole slice (not first-come), so a busy URL's requests do
 * not steal each other's partners.
 *
 * Confidence is a posterior: the pair's likelihood against every competing edge of either side
 * and the "no partner" alternative. Two equally good candidates give 0.5 at most.
 */

export interface ApmIndex {
  byKey: Map<string, ApmTransaction[]>;
  byTraceId: Map<string, ApmTransaction>;
  byRequestId: Map<string, ApmTransaction>;
  /** Transactions already joined (in this or an earlier slice). */
  taken: Set<ApmTransaction>;
}

export interface SliceResult {
  joined: JoinedRequest[];
  unmatched: ProxyRecord[];
  /** Best pairs refused because their confidence fell below the threshold. */
  lowConfidence: number;
}

interface Edge {
  proxy: number;
  apm: ApmTransaction;
  cost: number;
}

export function matchSlice(
  proxies: readonly ProxyRecord[],
  index: ApmIndex,
  offsetMs: number,
  baseSigmaMs: number,
  minConfidence: number,
): SliceResult {
  const joined: JoinedRequest[] = [];
  const unmatched: ProxyRecord[] = [];
  const pending: number[] = [];

  // 1. Exact joins on trace or request id.
  for (let i = 0; i < proxies.length; i++) {
    const proxy = proxies[i]!;
    const byId =
      (proxy.traceId !== null ? index.byTraceId.get(proxy.traceId) : undefined) ??
      (proxy.requestId !== null ? index.byRequestId.get(proxy.requestId) : undefined);
    if (byId && !index.taken.has(byId)) {
      index.taken.add(byId);
      joined.push({ proxy, apm: byId, method: 'id', confidence: 1, offsetMs: byId.startMs - proxyStartMs(proxy) });
    } else {
      pending.push(i);
    }
  }

  // 2. Candidate edges by key and time.
  const edges: Edge[] = [];
  const proxyMass = new Float64Array(proxies.length);
  const apmMass = new Map<ApmTransaction, number>();
  const reach = Math.sqrt(2 * NO_MATCH_COST);
  for (const i of pending) {
    const proxy = proxies[i]!;
    const key = proxyJoinKey(proxy);
    const list = key === null ? undefined : index.byKey.get(key);
    if (!list) continue;
    const start = proxyStartMs(proxy);
    const sigma = startSigma(proxy, baseSigmaMs);
    const from = start + offsetMs - reach * sigma;
    const to = start + offsetMs + reach * sigma;
    for (let j = lowerBound(list, from); j < list.length; j++) {
      const apm = list[j]!;
      if (apm.startMs > to) break;
      if (index.taken.has(apm)) continue;
      const cost = pairCost(proxy, start, apm, offsetMs, sigma);
      if (cost >= NO_MATCH_COST) continue;
      edges.push({ proxy: i, apm, cost });
      const weight = Math.exp(-cost);
      proxyMass[i]! += weight;
      apmMass.set(apm, (apmMass.get(apm) ?? 0) + weight);
    }
  }

  // 3. Best edges first, one partner each.
  edges.sort((a, b) => a.cost - b.cost);
  // 0 = open, 1 = decided (joined or refused), 2 = joined.
  const proxyDone = new Uint8Array(proxies.length);
  const noMatchWeight = Math.exp(-NO_MATCH_COST);
  let lowConfidence = 0;
  for (const edge of edges) {
    if (proxyDone[edge.proxy] === 1 || index.taken.has(edge.apm)) continue;
    const weight = Math.exp(-edge.cost);
    const competing = proxyMass[edge.proxy]! + apmMass.get(edge.apm)! - weight;
    const confidence = weight / (competing + noMatchWeight);
    proxyDone[edge.proxy] = 1;
    if (confidence < minConfidence) {
      lowConfidence++;
      continue;
    }
    index.taken.add(edge.apm);
    proxyDone[edge.proxy] = 2;
    const proxy = proxies[edge.proxy]!;
    joined.push({
      proxy, apm: edge.apm, method: 'heuristic',
      confidence: Math.round(confidence * 1000) / 1000,
      offsetMs: edge.apm.startMs - proxyStartMs(proxy),
    });
  }
  for (const i of pending) {
    if (proxyDone[i] !== 2) unmatched.push(proxies[i]!);
  }
  return { joined, unmatched, lowConfidence };
}
