import { describe, expect, it } from 'vitest';
import { CapRegistry, OTHER } from '../../../src/statistics/bounded-counter.js';
import { FingerprintIds } from '../../../src/detectors/retry-storms/fingerprint-ids.js';

describe('fingerprint ids', () => {
  it('gives each distinct value one dense id, in the order values were first seen', () => {
    const ids = new FingerprintIds(100);
    expect(ids.idOf('10.0.0.1')).toBe(0);
    expect(ids.idOf('10.0.0.2')).toBe(1);
    // A fresh string with the same text is the same value.
    expect(ids.idOf(['10', '0', '0', '1'].join('.'))).toBe(0);
    expect(ids.idOf('')).toBe(2);
    expect(ids.values).toEqual(['10.0.0.1', '10.0.0.2', '']);
  });

  it('keeps tens of thousands of values apart as its table grows', () => {
    const ids = new FingerprintIds(50_000);
    for (let i = 0; i < 40_000; i++) expect(ids.idOf(`192.168.${i >> 8}.${i & 255}`)).toBe(i);
    for (let i = 0; i < 40_000; i += 997) expect(ids.idOf(`192.168.${i >> 8}.${i & 255}`)).toBe(i);
    expect(ids.size).toBe(40_000);
  });

  it('past its cap, counts new values under "(other)" and says so to the run\'s cap registry', () => {
    const registry = new CapRegistry();
    const ids = registry.collect('retry-storms', () => new FingerprintIds(3));
    for (const value of ['a', 'b', 'c']) ids.idOf(value);
    const other = ids.idOf('d');
    expect(ids.values[other]).toBe(OTHER);
    expect(ids.idOf('e')).toBe(other);
    expect(ids.idOf('d')).toBe(other);
    expect(ids.idOf('b')).toBe(1);
    expect(registry.hits()).toEqual([{ owner: 'retry-storms', cap: 3, overflowed: 3 }]);
  });
});
