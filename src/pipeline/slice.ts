import { BlockList, isIP } from 'node:net';
import { routeOf, routeTemplate } from '../model/route.js';
import type { ApmTransaction, JoinedRequest, ProxyRecord } from '../model/records.js';
import { clientNetwork, type SliceSpec, type WhereClause, type WhereField } from './slice-spec.js';
import { joinedShare, type JoinStats } from '../join/join-stats.js';

/**
 * A slice of the traffic: `--since` / `--until` and `--where` clauses, the same syntax in
 * `alf analyze` and `alf scan`. It is applied around the join and before the detectors, so every
 * finding, chart and count describes the slice alone.
 *
 * A proxy record decides for its request. Before the join both sides are cut by time alone,
 * with the join's reach around the slice, so the slice's requests meet the partners and the
 * competitors they meet in the whole log: the proxy records logged within a join's reach before
 * the slice claim their own transactions, and --where clauses are judged after the join. (Proxy
 * records were cut to the slice and transactions by the clauses first: the transactions of the
 * requests just before the slice were then free for the slice's own to take.) An APM transaction
 * left without a partner is kept only when it passes on its own, on every clause (a status,
 * client or upstream clause can only be judged on a proxy record, so those drop every unjoined
 * transaction). The join's figures are then given for the slice's requests (joinFigures).
 */

/** A field's value on either side: null when the record does not carry it (the clause cannot be judged). */
type FieldValue = string | number | null | undefined;

/** One compiled clause: the test on a value that is present. */
interface CompiledClause {
  clause: WhereClause;
  negated: boolean;
  matches: (value: string | number) => boolean;
}

/** An IPv4 address in its IPv4-mapped IPv6 form. */
const MAPPED_IPV4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

function compileClause(clause: WhereClause): CompiledClause {
  const negated = clause.operator === '!=' || clause.operator === '!~';
  const contains = clause.operator === '~' || clause.operator === '!~';
  const needle = clause.values[0]!;
  if (contains) {
    const lower = needle.toLowerCase();
    return { clause, negated, matches: (value) => String(value).toLowerCase().includes(lower) };
  }
  switch (clause.field) {
    case 'status': {
      const tests = clause.values.map((v) => v === '-' ? (s: number) => Number.isNaN(s)
        : v.endsWith('xx') ? (s: number) => Math.floor(s / 100) === Number(v[0]) : (s: number) => s === Number(v));
      return { clause, negated, matches: (value) => tests.some((test) => test(Number(value))) };
    }
    case 'client': {
      // One list per family: Node's BlockList matches an IPv4 address against IPv6 networks as
      // its mapped form, so `client=::/0` took every IPv4 client too. An IPv4 client a log writes
      // in its mapped IPv6 form (`::ffff:203.0.113.7`) is still an IPv4 client.
      const networks = { ipv4: new BlockList(), ipv6: new BlockList() };
      for (const v of clause.values) {
        const network = clientNetwork(v, clause.text);
        networks[network.type].addSubnet(network.address, network.prefix, network.type);
      }
      return {
        clause, negated,
        matches: (value) => {
          const text = String(value);
          const mapped = MAPPED_IPV4.exec(text);
          const address = mapped === null ? text : mapped[1]!;
          const version = isIP(address);
          return version === 4 ? networks.ipv4.check(address, 'ipv4') : version === 6 && networks.ipv6.check(address, 'ipv6');
        },
      };
    }
    case 'route': {
      const route = routeTemplate(needle);
      return { clause, negated, matches: (value) => value === route };
    }
    case 'path':
      return { clause, negated, matches: (value) => String(value).startsWith(needle) };
    case 'upstream':
      // An address or a host without a port: `10.0.0.7` matches `10.0.0.7:8080`; nginx lists
      // every attempt (`10.0.0.7:80, 10.0.0.8:80`), and any of them matches.
      return {
        clause, negated,
        matches: (value) => String(value).split(/[\s,]+/).some((address) => address === needle || address.startsWith(`${needle}:`)),
      };
    default:
      return { clause, negated, matches: (value) => value === needle };
  }
}

function proxyField(record: ProxyRecord, field: WhereField): FieldValue {
  switch (field) {
    case 'status': return record.status ?? Number.NaN;
    case 'route': return routeOf(record);
    case 'path': return record.path;
    case 'key': return record.apiKey;
    case 'ua': return record.userAgent;
    case 'client': return record.clientIp;
    case 'upstream': return record.upstreamAddr;
  }
}

/** What an APM transaction carries of a field; undefined when it never does (status there is the backend's, not the client's). */
function apmField(transaction: ApmTransaction, field: WhereField): FieldValue {
  switch (field) {
    case 'route': return transaction.path === null ? null : routeTemplate(transaction.path);
    case 'path': return transaction.path;
    case 'key': return transaction.apiKey;
    case 'ua': return transaction.userAgent;
    default: return undefined;
  }
}

/** Counts of what the slice kept, for the report. */
export interface SliceCounts {
  proxyKept: number;
  proxyOutside: number;
  /** APM transactions in the joined stream (with or without a partner). */
  apmKept: number;
  apmOutside: number;
}

/** Margins for the loose APM test: how far from the proxy's times its partner's start may lie. */
export interface SliceJoinMargins {
  maxSkewMs: number;
  horizonMs: number;
}

/** The join's figures of the requests a slice kept. */
type SliceJoinFigures = Pick<JoinStats, 'proxyRecords' | 'apmRecords' | 'joinedById' | 'joinedHeuristic' | 'unjoinedProxy' | 'unjoinedApm' | 'confidenceDeciles'>;

