import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { decompressIfGzip } from '../lines/lines.js';

/** Bytes of decompressed content that identify a file across rename, gzip and inode reuse. */
export const FINGERPRINT_BYTES = 1024;

export interface Prefix {
  bytes: Buffer;
  gzip: boolean;
}

/** The first FINGERPRINT_BYTES of a file's content, decompressed when it is gzip (by magic bytes). */
export async function readPrefix(path: string): Promise<Prefix> {
  const raw = createReadStream(path, { highWaterMark: 64 * 1024 });
  let gzip = false;
  raw.once('data', (chunk: Buffer | string) => {
    gzip = typeof chunk !== 'string' && chunk.length >= 2 && chunk[0] === 0x1f && chunk[1] === 0x8b;
  });
  const content = await decompressIfGzip(raw);
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of content as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= FINGERPRINT_BYTES) break;
    }
  } catch (error) {
    // A gzip still being written ends early: what was decoded so far still fingerprints it.
    if (length === 0) throw error;
  } finally {
    raw.destroy();
    content.destroy();
  }
  return { bytes: Buffer.concat(chunks).subarray(0, FINGERPRINT_BYTES), gzip };
}

export function sha1(bytes: Uint8Array): string {
  return createHash('sha1').update(bytes).digest('hex');
}
