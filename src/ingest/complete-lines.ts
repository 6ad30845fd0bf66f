import { Transform, type TransformCallback } from 'node:stream';

/**
 * Passes the bytes of a (decompressed) stream from `skip` on, up to and including the last
 * newline: a line still being written is left for the next scan. `passed` counts what went
 * through, so `skip + passed` is where the next scan starts. With `keepTail`, a final line
 * without newline passes too (immutable objects, whose last line is complete by definition).
 */
export class CompleteLines extends Transform {
  passed = 0;
  /** Decompressed bytes seen in total, skipped ones included. */
  total = 0;
  private toSkip: number;
  private held: Buffer[] = [];

  constructor(skip: number, private readonly keepTail = false) {
    super();
    this.toSkip = skip;
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
      this.held.push(chunk);
      callback();
      return;
    }
    const out = this.held.length > 0 ? Buffer.concat([...this.held, chunk.subarray(0, lastNewline + 1)]) : chunk.subarray(0, lastNewline + 1);
    this.held = lastNewline + 1 < chunk.length ? [chunk.subarray(lastNewline + 1)] : [];
    this.passed += out.length;
    callback(null, out);
  }

  override _flush(callback: TransformCallback): void {
    if (this.keepTail && this.held.length > 0) {
      const tail = Buffer.concat(this.held);
      this.passed += tail.length;
      this.held = [];
      callback(null, tail);
      return;
    }
    callback();
  }
}
