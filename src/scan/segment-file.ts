import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { endianness } from 'node:os';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import { isAscii } from 'node:buffer';
import type { FileStats } from '../model/file-stats.js';
import { readLineBatches } from '../lines/lines.js';
import { asciiTextPieces, BatchDecoder, BatchEncoder, type EncodedBatch } from '../parse/workers/record-codec.js';
import type { LogRecord } from '../model/records.js';

/**
 * How one spool segment is encoded on disk. Everything that writes or reads segment bytes goes
 * through this file (the spool router, replay's merges, checksums), so the encoding can change
 * without touching how segments are named, committed or replayed.
 *
 * Version 1 (`.alfseg`, issue 26): the worker hand-off's record codec (parse/workers/record-codec.ts,
 * driven by model/record-fields.ts), packed. It replaced gzipped NDJSON, whose JSON.stringify,
 * gzip and JSON.parse made a first `alf scan` cost ~3.7× the CPU of `analyze` over the same files.
 * Version 2: a record's line comes first in its text, and a value found in the line is stored as
 * its offset and length, not again (record-codec.ts, RAW). Version 1 is still read.
 *
 *   header   "ALFSEG" u8 version u8 byte order (1: little-endian)
 *   frame*   u8 type (1 proxy batch, 2 APM batch, 3 a source's counters as JSON)
 *            u32 payload bytes, u32 CRC-32 of the payload, payload
 *
 * A batch payload: u32 count; the codec's number and code columns, each packed on its own (a
 * column of integers whose range fits 0, 8, 16 or 32 bits is stored as base + offsets, anything
 * else as Float64); then u8 text encoding (0 UTF-8, 1 UTF-16LE when the text holds a lone
 * surrogate, which UTF-8 cannot carry) and the text. The string table the codec keeps runs over the
 * whole segment, so a segment is read from its start, in order, as it is written.
 * Every frame is checked: a bad magic, an unknown version, a short frame or a CRC mismatch is an
 * error naming the file, never records made up from damaged bytes.
 */

export const SEGMENT_EXTENSION = '.alfseg';
/** Segments written before version 1; still read, so a state from an older alf replays. */
export const LEGACY_SEGMENT_EXTENSION = '.ndjson.gz';
export const SEGMENT_VERSION = 2;
/** Version 1 held each record's line last in its text and no pieces of it (record-codec.ts, RAW); still read. */
const FIRST_SEGMENT_VERSION = 1;
const MAGIC = Buffer.from('ALFSEG', 'latin1');
const HEADER_BYTES = MAGIC.length + 2;
const FRAME_HEADER_BYTES = 9;
const FRAME_PROXY = 1;
const FRAME_APM = 2;
const FRAME_STATS = 3;
const LITTLE_ENDIAN = 1;
/** No frame is larger: a length beyond it is damage, not a reason to allocate gigabytes. */
const MAX_FRAME_BYTES = 1 << 30;
const LEGACY_TRAILER_PREFIX = '{"alfSegment":';

/**
 * Size and checksum of a segment file as written, kept in the manifest to find loss and damage.
 * From version 2 the SHA-256 is of the header and the frame headers, each holding its payload's
 * length and CRC-32: it names the segment's content without hashing every byte (hashing 228 MB of
 * spool was 3% of a first scan's CPU, and a later run hashed every older segment of a window it
 * replayed, in full). Damage inside a payload is then found by its CRC-32 as the window is
 * replayed. Version 1 and legacy segments: the SHA-256 of the whole file.
 */
export interface SegmentDigest {
  bytes: number;
  sha256: string;
}

export interface SegmentFileWriter {
  write(records: readonly LogRecord[]): Promise<void>;
  /** Writes the trailer (counters of each source in the segment) and closes; resolves once on disk. */
  close(stats: readonly FileStats[]): Promise<SegmentDigest>;
  /** Stops writing and removes the file. */
  abort(): Promise<void>;
}

export class SegmentFormatError extends Error {}

