import { open } from 'node:fs/promises';

/**
 * Gzip is known by its first two bytes (1f 8b), never by a file name: rotated logs are compressed
 * under any name (`access.log.2`, nginx `access_log ... gzip`), and a `.gz` name can lie.
 */
export function hasGzipMagic(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** Whether the file at `path` starts with the gzip magic bytes; rejects when it cannot be read. */
export async function startsWithGzipMagic(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return hasGzipMagic(head.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}
