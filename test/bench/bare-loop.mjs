// The bare Node loop of issue 26: the least a one-file script can do with an access log, with
// nothing spent on hostile input. Lines split with Buffer.indexOf and read with latin1Slice (no
// UTF-8 decoding), one combined regex per line (or split('|') for the pipe-delimited extended
// format), $time_local parsed with a per-second cache (or $msec as a number), and a per-path map
// of log2-bucketed histograms (of $request_time for extended; combined carries no time, so
// $body_bytes_sent stands in). Prints one JSON line: counts and peak RSS.
//
// Usage: node test/bench/bare-loop.mjs combined|pipe FILE
import { createReadStream } from 'node:fs';

const COMBINED = /^(\S+) \S+ (\S+) \[([^\]]+)\] "(\S+) ([^ ?"]*)(?:\?[^ "]*)? [^"]*" (\d{3}) (\d+|-) "([^"]*)" "([^"]*)"$/;
const MONTHS = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };
const BUCKETS = 32;

const [mode, file] = process.argv.slice(2);
if ((mode !== 'combined' && mode !== 'pipe') || !file) {
  process.stderr.write('usage: node test/bench/bare-loop.mjs combined|pipe FILE\n');
  process.exit(2);
}

const histograms = new Map();
let lines = 0;
let matched = 0;
let lastTimeText = '';
let lastTimeMs = 0;
let minMs = Infinity;
let maxMs = -Infinity;

/** `15/Jan/2025:10:32:01 +0000` to epoch ms, parsed once per distinct second. */
function timeLocal(text) {
  if (text === lastTimeText) return lastTimeMs;
  const sign = text.charCodeAt(21) === 45 ? -1 : 1;
  const offsetMin = sign * (Number(text.slice(22, 24)) * 60 + Number(text.slice(24, 26)));
  const ms = Date.UTC(Number(text.slice(7, 11)), MONTHS[text.slice(3, 6)], Number(text.slice(0, 2)),
    Number(text.slice(12, 14)), Number(text.slice(15, 17)), Number(text.slice(18, 20))) - offsetMin * 60_000;
  lastTimeText = text;
  lastTimeMs = ms;
  return ms;
}

function count(path, value, ms) {
  matched++;
  if (ms < minMs) minMs = ms;
  if (ms > maxMs) maxMs = ms;
  let histogram = histograms.get(path);
  if (histogram === undefined) histograms.set(path, (histogram = new Uint32Array(BUCKETS)));
  histogram[Math.min(BUCKETS - 1, 32 - Math.clz32(value))]++;
}

function combined(line) {
  lines++;
  const m = COMBINED.exec(line);
  if (m === null) return;
  count(m[5], m[7] === '-' ? 0 : Number(m[7]), timeLocal(m[3]));
}

function pipe(line) {
  lines++;
  const f = line.split('|');
  if (f.length < 20) return;
  const target = f[5];
  const q = target.indexOf('?');
  count(q < 0 ? target : target.slice(0, q), Math.round(Number(f[7]) * 1000), Number(f[0]) * 1000);
}

const observe = mode === 'combined' ? combined : pipe;
let tail = null;
for await (let chunk of createReadStream(file, { highWaterMark: 512 * 1024 })) {
  if (tail !== null) {
    chunk = Buffer.concat([tail, chunk]);
    tail = null;
  }
  let at = 0;
  for (;;) {
    const newline = chunk.indexOf(10, at);
    if (newline < 0) break;
    observe(chunk.latin1Slice(at, newline));
    at = newline + 1;
  }
  if (at < chunk.length) tail = chunk.subarray(at);
}
if (tail !== null && tail.length > 0) observe(tail.latin1Slice(0, tail.length));

process.stdout.write(`${JSON.stringify({ lines, matched, paths: histograms.size, from: minMs, to: maxMs, maxRssKb: process.resourceUsage().maxRSS })}\n`);
