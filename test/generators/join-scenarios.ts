import { emptyApmTransaction, emptyProxyRecord, type ApmTransaction, type ProxyRecord } from '../../src/model/records.js';
import { SeededRandom } from './random.js';

/**
 * Proxy records and APM transactions of one simulated service, with known truth, for measuring
 * the join. Requests are generated in start order and streamed out the way real logs are: the
 * proxy side in END order (nginx writes a line when the request ends), the APM side in START order
 * (New Relic / OTel exports). Memory stays bounded, so the benchmark can stream millions.
 *
 * Truth: both records of one request carry the same `raw` ("req:<n>"), so a claimed pair is right
 * iff `proxy.raw === apm.raw`. File renderings (nginx `$msec` lines, New Relic CSV) carry the
 * truth as proxy line → APM line instead.
 */

export interface JoinScenarioOptions {
  seed: number;
  durationSeconds: number;
  startMs: number;
  /** Proxy timestamp resolution: `$msec` (1 ms) or `$time_local` (1 s, truncated). */
  resolution: 'ms' | 's';
  /** APM clock minus proxy clock at the start, ms. */
  skewMs: number;
  /** How much the offset changes per hour of log, ms (clock drift). */
  driftMsPerHour: number;
  /** Requests per second on the single hottest URL (GET /v1/orders). */
  hotRatePerSecond: number;
  /** Requests per second spread over the other routes (ids in paths, several methods). */
  backgroundRatePerSecond: number;
  /** Share of requests whose proxy line is missing (log loss, another proxy node). */
  missingProxyShare: number;
  /** Share of requests without an APM transaction (sampling, agent loss). */
  missingApmShare: number;
  /** Share of requests the client aborts: proxy time short and upstream `-`, APM duration long. */
  abortedShare: number;
  /** Share of requests carrying a W3C trace id on both sides. */
  traceIdShare: number;
  /** Share of APM transactions exported without `request.uri` (only a transaction name with a route template). */
  nameOnlyShare: number;
  /**
   * Share of requests that wait 20-500 ms for a free backend worker (a Unicorn-style pool under
   * load): the APM transaction starts that much after the proxy sent the request, and the proxy's
   * upstream time includes the wait. Real nginx logs in front of a busy pool look like this.
   */
  queuedShare: number;
}

export const DEFAULT_JOIN_SCENARIO: JoinScenarioOptions = {
  seed: 7,
  durationSeconds: 120,
  startMs: Date.UTC(2024, 4, 2, 12, 0, 0),
  resolution: 'ms',
  skewMs: 0,
  driftMsPerHour: 0,
  hotRatePerSecond: 100,
  backgroundRatePerSecond: 20,
  missingProxyShare: 0.02,
  missingApmShare: 0.02,
  abortedShare: 0.01,
  traceIdShare: 0,
  nameOnlyShare: 0,
  queuedShare: 0,
};

interface Route {
  method: string;
  template: string;
  name: string;
  path: (random: SeededRandom) => string;
  /** Median backend time, ms. */
  medianMs: number;
}

const HOT: Route = { method: 'GET', template: '/v1/orders', name: 'WebTransaction/Expressjs/GET//v1/orders', path: () => '/v1/orders', medianMs: 25 };
const BACKGROUND: readonly Route[] = [
  { method: 'GET', template: '/v2/applications/:id/metrics.json', name: 'WebTransaction/Expressjs/GET//v2/applications/:id/metrics.json', path: (r) => `/v2/applications/${r.int(1000, 1019)}/metrics.json`, medianMs: 400 },
  { method: 'POST', template: '/v1/orders', name: 'WebTransaction/Expressjs/POST//v1/orders', path: () => '/v1/orders', medianMs: 60 },
  { method: 'GET', template: '/v2/servers/:id.json', name: 'WebTransaction/Expressjs/GET//v2/servers/:id.json', path: (r) => `/v2/servers/${r.int(5000, 5009)}.json`, medianMs: 15 },
  { method: 'DELETE', template: '/v1/orders/:id', name: 'WebTransaction/Expressjs/DELETE//v1/orders/:id', path: (r) => `/v1/orders/${r.int(1, 50)}`, medianMs: 35 },
];

/** A min-heap on a numeric key: the reorder buffers between start order and each output order. */
class Heap<T> {
  private items: T[] = [];
  constructor(private readonly keyOf: (item: T) => number) {}
  get size(): number { return this.items.length; }
  peekKey(): number { return this.items.length === 0 ? Infinity : this.keyOf(this.items[0]!); }
  push(item: T): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.keyOf(items[parent]!) <= this.keyOf(items[i]!)) break;
      [items[parent], items[i]] = [items[i]!, items[parent]!];
      i = parent;
    }
  }
  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < items.length && this.keyOf(items[left]!) < this.keyOf(items[smallest]!)) smallest = left;
        if (right < items.length && this.keyOf(items[right]!) < this.keyOf(items[smallest]!)) smallest = right;
        if (smallest === i) break;
        [items[smallest], items[i]] = [items[i]!, items[smallest]!];
        i = smallest;
      }
    }
    return top;
  }
}

