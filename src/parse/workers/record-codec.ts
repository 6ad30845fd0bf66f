import { APM_FIELDS, numericFields, PROXY_FIELDS, stringFields } from '../../model/record-fields.js';
import type { ApmTransaction, LogRecord, ProxyRecord } from '../../model/records.js';
import { ownString } from '../../model/own-string.js';

/**
 * Record batches across threads (`alf analyze --jobs N`), without structured clone.
 *
 * Why: a worker parses, the main thread joins and detects. Structured clone of parsed
 * ProxyRecords costs ~2.5 µs per record to deserialize on the main thread, more than parsing the
 * line (~2 µs), so cloning would move the work back to the thread that is already the bottleneck.
 * Instead a batch travels as
 *   - `numbers`: every numeric and boolean field, a fixed stride of Float64 per record (transferred);
 *   - `codes`: per record a bitmask of null numbers, then one Uint32 per string field (transferred);
 *   - `text`: every string value of the batch concatenated into ONE string, cut by lengths alone
 *     (a record's raw line first; a value found in that line is sent as its offset and length).
 *     Values are attacker-controlled (any character, NUL, lone surrogates), so there is no
 *     separator to escape: a code is a length in UTF-16 units, and `slice` by lengths is exact.
 * Repeated values of the fields parsers intern (method, user agent, client address, upstream,
 * key, host, format, file) are sent once per task and then by slot number: a small table on each
 * side, kept in step because one task's batches are encoded and decoded in the same order. The
 * main thread then holds one string object per repeated value, as the parsers' StringInterner
 * gives in a single-threaded run, so the detectors' Map lookups keep hitting cached hashes.
 *
 * Measured with test/parse/workers/record-codec.bench.ts (500 k nginx combined records, batch by batch as
 * in a run, median of 9 rounds, best in brackets; 2-core host with other work running, load 3-4):
 *   encode 0.28 (0.27) µs/record in the worker; structured clone of the encoded batch (both
 *   halves, 387 bytes/record) 0.31 (0.26); decode 0.32 (0.27) on the main thread. Of the clone,
 *   flattening the text rope is ~0.14 (worker) and copying it into the main heap ~0.11.
 *   For comparison, v8 serialize of the parsed records 1.67 (1.50), deserialize 2.85 (2.43).
 * Building `text` with += rather than parts.join('') took encode from 0.53 to 0.15 µs/record
 * before the tables (the rope is flattened once, by postMessage).
 */

export interface EncodedBatch {
  kind: 'proxy' | 'apm';
  count: number;
  numbers: Float64Array;
  codes: Uint32Array;
  /** Slots (in order) where the decoder keeps a value sent inline (code with KEEP). */
  keeps: Uint32Array;
  /** The string values of the batch in order, cut between records into pieces (see TEXT_PIECE_CHARS). */
  texts: string[];
  /** The record each piece of `texts` begins with (ascending; the first is 0). */
  textStarts: Uint32Array;
}

/** The buffers a batch message should transfer rather than copy. */
export function transferList(batch: EncodedBatch): ArrayBuffer[] {
  return [batch.numbers.buffer as ArrayBuffer, batch.codes.buffer as ArrayBuffer, batch.keeps.buffer as ArrayBuffer];
}

// String codes. Lengths are far below 2^30: ingest cuts lines at 1 MiB.
const NULL = 0xffffffff;
const REF = 0x80000000;
const KEEP = 0x40000000;
const LENGTH = 0x3fffffff;
/**
 * A value that is a piece of its record's raw line (a path, a query, a client address, an id):
 * both high bits, then its offset in the line and its length, 15 bits each; it adds no text. Why:
 * the spool stored the path and query of a `combined` line twice (in the line and on their own),
 * 228 bytes a record for a 166-byte line (1 M high-cardinality lines), and every byte is encoded
 * to UTF-8, hashed, checksummed, written, read and checksummed again. The all-ones code is NULL,
 * so an offset is at most RAW_MAX - 1.
 */
const RAW = 0xc0000000;
const RAW_BITS = 15;
const RAW_MAX = (1 << RAW_BITS) - 1;
/** Shorter values are sent inline: the search would cost more than the characters. */
const MIN_RAW_REFERENCE = 4;

