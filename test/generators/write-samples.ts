import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateIncident } from './incident.js';

/** Regenerates samples/incident from its seed: `npm run samples`. */
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = join(root, 'samples', 'incident');
mkdirSync(out, { recursive: true });
const incident = generateIncident();
writeFileSync(join(out, 'nginx-log-format.conf'), incident.logFormat);
writeFileSync(join(out, 'access.log'), `${incident.accessLog.join('\n')}\n`);
writeFileSync(join(out, 'newrelic-transactions.csv'), `${incident.apmCsv.join('\n')}\n`);
const { pairs, ...summary } = incident.truth;
// The truth lives beside the directory, not in it: `alf analyze samples/incident` reads every file inside.
writeFileSync(join(root, 'samples', 'incident.truth.json'), `${JSON.stringify({ ...summary, pairs: pairs.length }, null, 2)}\n`);
console.log(`wrote ${incident.accessLog.length} access-log lines and ${incident.apmCsv.length - 1} transactions to ${out}`);
