// Child process of merge-promotion.integration.test.ts, run with --trace-gc-nvp: merges 1,000,000
// records of about 0.5 KB, cut into FILES streams of consecutive times (deferred, as a run's local
// files are), with the built mergeByTime, and prints how many it handed on. The parent reads what
// each scavenge promoted from V8's trace.
// Usage: merge-promotion.mjs FILES
import { mergeByTime } from '../../dist/src/pipeline/merge-by-time.js';

const files = Number(process.argv[2]);
const perFile = Math.floor(1_000_000 / files);
const record = (file, i) => ({ time: file * perFile + i, text: `line ${i} `.repeat(40), fields: [i, i + 1] });

async function* batches(file) {
  for (let i = 0; i < perFile; i += 2048) {
    const batch = [];
    for (let j = i; j < Math.min(perFile, i + 2048); j++) batch.push(record(file, j));
    // A read between batches, as from a file.
    await new Promise((resolve) => setImmediate(resolve));
    yield batch;
  }
}

const streams = Array.from({ length: files }, (_, file) => ({ deferred: true, first: record(file, 0), open: () => batches(file) }));
let handed = 0;
for await (const batch of mergeByTime(streams, (item) => item.time)) handed += batch.length;
process.stdout.write(`handed=${handed}\n`);