export function createSegmentWriter(path: string): SegmentFileWriter {
  if (endianness() !== 'LE') throw new Error('alf spool segments are written on little-endian hosts only');
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  const hash = createHash('sha256');
  const encoder = new BatchEncoder();
  let bytes = 0;
  // A failed write (ENOSPC, EFBIG) rejects `done`, so a writer waiting for 'drain' is released.
  const done = (async () => {
    await once(out, 'close');
    if (out.errored) throw out.errored;
  })();
  out.on('error', () => undefined); // surfaced through `done`
  done.catch(() => undefined); // observed by write/close/abort
  const put = async (chunk: Buffer): Promise<void> => {
    bytes += chunk.length;
    if (!out.write(chunk)) await Promise.race([once(out, 'drain'), done]);
    if (out.errored) throw out.errored;
  };
  // The digest covers the header and every frame's header, whose CRC-32 stands for its payload
  // (see SegmentDigest); head and payload are written as they are, not copied into one buffer.
  const putFrame = async (type: number, payload: Buffer): Promise<void> => {
    const head = frameHead(type, payload);
    hash.update(head);
    out.write(head);
    bytes += head.length;
    await put(payload);
  };
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header, 0);
  header[MAGIC.length] = SEGMENT_VERSION;
  header[MAGIC.length + 1] = LITTLE_ENDIAN;
  let started = false;
  const start = async (): Promise<void> => {
    if (started) return;
    started = true;
    hash.update(header);
    await put(header);
  };
  return {
    async write(records) {
      await start();
      if (records.length === 0) return;
      const batch = encoder.encode(records);
      await putFrame(batch.kind === 'proxy' ? FRAME_PROXY : FRAME_APM, packBatch(batch));
    },
    async close(stats) {
      await start();
      for (const s of stats) await putFrame(FRAME_STATS, Buffer.from(JSON.stringify(s), 'utf8'));
      out.end();
      await done;
      return { bytes, sha256: hash.digest('hex') };
    },
    async abort() {
      out.destroy();
      await done.catch(() => undefined);
      await rm(path, { force: true });
    },
  };
}

function frameHead(type: number, payload: Buffer): Buffer {
  const head = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  head[0] = type;
  head.writeUInt32LE(payload.length, 1);
  head.writeUInt32LE(crc32(payload), 5);
  return head;
}

// ---------------------------------------------------------------- packed columns

/** Column encodings: offsets from a Float64 base in 0, 1, 2 or 4 bytes, or raw Float64. */
const WIDTH_RAW = 8;

/** Appends buffers; the batch payload is assembled once at the end. */
class Parts {
  readonly list: Buffer[] = [];
  bytes = 0;
  push(buffer: Buffer): void {
    this.list.push(buffer);
    this.bytes += buffer.length;
  }
}

