import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FORMATS } from '../../../parsers/registry.js';
import { nginxFormat } from '../../../parsers/nginx.js';
import { parseSource } from '../../../src/parse/parse-source.js';
import { BatchDecoder, BatchEncoder, RECORD_CODEC_LIMITS, transferList, type EncodedBatch } from '../../../src/parse/workers/record-codec.js';
import { fileSource } from '../../../src/sources/sources.js';
import { emptyApmTransaction, emptyProxyRecord, type ApmTransaction, type LogRecord, type ProxyRecord } from '../../../src/model/records.js';
import { ROOT } from '../../cli/run-cli.js';

/** What a batch looks like after postMessage: the buffers and the one string, cloned. */
function overTheWire(batch: EncodedBatch): EncodedBatch {
  return structuredClone(batch, { transfer: transferList(batch) });
}

function roundTrip(batches: readonly LogRecord[][], lineBase = 0): LogRecord[][] {
  const encoder = new BatchEncoder();
  const decoder = new BatchDecoder();
  return batches.map((batch) => decoder.decode(overTheWire(encoder.encode(batch)), lineBase));
}

async function parseFile(path: string, logFormat?: string): Promise<LogRecord[]> {
  const candidates = logFormat ? [nginxFormat(logFormat)] : FORMATS;
  const parsed = parseSource(fileSource(path), { candidates });
  const records: LogRecord[] = [];
  for await (const batch of parsed.batches) records.push(...batch);
  expect(parsed.stats.format, path).not.toBeNull();
  return records;
}

const sampleFiles = ['formats', 'apm'].flatMap((dir) => readdirSync(join(ROOT, 'samples', dir)).map((name) => join(ROOT, 'samples', dir, name)));

describe('record codec: encode then decode gives the parser\'s records back', () => {
  it.each(sampleFiles)('%s', async (path) => {
    const records = await parseFile(path);
    expect(records.length).toBeGreaterThan(0);
    // Two batches through one encoder: the second refers to values the first put in the table.
    const half = Math.ceil(records.length / 2);
    const decoded = roundTrip([records.slice(0, half), records.slice(half)]).flat();
    expect(decoded).toStrictEqual(records);
    // Same keys in the same order: decoded records share the parsers' object shape.
    expect(decoded.map((r) => Object.keys(r))).toEqual(records.map((r) => Object.keys(r)));
  });

  it('the incident\'s custom log_format and its New Relic CSV', async () => {
    const { readFileSync } = await import('node:fs');
    const directive = readFileSync(join(ROOT, 'samples/incident/nginx-log-format.conf'), 'utf8');
    for (const records of [
      await parseFile(join(ROOT, 'samples/incident/access.log'), directive.slice(directive.indexOf('log_format'))),
      await parseFile(join(ROOT, 'samples/incident/newrelic-transactions.csv')),
    ]) {
      const batches: LogRecord[][] = [];
      for (let i = 0; i < records.length; i += 2048) batches.push(records.slice(i, i + 2048));
      expect(roundTrip(batches).flat()).toStrictEqual(records);
    }
  });

  it('adds the line base of a byte range to every line', async () => {
    const records = await parseFile(join(ROOT, 'samples/formats/envoy.log'));
    const decoded = roundTrip([records], 1000).flat();
    expect(decoded.map((r) => r.line)).toEqual(records.map((r) => r.line + 1000));
  });
});

const oddString = fc.oneof(
  { arbitrary: fc.constantFrom('', '\u0000', '\ud800', '\udfff', 'a\ud83d', '\ud83d\ude00', 'a long value with a lone \udc00 surrogate', '😀'.repeat(20), 'é', '\n', '\r\n', '|', '"', '\\'), weight: 4 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 40 }), weight: 4 },
  // Any UTF-16 code unit, lone surrogates included.
  { arbitrary: fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)), maxLength: 40 }), weight: 4 },
  { arbitrary: fc.string({ unit: 'grapheme', minLength: 500, maxLength: 700 }), weight: 1 },
  // Longer than any table entry, and than split2 would ever hand over in one piece.
  { arbitrary: fc.constant(`${'x'.repeat(200_000)}\u00e9\ud800`), weight: 1 },
);
const optionalString = fc.option(oddString, { nil: null, freq: 3 });
const oddNumber = fc.oneof(
  fc.integer(), fc.double(), fc.constantFrom(0, -0, Number.MAX_SAFE_INTEGER, -1, 2 ** 53 + 2, Infinity, -Infinity, NaN, 1e-300),
);
const optionalNumber = fc.option(oddNumber, { nil: null, freq: 3 });

