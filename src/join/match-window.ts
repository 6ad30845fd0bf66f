import type { ApmTransaction, JoinedRequest, ProxyRecord } from '../model/records.js';
import { lowerBound } from './clock-offset.js';
import { exactAssignment, type JointFactor, type LocalEdge } from './exact-assignment.js';
import type { ApmSlot, KeyIndex } from './key-index.js';
import { endMark, inversionCost, lineOrderCost, orderable, orderGroup, type EndBounds } from './line-order.js';
import { CONCRETE, normalisePath, TEMPLATE, templatePattern, type RouteTemplates } from './keys.js';
import { offsetAt, type OffsetModel } from './offset-tracker.js';
import { EARLY_REACH_MS, MAX_QUEUE_WAIT_MS, NO_MATCH_COST, pairCost, proxyStartMs, secondLookCost, secondLookLateReach, startSigma, type TimingModel } from './pair-cost.js';

/**
 * One-to-one matching of the proxy records of one time slice against the APM transactions
 * around them. Exact ids first; then every plausible pair becomes a weighted edge, and the edges
 * fall into connected groups (records that compete for the same partners). Small groups are
 * solved exactly (exact-assignment.ts: the most likely matching, each pair's exact posterior as its
 * confidence); larger ones best edge first, with the pair's weight against every competing edge
 * of either side and the "no partner" alternative as its confidence. Either way two equally good
 * candidates give 0.5 at most, and pairs below the threshold stay unjoined.
 */

export interface ApmIndex {
  byKey: KeyIndex;
  /** Several transactions may share an id (retries, one trace through several services). */
  byTraceId: Map<string, ApmSlot[]>;
  byRequestId: Map<string, ApmSlot[]>;
  /** Transactions in the window keyed by route template; proxy paths are reduced to templates only when some are. */
  templated: number;
  templates: RouteTemplates;
}

export interface SliceResult {
  joined: JoinedRequest[];
  unmatched: ProxyRecord[];
  /** Best pairs refused because their confidence fell below the threshold. */
  lowConfidence: number;
}

interface Edge {
  proxy: number;
  slot: ApmSlot;
  cost: number;
}

export interface MatchOptions {
  /** Solve small groups exactly (default); false: best edge first everywhere. */
  exact?: boolean;
  /** A rehearsal: everything taken is released again before returning, so the slice can be matched for real after. */
  rehearsal?: boolean;
  /** Where line order narrows whole-second stamps (line-order.ts), from a rehearsal's sure pairs. */
  bounds?: EndBounds | null;
}

