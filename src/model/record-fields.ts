import type { ApmTransaction, ProxyRecord } from './records.js';

/**
 * The record fields, written once: what each field of a proxy record and an APM transaction holds
 * and how it travels. The blank records (records.ts), the worker hand-off (parse/workers/record-codec.ts)
 * and the scan spool (scan/segment-file.ts) all follow these tables, so a field added here is
 * carried everywhere or fails their tests (test/model/record-fields.test.ts), never dropped on one
 * path only.
 *
 * - `number` fields travel as Float64 (a boolean as 0/1), with a null bit when `nullable`;
 * - `string` fields as text; `tabled` ones repeat across records (a method, an agent, an address)
 *   and are sent once per stream, then by slot number; the others (paths, ids, the raw line) inline.
 * The order is the records' property order: blank and decoded records share one object shape.
 */

export type FieldType = 'number' | 'boolean' | 'string';

export interface RecordField<R> {
  readonly name: keyof R & string;
  readonly type: FieldType;
  readonly nullable: boolean;
  /** Strings only: repeated across records, worth a table slot. */
  readonly tabled: boolean;
  /** The blank record's value (fields set by the constructor's arguments: null here, overwritten). */
  readonly blank: number | boolean | string | null;
}

function field<R>(name: keyof R & string, type: FieldType, nullable: boolean, blank: number | boolean | string | null, tabled = false): RecordField<R> {
  return { name, type, nullable, tabled, blank };
}

type P = ProxyRecord;
export const PROXY_FIELDS: readonly RecordField<P>[] = [
  field<P>('kind', 'string', false, 'proxy'),
  field<P>('format', 'string', false, '', true),
  field<P>('file', 'string', false, '', true),
  field<P>('line', 'number', false, 0),
  field<P>('endMs', 'number', false, 0),
  field<P>('timeResolutionMs', 'number', false, 1),
  field<P>('startMs', 'number', false, 0),
  field<P>('method', 'string', true, null, true),
  field<P>('path', 'string', true, null),
  field<P>('route', 'string', true, null),
  field<P>('query', 'string', true, null),
  field<P>('host', 'string', true, null, true),
  field<P>('status', 'number', true, null),
  field<P>('requestTimeMs', 'number', true, null),
  field<P>('upstreamLogged', 'boolean', false, false),
  field<P>('upstreamStatus', 'number', true, null),
  field<P>('upstreamAttempts', 'number', false, 0),
  field<P>('upstreamTimeMs', 'number', true, null),
  field<P>('upstreamConnectTimeMs', 'number', true, null),
  field<P>('upstreamHeaderTimeMs', 'number', true, null),
  field<P>('upstreamAddr', 'string', true, null, true),
  field<P>('clientIp', 'string', true, null, true),
  field<P>('userAgent', 'string', true, null, true),
  field<P>('apiKey', 'string', true, null, true),
  field<P>('requestId', 'string', true, null),
  field<P>('traceId', 'string', true, null),
  field<P>('bytesSent', 'number', true, null),
  field<P>('connectionRequests', 'number', true, null),
  field<P>('clientClosed', 'boolean', false, false),
  field<P>('flags', 'string', true, null, true),
  field<P>('raw', 'string', false, ''),
];

type A = ApmTransaction;
export const APM_FIELDS: readonly RecordField<A>[] = [
  field<A>('kind', 'string', false, 'apm'),
  field<A>('format', 'string', false, '', true),
  field<A>('file', 'string', false, '', true),
  field<A>('line', 'number', false, 0),
  field<A>('startMs', 'number', false, 0),
  field<A>('durationMs', 'number', false, 0),
  field<A>('queueMs', 'number', true, null),
  field<A>('name', 'string', true, null, true),
  field<A>('method', 'string', true, null, true),
  field<A>('path', 'string', true, null),
  field<A>('status', 'number', true, null),
  field<A>('userAgent', 'string', true, null, true),
  field<A>('host', 'string', true, null, true),
  field<A>('traceId', 'string', true, null),
  field<A>('requestId', 'string', true, null),
  field<A>('apiKey', 'string', true, null, true),
  field<A>('raw', 'string', false, ''),
];

/** The fields a codec carries: all but `kind`, which a batch states once. */
export const carried = <R>(fields: readonly RecordField<R>[]): readonly RecordField<R>[] => fields.filter((f) => f.name !== 'kind');
export const numericFields = <R>(fields: readonly RecordField<R>[]): readonly RecordField<R>[] => carried(fields).filter((f) => f.type !== 'string');
export const stringFields = <R>(fields: readonly RecordField<R>[]): readonly RecordField<R>[] => carried(fields).filter((f) => f.type === 'string');

/** A blank record as an object literal built from a table (records.ts clones it per record). */
export function blankRecord<R>(fields: readonly RecordField<R>[]): R {
  const record: Record<string, unknown> = {};
  for (const f of fields) record[f.name] = f.blank;
  return record as R;
}