const proxyRecord: fc.Arbitrary<ProxyRecord> = fc.record({
  format: oddString, file: oddString, line: fc.nat(), raw: oddString,
  endMs: oddNumber, timeResolutionMs: oddNumber, startMs: oddNumber,
  method: optionalString, path: optionalString, route: optionalString, query: optionalString, host: optionalString,
  status: optionalNumber, requestTimeMs: optionalNumber, upstreamLogged: fc.boolean(), upstreamStatus: optionalNumber,
  upstreamAttempts: oddNumber, upstreamTimeMs: optionalNumber, upstreamConnectTimeMs: optionalNumber, upstreamHeaderTimeMs: optionalNumber,
  upstreamAddr: optionalString, clientIp: optionalString, userAgent: optionalString, apiKey: optionalString,
  requestId: optionalString, traceId: optionalString, bytesSent: optionalNumber, connectionRequests: optionalNumber,
  clientClosed: fc.boolean(), flags: optionalString,
}).map((fields) => Object.assign(emptyProxyRecord(fields.format, fields.file, fields.line, fields.raw), fields));

const apmTransaction: fc.Arbitrary<ApmTransaction> = fc.record({
  format: oddString, file: oddString, line: fc.nat(), raw: oddString,
  startMs: oddNumber, durationMs: oddNumber, name: optionalString, method: optionalString, path: optionalString,
  status: optionalNumber, userAgent: optionalString, host: optionalString, traceId: optionalString,
  requestId: optionalString, apiKey: optionalString,
}).map((fields) => Object.assign(emptyApmTransaction(fields.format, fields.file, fields.line, fields.raw), fields));

