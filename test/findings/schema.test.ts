import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DETECTORS } from '../../src/detectors/registry.js';
import { COLUMN_UNITS, FIGURE_UNITS } from '../../src/findings/units.generated.js';
import { CHART_IDS_PATH, FINDING_UNION_PATH, generateChartIds, generateFindingUnion } from '../generators/registry-types.js';
import { generateFindingsSchema, SCHEMA_PATH, UNITS_PATH, type Generated } from '../generators/findings-schema.js';

/**
 * docs/findings.schema.json and src/findings/units.generated.ts are generated from the types
 * (`npm run schema`): the committed files must be what the types give today.
 */
describe('the findings schema', () => {
  let generated: Generated;
  // The generator reads the whole program's types: seconds, not milliseconds.
  beforeAll(() => {
    generated = generateFindingsSchema();
  }, 120_000);

  it('committed src/detectors/findings.generated.ts is the Finding union of the detectors the registry lists (run `npm run schema`)', () => {
    expect(readFileSync(FINDING_UNION_PATH, 'utf8')).toBe(generateFindingUnion());
  });

  it('committed src/model/chart-ids.generated.ts names the charts reports/charts/registry.ts lists (run `npm run schema`)', () => {
    expect(readFileSync(CHART_IDS_PATH, 'utf8')).toBe(generateChartIds());
  });

  it('committed docs/findings.schema.json is generated from the current types (run `npm run schema`)', () => {
    expect(readFileSync(SCHEMA_PATH, 'utf8')).toBe(generated.schema);
  });

  it('committed src/findings/units.generated.ts is generated from the current types (run `npm run schema`)', () => {
    expect(readFileSync(UNITS_PATH, 'utf8')).toBe(generated.units);
  });

  it('knows the unit of every figure of every kind a detector declares', () => {
    for (const detector of DETECTORS) {
      for (const kind of detector.kinds) {
        expect(Object.keys(FIGURE_UNITS[kind] ?? {}).length, kind).toBeGreaterThan(0);
      }
    }
    expect(FIGURE_UNITS['client-timeout-knee']).toMatchObject({ timeoutSeconds: 'seconds', requestsAtKnee: 'count', shareOfAllRequests: 'share', firstAt: 'instant' });
    expect(FIGURE_UNITS['budget-undercount']).toMatchObject({ impactFactor: 'ratio', accountedSeconds: 'seconds', apiKey: 'text' });
    expect(COLUMN_UNITS['budget-per-key']).toMatchObject({ accountedSeconds: 'seconds', undercountShare: 'share', trueTime: 'text' });
  });

  it('describes every finding kind by its `kind` constant, with its figures required', () => {
    const schema = JSON.parse(generated.schema) as { definitions: Record<string, { properties?: Record<string, { const?: string }>; required?: string[] }> };
    const kinds = Object.values(schema.definitions).flatMap((definition) => {
      const kind = definition.properties?.kind?.const;
      return kind === undefined ? [] : [kind];
    });
    expect(new Set(kinds)).toEqual(new Set(DETECTORS.flatMap((detector) => detector.kinds)));
  });
});
