import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DETECTORS } from '../../src/detectors/registry.js';
import { readModules } from '../architecture/module-flow.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Adding a detector is its file and its line in src/detectors/registry.ts (docs/adding-a-detector.md):
 * the verdict, the reports, the chart links, the units and the schema learn about it from the
 * registry and the detector's own declarations. A module that named the kinds of several
 * detectors would be a table by kind that the next detector has to be written into.
 */
describe('a detector plugs in through the registry', () => {
  // Detectors may read earlier findings, and a chart may draw several detectors' findings (the
  // latency distribution marks walls and knees): neither has to change when a detector is added.
  const mayName = (path: string): boolean =>
    path.startsWith('src/detectors/') || path.startsWith('reports/charts/') || path.endsWith('.generated.ts');
  const modules = readModules(ROOT, ['src', 'parsers', 'reports']).filter((module) => !mayName(module.path));
  const kindsOf = DETECTORS.map((detector) => ({ id: detector.id, kinds: detector.kinds as readonly string[] }));

  it('no module outside the detectors and the charts names the finding kinds of two detectors or more', () => {
    const tables = modules.flatMap((module) => {
      const named = kindsOf.filter(({ kinds }) => kinds.some((kind) => module.text.includes(`'${kind}'`) || module.text.includes(`"${kind}"`)));
      return named.length >= 2 ? [`${module.path}: ${named.map(({ id }) => id).join(', ')}`] : [];
    });
    expect(tables).toEqual([]);
  });

  it('knows every detector by a distinct id and distinct kinds', () => {
    const kinds = kindsOf.flatMap(({ kinds }) => kinds);
    expect(new Set(kinds).size).toBe(kinds.length);
    expect(new Set(DETECTORS.map((detector) => detector.id)).size).toBe(DETECTORS.length);
    expect(modules.length).toBeGreaterThan(50);
  });
});
