import { describe, expect, it } from 'vitest';
import { formatShare } from '../../src/model/figure-format.js';
import { roundTo } from '../../src/model/round.js';

describe('formatShare', () => {
  it('reads a share the same however many decimals a figure kept of it (43 of 1,999)', () => {
    const share = 43 / 1999;
    expect(formatShare(roundTo(share, 4))).toBe('2.2%');
    expect(formatShare(roundTo(share, 5))).toBe('2.2%');
    expect(formatShare(share)).toBe('2.2%');
  });

  it('rounds halves up, keeps a digit for tiny shares, and leaves others as toFixed has them', () => {
    expect([0.0005, 0.00005, 0.00125, 0.3090, 0.30905, 0.30955, 1, 0].map(formatShare)).toEqual(['0.05%', '0.01%', '0.1%', '30.9%', '30.9%', '31.0%', '100.0%', '0.0%']);
    expect(formatShare(-0.0215)).toBe('-2.2%');
  });
});
