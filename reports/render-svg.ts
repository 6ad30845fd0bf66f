import { compile, logger, None, parse, View, type TopLevelSpec } from './vega-runtime.js';
import { assertInertSvg } from './svg-guard.js';
import { replaceControlCharacters } from './control-characters.js';

/**
 * Renders a vega-lite spec to a static SVG string in Node (no browser, no network), so the
 * HTML report shows every chart without running any script (the page's script redraws them
 * for filters and tooltips when it may run). vega escapes text and attributes itself;
 * `assertInertSvg` is a second line of defence that refuses anything active before it reaches the page.
 */

/** vega-lite warns on stdout-bound console; a report build must keep stdout clean for `--format json`. */
const silent = logger(None);

/**
 * Geometry attributes whose numbers vega writes with ~16 digits. One decimal is a tenth of a
 * pixel; trimming the rest roughly halves a 4000-point scatter. Text content and
 * labels are never touched: only these attribute values.
 */
const START_TAG = /<[a-zA-Z][^>"]*(?:"[^"]*"[^>"]*)*>/g;
const GEOMETRY = /\s(transform|d|x|y|x1|x2|y1|y2|width|height)="([^"]*)"/g;
const LONG_DECIMAL = /(-?\d+\.\d)\d+/g;

export function trimGeometry(svg: string): string {
  return svg.replace(START_TAG, (tag) =>
    tag.replace(GEOMETRY, (_, name: string, value: string) => ` ${name}="${value.replace(LONG_DECIMAL, '$1')}"`));
}

type VegaSpec = ReturnType<typeof compile>['spec'];

/**
 * Compiled vega specs by the shape of their vega-lite spec: the spec with every dataset's rows
 * replaced by a numbered placeholder. A scan draws the same charts for every window with other
 * rows, and compiling them anew was 40% of drawing a window's HTML (585 of 1,490 ms over 24
 * windows, `node --cpu-prof`, first scan of 1 M high-cardinality lines). Bounded: a spec whose
 * shape changes with its data (a domain, a title) adds an entry per window.
 */
const compiledByShape = new Map<string, VegaSpec>();
const MAX_COMPILED_SHAPES = 64;
const PLACEHOLDER = '__alfRows';

/** The vega spec of a vega-lite spec: what the report's page hands to the vega runtime to redraw a chart. */
export function compileToVega(spec: TopLevelSpec): VegaSpec {
  const rows: unknown[] = [];
  const placeholder = (values: unknown): unknown => {
    rows.push(values);
    return [{ [PLACEHOLDER]: rows.length - 1 }];
  };
  // Rows sit in `data.values` (of the spec, a layer or a lookup) and in the top-level `datasets`.
  const shape = JSON.stringify(spec, function (this: unknown, key, value: unknown) {
    if (key === 'data' && isObject(value) && Array.isArray(value.values)) return { ...value, values: placeholder(value.values) };
    if (key === 'datasets' && this === spec && isObject(value)) return Object.fromEntries(Object.entries(value).map(([name, values]) => [name, placeholder(values)]));
    return value;
  });
  let compiled = compiledByShape.get(shape);
  if (compiled === undefined) {
    compiled = compile(JSON.parse(shape) as TopLevelSpec, { logger: silent }).spec;
    if (compiledByShape.size >= MAX_COMPILED_SHAPES) compiledByShape.delete(compiledByShape.keys().next().value!);
    compiledByShape.set(shape, compiled);
  }
  return fillRows(structuredClone(compiled), rows) as VegaSpec;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Puts each dataset's rows back where compileToVega left its placeholder. */
function fillRows(node: unknown, rows: readonly unknown[]): unknown {
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) node[i] = fillRows(node[i], rows);
    return node;
  }
  if (!isObject(node)) return node;
  for (const [key, value] of Object.entries(node)) {
    const index = key === 'values' && Array.isArray(value) && value.length === 1 && isObject(value[0]) ? value[0][PLACEHOLDER] : undefined;
    node[key] = typeof index === 'number' ? rows[index] : fillRows(value, rows);
  }
  return node;
}

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const vegaSpec = compileToVega(spec);
  const view = new View(parse(vegaSpec), { renderer: 'none', logLevel: 0 });
  try {
    // vega escapes markup but passes control characters from labels through.
    const svg = replaceControlCharacters(trimGeometry(await view.toSVG()));
    assertInertSvg(svg);
    return svg;
  } finally {
    view.finalize();
  }
}
