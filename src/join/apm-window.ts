import type { ApmTransaction, JoinedRequest } from '../model/records.js';
import type { JoinStats } from './join-stats.js';
import { apmSlot, KeyIndex, type ApmSlot } from './key-index.js';
import { apmKeyParts, apmTemplate, RouteTemplates, TEMPLATE } from './keys.js';
import type { ApmIndex } from './match-window.js';

/**
 * The APM side of the join window: the transactions a proxy record may still claim, in start
 * order, and the indexes matching finds them by (key, trace id, request id; match-window.ts).
 * Transactions leave from the head once no proxy record can reach them, from every index at once;
 * the start-order array is compacted only when at least half of it is empty, so leaving costs O(1)
 * per transaction.
 */
export class ApmWindow {
  readonly index: ApmIndex;
  /** The newest start time seen. */
  watermark = -Infinity;
  /** The earliest start time seen. */
  firstStart = Infinity;
  /** Whether any transaction carried an id: those stay findable by id for --max-skew, beyond the heuristic reach. */
  idsSeen = false;
  /** In start order from `head`; places before it are emptied as their transactions leave. */
  private readonly slots: (ApmSlot | undefined)[] = [];
  private head = 0;

  constructor(routeTemplates: readonly string[] | undefined, private readonly stats: JoinStats) {
    this.index = {
      byKey: new KeyIndex(), byTraceId: new Map(), byRequestId: new Map(),
      templated: 0, templates: new RouteTemplates(routeTemplates),
    };
  }

  /** Transactions in the window. */
  get size(): number {
    return this.slots.length - this.head;
  }

  /** Transactions in the window that start at or after `startMs`. */
  countFrom(startMs: number): number {
    let low = this.head;
    let high = this.slots.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.slots[mid]!.startMs < startMs) low = mid + 1;
      else high = mid;
    }
    return this.slots.length - low;
  }

  /** The transactions in the window, in start order (for the clock-offset estimate). */
  transactions(): ApmTransaction[] {
    return this.slots.slice(this.head).map((slot) => slot!.apm);
  }

  add(transaction: ApmTransaction): void {
    const { stats, index } = this;
    const sameTrace = transaction.traceId === null ? undefined : index.byTraceId.get(transaction.traceId);
    if (nestedInAnother(sameTrace, transaction)) {
      stats.apmNestedSpans++;
      return;
    }
    // The outer span may come after its inner ones (an export in document order: highlight's
    // sample lists a request's loopback calls before the request): those still free are left out now.
    if (sameTrace !== undefined) {
      for (const slot of sameTrace) {
        if (slot.taken || !nestedIn(transaction, slot.apm)) continue;
        slot.taken = true;
        stats.apmRecords--;
        stats.apmNestedSpans++;
      }
    }
    stats.apmRecords++;
    this.firstStart = Math.min(this.firstStart, transaction.startMs);
    const key = apmKeyParts(transaction);
    const slot = apmSlot(transaction, key);
    if (transaction.startMs >= this.watermark || this.slots.length === this.head) {
      this.slots.push(slot);
    } else {
      stats.apmOutOfOrder[transaction.file] = (stats.apmOutOfOrder[transaction.file] ?? 0) + 1;
      insertSorted(this.slots, this.head, slot);
    }
    this.watermark = Math.max(this.watermark, transaction.startMs);
    if (key !== null) {
      if (key.kind === TEMPLATE) {
        index.templated++;
        // The export's own templates reduce proxy paths whose ids do not look like ids (`/pets/fluffy`).
        if (!index.templates.has(key.path)) index.templates.add(apmTemplate(transaction) ?? key.path);
      }
      const list = index.byKey.list(key.kind, key.path);
      if (list.length === 0 || list[list.length - 1]!.startMs <= transaction.startMs) list.push(slot);
      else insertSorted(list, 0, slot);
    }
    if (transaction.traceId !== null) this.addId(index.byTraceId, transaction.traceId, slot);
    if (transaction.requestId !== null) this.addId(index.byRequestId, transaction.requestId, slot);
  }

  /**
   * Lets go of the transactions whose start, corrected by `offsetMs`, is before `expiry` (proxy
   * time): those no proxy record took go to `out` as unjoined.
   */
  expire(expiry: number, offsetMs: number, out: JoinedRequest[]): void {
    const { slots, index, stats } = this;
    while (this.head < slots.length && slots[this.head]!.startMs - offsetMs < expiry) {
      const slot = slots[this.head]!;
      // Let go of it at once, here and in every index (KeyIndex.remove). Swept from the key lists
      // once 4,096 had left, transactions outlived the window long enough to be moved out of V8's
      // young generation: the bench's joined run (500 k high-cardinality extended lines, 433 k New
      // Relic rows) promoted 676 -> 613 MB, GC pauses 1.65 -> 1.50 s, CPU 9.69 -> 9.30 s (medians
      // of 4, alternating; the same report). Its expiry no longer works out the key again either.
      slots[this.head++] = undefined;
      const transaction = slot.apm;
      if (slot.key?.kind === TEMPLATE) index.templated--;
      index.byKey.remove(slot);
      if (transaction.traceId !== null) dropId(index.byTraceId, transaction.traceId, slot);
      if (transaction.requestId !== null) dropId(index.byRequestId, transaction.requestId, slot);
      if (slot.taken) continue;
      stats.unjoinedApm++;
      out.push({ proxy: null, apm: transaction, method: 'none', confidence: 0, offsetMs: null });
    }
    if (this.head > 4096 && this.head * 2 > slots.length) {
      slots.splice(0, this.head);
      this.head = 0;
    }
  }

  private addId(map: Map<string, ApmSlot[]>, id: string, slot: ApmSlot): void {
    this.idsSeen = true;
    const list = map.get(id);
    if (list) list.push(slot);
    else map.set(id, [slot]);
  }
}