/** Packs column `column` of a row-major array with `stride` values per row. */
function packColumn(parts: Parts, values: Float64Array | Uint32Array, stride: number, column: number, count: number): void {
  let min = Infinity;
  let max = -Infinity;
  let integral = true;
  for (let i = column, n = 0; n < count; n++, i += stride) {
    const v = values[i]!;
    if (!Number.isInteger(v) || Object.is(v, -0)) {
      integral = false;
      break;
    }
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const range = max - min;
  const width = !integral || count === 0 ? WIDTH_RAW : range === 0 ? 0 : range < 0x100 ? 1 : range < 0x10000 ? 2 : range < 0x100000000 ? 4 : WIDTH_RAW;
  if (width === WIDTH_RAW) {
    const data = new Float64Array(count);
    for (let i = column, n = 0; n < count; n++, i += stride) data[n] = values[i]!;
    parts.push(Buffer.from([WIDTH_RAW]));
    parts.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    return;
  }
  const head = Buffer.allocUnsafe(9);
  head[0] = width;
  head.writeDoubleLE(min, 1);
  parts.push(head);
  if (width === 0) return;
  const data = width === 1 ? new Uint8Array(count) : width === 2 ? new Uint16Array(count) : new Uint32Array(count);
  for (let i = column, n = 0; n < count; n++, i += stride) data[n] = values[i]! - min;
  parts.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
}

function packBatch(batch: EncodedBatch): Buffer {
  const parts = new Parts();
  const count = batch.count;
  const head = Buffer.allocUnsafe(8);
  head.writeUInt32LE(count, 0);
  head.writeUInt32LE(batch.keeps.length, 4);
  parts.push(head);
  packColumn(parts, batch.keeps, 1, 0, batch.keeps.length);
  const numberStride = count === 0 ? 0 : batch.numbers.length / count;
  const codeStride = count === 0 ? 0 : batch.codes.length / count;
  for (let c = 0; c < numberStride; c++) packColumn(parts, batch.numbers, numberStride, c, count);
  for (let c = 0; c < codeStride; c++) packColumn(parts, batch.codes, codeStride, c, count);
  // String.prototype.isWellFormed is in Node 20 (V8 11.3); TypeScript's lib for this target lacks it.
  // The pieces are cut between records, so the bytes are those of the whole text, piece by piece.
  const wellFormed = batch.texts.every((piece) => (piece as unknown as { isWellFormed(): boolean }).isWellFormed());
  const text = batch.texts.map((piece) => Buffer.from(piece, wellFormed ? 'utf8' : 'utf16le'));
  const textBytes = text.reduce((sum, piece) => sum + piece.length, 0);
  const textHead = Buffer.allocUnsafe(5);
  textHead[0] = wellFormed ? 0 : 1;
  textHead.writeUInt32LE(textBytes, 1);
  parts.push(textHead);
  for (const piece of text) parts.push(piece);
  return Buffer.concat(parts.list, parts.bytes);
}

/** Reads packed columns back, checking every length against the payload. */
class PayloadReader {
  private at = 0;
  constructor(private readonly payload: Buffer, private readonly where: string) {}

  private need(bytes: number): number {
    const at = this.at;
    if (bytes < 0 || at + bytes > this.payload.length) throw new SegmentFormatError(`${this.where}: a batch is shorter than its columns say`);
    this.at = at + bytes;
    return at;
  }

  u32(): number {
    return this.payload.readUInt32LE(this.need(4));
  }

  /** Unpacks a column into `into` at `column`, `stride` apart. */
  column(into: Float64Array | Uint32Array, stride: number, column: number, count: number): void {
    const width = this.payload[this.need(1)]!;
    if (width === WIDTH_RAW) {
      const at = this.need(count * 8);
      const data = new Float64Array(count);
      new Uint8Array(data.buffer).set(this.payload.subarray(at, at + count * 8));
      for (let i = column, n = 0; n < count; n++, i += stride) into[i] = data[n]!;
      return;
    }
    if (width !== 0 && width !== 1 && width !== 2 && width !== 4) throw new SegmentFormatError(`${this.where}: unknown column width ${width}`);
    const base = this.payload.readDoubleLE(this.need(8));
    if (width === 0) {
      for (let i = column, n = 0; n < count; n++, i += stride) into[i] = base;
      return;
    }
    const at = this.need(count * width);
    const bytes = new Uint8Array(count * width);
    bytes.set(this.payload.subarray(at, at + count * width));
    const data = width === 1 ? bytes : width === 2 ? new Uint16Array(bytes.buffer) : new Uint32Array(bytes.buffer);
    for (let i = column, n = 0; n < count; n++, i += stride) into[i] = base + data[n]!;
  }

  /**
   * The batch's text, in pieces between records: ASCII bytes (nearly every log) are cut by the
   * records' string lengths and decoded piece by piece (record-codec.ts, TEXT_PIECE_CHARS says
   * why); other text is decoded whole.
   */
  text(kind: 'proxy' | 'apm', count: number, codes: Uint32Array): { texts: string[]; textStarts: Uint32Array } {
    const encoding = this.payload[this.need(1)];
    if (encoding !== 0 && encoding !== 1) throw new SegmentFormatError(`${this.where}: unknown text encoding ${encoding}`);
    const length = this.u32();
    const at = this.need(length);
    const bytes = this.payload.subarray(at, at + length);
    if (encoding === 0 && isAscii(bytes)) {
      const pieces = asciiTextPieces(bytes, kind, count, codes);
      if (pieces === null) throw new SegmentFormatError(`${this.where}: a batch's text does not match its records' lengths`);
      return pieces;
    }
    return { texts: [bytes.toString(encoding === 0 ? 'utf8' : 'utf16le')], textStarts: new Uint32Array(1) };
  }

  end(): void {
    if (this.at !== this.payload.length) throw new SegmentFormatError(`${this.where}: ${this.payload.length - this.at} bytes after a batch`);
  }
}

function unpackBatch(kind: 'proxy' | 'apm', payload: Buffer, where: string): EncodedBatch {
  const reader = new PayloadReader(payload, where);
  const count = reader.u32();
  const keepCount = reader.u32();
  if (count > payload.length || keepCount > payload.length) throw new SegmentFormatError(`${where}: implausible batch size`);
  const keeps = new Uint32Array(keepCount);
  reader.column(keeps, 1, 0, keepCount);
  const numberStride = BatchEncoder.numbersPerRecord(kind);
  const codeStride = BatchEncoder.codesPerRecord(kind);
  const numbers = new Float64Array(count * numberStride);
  const codes = new Uint32Array(count * codeStride);
  for (let c = 0; c < numberStride; c++) reader.column(numbers, numberStride, c, count);
  for (let c = 0; c < codeStride; c++) reader.column(codes, codeStride, c, count);
  const text = reader.text(kind, count, codes);
  reader.end();
  return { kind, count, numbers, codes, keeps, ...text };
}

// ---------------------------------------------------------------- reading

/** A segment's records in file order; each trailer's counters go to `onStats`. */
export function readSegment(path: string, onStats: (stats: FileStats) => void): AsyncGenerator<LogRecord[]> {
  return path.endsWith(LEGACY_SEGMENT_EXTENSION) ? readLegacySegment(path, onStats) : readFramedSegment(path, onStats);
}

async function* readFramedSegment(path: string, onStats: (stats: FileStats) => void): AsyncGenerator<LogRecord[]> {
  let decoder = new BatchDecoder();
  const queue = new ByteQueue();
  let headerSeen = false;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    queue.push(chunk);
    if (!headerSeen) {
      if (queue.length < HEADER_BYTES) continue;
      if (checkHeader(queue.take(HEADER_BYTES), path) === FIRST_SEGMENT_VERSION) decoder = new BatchDecoder(false);
      headerSeen = true;
    }
    while (queue.length >= FRAME_HEADER_BYTES) {
      const head = queue.peek(FRAME_HEADER_BYTES);
      const length = head.readUInt32LE(1);
      if (length > MAX_FRAME_BYTES) throw new SegmentFormatError(`${path}: a frame claims ${length} bytes (damaged segment)`);
      if (queue.length - FRAME_HEADER_BYTES < length) break;
      const type = head[0]!;
      const checksum = head.readUInt32LE(5);
      queue.take(FRAME_HEADER_BYTES);
      const payload = queue.take(length);
      if (crc32(payload) !== checksum) throw new SegmentFormatError(`${path}: checksum mismatch in a frame (damaged segment)`);
      if (type === FRAME_STATS) onStats(JSON.parse(payload.toString('utf8')) as FileStats);
      else if (type === FRAME_PROXY || type === FRAME_APM) yield decoder.decode(unpackBatch(type === FRAME_PROXY ? 'proxy' : 'apm', payload, path));
      else throw new SegmentFormatError(`${path}: unknown frame type ${type}`);
    }
  }
  if (!headerSeen) throw new SegmentFormatError(`${path}: not an alf spool segment (too short for its header)`);
  if (queue.length > 0) throw new SegmentFormatError(`${path}: ends inside a frame (truncated segment)`);
}

