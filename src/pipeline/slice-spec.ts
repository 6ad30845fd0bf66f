import { isIP } from 'node:net';
import { parseDuration } from '../model/duration.js';
import { UsageError } from '../model/errors.js';

/**
 * What a slice is and how it is written on the command line (`--since`, `--until`, `--where`):
 * parsed here, with nothing heavier than node:net loaded, because commander calls these parsers
 * while it reads argv, before `--help` prints. src/pipeline/slice.ts applies a slice to records.
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

export function clientNetwork(value: string, clause: string): { address: string; prefix: number; type: 'ipv4' | 'ipv6' } {
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
  if (spec.where.length > 0) parts.push(`where ${describeWhere(spec.where)}`);
  return parts.join(', ');
}

/**
 * The clauses as they are judged (Slicer.passes): per field, its positive clauses are
 * alternatives ("or") and its negated ones must all hold; different fields must all hold ("and").
 */
function describeWhere(clauses: readonly WhereClause[]): string {
  const byField = new Map<string, { positive: string[]; negated: string[] }>();
  for (const clause of clauses) {
    let entry = byField.get(clause.field);
    if (entry === undefined) byField.set(clause.field, (entry = { positive: [], negated: [] }));
    (clause.operator === '!=' || clause.operator === '!~' ? entry.negated : entry.positive).push(clause.text);
  }
  const parts: string[] = [];
  for (const { positive, negated } of byField.values()) {
    if (positive.length > 0) parts.push(positive.length === 1 ? positive[0]! : `(${positive.join(' or ')})`);
    parts.push(...negated);
  }
  return parts.join(' and ');
}

