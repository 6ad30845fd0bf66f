/**
 * Cost of moving parsed records between threads: `npx tsx test/parse/workers/record-codec.bench.ts [FILE]`
 * (default .bench/c500k.log, 500 k nginx combined lines). Parses the file once, then times, per
 * record, the median and the best of 9 rounds (the best is the steadier figure on a shared host): the record codec's encode (worker side) and decode (main
 * thread side, after a real structured clone of the encoded batch), and for comparison the
 * structured clone of the parsed records themselves (serialize, deserialize).
 */
import { join, resolve } from 'node:path';
import { deserialize as v8Deserialize, serialize as v8Serialize } from 'node:v8';
import { FORMATS } from '../../../parsers/registry.js';
import { parseSource } from '../../../src/parse/parse-source.js';
import { BatchDecoder, BatchEncoder, transferList, type EncodedBatch } from '../../../src/parse/workers/record-codec.js';
import { fileSource } from '../../../src/sources/sources.js';
import type { LogRecord } from '../../../src/model/records.js';

const file = resolve(process.argv[2] ?? join(import.meta.dirname, '../../.bench/c500k.log'));
const ROUNDS = 9;

const batches: LogRecord[][] = [];
const parsed = parseSource(fileSource(file), { candidates: FORMATS });
for await (const batch of parsed.batches) batches.push(batch);
const count = batches.reduce((sum, batch) => sum + batch.length, 0);
process.stderr.write(`${file}: ${count} records (${parsed.stats.format})\n`);

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1]!;
const perRecord = (values: number[]): string =>
  `${((median(values) * 1000) / count).toFixed(3)} µs/record (best ${((Math.min(...values) * 1000) / count).toFixed(3)})`;

const encodeMs: number[] = [];
const wireMs: number[] = [];
const decodeMs: number[] = [];
const serializeMs: number[] = [];
const deserializeMs: number[] = [];
let bytes = 0;
for (let round = 0; round < ROUNDS; round++) {
  // One batch at a time, as in a run: encoded, sent, decoded, dropped (keeping every encoded batch
  // alive instead turns the figures into a measure of the garbage collector).
  const encoder = new BatchEncoder();
  const decoder = new BatchDecoder();
  let encode = 0;
  let wire = 0;
  let decode = 0;
  let decoded = 0;
  for (const batch of batches) {
    let started = performance.now();
    const encoded: EncodedBatch = encoder.encode(batch);
    encode += performance.now() - started;
    bytes += encoded.numbers.byteLength + encoded.codes.byteLength + encoded.keeps.byteLength + encoded.texts.reduce((sum, piece) => sum + piece.length, 0);
    started = performance.now();
    const received = structuredClone(encoded, { transfer: transferList(encoded) });
    wire += performance.now() - started;
    started = performance.now();
    decoded += decoder.decode(received).length;
    decode += performance.now() - started;
  }
  if (decoded !== count) throw new Error('decoded count differs');
  encodeMs.push(encode);
  wireMs.push(wire);
  decodeMs.push(decode);

  let serialize = 0;
  let deserialize = 0;
  for (const batch of batches) {
    let started = performance.now();
    const buffer = v8Serialize(batch);
    serialize += performance.now() - started;
    started = performance.now();
    v8Deserialize(buffer);
    deserialize += performance.now() - started;
  }
  serializeMs.push(serialize);
  deserializeMs.push(deserialize);
}
bytes /= ROUNDS;

process.stdout.write([
  `record codec, ${count} records, median of ${ROUNDS} rounds:`,
  `  encode (worker)                    ${perRecord(encodeMs)}`,
  `  structured clone of encoded batch  ${perRecord(wireMs)} (${(bytes / count).toFixed(0)} bytes/record)`,
  `  decode (main thread)               ${perRecord(decodeMs)}`,
  `v8 serialize of the records          ${perRecord(serializeMs)}`,
  `v8 deserialize of the records        ${perRecord(deserializeMs)}`,
].join('\n') + '\n');
