// Child process of retained-heap.integration.test.ts (needs --expose-gc): analyses one file (and optionally
// its APM export, with an nginx log_format) with the built pipeline and prints the heap still in
// use after a full GC once the last joined request was seen, in bytes, and how many it saw.
// Usage: retained-heap.mjs FILE [APM_FILE LOG_FORMAT]
import { analyze } from '../../dist/src/pipeline/analyze.js';
import { DEFAULT_JOIN_OPTIONS } from '../../dist/src/join/options.js';
import { nginxFormat } from '../../dist/parsers/nginx.js';

const [file, apmFile, logFormat] = process.argv.slice(2);
let seen = 0;
let retained = NaN;
// At close the stream has ended and every detector's state is still alive (they finish after).
const atEnd = {
  observe() {
    seen++;
  },
  close() {
    globalThis.gc();
    retained = process.memoryUsage().heapUsed;
  },
};
await analyze({
  inputs: [file], apmInputs: apmFile ? [apmFile] : [], logFormat: logFormat ? nginxFormat(logFormat) : undefined,
  budget: null, join: DEFAULT_JOIN_OPTIONS, keepGoing: false, observers: [atEnd],
});
process.stdout.write(JSON.stringify({ seen, retained }));