/**
 * One request, one transaction. Some frameworks open a server span of their own inside the HTTP
 * server span of the same request: Next.js's `BaseServer.handleRequest` under
 * `@opentelemetry/instrumentation-http`'s span, both of kind SERVER in one service (highlight's
 * OTLP samples, `backend/otel/samples/nextjs.json`). Both reached the join for one proxy line; one
 * was always left unjoined, and such an app's join read as weak. A transaction is left out when
 * one of the same trace in the window started no later, ends no earlier (within a millisecond, for
 * exports stamped to it) and is for the same request: the same path, and the same method and host
 * where both say; or is a loopback call inside one of another host. A request one service sends
 * another through the same proxy keeps its own transaction: its host or its path differs. Exports
 * without trace ids are not touched.
 */
function nestedInAnother(sameTrace: readonly ApmSlot[] | undefined, inner: ApmTransaction): boolean {
  if (sameTrace === undefined) return false;
  for (const slot of sameTrace) if (nestedIn(slot.apm, inner)) return true;
  return false;
}

/** Whether `inner` is a span inside `outer` (same trace) that no proxy logged on its own. */
function nestedIn(outer: ApmTransaction, inner: ApmTransaction): boolean {
  if (inner.path === null || outer === inner) return false;
  if (!(outer.startMs <= inner.startMs && outer.startMs + outer.durationMs + NESTING_SLACK_MS >= inner.startMs + inner.durationMs)) return false;
  if (outer.path === inner.path &&
    (inner.method === null || outer.method === null || inner.method === outer.method) &&
    (inner.host === null || outer.host === null || inner.host === outer.host)) return true;
  // A call the service makes to itself over loopback while serving the request (a real Next.js
  // dev server's `GET 127.0.0.1:36663/?method=ensurePage`, 8 of 10 SERVER spans in highlight's
  // OTLP sample): no proxy in front logs it. Only inside a span that serves a request itself: a
  // script traced as a server span (no path) held the real `GET /` that its proxy logged.
  return outer.path !== null && inner.host !== null && outer.host !== inner.host && LOOPBACK_HOST.test(inner.host);
}

/** A loopback address or name, with or without a port. */
const LOOPBACK_HOST = /^(?:127(?:\.\d{1,3}){3}|\[?::1\]?|localhost)(?::\d{1,5})?$/i;

const NESTING_SLACK_MS = 1;

function dropId(map: Map<string, ApmSlot[]>, id: string, slot: ApmSlot): void {
  const list = map.get(id);
  if (!list) return;
  if (list.length === 1) {
    if (list[0] === slot) map.delete(id);
    return;
  }
  const at = list.indexOf(slot);
  if (at >= 0) list.splice(at, 1);
}

function insertSorted(list: (ApmSlot | undefined)[], from: number, transaction: ApmSlot): void {
  let low = from;
  let high = list.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (list[mid]!.startMs <= transaction.startMs) low = mid + 1;
    else high = mid;
  }
  list.splice(low, 0, transaction);
}