const TABLE_SLOTS = 1 << 14;
/**
 * A batch's text is cut into pieces of about this many characters, between records. Why: V8 puts
 * a string of more than 128 KiB in its large-object space, and making one there is ten times
 * slower: Buffer#toString of ASCII text ran at 2.7 GB/s for 124 KB and 0.26 GB/s for 134 KB
 * (node 20 on the project's 2-core host, utf8 and latin1 alike). A 2,048-record batch of raw lines
 * is ~300 KiB: decoding it whole made the spool's text decode 6.2% of a queued worker's CPU (400 k
 * extended + New Relic lines, `--cpu-prof`).
 */
export const TEXT_PIECE_CHARS = 16 * 1024;
/**
 * A field whose values keep missing the table is sent inline for a while, then probed again. Why:
 * a miss costs a Map insert and delete and keeps the value alive in the table long enough to be
 * promoted out of V8's young generation; a hit saves only the value's few characters. Client
 * addresses of the bench's high-cardinality profile (60 k, Zipf) missed 20% of the time, and
 * tabling them took encode from 0.41 to 0.92 µs/record for 11 bytes/record less text (482 k
 * combined lines, test/parse/workers/record-codec.bench.ts, medians of 9).
 */
const PROBE_LOOKUPS = 1024;
const MAX_MISS_RATE = 1 / 8;
const INLINE_AFTER_POOR_PROBES = 32 * 1024;
/** The most tabled fields a record kind has (proxy: format, file, method, host, upstream, client, agent, key, flags). */
const TABLED_FIELDS = 9;
/** Longer values are never tabled: they are rarely repeated and would cost a copy on the main thread. */
const MAX_TABLED_LENGTH = 512;

// Strides from the field table (model/record-fields.ts); the unrolled loops below follow its order,
// and test/parse/workers/record-codec.test.ts round-trips every field of it.
const PROXY_NUMBERS = numericFields(PROXY_FIELDS).length;
const PROXY_STRINGS = stringFields(PROXY_FIELDS).length;
const APM_NUMBERS = numericFields(APM_FIELDS).length;
const APM_STRINGS = stringFields(APM_FIELDS).length;

/**
 * Encoder side of one task's stream: remembers which value each table slot holds on the decoder.
 * Slots are handed out in turn (the oldest value makes way) and found by a Map: where a parser
 * interns a value (ALB's addresses and agents) its hash is computed once; nginx's fresh user agents
 * and addresses are hashed per record, and interning them in the worker was no faster (2 M
 * combined lines, --jobs 2: 4.39-4.43 s wall interned, 4.20-4.26 s not, medians of 3). (A
 * direct-mapped table hashed by hand cost the same to encode but resent 9% of values against 0.8%.)
 */
export class BatchEncoder {
  private readonly slots = new Map<string, number>();
  private readonly values: (string | undefined)[] = new Array<string | undefined>(TABLE_SLOTS);
  private nextSlot = 0;
  /** The raw line of the record being encoded. */
  private line = '';
  private text = '';
  private texts: string[] = [];
  private textStarts: number[] = [];
  /** The record the current piece of text begins with. */
  private pieceStart = 0;
  private keeps: number[] = [];
  /** Per tabled field (see `tabled`): lookups and misses of the current probe, poor probes in a row, and values still to send inline. */
  private readonly probeLookups = new Uint32Array(TABLED_FIELDS);
  private readonly probeMisses = new Uint32Array(TABLED_FIELDS);
  private readonly poorProbes = new Uint8Array(TABLED_FIELDS);
  private readonly inlineFor = new Uint32Array(TABLED_FIELDS);

  /** Float64 values per record in a batch of this kind (the spool packs them by column). */
  static numbersPerRecord(kind: 'proxy' | 'apm'): number {
    return kind === 'proxy' ? PROXY_NUMBERS : APM_NUMBERS;
  }

  /** Uint32 codes per record: the null mask, then one per string field. */
  static codesPerRecord(kind: 'proxy' | 'apm'): number {
    return 1 + (kind === 'proxy' ? PROXY_STRINGS : APM_STRINGS);
  }

