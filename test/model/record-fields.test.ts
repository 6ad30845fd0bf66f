import { describe, expect, it } from 'vitest';
import { BatchDecoder, BatchEncoder } from '../../src/parse/workers/record-codec.js';
import { APM_FIELDS, blankRecord, PROXY_FIELDS, type RecordField } from '../../src/model/record-fields.js';
import { emptyApmTransaction, emptyProxyRecord, type LogRecord } from '../../src/model/records.js';

/** A value no blank record holds, of the field's type. */
function distinct<R>(field: RecordField<R>, i: number): unknown {
  if (field.type === 'boolean') return !(field.blank as boolean);
  if (field.type === 'number') return 1000 + i + 0.5;
  return `value of ${field.name} ${'é'.repeat(i % 3)}`;
}

describe('the record field table is the one list of record fields', () => {
  it('a blank proxy record and a blank APM transaction hold exactly the table\'s fields, in its order, with its blanks', () => {
    const proxy = emptyProxyRecord('', '', 0, '');
    expect(Object.keys(proxy)).toEqual(PROXY_FIELDS.map((f) => f.name));
    expect(proxy).toStrictEqual(blankRecord(PROXY_FIELDS));
    const apm = emptyApmTransaction('', '', 0, '');
    expect(Object.keys(apm)).toEqual(APM_FIELDS.map((f) => f.name));
    expect(apm).toStrictEqual(blankRecord(APM_FIELDS));
  });

  it.each([
    ['proxy', PROXY_FIELDS, () => emptyProxyRecord('nginx', 'a.log', 1, 'raw')],
    ['apm', APM_FIELDS, () => emptyApmTransaction('newrelic', 'b.csv', 1, 'raw')],
  ] as const)('every %s field crosses the worker hand-off, each on its own', (_kind, fields, blank) => {
    for (const [i, field] of (fields as readonly RecordField<LogRecord>[]).entries()) {
      if (field.name === 'kind') continue;
      const record = blank() as unknown as Record<string, unknown>;
      record[field.name] = distinct(field, i);
      const decoded = new BatchDecoder().decode(new BatchEncoder().encode([record as unknown as LogRecord]));
      expect(decoded[0], field.name).toStrictEqual(record);
    }
  });
});
