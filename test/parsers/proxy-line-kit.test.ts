import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { awsApiGatewayJson } from '../../parsers/aws-api-gateway.js';
import { backToBackObjects, TokenSpans, type Delimiter } from '../../parsers/proxy-line-kit.js';
import { parseLines } from './parse-lines.js';

interface Token {
  text: string;
  delimited: Delimiter;
}

/**
 * The Token-array tokenizer the spans replaced, verbatim: the oracle the spans must agree with on
 * any line, crafted or not.
 */
function referenceTokenize(line: string): Token[] | null {
  const tokens: Token[] = [];
  const length = line.length;
  let i = 0;
  while (i < length) {
    const code = line.charCodeAt(i);
    if (code === 32) {
      i++;
      continue;
    }
    if (code === 34) {
      const close = referenceClosingQuote(line, i + 1);
      if (close < 0) return null;
      tokens.push({ text: line.slice(i + 1, close), delimited: '"' });
      i = close + 1;
      continue;
    }
    if (code === 91) {
      const close = line.indexOf(']', i + 1);
      if (close < 0) return null;
      if (close + 1 === length || line.charCodeAt(close + 1) === 32) {
        tokens.push({ text: line.slice(i + 1, close), delimited: '[' });
        i = close + 1;
        continue;
      }
    }
    let end = line.indexOf(' ', i);
    if (end < 0) end = length;
    tokens.push({ text: line.slice(i, end), delimited: null });
    i = end;
  }
  return tokens;
}

function referenceClosingQuote(line: string, from: number): number {
  let at = line.indexOf('"', from);
  while (at >= 0) {
    let backslashes = 0;
    for (let j = at - 1; j >= from && line.charCodeAt(j) === 92; j--) backslashes++;
    const next = line.charCodeAt(at + 1);
    if (backslashes % 2 === 0 && (at + 1 === line.length || next === 32)) return at;
    at = line.indexOf('"', at + 1);
  }
  return -1;
}

function spansOf(line: string): Token[] | null {
  const spans = new TokenSpans();
  if (!spans.read(line)) return null;
  return Array.from({ length: spans.count }, (_, i) => ({ text: spans.text(i), delimited: spans.delimited(i) }));
}

// Lines made of the characters the tokenizer treats specially, so quotes, brackets and escapes collide often.
const lineArbitrary = fc.array(fc.constantFrom(' ', '"', '\\', '[', ']', '-', 'a', 'GET /x', '2001:db8::7'), { maxLength: 40 })
  .map((parts) => parts.join(''));

describe('backToBackObjects', () => {
  it('cuts JSON objects written back to back, braces inside strings not counted', () => {
    expect(backToBackObjects('{"a":"}{"}{"b":{"c":1}} {"d":"\\"}"}')).toEqual(['{"a":"}{"}', '{"b":{"c":1}}', '{"d":"\\"}"}']);
    for (const notThat of ['{"a":1}', '{"a":1} tail', '[{"a":1}]{"b":2}', '{"a":1}{"b":2', '{"a":1}}{"b":2}', '{"a":"}{"']) {
      expect(backToBackObjects(notThat), notThat).toBeNull();
    }
  });
});

describe('jsonLineParser and objects back to back', () => {
  it('reads them as entries only when every one is the format\'s: else the line is one issue', () => {
    const entry = JSON.stringify({ requestId: 'c6af9ac6', requestTime: '15/Jan/2025:10:32:01 +0000', httpMethod: 'GET', status: '200' });
    for (const line of ['{"a":1}{"b":2}{"c":3}', `{}${entry}`, `${entry}{"b":2}`]) {
      const read = parseLines(awsApiGatewayJson, [line]);
      expect([read.records.length, read.issues.length], line).toEqual([0, 1]);
    }
  });
});

describe('TokenSpans', () => {
  it('splits an ALB-like line into bare, quoted and bracketed fields', () => {
    const spans = new TokenSpans();
    expect(spans.read('https [10/Oct/2000:13:55:36 -0700] "GET /a b HTTP/1.1" - [2001:db8::7]:443 "ua \\"x\\""')).toBe(true);
    expect(spans.count).toBe(6);
    expect([0, 1, 2, 3, 4, 5].map((i) => [spans.text(i), spans.delimited(i)])).toEqual([
      ['https', null], ['10/Oct/2000:13:55:36 -0700', '['], ['GET /a b HTTP/1.1', '"'], ['-', null],
      ['[2001:db8::7]:443', null], ['ua \\"x\\"', '"'],
    ]);
    expect(spans.text(6)).toBe('');
    expect(spans.delimited(6)).toBe(null);
  });

  it('refuses a quote or bracket that never closes', () => {
    expect(new TokenSpans().read('a "b c')).toBe(false);
    expect(new TokenSpans().read('a [b c')).toBe(false);
  });

  it('grows past 64 fields and forgets the previous line when reused', () => {
    const spans = new TokenSpans();
    const many = Array.from({ length: 200 }, (_, i) => `f${i}`).join(' ');
    expect(spans.read(many)).toBe(true);
    expect(spans.count).toBe(200);
    expect(spans.text(199)).toBe('f199');
    expect(spans.read('one "two"')).toBe(true);
    expect(spans.count).toBe(2);
    expect(spans.text(1)).toBe('two');
  });

  it('agrees with the Token-array tokenizer it replaced on any line (property)', () => {
    fc.assert(fc.property(lineArbitrary, (line) => {
      const expected = referenceTokenize(line);
      expect(spansOf(line)).toEqual(expected);
    }), { numRuns: 3000 });
  });
});
