import { compile, type TopLevelSpec } from 'vega-lite';
import { logger, None, parse, View } from 'vega';

/**
 * Renders a vega-lite spec to a static SVG string in Node (no browser, no network), so the
 * HTML report needs no script at all. vega escapes text and attributes itself; the check below
 * is a second line of defence that refuses anything active before it reaches the page.
 */
const ACTIVE_CONTENT = /<script|<foreignObject|\son[a-z]+\s*=|javascript:/i;

/** vega-lite warns on stdout-bound console; a report build must keep stdout clean for `--format json`. */
const silent = logger(None);

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const vegaSpec = compile(spec, { logger: silent }).spec;
  const view = new View(parse(vegaSpec), { renderer: 'none', logLevel: 0 });
  try {
    const svg = await view.toSVG();
    if (ACTIVE_CONTENT.test(svg)) throw new Error('chart SVG contains active content; refusing to embed it');
    return svg;
  } finally {
    view.finalize();
  }
}
