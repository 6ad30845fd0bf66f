import { Transform, type TransformCallback } from 'node:stream';

/**
 * Caps the length of a line before it is decoded and split. A log line is attacker-controlled:
 * without a cap, one multi-megabyte line makes the splitter re-scan a growing string per chunk
 * (split2 concatenates and re-splits its tail), and a file with no newline for gigabytes grows
 * one string until V8 throws "Invalid string length". Past `maxBytes`, the rest of the line is
 * dropped here, byte by byte, so memory stays at about `maxBytes` whatever the input.
 * The line itself is kept (its first `maxBytes` bytes), so line numbers never shift; its number
 * goes into `cut`, in ascending order, for ingest to count it as skipped (PARSE_LINE_TOO_LONG).
 */

/** Longer lines are cut: no known access-log format comes near it (ALB caps user agents at 8 KB). */
export const MAX_LINE_BYTES = 1024 * 1024;

export class LineCap extends Transform {
  /** Numbers (1-based) of the lines that were cut, ascending; the reader consumes them from the front. */
  readonly cut: number[] = [];
  private lineNumber = 1;
  /** Bytes of the current line seen so far (passed or dropped). */
  private length = 0;

  constructor(private readonly maxBytes: number = MAX_LINE_BYTES) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    // One pass over the newlines (memchr via indexOf); pieces are only copied when a line is cut.
    let pieces: Buffer[] | null = null;
    let kept = 0;
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(0x0a, start);
      const end = newline < 0 ? chunk.length : newline;
      const room = this.maxBytes - this.length;
      if (end - start > room) {
        if (this.cut[this.cut.length - 1] !== this.lineNumber) this.cut.push(this.lineNumber);
        pieces ??= [chunk.subarray(0, kept)];
        if (room > 0) pieces.push(chunk.subarray(start, start + room));
        kept = end; // everything up to `end` is now accounted for (kept or dropped)
      } else if (pieces !== null) {
        pieces.push(chunk.subarray(start, end));
        kept = end;
      } else {
        kept = end;
      }
      this.length += end - start;
      if (newline < 0) break;
      if (pieces !== null) pieces.push(chunk.subarray(newline, newline + 1));
      kept = newline + 1;
      this.lineNumber++;
      this.length = 0;
      start = newline + 1;
    }
    if (pieces === null) callback(null, chunk);
    else callback(null, Buffer.concat(pieces));
  }
}
