import { describe, expect, it } from 'vitest';
import { describeLimits } from '../../reports/limits-note.js';

describe('memory-cap note in reports', () => {
  it('says nothing when no cap was reached', () => {
    expect(describeLimits([])).toBeNull();
  });

  it('names each summary that folded values into "(other)", with its cap and overflow', () => {
    expect(describeLimits([{ owner: 'retry-storms', cap: 50000, overflowed: 1234 }]))
      .toBe('Memory caps reached: retry-storms kept 50,000 distinct values and counted 1,234 more observations under "(other)".');
  });
});