/**
 * Read chunks, taken from the front by exact lengths: a frame inside one chunk is a view of it,
 * and only a frame across chunks is copied. (Joining every chunk to the leftover before it copied
 * the whole segment once more: 2.6% of a first scan's CPU, 1 M high-cardinality lines.)
 */
class ByteQueue {
  private readonly chunks: Buffer[] = [];
  /** Bytes of chunks[0] already taken. */
  private offset = 0;
  length = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** The next `bytes` bytes, left in the queue (the caller has checked `length`). */
  peek(bytes: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length - this.offset >= bytes) return first.subarray(this.offset, this.offset + bytes);
    return this.copy(bytes, false);
  }

  /** The next `bytes` bytes, removed from the queue (the caller has checked `length`). */
  take(bytes: number): Buffer {
    if (bytes === 0) return Buffer.alloc(0);
    const first = this.chunks[0]!;
    if (first.length - this.offset >= bytes) {
      const view = first.subarray(this.offset, this.offset + bytes);
      this.offset += bytes;
      this.length -= bytes;
      if (this.offset === first.length) {
        this.chunks.shift();
        this.offset = 0;
      }
      return view;
    }
    return this.copy(bytes, true);
  }

  private copy(bytes: number, remove: boolean): Buffer {
    const out = Buffer.allocUnsafe(bytes);
    let filled = 0;
    let index = 0;
    let offset = this.offset;
    while (filled < bytes) {
      const chunk = this.chunks[index]!;
      const n = Math.min(bytes - filled, chunk.length - offset);
      chunk.copy(out, filled, offset, offset + n);
      filled += n;
      offset += n;
      if (offset === chunk.length) {
        index++;
        offset = 0;
      }
    }
    if (remove) {
      this.chunks.splice(0, index);
      this.offset = offset;
      this.length -= bytes;
    }
    return out;
  }
}

