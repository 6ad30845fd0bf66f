import fc from 'fast-check';
import { APM_FIELDS, PROXY_FIELDS, type RecordField } from '../../src/model/record-fields.js';
import { emptyApmTransaction, emptyProxyRecord, type ApmTransaction, type ProxyRecord } from '../../src/model/records.js';

/** Hostile values for records, one arbitrary per field of the field table (a new field gets one too). */

export const oddString = fc.oneof(
  { arbitrary: fc.constantFrom('', '\u0000', '\ud800', '\udfff', 'a\ud83d', '\ud83d\ude00', 'a long value with a lone \udc00 surrogate', '😀'.repeat(20), 'é', '\n', '|', '"', '\\'), weight: 4 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 40 }), weight: 4 },
  // Any UTF-16 code unit, lone surrogates included.
  { arbitrary: fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)), maxLength: 40 }), weight: 4 },
  { arbitrary: fc.string({ unit: 'grapheme', minLength: 500, maxLength: 700 }), weight: 1 },
);
export const oddNumber = fc.oneof(
  fc.integer(), fc.double(), fc.nat(600), fc.integer({ min: 1_700_000_000_000, max: 1_800_000_000_000 }),
  fc.constantFrom(0, -0, Number.MAX_SAFE_INTEGER, -1, 2 ** 53 + 2, 2 ** 32, Infinity, -Infinity, NaN, 1e-300),
);

function arbitraryFor<R>(field: RecordField<R>): fc.Arbitrary<unknown> {
  const base: fc.Arbitrary<unknown> = field.type === 'string' ? oddString : field.type === 'boolean' ? fc.boolean() : field.name === 'line' ? fc.nat() : oddNumber;
  return field.nullable ? fc.option(base, { nil: null, freq: 3 }) : base;
}

function recordArbitrary<R>(fields: readonly RecordField<R>[], blank: (format: string, file: string, line: number, raw: string) => R): fc.Arbitrary<R> {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of fields) if (field.name !== 'kind') model[field.name] = arbitraryFor(field);
  return fc.record(model).map((values) => Object.assign(blank(values.format as string, values.file as string, values.line as number, values.raw as string) as object, values) as R);
}

export const proxyRecordArbitrary: fc.Arbitrary<ProxyRecord> = recordArbitrary(PROXY_FIELDS, emptyProxyRecord);
export const apmTransactionArbitrary: fc.Arbitrary<ApmTransaction> = recordArbitrary(APM_FIELDS, emptyApmTransaction);
