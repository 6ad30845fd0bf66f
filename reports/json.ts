import type { Analysis } from '../src/pipeline/analysis.js';

/**
 * The JSON report: the Analysis as it is (schema in docs/findings.schema.json), minus nothing.
 * Raw log lines inside evidence stay raw: JSON.stringify escapes them for JSON; HTML and
 * terminals escape at their own boundaries.
 */
export function renderJson(analysis: Analysis): string {
  return `${JSON.stringify(analysis, null, 2)}\n`;
}
