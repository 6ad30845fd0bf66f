import { describe, expect, it } from 'vitest';
import type { TopLevelSpec } from 'vega-lite';
import { escapeHtml } from '../../reports/escape-html.js';
import { renderSvg, trimGeometry } from '../../reports/render-svg.js';
import { assertInertSvg, UnsafeSvgError } from '../../reports/svg-guard.js';
import { PAYLOADS } from './report-fixtures.js';

/**
 * vega's SVG output must escape what comes from logs (legend labels, axis labels, aria-labels
 * built from user agents and keys), and the guard must refuse active SVG while accepting
 * escaped text that merely looks dangerous.
 */

const LABELS = Object.values(PAYLOADS);

function hostileSpec(): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values: LABELS.map((label, i) => ({ label, n: i + 1 })) },
    mark: { type: 'bar' },
    encoding: {
      // Labels become axis labels, legend labels, and the aria-label of every bar.
      x: { field: 'label', type: 'nominal', axis: { labelLimit: 2000 } },
      y: { field: 'n', type: 'quantitative' },
      color: { field: 'label', type: 'nominal', legend: { labelLimit: 2000 } },
    },
  };
}

describe('chart SVG safety', () => {
  it('escapes log content in labels and aria-labels', async () => {
    const svg = await renderSvg(hostileSpec());
    expect(svg).not.toMatch(/<script|<img|<iframe|<svg\/|<\/style|<!--/i);
    // Each payload appears escaped, as a label and inside aria-label attributes.
    for (const label of LABELS) {
      const inText = svg.includes(`>${escapeHtml(label).replace(/&#39;/g, "'")}<`) || svg.includes(`>${escapeHtml(label)}<`);
      expect(inText || svg.includes(label.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')), label).toBe(true);
    }
    const ariaLabels = [...svg.matchAll(/aria-label="([^"]*)"/g)].map((m) => m[1]!);
    expect(ariaLabels.some((a) => a.includes('&lt;script&gt;window.__pwned=4&lt;/script&gt;'))).toBe(true);
    expect(() => assertInertSvg(svg)).not.toThrow();
  });

  it('refuses active SVG', () => {
    const cases = [
      '<svg><script>alert(1)</script></svg>',
      '<svg><g onload="alert(1)"></g></svg>',
      '<svg><g ONCLICK=alert(1)></g></svg>',
      '<svg><foreignObject><div></div></foreignObject></svg>',
      '<svg><a href="javascript:alert(1)"><text>x</text></a></svg>',
      '<svg><use xlink:href="#x"/></svg>',
      '<svg><image href="http://example.invalid/x.png"/></svg>',
      '<svg><!-- --><g></g></svg>',
      '<svg><g aria-label="a > b" onmouseover="x"></g></svg>',
      '<svg><g style="fill: url(http://example.invalid/)"></g></svg>',
    ];
    for (const svg of cases) expect(() => assertInertSvg(svg), svg).toThrow(UnsafeSvgError);
  });

  it('accepts escaped text that only looks dangerous', () => {
    const svg = '<svg><g aria-label="javascript:alert(1) x onerror=y &lt;script&gt;"><text x="1">javascript:alert(1) onload=x &lt;/svg&gt;</text></g></svg>';
    expect(() => assertInertSvg(svg)).not.toThrow();
  });

  it('trims geometry digits but never text or labels', () => {
    const svg = '<svg><g transform="translate(1.23456,7.891011)"><text x="3.14159" aria-label="v 1.23456">1.23456 d="9.87654"</text></g></svg>';
    expect(trimGeometry(svg)).toBe('<svg><g transform="translate(1.2,7.8)"><text x="3.1" aria-label="v 1.23456">1.23456 d="9.87654"</text></g></svg>');
  });
});
