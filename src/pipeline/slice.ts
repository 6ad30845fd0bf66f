import { BlockList, isIP } from 'node:net';
import { parseDuration } from '../model/duration.js';
import { UsageError } from '../model/errors.js';
import { routeOf, routeTemplate } from '../model/route.js';
import type { ApmTransaction, JoinedRequest, ProxyRecord } from '../model/records.js';

/**
 * A slice of the traffic: `--since` / `--until` and `--where` clauses, the same syntax in
 * `alf analyze` and `alf scan`. It is applied to the records before the join and the detectors,
 * so every finding, chart and count describes the slice alone.
 *
 * A proxy record decides for its request. An APM transaction is judged on what it carries too
 * (time, path, route, key, user agent), loosely, so that the partner of a proxy record in the
 * slice is not dropped before the join; an APM transaction left without a partner is kept only
 * when it passes on its own, on every clause (a status, client or upstream clause can only be
 * judged on a proxy record, so those drop every unjoined transaction).
 */

export const WHERE_FIELDS = ['status', 'route', 'path', 'key', 'ua', 'client', 'upstream'] as const;
export type WhereField = (typeof WHERE_FIELDS)[number];

/** `=` means: status code or class, exact route (template), path prefix, exact key, user agent or upstream, client network. `~`: contains, any case. */
export type WhereOperator = '=' | '!=' | '~' | '!~';

export interface WhereClause {
  field: WhereField;
  operator: WhereOperator;
  /** Alternatives (status and client take a comma list); the clause holds when any matches. */
  values: string[];
  /** As the user wrote it, for the report's header. */
  text: string;
}

export interface TimeBound {
  ms: number;
  /** As the user wrote it (`2h`, `2017-03-14T09:05`). */
  text: string;
}

export interface SliceSpec {
  since: TimeBound | null;
  until: TimeBound | null;
  where: WhereClause[];
}

const FIELD_NAMES: Record<string, WhereField> = {
  status: 'status', route: 'route', path: 'path', key: 'key', 'api-key': 'key',
  ua: 'ua', 'user-agent': 'ua', agent: 'ua', client: 'client', ip: 'client', upstream: 'upstream',
};

/** What `--where` accepts, for its help and its errors. */
export const WHERE_SYNTAX = 'FIELD=VALUE, FIELD!=VALUE, FIELD~TEXT or FIELD!~TEXT, FIELD one of status, route, path, key, ua, client, upstream';

const CLAUSE = /^\s*([a-z-]+)\s*(!=|!~|=|~)(.*)$/i;
const STATUS_VALUE = /^(?:[1-5]\d\d|[1-5]xx|-)$/i;

/** Parses one `--where` clause; commander's argParser for the option. */
export function parseWhere(text: string): WhereClause {
  const match = CLAUSE.exec(text);
  const field = match ? FIELD_NAMES[match[1]!.toLowerCase()] : undefined;
  if (!match || field === undefined) throw new UsageError(`--where "${text}": expected ${WHERE_SYNTAX}`);
  const operator = match[2] as WhereOperator;
  const value = match[3]!.trim();
  if (value === '') throw new UsageError(`--where "${text}": no value after ${operator}`);
  let values = [value];
  if (field === 'status' || field === 'client') {
    if (operator === '~' || operator === '!~') throw new UsageError(`--where "${text}": ${field} takes = or !=, not ${operator}`);
    values = value.split(',').map((v) => v.trim()).filter((v) => v !== '');
  }
  if (field === 'status') {
    const bad = values.find((v) => !STATUS_VALUE.test(v));
    if (bad !== undefined) throw new UsageError(`--where "${text}": "${bad}" is not a status (examples: 499, 5xx, - for none)`);
    values = values.map((v) => v.toLowerCase());
  }
  if (field === 'client') {
    for (const v of values) clientNetwork(v, text);
  }
  return { field, operator, values, text: `${field}${operator}${value}` };
}

/** An absolute ISO time (no zone means UTC, as alf prints every time) or a duration back from now. */
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

export function parseTimeBound(text: string, option: string, nowMs: number = Date.now()): TimeBound {
  const trimmed = text.trim();
  const iso = ISO_TIME.exec(trimmed);
  if (iso) {
    const [, year, month, day, hour = '00', minute = '00', second = '00', fraction = '', zone = 'Z'] = iso;
    const offset = zone.toUpperCase() === 'Z' ? 'Z' : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
    const ms = Date.parse(`${year}-${month}-${day}T${hour}:${minute}:${second}${fraction.slice(0, 4)}${offset}`);
    // Date.parse rolls nothing over silently for these fields but refuses month 13 or hour 25.
    if (Number.isNaN(ms) || Number(month) > 12 || Number(day) > 31) throw new UsageError(`${option}: "${text}" is not a valid time`);
    return { ms, text: trimmed };
  }
  if (/^\d/.test(trimmed) && !/^\d{4}-/.test(trimmed)) {
    try {
      return { ms: nowMs - parseDuration(trimmed, option), text: trimmed };
    } catch {
      // fall through to the message naming both forms
    }
  }
  throw new UsageError(`${option}: "${text}" is neither a time (2017-03-14T09:05:00Z, 2017-03-14 09:05, zone UTC unless given) nor a duration back from now (30m, 2h, 1d)`);
}

