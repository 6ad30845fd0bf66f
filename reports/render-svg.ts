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

/** The vega spec of a vega-lite spec: what the report's page hands to the vega runtime to redraw a chart. */
export function compileToVega(spec: TopLevelSpec): ReturnType<typeof compile>['spec'] {
  return compile(spec, { logger: silent }).spec;
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
