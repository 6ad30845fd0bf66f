// Child process of retained-heap.test.ts (needs --expose-gc): analyses one file with the built
// pipeline and prints the heap still in use after a full GC at the last record, in bytes.
import { analyze } from '../../dist/src/pipeline/analyze.js';
import { DEFAULT_JOIN_OPTIONS } from '../../dist/src/join/options.js';

const [file, expected] = process.argv.slice(2);
let seen = 0;
let retained = NaN;
const atLastRecord = {
  observe() {
    if (++seen !== Number(expected)) return;
    globalThis.gc();
    retained = process.memoryUsage().heapUsed;
  },
};
await analyze({ inputs: [file], apmInputs: [], budget: null, join: DEFAULT_JOIN_OPTIONS, keepGoing: false, observers: [atLastRecord] });
process.stdout.write(JSON.stringify({ seen, retained }));
