import { describe, expect, it } from 'vitest';
import type { FormatDef } from '../../parsers/format.js';
import { parseJsonKeepingBigIntegers } from '../../parsers/fields/lossless-json.js';
import { nginxFormat } from '../../parsers/nginx.js';
import { FORMATS } from '../../parsers/registry.js';
import { parseLines } from '../parsers/parse-lines.js';

/**
 * No catastrophic regexes or quadratic scans: every parser gets lines built to make a
 * backtracking engine (or a rescan-per-delimiter loop) blow up, and must handle them about as
 * fast as ordinary lines of the same total length. Ratios, not milliseconds, so a slow or busy
 * machine does not fail it; a quadratic path at this length is thousands of times slower.
 */

const LENGTH = 32 * 1024;
const fill = (unit: string): string => unit.repeat(Math.ceil(LENGTH / unit.length)).slice(0, LENGTH);
/** 16 digits: switches the JSON parsers onto their big-integer path. */
const BIG = '1234567890123456';

const NASTY_UNITS = [
  '"', '\\', '"\\', '\\"', ' "', '" "', '[', ']', '[ ', '] [', ' ', '\t', '{', '[{', '{"a":', '{"a":[', '":"', '"a":"\\"',
  ': ', ', ', ' : ', '-, ', '0.001, ', '200 : ', '|', '||', '=', '%', '%%', '-', '1', '1.', '0x', 'e9', '\u0000', '\u00e9', '\ufffd',
  `"\\"${BIG}`, `${BIG}.`,
];

const CUSTOM = nginxFormat(
  '$msec|$status|$request_time|$upstream_status|$upstream_response_time|$upstream_connect_time|$upstream_addr|$request_uri|$http_user_agent',
  'nginx-pipe',
);
const PIPE_EXAMPLE = '1489482002.456|200|0.631|502, 200|0.001, 0.630|-, 0.001|10.0.0.1:80, 10.0.0.2:80|/v1/a?b=1|curl/8.0';
const PARSERS: [FormatDef, string][] = [...FORMATS.map((format) => [format, format.example] as [FormatDef, string]), [CUSTOM, PIPE_EXAMPLE]];

/** The lines built from one filler: alone, after the example, before it, and inside it. */
function shapes(example: string, filler: string): string[] {
  const first = example.split('\n').find((line) => line.trim() !== '') ?? example;
  const middle = Math.floor(first.length / 2);
  return [filler, first + filler, filler + first, first.slice(0, middle) + filler + first.slice(middle), `${BIG} ${filler}${BIG}`];
}

function timeParse(format: FormatDef, lines: string[]): number {
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const started = performance.now();
    parseLines(format, lines);
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

describe('parsers stay linear on lines built for backtracking', () => {
  const ratios: [string, number][] = [];

  it.each(PARSERS.map(([format, example]) => [format.id, format, example] as const))('%s', (_id, format, example) => {
    // Baseline: the time to parse as many characters of ordinary lines (the format's own example,
    // repeated) as one crafted line holds. A linear parser reads crafted text at a similar rate.
    const [head, ...rows] = example.split('\n');
    const body = rows.length > 0 ? rows : [head!];
    const ordinary = rows.length > 0 ? [head!] : [];
    for (let chars = 0; chars < LENGTH; chars += body.join('\n').length + 1) ordinary.push(...body);
    const baseline = Math.max(timeParse(format, ordinary), 0.05);
    let worst = 0;
    let worstUnit = '';
    for (const unit of NASTY_UNITS) {
      const lines = shapes(example, fill(unit));
      const perLine = timeParse(format, lines) / lines.length;
      if (perLine / baseline > worst) {
        worst = perLine / baseline;
        worstUnit = unit;
      }
    }
    ratios.push([format.id, worst]);
    expect(worst, `${format.id}: ${JSON.stringify(worstUnit)} × ${LENGTH} is ${worst.toFixed(1)}× an ordinary line`).toBeLessThan(40);
  });

  it('reports the worst ratio', () => {
    const [id, ratio] = ratios.reduce((a, b) => (b[1] > a[1] ? b : a), ['', 0]);
    console.log(`worst per-line time ratio (crafted / ordinary, ${LENGTH} chars): ${ratio.toFixed(1)} (${id})`);
  });
});

describe('the lossless JSON reader', () => {
  it('stays linear on unterminated escaped strings next to a big integer (the string branch cannot backtrack)', () => {
    const ordinary = JSON.stringify({ start: 1, name: 'x'.repeat(LENGTH) }).replace('1', BIG);
    const crafted = [`{"a":"${'\\"'.repeat(LENGTH / 2)}${BIG}`, `${'"\\'.repeat(LENGTH / 2)}${BIG}`, `{"a":"x\u2028\\\u2028","b":"${'\\"'.repeat(LENGTH / 2)}", "s": ${BIG}}`];
    const time = (text: string): number => {
      let best = Infinity;
      for (let round = 0; round < 3; round++) {
        const started = performance.now();
        try { parseJsonKeepingBigIntegers(text); } catch { /* invalid JSON is fine: only the time counts */ }
        best = Math.min(best, performance.now() - started);
      }
      return best;
    };
    const baseline = Math.max(time(ordinary), 0.05);
    for (const text of crafted) expect(time(text) / baseline).toBeLessThan(40);
  });
});
