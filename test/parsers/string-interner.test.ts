import { describe, expect, it } from 'vitest';
import { StringInterner } from '../../parsers/fields/string-interner.js';

/** Fresh copies of a value, as each log line's field would be: never the same object twice. */
const fresh = (text: string): string => Buffer.from(text).toString();

describe('StringInterner', () => {
  it('copies a value once and then hands back that copy, whatever copy of it it is given', () => {
    const interner = new StringInterner();
    expect(interner.intern(fresh('203.0.113.24'))).toBe('203.0.113.24');
    expect(interner.intern(fresh('203.0.113.24'))).toBe('203.0.113.24');
    expect(interner.misses).toBe(1);
    expect(interner.intern(fresh('203.0.113.25'))).toBe('203.0.113.25');
    expect(interner.misses).toBe(2);
  });

  it('keeps most of 4,000 client addresses and 20 user agents interned (misses under 5%; a first design missed 46%)', () => {
    const interner = new StringInterner();
    const addresses = Array.from({ length: 4_000 }, (_, i) => `${[10, 172, 192, 198][i % 4]}.${(i * 37) % 256}.${(i * 101) % 256}.${i % 251}`);
    const agents = Array.from({ length: 20 }, (_, i) => `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/12${i}.0.0.0 Safari/537.36`);
    const distinct = new Set<string>();
    let seed = 7;
    let lookups = 0;
    for (let i = 0; i < 200_000; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      for (const value of [addresses[(seed >>> 8) % addresses.length]!, agents[(seed >>> 20) % agents.length]!]) {
        interner.intern(fresh(value));
        lookups++;
        distinct.add(value);
      }
    }
    // The first sight of each value is a miss by definition; the rest are collisions.
    expect((interner.misses - distinct.size) / lookups).toBeLessThan(0.05);
  });
});