export function matchSlice(
  proxies: readonly ProxyRecord[],
  index: ApmIndex,
  model: OffsetModel,
  timing: TimingModel,
  minConfidence: number,
  { exact = true, rehearsal = false, bounds = null }: MatchOptions = {},
): SliceResult {
  const commit = !rehearsal;
  const joined: JoinedRequest[] = [];
  const takenHere: ApmSlot[] = [];
  const take = (slot: ApmSlot): void => {
    slot.taken = true;
    if (!commit) takenHere.push(slot);
  };
  const unmatched: ProxyRecord[] = [];
  const pending: number[] = [];

  // 1. Exact joins on trace or request id, whatever the time difference inside the window.
  for (let i = 0; i < proxies.length; i++) {
    const proxy = proxies[i]!;
    const start = proxyStartMs(proxy);
    const expected = start + offsetAt(model, start);
    const byId =
      (proxy.traceId !== null ? nearestFree(index.byTraceId.get(proxy.traceId), expected) : undefined) ??
      (proxy.requestId !== null ? nearestFree(index.byRequestId.get(proxy.requestId), expected) : undefined);
    if (byId) {
      take(byId);
      joined.push({ proxy, apm: byId.apm, method: 'id', confidence: 1, offsetMs: byId.startMs - start });
    } else {
      pending.push(i);
    }
  }

  // 2. Candidate edges by path and time; every other field both sides carry weighs in pairCost.
  const edges: Edge[] = [];
  const reach = Math.sqrt(2 * NO_MATCH_COST);
  const lists: (readonly ApmSlot[])[] = [];
  /** Records without a single candidate at the first look. */
  const lonely: number[] = [];
  for (const i of pending) {
    const proxy = proxies[i]!;
    if (proxy.path === null) continue;
    const start = proxyStartMs(proxy);
    const offsetMs = offsetAt(model, start);
    const sigma = startSigma(proxy, timing.startSigmaMs);
    const from = start + offsetMs - reach * sigma;
    // A whole-second stamp of an answered request hides any wait for a worker, which starts the
    // transaction up to the whole upstream time late (coarseAnsweredCost places its end instead).
    const to = start + offsetMs + reach * sigma + (orderable(proxy) ? Math.min(proxy.upstreamTimeMs!, MAX_HIDDEN_WAIT_MS) : 0);
    candidateLists(proxy, index, lists);
    const before = edges.length;
    for (const list of lists) addEdges(edges, list, i, proxy, start, offsetMs, sigma, from, to, timing, pairCost, bounds);
    // Nothing at the expected time: the request may have waited for a backend worker, so look up to
    // a queue wait later (see pairCost). Only then: searching that far for every record made the
    // join 50% slower on busy URLs, where the expected time has candidates anyway.
    if (edges.length === before && proxy.timeResolutionMs <= 10) {
      for (const list of lists) addEdges(edges, list, i, proxy, start, offsetMs, sigma, to, to + MAX_QUEUE_WAIT_MS, timing, pairCost, bounds);
    }
    // Only a record that can have a witness (secondLookCost) gets a second look.
    if (edges.length === before && (proxy.userAgent !== null || proxy.apiKey !== null)) lonely.push(i);
  }

  // 3. Connected groups of candidate pairs: small ones exactly, large ones best edge first.
  // 0 = open, 1 = decided (joined or refused), 2 = joined.
  const proxyDone = new Uint8Array(proxies.length);
  const noMatchWeight = Math.exp(-NO_MATCH_COST);
  let lowConfidence = 0;
  const accept = (edge: Edge, confidence: number): void => {
    proxyDone[edge.proxy] = 1;
    if (confidence < minConfidence) {
      lowConfidence++;
      return;
    }
    take(edge.slot);
    proxyDone[edge.proxy] = 2;
    const proxy = proxies[edge.proxy]!;
    joined.push({
      proxy, apm: edge.slot.apm, method: 'heuristic',
      confidence: Math.round(confidence * 1000) / 1000,
      offsetMs: edge.slot.startMs - proxyStartMs(proxy),
    });
  };
  const assign = (candidates: Edge[]): void => {
    const { singles, groups } = components(candidates, proxies.length);
    for (const edge of singles) {
      const weight = Math.exp(-edge.cost);
      accept(edge, weight / (weight + noMatchWeight));
    }
    for (const group of groups) {
      if (exact && solveExactly(group, proxies, bounds, accept, noMatchWeight)) continue;
      // Too large to enumerate: best edge first, confidence against every competing edge.
      const proxyMass = new Map<number, number>();
      const apmMass = new Map<ApmSlot, number>();
      for (const edge of group) {
        const weight = Math.exp(-edge.cost);
        proxyMass.set(edge.proxy, (proxyMass.get(edge.proxy) ?? 0) + weight);
        apmMass.set(edge.slot, (apmMass.get(edge.slot) ?? 0) + weight);
      }
      group.sort((a, b) => a.cost - b.cost);
      for (const edge of group) {
        if (proxyDone[edge.proxy] !== 0 || edge.slot.taken) continue;
        const weight = Math.exp(-edge.cost);
        const competing = proxyMass.get(edge.proxy)! + apmMass.get(edge.slot)! - weight;
        accept(edge, weight / (competing + noMatchWeight));
      }
    }
  };
  assign(edges);

  // 4. A second look for records that had no candidate at all: timing outliers (a stall of tens of
  // ms, a wait for a worker that whole-second stamps cannot show) against the transactions still
  // free, with heavy tails and credit for agreeing fields (secondLookCost). Only then, so that on
  // busy URLs the wide window never dilutes the first look's clear pairs.
  if (lonely.length > 0) {
    const second: Edge[] = [];
    for (const i of lonely) {
      const proxy = proxies[i]!;
      const start = proxyStartMs(proxy);
      const offsetMs = offsetAt(model, start);
      const sigma = startSigma(proxy, timing.startSigmaMs);
      const near = (proxy.timeResolutionMs > 10 ? proxy.timeResolutionMs / 2 : 0) + Math.max(reach * sigma, EARLY_REACH_MS);
      candidateLists(proxy, index, lists);
      for (const list of lists) {
        addEdges(second, list, i, proxy, start, offsetMs, sigma, start + offsetMs - near, start + offsetMs + near + secondLookLateReach(proxy), timing, secondLookCost, bounds);
      }
    }
    assign(second);
  }
  for (const i of pending) {
    if (proxyDone[i] !== 2) unmatched.push(proxies[i]!);
  }
  if (!commit) for (const slot of takenHere) slot.taken = false;
  return { joined, unmatched, lowConfidence };
}