interface Pending<T> { key: number; record: T }

/** A FIFO of released records. Splicing batches off the front made an unevenly pulled side quadratic. */
class Queue<T> {
  private items: T[] = [];
  private head = 0;
  get length(): number { return this.items.length - this.head; }
  push(item: T): void { this.items.push(item); }
  take(count: number): T[] {
    const batch = this.items.slice(this.head, this.head + count);
    this.head += batch.length;
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return batch;
  }
}

/** Generates a scenario lazily; the two sides are pulled independently, as the join pulls them. */
export class JoinScenario {
  readonly options: JoinScenarioOptions;
  private readonly random: SeededRandom;
  private clock: number;
  private readonly endOfLog: number;
  private requestNo = 0;
  private readonly proxyHeap = new Heap<Pending<ProxyRecord>>((p) => p.key);
  private readonly apmHeap = new Heap<Pending<ApmTransaction>>((p) => p.key);
  private readonly proxyOut = new Queue<ProxyRecord>();
  private readonly apmOut = new Queue<ApmTransaction>();
  private proxyLine = 0;
  /** APM line numbers start at 2: a CSV export's header is line 1. */
  private apmLine = 1;
  private finished = false;
  /** Requests with both a proxy record and an APM transaction: the pairs a perfect join finds. */
  truePairs = 0;
  proxyRecords = 0;
  apmRecords = 0;

  constructor(options: Partial<JoinScenarioOptions> = {}) {
    this.options = { ...DEFAULT_JOIN_SCENARIO, ...options };
    this.random = new SeededRandom(this.options.seed);
    this.clock = this.options.startMs;
    this.endOfLog = this.options.startMs + this.options.durationSeconds * 1000;
  }

  private offsetAt(time: number): number {
    return this.options.skewMs + (this.options.driftMsPerHour * (time - this.options.startMs)) / 3_600_000;
  }

  /** Generates the next few hundred requests and releases every record whose place in its order is final. */
  private advance(): void {
    if (this.finished) return;
    const o = this.options;
    const random = this.random;
    const rate = o.hotRatePerSecond + o.backgroundRatePerSecond;
    for (let n = 0; n < 256; n++) {
      this.clock += (-Math.log(1 - random.next()) / rate) * 1000;
      if (this.clock >= this.endOfLog) {
        this.finished = true;
        break;
      }
      this.request(this.clock);
    }
    const proxyFinal = this.finished ? Infinity : this.clock;
    while (this.proxyHeap.size > 0 && this.proxyHeap.peekKey() <= proxyFinal) this.emitProxy(this.proxyHeap.pop()!.record);
    // Later requests start after `clock`, and their APM start is at least clock + offset.
    const apmFinal = this.finished ? Infinity : this.clock + this.offsetAt(this.clock);
    while (this.apmHeap.size > 0 && this.apmHeap.peekKey() <= apmFinal) this.emitApm(this.apmHeap.pop()!.record);
  }

  private emitProxy(record: ProxyRecord): void {
    (record as { line: number }).line = ++this.proxyLine;
    this.proxyOut.push(record);
  }

  private emitApm(transaction: ApmTransaction): void {
    (transaction as { line: number }).line = ++this.apmLine;
    this.apmOut.push(transaction);
  }

  private request(start: number): void {
    const o = this.options;
    const random = this.random;
    const route = random.chance(o.hotRatePerSecond / (o.hotRatePerSecond + o.backgroundRatePerSecond)) ? HOT : random.pick(BACKGROUND);
    const path = route.path(random);
    const id = `req:${this.requestNo++}`;
    const queuedMs = random.chance(o.queuedShare) ? random.between(20, 500) : 0;
    const dispatchMs = random.between(0.3, 2.5) + queuedMs;
    const overheadMs = random.between(0.2, 1.5);
    const aborted = random.chance(o.abortedShare);
    // Aborted requests are the long ones the client stopped waiting for; the backend worked on.
    const backendMs = aborted ? random.between(5_000, 30_000) : Math.min(20_000, route.medianMs * Math.exp(0.8 * gaussian(random)));
    const abortAtMs = aborted ? random.between(1_000, 4_900) : Infinity;
    const traceId = random.chance(o.traceIdShare) ? random.hex(32) : null;
    const hasProxy = !random.chance(o.missingProxyShare);
    const hasApm = !random.chance(o.missingApmShare);
    if (hasProxy && hasApm) this.truePairs++;

    if (hasProxy) {
      const requestMs = aborted ? abortAtMs : dispatchMs + backendMs + overheadMs;
      const trueEnd = start + requestMs;
      const record = emptyProxyRecord('nginx', 'proxy.log', 0, id);
      record.endMs = o.resolution === 'ms' ? Math.round(trueEnd) : Math.floor(trueEnd / 1000) * 1000;
      record.timeResolutionMs = o.resolution === 'ms' ? 1 : 1000;
      record.requestTimeMs = Math.round(requestMs);
      record.startMs = record.endMs - record.requestTimeMs;
      record.method = route.method;
      record.path = path;
      record.status = aborted ? 499 : 200;
      record.upstreamLogged = true;
      record.upstreamStatus = aborted ? null : 200;
      record.upstreamAttempts = aborted ? 0 : 1;
      record.upstreamTimeMs = aborted ? null : Math.round(dispatchMs + backendMs);
      record.clientClosed = aborted;
      record.traceId = traceId;
      this.proxyHeap.push({ key: trueEnd, record });
      this.proxyRecords++;
    }
    if (hasApm) {
      const apmStart = start + dispatchMs + this.offsetAt(start);
      const transaction = emptyApmTransaction('newrelic-csv', 'transactions.csv', 0, id);
      transaction.startMs = Math.round(apmStart);
      transaction.durationMs = Math.round(backendMs * 10) / 10;
      transaction.name = route.name;
      transaction.method = route.method;
      transaction.path = random.chance(o.nameOnlyShare) ? null : path;
      transaction.status = 200;
      transaction.traceId = traceId;
      this.apmHeap.push({ key: apmStart, record: transaction });
      this.apmRecords++;
    }
  }