/** The segment's version, once its header is checked. */
function checkHeader(bytes: Buffer, path: string): number {
  if (!bytes.subarray(0, MAGIC.length).equals(MAGIC)) throw new SegmentFormatError(`${path}: not an alf spool segment`);
  const version = bytes[MAGIC.length]!;
  if (version !== SEGMENT_VERSION && version !== FIRST_SEGMENT_VERSION) throw new SegmentFormatError(`${path}: spool segment version ${version}, this alf reads versions ${FIRST_SEGMENT_VERSION} to ${SEGMENT_VERSION}`);
  if (bytes[MAGIC.length + 1] !== LITTLE_ENDIAN) throw new SegmentFormatError(`${path}: spool segment of an unknown byte order`);
  return version;
}

/** Gzipped NDJSON, one record a line, then one trailer line per source (alf before issue 26). */
async function* readLegacySegment(path: string, onStats: (stats: FileStats) => void): AsyncGenerator<LogRecord[]> {
  for await (const batch of readLineBatches(createReadStream(path, { highWaterMark: 64 * 1024 }))) {
    const records: LogRecord[] = [];
    for (const line of batch.lines) {
      if (line.length === 0) continue;
      if (line.startsWith(LEGACY_TRAILER_PREFIX)) {
        onStats((JSON.parse(line) as { stats: FileStats }).stats);
        continue;
      }
      records.push(JSON.parse(line) as LogRecord);
    }
    if (records.length > 0) yield records;
  }
}

/** Size and checksum of a segment file as it is now (see SegmentDigest). */
export async function digestSegment(path: string): Promise<SegmentDigest> {
  const file = await open(path, 'r');
  try {
    const size = (await file.stat()).size;
    const header = Buffer.alloc(HEADER_BYTES);
    const { bytesRead } = await file.read(header, 0, HEADER_BYTES, 0);
    // Anything but a version-2 header (version 1, legacy NDJSON, damage) is hashed whole.
    if (bytesRead < HEADER_BYTES || !header.subarray(0, MAGIC.length).equals(MAGIC) || header[MAGIC.length] !== SEGMENT_VERSION) return await digestWhole(path);
    const hash = createHash('sha256').update(header);
    const head = Buffer.alloc(FRAME_HEADER_BYTES);
    // A frame cut short ends the walk: the size tells that damage.
    for (let at = HEADER_BYTES; at + FRAME_HEADER_BYTES <= size; at += FRAME_HEADER_BYTES + head.readUInt32LE(1)) {
      await file.read(head, 0, FRAME_HEADER_BYTES, at);
      hash.update(head);
    }
    return { bytes: size, sha256: hash.digest('hex') };
  } finally {
    await file.close();
  }
}

async function digestWhole(path: string): Promise<SegmentDigest> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { bytes, sha256: hash.digest('hex') };
}
