import { Transform, type TransformCallback } from 'node:stream';

/**
 * JSON objects written back to back, `{…}{…}{…}`, with no newline between them: what Kinesis Data
 * Firehose delivers to S3 unless its stream adds a delimiter (API Gateway, CloudFront v2 and other
 * access logs sent through it). A whole Firehose object (up to 128 MiB) is then one line, past
 * the 1 MiB line cap, and was skipped whole as too long. A file that opens that way is read object
 * by object instead: a newline is put after each top-level object that another follows on the same
 * line, before lines are cut and capped, so each object is a line (numbered as such) and the cap
 * applies to one object, not the whole delivery.
 *
 * The scan is a byte-level JSON lexer that only knows strings (and their escapes) and object
 * depth; it keeps a few small values across chunks, whatever the input holds. A stray `}` leaves
 * the depth at 0 instead of going negative, and a newline ends any string or object left open, so
 * damage is one bad line, not the rest of the file as one.
 */

const OPEN = 0x7b;
const CLOSE = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;
const SPACE = 0x20;
const TAB = 0x09;

/**
 * Whether a stream's first bytes are JSON objects back to back: an object at the start, closed,
 * then (after spaces or tabs only) another opening, all before the first newline.
 */
export function opensBackToBack(first: Buffer): boolean {
  let at = 0;
  while (at < first.length && (first[at] === SPACE || first[at] === TAB)) at++;
  if (first[at] !== OPEN) return false;
  let depth = 0;
  let inString = false;
  let closed = false;
  for (; at < first.length; at++) {
    const byte = first[at]!;
    if (closed) {
      if (byte === SPACE || byte === TAB) continue;
      return byte === OPEN;
    }
    if (inString) {
      if (byte === BACKSLASH) at++;
      else if (byte === QUOTE) inString = false;
      else if (byte === NEWLINE) return false;
      continue;
    }
    if (byte === NEWLINE) return false;
    if (byte === QUOTE) inString = true;
    else if (byte === OPEN) depth++;
    else if (byte === CLOSE && --depth === 0) closed = true;
  }
  return false;
}

/** Puts a newline between top-level objects that follow each other on one line (spaces and tabs between them go). */
export class ObjectPerLine extends Transform {
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** A top-level object just closed: spaces are dropped until the next byte says whether another follows. */
  private afterObject = false;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const pieces: Buffer[] = [];
    let from = 0;
    for (let at = 0; at < chunk.length; at++) {
      const byte = chunk[at]!;
      if (byte === NEWLINE) {
        // A line ends any string or object left open: damage stays on its line.
        this.depth = 0;
        this.inString = false;
        this.escaped = false;
        this.afterObject = false;
        continue;
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (byte === BACKSLASH) this.escaped = true;
        else if (byte === QUOTE) this.inString = false;
        continue;
      }
      if (this.afterObject) {
        if (byte === SPACE || byte === TAB) {
          // Dropped: the next object, if any, starts its own line.
          if (at > from) pieces.push(chunk.subarray(from, at));
          from = at + 1;
          continue;
        }
        this.afterObject = false;
        if (byte === OPEN) {
          if (at > from) pieces.push(chunk.subarray(from, at));
          pieces.push(LINE_BREAK);
          from = at;
        }
      }
      if (byte === QUOTE) this.inString = true;
      else if (byte === OPEN) this.depth++;
      else if (byte === CLOSE) {
        if (this.depth > 0 && --this.depth === 0) this.afterObject = true;
      }
    }
    if (pieces.length === 0) {
      callback(null, chunk);
      return;
    }
    if (from < chunk.length) pieces.push(chunk.subarray(from));
    callback(null, Buffer.concat(pieces));
  }
}

const LINE_BREAK = Buffer.from('\n');