  encode(records: readonly LogRecord[]): EncodedBatch {
    const first = records[0];
    const kind = first === undefined ? 'proxy' : first.kind;
    const batch = kind === 'proxy' ? this.encodeProxy(records as readonly ProxyRecord[]) : this.encodeApm(records as readonly ApmTransaction[]);
    this.text = '';
    this.texts = [];
    this.textStarts = [];
    this.keeps = [];
    this.line = '';
    return batch;
  }

  /** After record `index`: starts a new piece of text once the current one is long enough. */
  private endRecord(index: number): void {
    if (this.text.length < TEXT_PIECE_CHARS) return;
    this.texts.push(this.text);
    this.textStarts.push(this.pieceStart);
    this.pieceStart = index + 1;
    this.text = '';
  }

  /** The pieces of the batch's text, the last one included (an empty batch has one empty piece). */
  private finishTexts(): { texts: string[]; textStarts: Uint32Array } {
    if (this.text.length > 0 || this.texts.length === 0) {
      this.texts.push(this.text);
      this.textStarts.push(this.pieceStart);
    }
    this.pieceStart = 0;
    return { texts: this.texts, textStarts: Uint32Array.from(this.textStarts) };
  }

  private encodeProxy(records: readonly ProxyRecord[]): EncodedBatch {
    const count = records.length;
    const numbers = new Float64Array(count * PROXY_NUMBERS);
    const codes = new Uint32Array(count * (PROXY_STRINGS + 1));
    let n = 0;
    let c = 0;
    for (let i = 0; i < count; i++) {
      const r = records[i]!;
      if (r.kind !== 'proxy') throw new Error('record codec: a batch mixes proxy records and APM transactions');
      let nulls = 0;
      numbers[n] = r.line;
      numbers[n + 1] = r.endMs;
      numbers[n + 2] = r.timeResolutionMs;
      numbers[n + 3] = r.startMs;
      if (r.status === null) nulls |= 1 << 4; else numbers[n + 4] = r.status;
      if (r.requestTimeMs === null) nulls |= 1 << 5; else numbers[n + 5] = r.requestTimeMs;
      numbers[n + 6] = r.upstreamLogged ? 1 : 0;
      if (r.upstreamStatus === null) nulls |= 1 << 7; else numbers[n + 7] = r.upstreamStatus;
      numbers[n + 8] = r.upstreamAttempts;
      if (r.upstreamTimeMs === null) nulls |= 1 << 9; else numbers[n + 9] = r.upstreamTimeMs;
      if (r.upstreamConnectTimeMs === null) nulls |= 1 << 10; else numbers[n + 10] = r.upstreamConnectTimeMs;
      if (r.upstreamHeaderTimeMs === null) nulls |= 1 << 11; else numbers[n + 11] = r.upstreamHeaderTimeMs;
      if (r.bytesSent === null) nulls |= 1 << 12; else numbers[n + 12] = r.bytesSent;
      if (r.connectionRequests === null) nulls |= 1 << 13; else numbers[n + 13] = r.connectionRequests;
      numbers[n + 14] = r.clientClosed ? 1 : 0;
      n += PROXY_NUMBERS;
      codes[c] = nulls;
      // The line's text goes first, so the decoder has it when a field refers to a piece of it.
      codes[c + 15] = this.startLine(r.raw);
      codes[c + 1] = this.tabled(r.format, 0);
      codes[c + 2] = this.tabled(r.file, 1);
      codes[c + 3] = this.tabled(r.method, 2);
      codes[c + 4] = this.inlineOrPiece(r.path);
      codes[c + 5] = this.inline(r.route);
      codes[c + 6] = this.inlineOrPiece(r.query);
      codes[c + 7] = this.tabled(r.host, 3);
      codes[c + 8] = this.tabled(r.upstreamAddr, 4);
      codes[c + 9] = this.tabled(r.clientIp, 5);
      codes[c + 10] = this.tabled(r.userAgent, 6);
      codes[c + 11] = this.tabled(r.apiKey, 7);
      codes[c + 12] = this.inlineOrPiece(r.requestId);
      codes[c + 13] = this.inlineOrPiece(r.traceId);
      codes[c + 14] = this.tabled(r.flags, 8);
      c += PROXY_STRINGS + 1;
      this.endRecord(i);
    }
    return { kind: 'proxy', count, numbers, codes, keeps: Uint32Array.from(this.keeps), ...this.finishTexts() };
  }