function clientNetwork(value: string, clause: string): { address: string; prefix: number; type: 'ipv4' | 'ipv6' } {
  const [address = '', prefixText] = value.split('/');
  const version = isIP(address);
  const max = version === 6 ? 128 : 32;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (version === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > max || (prefixText !== undefined && !/^\d+$/.test(prefixText))) {
    throw new UsageError(`--where "${clause}": "${value}" is not an IP address or network (examples: 203.0.113.7, 203.0.113.0/24, 2001:db8::/32)`);
  }
  return { address, prefix, type: version === 6 ? 'ipv6' : 'ipv4' };
}

/** Checks a slice's bounds against each other, once every option is read. */
export function checkSlice(spec: SliceSpec): SliceSpec {
  if (spec.since && spec.until && spec.since.ms >= spec.until.ms) {
    throw new UsageError(`--since ${spec.since.text} is not before --until ${spec.until.text}`);
  }
  return spec;
}

export function isEmptySlice(spec: SliceSpec): boolean {
  return spec.since === null && spec.until === null && spec.where.length === 0;
}

/** 2017-03-14T09:05:00Z: milliseconds only when there are some. */
function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/** The slice as one line, for the report's header and the terminal: "since …, until …, where status=5xx and key=abc". */
export function describeSlice(spec: SliceSpec): string {
  const parts: string[] = [];
  if (spec.since) parts.push(`since ${isoSeconds(spec.since.ms)}`);
  if (spec.until) parts.push(`until ${isoSeconds(spec.until.ms)}`);
  if (spec.where.length > 0) parts.push(`where ${spec.where.map((clause) => clause.text).join(' and ')}`);
  return parts.join(', ');
}

/** A field's value on either side: null when the record does not carry it (the clause cannot be judged). */
type FieldValue = string | number | null | undefined;

/** One compiled clause: the test on a value that is present. */
interface CompiledClause {
  clause: WhereClause;
  negated: boolean;
  matches: (value: string | number) => boolean;
}

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
      const networks = new BlockList();
      for (const v of clause.values) {
        const network = clientNetwork(v, clause.text);
        networks.addSubnet(network.address, network.prefix, network.type);
      }
      return {
        clause, negated,
        matches: (value) => {
          const address = String(value);
          const version = isIP(address);
          return version !== 0 && networks.check(address, version === 6 ? 'ipv6' : 'ipv4');
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

/** The slice as three tests and their counters; analyzeRecords runs them around the join. */
export class Slicer {
  readonly counts: SliceCounts = { proxyKept: 0, proxyOutside: 0, apmKept: 0, apmOutside: 0 };
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

  /**
   * Per field: some positive clause matches (when there is one) and no negated clause does.
   * `strict`: a value the record does not carry fails; otherwise it passes (judged after the join).
   */
  private passes(valueOf: (field: WhereField) => FieldValue, strict: boolean): boolean {
    for (const [field, clauses] of this.fields) {
      const value = valueOf(field);
      if (value === null || value === undefined) {
        if (strict) return false;
        continue;
      }
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
    const kept = record.endMs >= this.sinceMs && record.endMs < this.untilMs && this.passes((field) => proxyField(record, field), true);
    if (kept) this.counts.proxyKept++;
    else this.counts.proxyOutside++;
    return kept;
  }

  /** Before the join: could this transaction be the partner of a proxy record in the slice? */
  mayJoin(transaction: ApmTransaction): boolean {
    const start = transaction.startMs;
    const inTime = start >= this.sinceMs - this.margins.horizonMs - this.margins.maxSkewMs && start < this.untilMs + this.margins.maxSkewMs;
    const kept = inTime && this.passes((field) => apmField(transaction, field), false);
    if (!kept) this.counts.apmOutside++;
    return kept;
  }

  /** After the join: a request stays when its proxy record was kept, or its lone transaction passes on its own. */
  keepJoined(request: JoinedRequest): boolean {
    if (request.proxy !== null) {
      if (request.apm !== null) this.counts.apmKept++;
      return true;
    }
    const transaction = request.apm!;
    const end = transaction.startMs + transaction.durationMs;
    const kept = end >= this.sinceMs && end < this.untilMs && this.passes((field) => apmField(transaction, field), true);
    if (kept) this.counts.apmKept++;
    else this.counts.apmOutside++;
    return kept;
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