/**
 * The APM lists a proxy record may find its partner in: its concrete path; the route template it
 * reduces to, when the export keys some transactions by template; and when the proxy logged a
 * template itself (API Gateway `resourcePath`), every concrete path it matches and that template.
 */
function candidateLists(proxy: ProxyRecord, index: ApmIndex, out: (readonly ApmSlot[])[]): void {
  out.length = 0;
  const path = proxy.path!;
  if (path.includes('{') || path.includes('/:')) {
    const pattern = templatePattern(normalisePath(path));
    for (const concrete of index.byKey.concreteMatching(pattern)) {
      const list = index.byKey.get(CONCRETE, concrete);
      if (list) out.push(list);
    }
    const templated = index.byKey.get(TEMPLATE, pattern);
    if (templated) out.push(templated);
    return;
  }
  // Most paths are already normal: look up as logged first, normalise only on a miss
  // (normalising every path was 3% of the join's CPU time, join.bench.ts).
  const list = index.byKey.get(CONCRETE, path) ?? index.byKey.get(CONCRETE, normalisePath(path));
  if (list) out.push(list);
  if (index.templated > 0) {
    const template = index.templates.proxyTemplatePath(proxy);
    const templated = template === null ? undefined : index.byKey.get(TEMPLATE, template);
    if (templated) out.push(templated);
  }
}

function addEdges(
  edges: Edge[], list: readonly ApmSlot[], i: number, proxy: ProxyRecord, start: number, offsetMs: number,
  sigma: number, from: number, to: number, timing: TimingModel, costOf: typeof pairCost, bounds: EndBounds | null,
): void {
  for (let j = lowerBound(list, from); j < list.length; j++) {
    const slot = list[j]!;
    if (slot.startMs > to) break;
    if (slot.taken || idsDisagree(proxy, slot.apm)) continue;
    let cost = costOf(proxy, start, slot.apm, offsetMs, sigma, timing);
    if (bounds !== null && cost < NO_MATCH_COST) cost += lineOrderCost(bounds, i, proxy, slot.apm);
    if (cost < NO_MATCH_COST) edges.push({ proxy: i, slot, cost });
  }
}

/** Of the transactions sharing an id, the free one whose start is nearest the expected time. */
function nearestFree(list: readonly ApmSlot[] | undefined, expectedMs: number): ApmSlot | undefined {
  if (list === undefined) return undefined;
  let best: ApmSlot | undefined;
  let bestDistance = Infinity;
  for (const transaction of list) {
    if (transaction.taken) continue;
    const distance = Math.abs(transaction.startMs - expectedMs);
    if (distance < bestDistance) {
      best = transaction;
      bestDistance = distance;
    }
  }
  return best;
}

/** Both sides carry an id of the same kind and they differ: certainly two requests. */
function idsDisagree(proxy: ProxyRecord, apm: ApmTransaction): boolean {
  return (proxy.traceId !== null && apm.traceId !== null && proxy.traceId !== apm.traceId) ||
    (proxy.requestId !== null && apm.requestId !== null && proxy.requestId !== apm.requestId);
}

/**
 * Groups of edges connected through a shared proxy or transaction (union-find over integer ids:
 * proxies by slice index, transactions numbered on first sight). Most groups are one edge, and
 * those are returned without building a group map. Measured (join.bench.ts, 200 k): the first
 * version, with a Map per node kind and closures, was 15% of the join's CPU time.
 *
 * So a slot's `mark` and `node` are scratch space for one pass, told apart from older passes'
 * by a stamp that grows per pass. Safe: a pass runs synchronously from start to end, so two
 * passes never interleave (each worker thread has its own module and its own slots).
 */
let passStamp = 0;