  private encodeApm(records: readonly ApmTransaction[]): EncodedBatch {
    const count = records.length;
    const numbers = new Float64Array(count * APM_NUMBERS);
    const codes = new Uint32Array(count * (APM_STRINGS + 1));
    let n = 0;
    let c = 0;
    for (let i = 0; i < count; i++) {
      const r = records[i]!;
      if (r.kind !== 'apm') throw new Error('record codec: a batch mixes proxy records and APM transactions');
      let nulls = 0;
      numbers[n] = r.line;
      numbers[n + 1] = r.startMs;
      numbers[n + 2] = r.durationMs;
      if (r.queueMs === null) nulls |= 1 << 3; else numbers[n + 3] = r.queueMs;
      if (r.status === null) nulls |= 1 << 4; else numbers[n + 4] = r.status;
      n += APM_NUMBERS;
      codes[c] = nulls;
      codes[c + 11] = this.startLine(r.raw);
      codes[c + 1] = this.tabled(r.format, 0);
      codes[c + 2] = this.tabled(r.file, 1);
      codes[c + 3] = this.tabled(r.name, 2);
      codes[c + 4] = this.tabled(r.method, 3);
      codes[c + 5] = this.inlineOrPiece(r.path);
      codes[c + 6] = this.tabled(r.userAgent, 4);
      codes[c + 7] = this.tabled(r.host, 5);
      codes[c + 8] = this.inlineOrPiece(r.traceId);
      codes[c + 9] = this.inlineOrPiece(r.requestId);
      codes[c + 10] = this.tabled(r.apiKey, 6);
      c += APM_STRINGS + 1;
      this.endRecord(i);
    }
    return { kind: 'apm', count, numbers, codes, keeps: Uint32Array.from(this.keeps), ...this.finishTexts() };
  }

  /** Sends the record's raw line (first of its text) and keeps it to find pieces in. */
  private startLine(raw: string): number {
    this.line = raw;
    return this.inline(raw);
  }

  /** A piece of the record's line by offset and length when it is one, else inline. */
  private inlineOrPiece(value: string | null): number {
    if (value === null) return NULL;
    const length = value.length;
    if (length >= MIN_RAW_REFERENCE && length < RAW_MAX) {
      const at = this.line.indexOf(value);
      if (at >= 0 && at < RAW_MAX) return (RAW | (at << RAW_BITS) | length) >>> 0;
    }
    return this.inline(value);
  }

  private inline(value: string | null): number {
    if (value === null) return NULL;
    if (value.length > LENGTH) throw new Error('record codec: string too long');
    this.text += value;
    return value.length;
  }

  /** `field`: which of the batch kind's tabled fields this is (its own hit rate, below). */
  private tabled(value: string | null, field: number): number {
    if (value === null) return NULL;
    const length = value.length;
    if (length === 0 || length > MAX_TABLED_LENGTH) return this.inlineOrPiece(value);
    const inlineFor = this.inlineFor[field]!;
    if (inlineFor !== 0) {
      this.inlineFor[field] = inlineFor - 1;
      return this.inlineOrPiece(value);
    }
    const known = this.slots.get(value);
    const lookups = this.probeLookups[field]! + 1;
    const misses = this.probeMisses[field]! + (known === undefined ? 1 : 0);
    if (lookups < PROBE_LOOKUPS) {
      this.probeLookups[field] = lookups;
      this.probeMisses[field] = misses;
    } else {
      // Two poor probes in a row: the first may only have been filling a cold table.
      const poor = misses > PROBE_LOOKUPS * MAX_MISS_RATE ? this.poorProbes[field]! + 1 : 0;
      this.poorProbes[field] = poor === 2 ? 0 : poor;
      if (poor === 2) this.inlineFor[field] = INLINE_AFTER_POOR_PROBES;
      this.probeLookups[field] = 0;
      this.probeMisses[field] = 0;
    }
    if (known !== undefined) return (REF | known) >>> 0;
    const slot = this.nextSlot;
    this.nextSlot = (slot + 1) & (TABLE_SLOTS - 1);
    const evicted = this.values[slot];
    if (evicted !== undefined) this.slots.delete(evicted);
    this.values[slot] = value;
    this.slots.set(value, slot);
    this.keeps.push(slot);
    this.text += value;
    return (KEEP | length) >>> 0;
  }
}

