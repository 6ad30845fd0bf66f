import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FLOW, flowViolations, importedPaths, layerOf, readModules } from './module-flow.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Data flows one way: sources → lines → records → join → detectors → findings → report. A module
 * that imports from a later layer makes the earlier one depend on what it feeds; then neither can
 * be read, tested or replaced alone.
 */
describe('imports run one way, down the flow', () => {
  const modules = readModules(ROOT, ['src', 'parsers', 'reports']);

  it('reads the modules of every layer (else the check below would prove nothing)', () => {
    const layers = new Set(modules.map((module) => FLOW[layerOf(module.path)]?.layer));
    expect([...layers].sort()).toEqual(FLOW.map((step) => step.layer).sort());
    expect(modules.some((module) => importedPaths(module).length > 0)).toBe(true);
  });

  it('no module in src/, parsers/ or reports/ imports from a layer later in the flow, and every module has a layer', () => {
    expect(flowViolations(modules)).toEqual([]);
  });
});

describe('the flow check itself', () => {
  it('sees a later layer named by a static, type-only, re-exported or dynamic import', () => {
    const forms = [
      "import { joinStreams } from '../join/join-streams.js';",
      "import type { Analysis } from '../pipeline/analysis.js';",
      "export { renderHtml } from '../../reports/html.js';",
      "const late = await import('../cli/program.js');",
    ];
    for (const text of forms) {
      expect(flowViolations([{ path: 'src/parse/parse-source.ts', text }]), text).toHaveLength(1);
    }
  });

  it('lets a module import its own layer, a folder below it, and earlier layers', () => {
    const text = [
      "import { BatchEncoder } from './workers/record-codec.js';",
      "import { readLineBatches } from '../lines/lines.js';",
      "import type { ProxyRecord } from '../model/records.js';",
      "import { FORMATS } from '../../parsers/registry.js';",
      "import { readFile } from 'node:fs/promises';",
    ].join('\n');
    expect(flowViolations([{ path: 'src/parse/source-reader.ts', text }])).toEqual([]);
  });

  it('names the two layers of a violation', () => {
    const [violation] = flowViolations([{ path: 'src/join/export.ts', text: "import type { JoinedObserver } from '../pipeline/analyze.js';" }]);
    expect(violation).toEqual({ from: 'src/join/export.ts', to: 'src/pipeline/analyze.ts', why: 'join imports pipeline, which comes later in the flow' });
  });

  it('refuses a module whose folder is in no layer', () => {
    expect(flowViolations([{ path: 'src/util/misc.ts', text: '' }])).toHaveLength(1);
  });
});
