/**
 * Hands back one string object for repeated values (user agents, client IPs, keys, upstreams).
 * Each record's fields are fresh slices of its line; V8 caches a string's hash on the object, so
 * the detectors' Map lookups by user agent or key hash the same text again for every record.
 * Returning the object seen before makes those lookups hit a cached hash, and lets the slices
 * die young. A small direct-mapped cache: a miss costs one comparison and a store, never a Map.
 * (With the knee's memoised client networks: 500 k combined lines, 3.12 s -> 2.72 s median of 3.)
 * Since then the rest of the run got faster and interning did not: nginx no longer interns user
 * agents and client addresses, whose ~110 ns a call came to more than the hashing it saved
 * (parsers/nginx-variables.ts has the figures); it still interns methods, keys and upstreams.
 * The slot is FNV-1a over up to 48 characters in 65,536 slots: the first version hashed length and
 * three characters into 4,096 slots and missed 46% of client IPs and user agents on 500 k combined
 * lines (every miss a fresh copy and a fresh hash downstream); this one misses 1.5% there, at
 * ~65 ns a call. A cheaper sample (last 8 and two middle characters, ~36 ns) put every user agent
 * that differs only in its browser version in one slot: 47% misses on the test's 20 Chrome
 * versions and 4,000 addresses (test/parsers/string-interner.test.ts).
 */
import { ownString } from '../../src/model/own-string.js';

const SLOTS = 65536;

let shared: StringInterner | null = null;

/**
 * The interner every parser of this thread shares: a cache of values, so sharing it is safe, and a
 * table is 512 KiB. A parser per file and per candidate format made its own: 75 tables for 24
 * rotated files (1 M high-profile combined lines), whose field initializer `--cpu-prof` put at 2.6%
 * of `alf analyze`'s CPU; shared, peak RSS went 390 -> 372 MB and CPU stayed within this host's
 * noise (alternating runs, medians of 4).
 */
export function sharedInterner(): StringInterner {
  return (shared ??= new StringInterner());
}

export class StringInterner {
  private readonly slots: (string | undefined)[] = new Array<string | undefined>(SLOTS);
  /** Values that were not in their slot and were copied (first sightings and collisions). */
  misses = 0;

  intern(value: string): string {
    const length = value.length;
    if (length === 0 || length > 512) return value;
    // FNV-1a over the whole of a short value (addresses, keys, hosts) and the first 16 and last 32
    // characters of a long one: user agents differ at their start (platform) and near their end
    // (browser version, "Chrome/120.0.6099.109 Safari/537.36").
    let hash = length;
    if (length <= 48) {
      for (let i = 0; i < length; i++) hash = Math.imul(hash ^ value.charCodeAt(i), 0x01000193);
    } else {
      for (let i = 0; i < 16; i++) hash = Math.imul(hash ^ value.charCodeAt(i), 0x01000193);
      for (let i = length - 32; i < length; i++) hash = Math.imul(hash ^ value.charCodeAt(i), 0x01000193);
    }
    const slot = (hash ^ (hash >>> 16)) & (SLOTS - 1);
    const cached = this.slots[slot];
    if (cached === value) return cached;
    // Interned values live on in records and tables: own the characters (see ownString).
    this.misses++;
    const owned = ownString(value);
    this.slots[slot] = owned;
    return owned;
  }
}