/** Decoder side of one task's stream; batches must be decoded in the order they were encoded. */
export class BatchDecoder {
  private readonly table: string[] = new Array<string>(TABLE_SLOTS).fill('');
  private text = '';
  private position = 0;
  private texts: readonly string[] = [];
  private textStarts: Uint32Array = new Uint32Array(0);
  private piece = 0;
  /** The record at which the next piece of text takes over. */
  private nextPieceAt = 0;
  private keeps: Uint32Array = new Uint32Array(0);
  private kept = 0;
  /** The raw line of the record being decoded (decoded first: fields may be pieces of it). */
  private line = '';

  /**
   * `lineFirst`: false for spool segments of version 1, whose text held a record's line last and
   * no pieces of it.
   */
  constructor(private readonly lineFirst = true) {}

  /** `lineBase` is added to every record's line: a byte range's records count lines from its own start. */
  decode(batch: EncodedBatch, lineBase = 0): LogRecord[] {
    if (batch.texts.length !== batch.textStarts.length || batch.texts.length === 0 || batch.textStarts[0] !== 0) throw new Error('record codec: a batch whose text pieces do not line up with its records');
    this.texts = batch.texts;
    this.textStarts = batch.textStarts;
    this.piece = 0;
    this.nextPieceAt = 0;
    this.keeps = batch.keeps;
    this.kept = 0;
    const records = batch.kind === 'proxy' ? this.decodeProxy(batch, lineBase) : this.decodeApm(batch, lineBase);
    this.text = '';
    this.texts = [];
    this.line = '';
    return records;
  }

  /** Moves on to the piece of text that record `index` begins. */
  private nextPiece(index: number): void {
    while (this.nextPieceAt === index) {
      this.text = this.texts[this.piece]!;
      this.position = 0;
      this.piece++;
      this.nextPieceAt = this.piece < this.textStarts.length ? this.textStarts[this.piece]! : -1;
    }
  }

  private decodeProxy(batch: EncodedBatch, lineBase: number): ProxyRecord[] {
    const { count, numbers: x, codes } = batch;
    const records = new Array<ProxyRecord>(count);
    let n = 0;
    let c = 0;
    for (let i = 0; i < count; i++) {
      if (i === this.nextPieceAt) this.nextPiece(i);
      const nulls = codes[c]!;
      if (this.lineFirst) this.line = this.string(codes[c + 15]!) as string;
      // Same property order as emptyProxyRecord, so decoded records share the parsers' object shape.
      records[i] = {
        kind: 'proxy',
        format: this.string(codes[c + 1]!) as string,
        file: this.string(codes[c + 2]!) as string,
        line: x[n]! + lineBase,
        endMs: x[n + 1]!,
        timeResolutionMs: x[n + 2]!,
        startMs: x[n + 3]!,
        method: this.string(codes[c + 3]!),
        path: this.string(codes[c + 4]!),
        route: this.string(codes[c + 5]!),
        query: this.string(codes[c + 6]!),
        host: this.string(codes[c + 7]!),
        status: nulls & (1 << 4) ? null : x[n + 4]!,
        requestTimeMs: nulls & (1 << 5) ? null : x[n + 5]!,
        upstreamLogged: x[n + 6] === 1,
        upstreamStatus: nulls & (1 << 7) ? null : x[n + 7]!,
        upstreamAttempts: x[n + 8]!,
        upstreamTimeMs: nulls & (1 << 9) ? null : x[n + 9]!,
        upstreamConnectTimeMs: nulls & (1 << 10) ? null : x[n + 10]!,
        upstreamHeaderTimeMs: nulls & (1 << 11) ? null : x[n + 11]!,
        upstreamAddr: this.string(codes[c + 8]!),
        clientIp: this.string(codes[c + 9]!),
        userAgent: this.string(codes[c + 10]!),
        apiKey: this.string(codes[c + 11]!),
        requestId: this.string(codes[c + 12]!),
        traceId: this.string(codes[c + 13]!),
        bytesSent: nulls & (1 << 12) ? null : x[n + 12]!,
        connectionRequests: nulls & (1 << 13) ? null : x[n + 13]!,
        clientClosed: x[n + 14] === 1,
        flags: this.string(codes[c + 14]!),
        raw: this.lineFirst ? this.line : (this.string(codes[c + 15]!) as string),
      };
      n += PROXY_NUMBERS;
      c += PROXY_STRINGS + 1;
    }
    return records;
  }