describe('record codec on hostile values', { timeout: 60_000 }, () => {
  it('proxy records: every string and number survives, whatever it holds', () => {
    fc.assert(fc.property(fc.array(fc.array(proxyRecord, { maxLength: 20 }), { maxLength: 4 }), (batches) => {
      const decoded = roundTrip(batches);
      expect(decoded).toStrictEqual(batches);
    }), { numRuns: 200 });
  });

  it('APM transactions: every string and number survives, whatever it holds', () => {
    fc.assert(fc.property(fc.array(fc.array(apmTransaction, { maxLength: 20 }), { maxLength: 4 }), (batches) => {
      expect(roundTrip(batches)).toStrictEqual(batches);
    }), { numRuns: 200 });
  });

  it('fields cut from their record\'s line survive, wherever in the line they are and whatever it holds', () => {
    // Pieces of the line at any offset and length, in lines short and long (a piece 40 k characters
    // in is past what a code can point at, and is sent inline).
    const line = fc.oneof(oddString, fc.tuple(oddString, fc.nat({ max: 40_000 })).map(([text, pad]) => `${'p'.repeat(pad)}${text}`));
    const withPieces = fc.tuple(proxyRecord, line, fc.array(fc.tuple(fc.nat(), fc.nat({ max: 60 })), { minLength: 4, maxLength: 4 })).map(([record, raw, cuts]) => {
      const piece = ([from, length]: [number, number]): string => raw.slice(from % (raw.length + 1), (from % (raw.length + 1)) + length);
      return Object.assign(record, { raw, path: piece(cuts[0]!), query: piece(cuts[1]!), clientIp: piece(cuts[2]!), traceId: piece(cuts[3]!) });
    });
    fc.assert(fc.property(fc.array(fc.array(withPieces, { maxLength: 12 }), { maxLength: 3 }), (batches) => {
      expect(roundTrip(batches)).toStrictEqual(batches);
    }), { numRuns: 150 });
  });

  it('sends a path, query, address or id found in the record\'s line as its place there, not again', () => {
    const batch = Array.from({ length: 100 }, (_, i) => {
      const raw = `198.51.100.${i} - - [15/Jan/2025:10:32:01 +0000] "GET /v1/orders/${1000 + i}?limit=${i} HTTP/1.1" 200 18 "-" "curl/8" rid-${i}x`;
      return Object.assign(emptyProxyRecord('nginx', 'a.log', i + 1, raw), {
        path: `/v1/orders/${1000 + i}`, query: `limit=${i}`, requestId: `rid-${i}x`,
        // Not in the line (an unescaped value, say): sent inline.
        traceId: `trace-${i}`,
      });
    });
    const encoded = new BatchEncoder().encode(batch);
    const text = encoded.texts.join('');
    // format and file once, then every line and the one value not found in it.
    expect(text.length).toBe('nginx'.length + 'a.log'.length + batch.reduce((sum, r) => sum + r.raw.length + r.traceId!.length, 0));
    expect(new BatchDecoder().decode(overTheWire(encoded))).toStrictEqual(batch);
  });

  it('sends a repeated value once, then by slot', () => {
    const batch = Array.from({ length: 2048 }, (_, i) => {
      const record = emptyProxyRecord('nginx', 'a.log', i + 1, `line ${i}`);
      record.userAgent = 'Mozilla/5.0 (a repeated agent string)';
      record.clientIp = '203.0.113.77';
      return record;
    });
    const encoder = new BatchEncoder();
    const first = encoder.encode(batch);
    // format, file, agent, address: each kept once.
    expect(first.keeps.length).toBe(4);
    const second = encoder.encode(batch);
    expect(second.keeps.length).toBe(0);
    expect(second.texts.join('').length).toBe(batch.reduce((sum, r) => sum + r.raw.length, 0));
    const decoder = new BatchDecoder();
    expect([decoder.decode(overTheWire(first)), decoder.decode(overTheWire(second))]).toStrictEqual([batch, batch]);
  });

  it('stays exact when there are more distinct values than table slots (old ones make way)', () => {
    const batches: ProxyRecord[][] = [];
    for (let b = 0; b < 16; b++) {
      const batch: ProxyRecord[] = [];
      for (let i = 0; i < 2048; i++) {
        const n = b * 2048 + i;
        const record = emptyProxyRecord('nginx', 'a.log', n + 1, `line ${n}`);
        // Distinct agents beyond the table's size, mixed with a few that keep coming back.
        record.userAgent = i % 3 === 0 ? `returning agent ${i % 7}` : `agent number ${n}`;
        record.clientIp = `10.0.${i % 256}.${b}`;
        batch.push(record);
      }
      batches.push(batch);
    }
    expect(batches.flat().filter((r) => r.userAgent!.startsWith('agent')).length).toBeGreaterThan(RECORD_CODEC_LIMITS.tableSlots);
    expect(roundTrip(batches)).toStrictEqual(batches);
  });

  it('sends a field inline for a while once two probes in a row mostly miss the table, and still round-trips', () => {
    const { probeLookups, inlineAfterPoorProbes } = RECORD_CODEC_LIMITS;
    const batchSize = 2 * probeLookups;
    const batches: ProxyRecord[][] = [];
    for (let b = 0; b * batchSize < inlineAfterPoorProbes + 3 * batchSize; b++) {
      batches.push(Array.from({ length: batchSize }, (_, i) => {
        const n = b * batchSize + i;
        const record = emptyProxyRecord('nginx', 'a.log', n + 1, `line ${n}`);
        record.userAgent = 'the one agent';
        // Every address new: the table never helps.
        record.clientIp = `10.${n >> 16}.${(n >> 8) & 255}.${n & 255}`;
        return record;
      }));
    }
    const encoder = new BatchEncoder();
    const encoded = batches.map((batch) => encoder.encode(batch));
    // The first batch keeps every address (two probes), the agent, the format and the file.
    expect(encoded[0]!.keeps.length).toBe(batchSize + 3);
    // Then the addresses go inline: nothing kept, yet each address is in the text once.
    for (const batch of encoded.slice(1, inlineAfterPoorProbes / batchSize + 1)) {
      expect(batch.keeps.length).toBe(0);
      expect(batch.texts.join('')).toContain('10.');
    }
    // After the pause the table is probed again.
    expect(encoded[inlineAfterPoorProbes / batchSize + 1]!.keeps.length).toBeGreaterThan(0);
    const decoder = new BatchDecoder();
    expect(encoded.map((batch) => decoder.decode(overTheWire(batch)))).toStrictEqual(batches);
  });

  it('keeps tabling a field that hits the table after a cold start', () => {
    const batch = Array.from({ length: 4 * RECORD_CODEC_LIMITS.probeLookups }, (_, i) => {
      const record = emptyProxyRecord('nginx', 'a.log', i + 1, `line ${i}`);
      // 600 addresses: the first probe mostly misses, the second mostly hits.
      record.clientIp = `192.0.2.${i % 600}`;
      return record;
    });
    const encoder = new BatchEncoder();
    encoder.encode(batch);
    const again = encoder.encode(batch);
    expect(again.keeps.length).toBe(0);
    expect(again.texts.join('')).not.toContain('192.0.2.');
  });

  it('refuses a batch that mixes record kinds', () => {
    const encoder = new BatchEncoder();
    expect(() => encoder.encode([emptyProxyRecord('f', 'a', 1, ''), emptyApmTransaction('f', 'a', 2, '') as unknown as ProxyRecord])).toThrow(/mixes/);
  });
});
