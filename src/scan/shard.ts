import { UsageError } from '../model/errors.js';

/** `--shard i/n`: this process takes the objects whose key hashes to i (0-based) modulo n. */
export interface Shard {
  index: number;
  count: number;
}

export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text);
  const index = match ? Number(match[1]) : NaN;
  const count = match ? Number(match[2]) : NaN;
  if (!(count >= 1 && index >= 0 && index < count)) throw new UsageError(`--shard must be i/n with 0 <= i < n (e.g. 0/4), not "${text}"`);
  return { index, count };
}

/** FNV-1a, 32 bits: stable across runs, machines and Node versions, unlike any runtime hash. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/**
 * Sharding is by object key. Replays join from spooled records, not from a shard's own join,
 * so a window's proxy logs and APM exports may land in different shards and `alf merge` still
 * joins them exactly as one run would; hashing keys spreads a busy day evenly.
 */
export function inShard(key: string, shard: Shard | null): boolean {
  return shard === null || fnv1a(key) % shard.count === shard.index;
}