  private decodeApm(batch: EncodedBatch, lineBase: number): ApmTransaction[] {
    const { count, numbers: x, codes } = batch;
    const records = new Array<ApmTransaction>(count);
    let n = 0;
    let c = 0;
    for (let i = 0; i < count; i++) {
      if (i === this.nextPieceAt) this.nextPiece(i);
      const nulls = codes[c]!;
      if (this.lineFirst) this.line = this.string(codes[c + 11]!) as string;
      // Same property order as emptyApmTransaction.
      records[i] = {
        kind: 'apm',
        format: this.string(codes[c + 1]!) as string,
        file: this.string(codes[c + 2]!) as string,
        line: x[n]! + lineBase,
        startMs: x[n + 1]!,
        durationMs: x[n + 2]!,
        queueMs: nulls & (1 << 3) ? null : x[n + 3]!,
        name: this.string(codes[c + 3]!),
        method: this.string(codes[c + 4]!),
        path: this.string(codes[c + 5]!),
        status: nulls & (1 << 4) ? null : x[n + 4]!,
        userAgent: this.string(codes[c + 6]!),
        host: this.string(codes[c + 7]!),
        traceId: this.string(codes[c + 8]!),
        requestId: this.string(codes[c + 9]!),
        apiKey: this.string(codes[c + 10]!),
        raw: this.lineFirst ? this.line : (this.string(codes[c + 11]!) as string),
      };
      n += APM_NUMBERS;
      c += APM_STRINGS + 1;
    }
    return records;
  }

  private string(code: number): string | null {
    if (code === NULL) return null;
    if (code >>> 30 === RAW >>> 30) {
      const at = (code >>> RAW_BITS) & RAW_MAX;
      const end = at + (code & RAW_MAX);
      if (end > this.line.length) throw new Error('record codec: a piece beyond the end of its line');
      return this.line.slice(at, end);
    }
    if (code & REF) return this.table[code & (TABLE_SLOTS - 1)]!;
    const start = this.position;
    this.position = start + (code & LENGTH);
    const value = this.text.slice(start, this.position);
    if ((code & KEEP) === 0) return value;
    // Kept values outlive the batch: a slice would pin the whole batch text for as long as the slot lives.
    const owned = ownString(value);
    this.table[this.keeps[this.kept++]!] = owned;
    return owned;
  }
}

/**
 * A batch's text pieces read back from the bytes of its whole text when they are all ASCII (one
 * byte per UTF-16 unit), cut between records as the encoder cuts them and decoded piece by piece;
 * null when the records' string lengths do not add up to the text (damage).
 */
export function asciiTextPieces(bytes: Buffer, kind: 'proxy' | 'apm', count: number, codes: Uint32Array): { texts: string[]; textStarts: Uint32Array } | null {
  const stride = BatchEncoder.codesPerRecord(kind);
  if (codes.length < count * stride) return null;
  const texts: string[] = [];
  const starts: number[] = [];
  let pieceStart = 0;
  let from = 0;
  let at = 0;
  for (let i = 0, c = 0; i < count; i++, c += stride) {
    for (let k = 1; k < stride; k++) {
      const code = codes[c + k]!;
      if (code !== NULL && (code & REF) === 0) at += code & LENGTH;
    }
    if (at > bytes.length) return null;
    if (at - from >= TEXT_PIECE_CHARS) {
      texts.push(bytes.toString('latin1', from, at));
      starts.push(pieceStart);
      pieceStart = i + 1;
      from = at;
    }
  }
  if (at !== bytes.length) return null;
  if (from < at || texts.length === 0) {
    texts.push(bytes.toString('latin1', from, at));
    starts.push(pieceStart);
  }
  return { texts, textStarts: Uint32Array.from(starts) };
}

export const RECORD_CODEC_LIMITS = { tableSlots: TABLE_SLOTS, maxTabledLength: MAX_TABLED_LENGTH, probeLookups: PROBE_LOOKUPS, maxMissRate: MAX_MISS_RATE, inlineAfterPoorProbes: INLINE_AFTER_POOR_PROBES } as const;
