import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The integration project builds first (test/layers/build-once.ts), so dist/ is the build the CLI tests run.
const built = fileURLToPath(new URL('../../dist/reports/vega-runtime.js', import.meta.url));

describe('the built report runtime', () => {
  it('is one bundled file: it imports no vega package at run time', async () => {
    const code = await readFile(built, 'utf8');
    expect(code).toMatch(/\bView\b/);
    expect(code).not.toMatch(/(?:from|import)\s*\(?\s*["']vega(?:-[a-z-]+)?["']/);
  });

  it('renders the same chart as the unbundled modules', async () => {
    const spec = { data: { values: [{ a: 'x', b: 1 }, { a: 'y', b: 3 }] }, mark: 'bar', encoding: { x: { field: 'a', type: 'nominal' }, y: { field: 'b', type: 'quantitative' } } } as const;
    const svgOf = async (runtime: typeof import('../../reports/vega-runtime.js')) => {
      const view = new runtime.View(runtime.parse(runtime.compile(spec).spec), { renderer: 'none' });
      try { return await view.toSVG(); } finally { view.finalize(); }
    };
    const bundled = await import(built) as typeof import('../../reports/vega-runtime.js');
    const modules = await import('../../reports/vega-runtime.js');
    const svg = await svgOf(bundled);
    expect(svg).toContain('<svg');
    expect(svg).toBe(await svgOf(modules));
  });
});
