import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ownString } from '../../src/model/own-string.js';

/** Any UTF-16 code unit, lone surrogates included (JSON.parse of "\ud800" gives one). */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code));

describe('ownString', () => {
  it('copies text exactly, lone surrogates and all', () => {
    fc.assert(fc.property(fc.string({ unit: codeUnit, minLength: 13, maxLength: 60 }), (text) => {
      expect(ownString(text)).toBe(text);
    }), { numRuns: 500 });
  });
});