function components(edges: readonly Edge[], proxyCount: number): { singles: Edge[]; groups: Edge[][] } {
  const stamp = ++passStamp;
  const parent = new Int32Array(proxyCount + edges.length);
  for (let i = 0; i < proxyCount; i++) parent[i] = i;
  let next = proxyCount;
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]!]!;
      x = parent[x]!;
    }
    return x;
  };
  for (const edge of edges) {
    const slot = edge.slot;
    if (slot.mark !== stamp) {
      slot.mark = stamp;
      slot.node = next++;
      parent[slot.node] = slot.node;
    }
    const a = slot.node;
    const rootA = find(a);
    const rootP = find(edge.proxy);
    if (rootA !== rootP) parent[rootA] = rootP;
  }
  const size = new Int32Array(next);
  const roots = new Int32Array(edges.length);
  for (let e = 0; e < edges.length; e++) size[(roots[e] = find(edges[e]!.proxy))]!++;
  // Lone edges go in one list, not an array each: fewer allocations for the commonest case.
  const singles: Edge[] = [];
  const multi = new Map<number, Edge[]>();
  for (let e = 0; e < edges.length; e++) {
    const edge = edges[e]!;
    const root = roots[e]!;
    if (size[root] === 1) {
      singles.push(edge);
      continue;
    }
    const group = multi.get(root);
    if (group) group.push(edge);
    else multi.set(root, [edge]);
  }
  return { singles, groups: [...multi.values()] };
}

/** The longest wait for a worker searched for behind a whole-second stamp, ms. */
const MAX_HIDDEN_WAIT_MS = 5_000;

const MAX_EXACT_PROXIES = 12;
const MAX_EXACT_LEAVES = 20_000;

/** Solves one group exactly; false when it is too large (the caller then goes greedy). */
function solveExactly(group: readonly Edge[], proxies: readonly ProxyRecord[], bounds: EndBounds | null, accept: (edge: Edge, confidence: number) => void, noMatchWeight: number): boolean {
  const proxyIds = new Map<number, number>();
  const local: LocalEdge[] = [];
  const stamp = ++passStamp;
  let apmCount = 0;
  for (const edge of group) {
    let p = proxyIds.get(edge.proxy);
    if (p === undefined) proxyIds.set(edge.proxy, (p = proxyIds.size));
    const slot = edge.slot;
    if (slot.mark !== stamp) {
      slot.mark = stamp;
      slot.node = apmCount++;
    }
    const a = slot.node;
    local.push({ proxy: p, apm: a, weight: Math.exp(-edge.cost) });
  }
  if (proxyIds.size > MAX_EXACT_PROXIES) return false;
  const result = exactAssignment(proxyIds.size, apmCount, local, noMatchWeight, MAX_EXACT_LEAVES, bounds === null ? null : lineOrderFactor(group, proxies, proxyIds.size));
  if (result === null) return false;
  for (let p = 0; p < result.best.length; p++) {
    const e = result.best[p]!;
    if (e >= 0) accept(group[e]!, result.posterior[e]!);
  }
  return true;
}

/**
 * Two lines of one file and one whole-second stamp were written in end order, so their partners'
 * end marks should be in that order too (line-order.ts); null when no two such lines share the group.
 * Local proxy ids are numbered in order of first edge, so edge `e` of the group belongs to local proxy `p`.
 */
function lineOrderFactor(group: readonly Edge[], proxies: readonly ProxyRecord[], proxyCount: number): JointFactor | null {
  if (proxyCount < 2) return null;
  const keys = new Map<string, number>();
  let shared = false;
  for (const edge of group) {
    const key = orderGroup(proxies[edge.proxy]!);
    if (key === null) continue;
    const seen = keys.get(key);
    if (seen !== undefined && seen !== edge.proxy) shared = true;
    keys.set(key, edge.proxy);
  }
  if (!shared) return null;
  const marks = group.map((edge) => endMark(proxies[edge.proxy]!, edge.slot.apm));
  return (_a, edgeA, _b, edgeB) => {
    const a = proxies[group[edgeA]!.proxy]!;
    const b = proxies[group[edgeB]!.proxy]!;
    if (a.endMs !== b.endMs || a.file !== b.file || !orderable(a) || !orderable(b)) return 1;
    const [first, second] = a.line < b.line ? [edgeA, edgeB] : [edgeB, edgeA];
    return Math.exp(-inversionCost(marks[first]! - marks[second]!));
  };
}