/** The slice as tests before and after the join, with their counters; analyzeRecords runs them around the join. */
export class Slicer {
  readonly counts: SliceCounts = { proxyKept: 0, proxyOutside: 0, apmKept: 0, apmOutside: 0 };
  private readonly joined: SliceJoinFigures = {
    proxyRecords: 0, apmRecords: 0, joinedById: 0, joinedHeuristic: 0, unjoinedProxy: 0, unjoinedApm: 0, confidenceDeciles: new Array<number>(10).fill(0),
  };
  private readonly fields = new Map<WhereField, CompiledClause[]>();
  private readonly sinceMs: number;
  private readonly untilMs: number;

  constructor(readonly spec: SliceSpec, private readonly margins: SliceJoinMargins) {
    for (const clause of spec.where) {
      const list = this.fields.get(clause.field) ?? [];
      list.push(compileClause(clause));
      this.fields.set(clause.field, list);
    }
    this.sinceMs = spec.since?.ms ?? -Infinity;
    this.untilMs = spec.until?.ms ?? Infinity;
  }

  /** Per field: some positive clause matches (when there is one) and no negated clause does; a value the record does not carry fails. */
  private passes(valueOf: (field: WhereField) => FieldValue): boolean {
    for (const [field, clauses] of this.fields) {
      const value = valueOf(field);
      if (value === null || value === undefined) return false;
      let positive = false;
      let positiveMatched = false;
      for (const compiled of clauses) {
        const matched = compiled.matches(value);
        if (compiled.negated) {
          if (matched) return false;
        } else {
          positive = true;
          positiveMatched ||= matched;
        }
      }
      if (positive && !positiveMatched) return false;
    }
    return true;
  }

  /** A proxy record is in the slice when its logged time is in [since, until) and every clause holds. */
  keepProxy(record: ProxyRecord): boolean {
    const kept = record.endMs >= this.sinceMs && record.endMs < this.untilMs && this.passes((field) => proxyField(record, field));
    if (kept) this.counts.proxyKept++;
    else this.counts.proxyOutside++;
    return kept;
  }

  /** How far around the slice records take part in the join: the longest request and the largest clock offset. */
  private get reachMs(): number {
    return this.margins.horizonMs + this.margins.maxSkewMs;
  }

  /** Before the join: a proxy record logged within the join's reach of the slice, which competes with its requests for partners. */
  mayCompete(record: ProxyRecord): boolean {
    const end = record.endMs;
    const near = end >= this.sinceMs - this.reachMs && end < this.untilMs + this.margins.maxSkewMs;
    if (!near) this.counts.proxyOutside++;
    return near;
  }

  /** Before the join: a transaction that starts within the join's reach of the slice. */
  mayJoin(transaction: ApmTransaction): boolean {
    const start = transaction.startMs;
    const near = start >= this.sinceMs - this.reachMs && start < this.untilMs + this.margins.maxSkewMs;
    if (!near) this.counts.apmOutside++;
    return near;
  }

  /** After the join: a request stays when its proxy record is in the slice, or its lone transaction passes on its own. */
  keepJoined(request: JoinedRequest): boolean {
    const figures = this.joined;
    if (request.proxy !== null) {
      if (!this.keepProxy(request.proxy)) {
        if (request.apm !== null) this.counts.apmOutside++;
        return false;
      }
      figures.proxyRecords++;
      if (request.apm === null) {
        figures.unjoinedProxy++;
        return true;
      }
      this.counts.apmKept++;
      figures.apmRecords++;
      if (request.method === 'id') figures.joinedById++;
      else figures.joinedHeuristic++;
      figures.confidenceDeciles[Math.min(9, Math.floor(request.confidence * 10))]!++;
      return true;
    }
    const transaction = request.apm!;
    const end = transaction.startMs + transaction.durationMs;
    const kept = end >= this.sinceMs && end < this.untilMs && this.passes((field) => apmField(transaction, field));
    if (kept) {
      this.counts.apmKept++;
      figures.apmRecords++;
      figures.unjoinedApm++;
    } else {
      this.counts.apmOutside++;
    }
    return kept;
  }

  /**
   * The join's figures for the slice's requests alone, in place of those of every record the join
   * was given (the slice's reach included). Refusals for low confidence, the offset, tolerances
   * and notes stay the join's: they are about the join as it ran.
   */
  joinFigures(): SliceJoinFigures & Pick<JoinStats, 'joinedShare'> {
    const figures = this.joined;
    return { ...figures, confidenceDeciles: [...figures.confidenceDeciles], joinedShare: joinedShare(figures) };
  }
}

/**
 * The time bounds alone, as one test per record, for readers that keep records before any
 * window is replayed (`alf scan` spools only what is in bounds: a relative `--since` moves with
 * every run, and a window's report must not shrink because a later run started later).
 * APM transactions get the join's margins, as in Slicer.mayJoin.
 */
export function timeBoundsTest(spec: SliceSpec, margins: SliceJoinMargins): ((record: ProxyRecord | ApmTransaction) => boolean) | null {
  if (spec.since === null && spec.until === null) return null;
  const since = spec.since?.ms ?? -Infinity;
  const until = spec.until?.ms ?? Infinity;
  return (record) => record.kind === 'proxy'
    ? record.endMs >= since && record.endMs < until
    : record.startMs >= since - margins.horizonMs - margins.maxSkewMs && record.startMs < until + margins.maxSkewMs;
}
