import { Transform, type TransformCallback } from 'node:stream';
import { MAX_LINE_BYTES } from './line-cap.js';

/**
 * Passes the bytes of a (decompressed) stream from `skip` on, up to and including the last
 * newline: a line still being written is left for the next scan. `passed` counts what went
 * through, so `skip + passed` is where the next scan starts. With `keepTail`, a final line
 * without newline passes too (immutable objects, whose last line is complete by definition).
 *
 * The pending line is held only up to the ingest line cap (plus one byte, so LineCap downstream
 * still sees it as too long and counts it): the rest is dropped as it arrives and only counted
 * in `passed`. A 2 GB file without a newline, or a gzip of zeros that inflates to gigabytes,
 * then costs about 1 MiB here instead of its whole length.
 */
export class CompleteLines extends Transform {
  passed = 0;
  /** Decompressed bytes seen in total, skipped ones included. */
  total = 0;
  private toSkip: number;
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** Bytes of the pending line beyond the cap: dropped, but consumed once its newline arrives. */
  private dropped = 0;

  constructor(skip: number, private readonly keepTail = false, private readonly maxLineBytes: number = MAX_LINE_BYTES) {
    super();
    this.toSkip = skip;
  }

  /** Bytes of the pending (incomplete) line held in memory: never more than the cap plus one. */
  get pendingBytes(): number {
    return this.heldBytes;
  }

  /** Bytes after the last newline, when the stream ended without passing them (0 with keepTail). */
  get unterminatedBytes(): number {
    return this.heldBytes + this.dropped;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.total += chunk.length;
    if (this.toSkip > 0) {
      if (chunk.length <= this.toSkip) {
        this.toSkip -= chunk.length;
        callback();
        return;
      }
      chunk = chunk.subarray(this.toSkip);
      this.toSkip = 0;
    }
    const lastNewline = chunk.lastIndexOf(0x0a);
    if (lastNewline < 0) {
      this.hold(chunk);
      callback();
      return;
    }
    const lines = chunk.subarray(0, lastNewline + 1);
    const out = this.held.length > 0 ? Buffer.concat([...this.held, lines]) : lines;
    this.passed += this.heldBytes + this.dropped + lines.length;
    this.held = [];
    this.heldBytes = 0;
    this.dropped = 0;
    if (lastNewline + 1 < chunk.length) this.hold(chunk.subarray(lastNewline + 1));
    callback(null, out);
  }

  override _flush(callback: TransformCallback): void {
    if (this.keepTail && this.held.length > 0) {
      const tail = Buffer.concat(this.held);
      this.passed += this.heldBytes + this.dropped;
      this.held = [];
      this.heldBytes = 0;
      this.dropped = 0;
      callback(null, tail);
      return;
    }
    callback();
  }

  private hold(piece: Buffer): void {
    const room = this.maxLineBytes + 1 - this.heldBytes;
    if (piece.length <= room) {
      this.held.push(piece);
      this.heldBytes += piece.length;
      return;
    }
    // A copy of the part kept, so the dropped rest of a large chunk is not pinned behind it.
    if (room > 0) {
      this.held.push(Buffer.from(piece.subarray(0, room)));
      this.heldBytes += room;
    }
    this.dropped += piece.length - Math.max(room, 0);
  }
}
