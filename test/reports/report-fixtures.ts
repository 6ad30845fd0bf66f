import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLogFormat } from '../../src/parse/log-format.js';
import { DEFAULT_JOIN_OPTIONS } from '../../src/join/options.js';
import { parseBudget } from '../../src/model/budget.js';
import { analyze } from '../../src/pipeline/analyze.js';
import type { Analysis } from '../../src/pipeline/analysis.js';
import { DEFAULT_INCIDENT, EXPORTER_KEY, EXPORTER_USER_AGENT, generateIncident } from '../generators/incident.js';

/** Shared by the report tests: real pipeline runs over the bundled incident and over hostile logs. */

export const INCIDENT_DIR = join(import.meta.dirname, '..', '..', 'samples', 'incident');

/** Runs the pipeline over a directory the way `alf analyze DIR --budget 600s/5m` does. */
export async function analyzeDirectory(dir: string, budget = '600s/5m'): Promise<Analysis> {
  const { format, configFiles } = loadLogFormat(undefined, undefined, [dir]);
  return analyze({
    inputs: [dir], apmInputs: [], logFormat: format, budget: parseBudget(budget),
    join: DEFAULT_JOIN_OPTIONS, keepGoing: false, excludeFiles: configFiles,
  });
}

/**
 * Payloads a hostile client can put in a log: each tries to run code (setting window.__pwned or
 * opening a dialog) or to break out of the element, attribute, style or comment it lands in.
 */
export const PAYLOADS = {
  userAgent: `</svg></figure><script>window.__pwned=1</script><img src=x onerror="window.__pwned=2;alert(2)"> "quoted" 'single' </style><!-- javascript:alert(1)`,
  apiKey: `k"'><svg/onload=window.__pwned=3>`,
  upstream: `<script>window.__pwned=4</script>`,
  path: `/javascript:alert(5)/<iframe/src=javascript:alert(6)>/</title><!--`,
} as const;

function csvField(text: string): string {
  return `"${text.replace(/"/g, '""')}"`;
}

/**
 * The founding incident, 20 minutes of it, with the exporter's user agent and key, one upstream
 * address and some proxy-made responses' paths replaced by payloads. The exporter stays the
 * knee's cohort, so its payload user agent reaches the verdict, the scatter legend and tables.
 */
export function writeHostileIncident(): string {
  const dir = mkdtempSync(join(tmpdir(), 'alf-hostile-'));
  const incident = generateIncident({ ...DEFAULT_INCIDENT, durationSeconds: 1200 });
  let paths = 0;
  const access = incident.accessLog.map((line) => {
    let out = line
      .replace(`|${EXPORTER_KEY}|`, `|${PAYLOADS.apiKey}|`)
      .replace('|127.0.0.1:8101|', `|${PAYLOADS.upstream}|`);
    if (out.endsWith(`|${EXPORTER_USER_AGENT}`)) out = `${out.slice(0, -EXPORTER_USER_AGENT.length)}${PAYLOADS.userAgent}`;
    // Static responses have no APM partner, so their path can change without breaking the join.
    if (out.includes('|/favicon.ico|') && paths++ < 3) out = out.replace('|/favicon.ico|', `|${PAYLOADS.path}|`);
    return out;
  });
  const csv = incident.apmCsv.map((line) => line.replace(`,${EXPORTER_USER_AGENT},`, `,${csvField(PAYLOADS.userAgent)},`));
  writeFileSync(join(dir, 'nginx-log-format.conf'), incident.logFormat);
  writeFileSync(join(dir, 'access.log'), `${access.join('\n')}\n`);
  writeFileSync(join(dir, 'newrelic-transactions.csv'), `${csv.join('\n')}\n`);
  return dir;
}
