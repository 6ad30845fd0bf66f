import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadLogFormat } from '../../src/parse/log-format.js';
import { DEFAULT_JOIN_OPTIONS } from '../../src/join/options.js';
import { parseBudget } from '../../src/model/budget.js';
import { findingsOfKind } from '../../src/detectors/detector.js';
import { severityRank } from '../../src/model/finding.js';
import { analyze } from '../../src/pipeline/analyze.js';
import type { Analysis } from '../../src/pipeline/analysis.js';

/**
 * The detectors through the real pipeline on samples/incident (the founding case, generated with
 * known truth in samples/incident.truth.json), and the JSON output against docs/findings.schema.json.
 */

const truth = JSON.parse(readFileSync('samples/incident.truth.json', 'utf8')) as { clientTimeoutSeconds: number; exporterUserAgent: string; exporterKey: string };
const schema = JSON.parse(readFileSync('docs/findings.schema.json', 'utf8')) as object;
let analysis: Analysis;

beforeAll(async () => {
  const inputs = ['samples/incident'];
  const { format, configFiles } = loadLogFormat(undefined, undefined, inputs);
  analysis = await analyze({
    inputs, apmInputs: [], logFormat: format, budget: parseBudget('600s/5m'), join: DEFAULT_JOIN_OPTIONS,
    keepGoing: false, excludeFiles: configFiles,
  });
  // Round-trip through JSON, as `--format json` writes it.
  analysis = JSON.parse(JSON.stringify(analysis)) as Analysis;
}, 60_000);

describe('analyze() on samples/incident', () => {
  it('validates against docs/findings.schema.json', () => {
    const ajv = new Ajv({ allErrors: true, allowUnionTypes: true });
    // RFC 3339 timestamps as JSON.stringify(Date) writes them; anchored, no backtracking.
    ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/);
    const validate = ajv.compile(schema);
    const valid = validate(analysis);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('the schema rejects a knee without timeoutSeconds and a budget finding without apiKey', () => {
    const ajv = new Ajv({ validateFormats: false, allowUnionTypes: true });
    const validate = ajv.compile(schema);
    const broken = JSON.parse(JSON.stringify(analysis)) as Analysis;
    const knee = findingsOfKind(broken.findings, 'client-timeout-knee')[0]!;
    delete (knee.figures as Partial<typeof knee.figures>).timeoutSeconds;
    expect(validate(broken)).toBe(false);
    const broken2 = JSON.parse(JSON.stringify(analysis)) as Analysis;
    const budget = findingsOfKind(broken2.findings, 'budget-undercount')[0]!;
    delete (budget.figures as Partial<typeof budget.figures>).apiKey;
    expect(validate(broken2)).toBe(false);
  });

  it('tells the founding story: knee at T, by the exporter, budget under-counted for its key', () => {
    const knee = findingsOfKind(analysis.findings, 'client-timeout-knee')[0]!;
    expect(typeof knee.figures.timeoutSeconds).toBe('number');
    // The exporter gives up 5-40 ms before its 5 s timeout.
    expect(Math.abs(Number(knee.figures.timeoutSeconds) - truth.clientTimeoutSeconds)).toBeLessThan(0.05);
    expect(knee.figures.topCohort).toBe(truth.exporterUserAgent);
    expect(knee.figures.breakpointAgrees).toBe(true);
    const budgets = findingsOfKind(analysis.findings, 'budget-undercount');
    expect(budgets.length).toBeGreaterThan(0);
    for (const finding of budgets) expect(typeof finding.figures.apiKey).toBe('string');
    expect(budgets.map((f) => f.figures.apiKey)).toEqual([truth.exporterKey]);
  });

  it('ranks findings by severity and does not report the knee twice as a wall', () => {
    const ranks = analysis.findings.map((f) => severityRank(f.severity));
    expect([...ranks].sort((a, b) => b - a)).toEqual(ranks);
    const walls = analysis.findings.filter((f) => f.kind === 'timeout-walls');
    expect(walls.every((w) => !('wallSeconds' in w.figures))).toBe(true);
  });

  it('every finding cites real lines (file:line) of the inputs', () => {
    const files = new Set(analysis.inputs.files.map((f) => f.file));
    for (const finding of analysis.findings) {
      for (const evidence of finding.evidence) {
        expect(files.has(evidence.file)).toBe(true);
        expect(evidence.line).toBeGreaterThan(0);
      }
    }
  });
});
