/**
 * A structural check of vega's SVG before it is embedded: every tag must be an inert SVG
 * element and no attribute may be an event handler or a link. vega escapes text and attribute
 * values itself, so any `<` left in its output starts a real tag; that is why this checks tags
 * and attribute names rather than searching the text, where a user agent such as
 * `javascript:alert(1)` or `x onerror=y` is legitimate (escaped) data and must not stop the report.
 */

const INERT_ELEMENTS = new Set([
  'svg', 'g', 'path', 'line', 'rect', 'circle', 'ellipse', 'polygon', 'polyline', 'text', 'tspan',
  'defs', 'clipPath', 'linearGradient', 'radialGradient', 'stop', 'pattern', 'title', 'desc',
]);

// Quote-aware, so a `>` inside an attribute value does not end the tag early.
const TAG = /<(\/?)([^\s/>]*)((?:[^>"']|"[^"]*"|'[^']*')*)>/g;
const ATTRIBUTE = /([^\s="']+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+))?/g;

export class UnsafeSvgError extends Error {
  constructor(reason: string) {
    super(`chart SVG contains active content (${reason}); refusing to embed it`);
    this.name = 'UnsafeSvgError';
  }
}

export function assertInertSvg(svg: string): void {
  // Comments, CDATA and processing instructions have no business in a chart.
  if (/<[!?]/.test(svg)) throw new UnsafeSvgError('markup declaration');
  for (const tag of svg.matchAll(TAG)) {
    const name = tag[2]!;
    if (!INERT_ELEMENTS.has(name)) throw new UnsafeSvgError(`element <${name}>`);
    if (tag[1] === '/') continue;
    for (const attribute of tag[3]!.matchAll(ATTRIBUTE)) {
      const attributeName = attribute[1]!.toLowerCase();
      if (attributeName === '/') continue;
      if (attributeName.startsWith('on')) throw new UnsafeSvgError(`event handler ${attributeName}`);
      if (attributeName.endsWith('href')) throw new UnsafeSvgError(`link ${attributeName}`);
      if (attributeName === 'style' && /url\s*\(|expression\s*\(/i.test(attribute[2] ?? '')) throw new UnsafeSvgError('style with url()');
    }
  }
}
