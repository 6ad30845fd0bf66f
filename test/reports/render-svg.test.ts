import { compile, type TopLevelSpec } from 'vega-lite';
import { describe, expect, it } from 'vitest';
import { compileToVega } from '../../reports/render-svg.js';

/** A chart as the report builds one: named rows, a layer with rows of its own, explicit axis values. */
function chart(rows: { t: number; n: number }[], knees: number[]): TopLevelSpec {
  return {
    datasets: { main: rows },
    data: { name: 'main' },
    layer: [
      { mark: 'line', encoding: { x: { field: 't', type: 'quantitative', axis: { values: [0, 5, 10] } }, y: { field: 'n', type: 'quantitative' } } },
      { data: { values: knees.map((knee) => ({ knee })) }, mark: 'rule', encoding: { x: { field: 'knee', type: 'quantitative' } } },
    ],
  } as TopLevelSpec;
}

describe('compiling a chart to vega', () => {
  it('gives what vega-lite gives, for a chart seen before with other rows too', () => {
    const first = chart([{ t: 1, n: 2 }], [3]);
    const second = chart([{ t: 4, n: 5 }, { t: 6, n: 7 }], [8, 9]);
    expect(compileToVega(first)).toEqual(compile(first).spec);
    // Same shape, other rows: the compiled form is reused and the rows put in.
    expect(compileToVega(second)).toEqual(compile(second).spec);
    expect(JSON.stringify(compileToVega(second))).toContain('"values":[0,5,10]');
  });

  it('hands out a copy each time: a caller that empties a dataset does not empty the next chart', () => {
    const spec = chart([{ t: 1, n: 2 }], [3]);
    const mine = compileToVega(spec) as { data: { name: string; values?: unknown[] }[] };
    for (const dataset of mine.data) dataset.values = [];
    expect(compileToVega(spec)).toEqual(compile(spec).spec);
  });
});