  private async *side<T>(queue: Queue<T>, batchSize: number): AsyncGenerator<T[]> {
    for (;;) {
      while (queue.length < batchSize && !this.drained()) this.advance();
      const batch = queue.take(batchSize);
      if (batch.length === 0) return;
      yield batch;
    }
  }

  private drained(): boolean { return this.finished && this.proxyHeap.size === 0 && this.apmHeap.size === 0; }

  proxyBatches(batchSize = 2048): AsyncGenerator<ProxyRecord[]> {
    return this.side(this.proxyOut, batchSize);
  }

  apmBatches(batchSize = 2048): AsyncGenerator<ApmTransaction[]> {
    return this.side(this.apmOut, batchSize);
  }

  /** Everything at once (tests): proxy records in end order, APM transactions in start order. */
  collect(): { proxies: ProxyRecord[]; transactions: ApmTransaction[] } {
    while (!this.drained()) this.advance();
    return { proxies: this.proxyOut.take(Infinity), transactions: this.apmOut.take(Infinity) };
  }
}

function gaussian(random: SeededRandom): number {
  const u = Math.max(1e-12, random.next());
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.next());
}

/** Batches of an array as an async stream, the shape the join reads. */
export async function* inBatches<T>(items: readonly T[], size = 2048): AsyncGenerator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

export interface JoinScore {
  claimed: number;
  correct: number;
  truePairs: number;
  precision: number;
  recall: number;
}

/** Precision and recall of claimed pairs against the truth carried in `raw`. */
export function scorePairs(pairs: Iterable<{ proxy: ProxyRecord | null; apm: ApmTransaction | null }>, truePairs: number): JoinScore {
  let claimed = 0;
  let correct = 0;
  for (const pair of pairs) {
    if (pair.proxy === null || pair.apm === null) continue;
    claimed++;
    if (pair.proxy.raw === pair.apm.raw) correct++;
  }
  return { claimed, correct, truePairs, precision: claimed === 0 ? 1 : correct / claimed, recall: truePairs === 0 ? 1 : correct / truePairs };
}

export const SCENARIO_LOG_FORMAT =
  "log_format join '$msec|$status|$request_time|$upstream_status|$upstream_response_time|$request_method|$request_uri|$http_traceparent';\n";

export const SCENARIO_CSV_HEADER = 'timestamp,duration,name,request.uri,request.method,httpResponseCode,traceId';

/** The records as files: an nginx log in SCENARIO_LOG_FORMAT and a New Relic CSV export, with truth as line pairs. */
export function renderScenarioFiles(proxies: readonly ProxyRecord[], transactions: readonly ApmTransaction[]): {
  accessLog: string[]; apmCsv: string[]; truth: Map<number, number>;
} {
  const seconds = (ms: number | null): string => (ms === null ? '-' : (ms / 1000).toFixed(3));
  const accessLog = proxies.map((p) =>
    `${seconds(p.endMs)}|${p.status}|${seconds(p.requestTimeMs)}|${p.upstreamStatus ?? '-'}|${seconds(p.upstreamTimeMs)}|${p.method}|${p.path}|` +
    (p.traceId ? `00-${p.traceId}-00f067aa0ba902b7-01` : '-'));
  const apmCsv = [SCENARIO_CSV_HEADER, ...transactions.map((t) =>
    `${t.startMs},${(t.durationMs / 1000).toFixed(4)},${t.name},${t.path ?? ''},${t.method},200,${t.traceId ?? ''}`)];
  const apmLineById = new Map(transactions.map((t) => [t.raw, t.line]));
  const truth = new Map<number, number>();
  for (const p of proxies) {
    const line = apmLineById.get(p.raw);
    if (line !== undefined) truth.set(p.line, line);
  }
  return { accessLog, apmCsv, truth };
}
