import { describe, expect, it } from 'vitest';
import { parseWindowFormats } from '../../src/model/window-formats.js';

describe('--format of scan and merge: the report files written per window', () => {
  it('reads json, html or both, in any order and case, as the list in canonical order', () => {
    expect(parseWindowFormats('json')).toEqual(['json']);
    expect(parseWindowFormats('html')).toEqual(['html']);
    expect(parseWindowFormats('html,json')).toEqual(['json', 'html']);
    expect(parseWindowFormats(' JSON , html ')).toEqual(['json', 'html']);
  });

  it('refuses anything else: another format, an empty part, a repeat', () => {
    for (const text of ['', 'pdf', 'json,', 'json,md', 'json,json', 'text']) expect(parseWindowFormats(text), text).toBeNull();
  });
});
