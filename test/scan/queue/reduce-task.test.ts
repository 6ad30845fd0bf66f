import { describe, expect, it } from 'vitest';
import { inFileOrder } from '../../../src/scan/queue/reduce-task.js';
import type { SegmentRef } from '../../../src/scan/queue/tasks.js';

const ref = (path: string): SegmentRef => ({ path, lineOffset: 0 });

describe('a reduce reads one file\'s segments', () => {
  it('in the order of their windows, then of their byte ranges: the tails of the windows before come before the head of the one after', () => {
    const name = (from: number): string => `584a6c48-4438fa9b-${String(from).padStart(14, '0')}-apm-r000001.alfseg`;
    const margin = [
      // As the spool's canonical order gives them: by name, then path ("head" before "tail").
      ref(`run/maps/m0000000/531b/head/20250115T0004Z/${name(0)}`),
      ref(`run/maps/m0000000/531b/tail/20250115T0000Z/${name(0)}`),
      ref(`run/maps/m0000001/77aa/tail/20250115T0000Z/${name(8_388_643)}`),
      ref(`run/maps/m0000000/531b/tail/20250114T2358Z/${name(0)}`),
    ];
    expect(inFileOrder(margin).map((r) => r.path)).toEqual([
      `run/maps/m0000000/531b/tail/20250114T2358Z/${name(0)}`,
      `run/maps/m0000000/531b/tail/20250115T0000Z/${name(0)}`,
      `run/maps/m0000001/77aa/tail/20250115T0000Z/${name(8_388_643)}`,
      `run/maps/m0000000/531b/head/20250115T0004Z/${name(0)}`,
    ]);
  });
});
