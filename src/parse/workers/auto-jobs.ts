import { availableParallelism } from 'node:os';
import type { FormatDef } from '../../../parsers/format.js';
import { startsWithGzipMagic } from '../../sources/gzip-magic.js';
import type { Source } from '../../sources/sources.js';

/**
 * `alf analyze --jobs auto`: parse workers only where they pay. A worker parses while the main
 * thread joins and detects, but each record then costs an encode, a copy between threads and a
 * decode, and each worker ~0.3-0.5 s to start and 100-150 MB of memory. Measured, --jobs 2
 * against --jobs 1 on two cores (medians of 3, test/bench and samples/formats repeated):
 *   - 1.2 M lines: ALB 1.21×, API Gateway JSON 1.28×, HAProxy 1.29×, Kong 1.34×, Tyk 1.30×,
 *     nginx JSON 1.24×, ELB classic 1.14×, Envoy 1.13×, Traefik JSON 1.13×;
 *   - the same formats at 300 k lines (50-215 MB): 0.97-1.06×, the workers' start eats the gain;
 *   - nginx log_format text and Apache at any size: 0.75-1.03× (their parser is cheaper than the
 *     hand-off: FormatDef.cheapToParse).
 * So: no workers below AUTO_MIN_INPUT_BYTES of input in all, and none for a cheap format. The
 * extended nginx log joined with its New Relic export (1 M × 886 k, medians of 3): --jobs 1 9.2 s,
 * --jobs 2 8.1 s at 740 MB, auto (the CSV in a worker, the nginx log here) 8.0 s at 440 MB.
 */
export const AUTO_MIN_INPUT_BYTES = 256 * 1024 * 1024;

/** A gzip file's size counts this many times: access logs compress 8-15×, and inflating is parse work too. */
const GZIP_EXPANSION = 8;

/** Whether a source is gzip, as reading will decide: by its magic bytes; by its name only when it cannot be opened. */
async function gzipByMagic(path: string, name: string): Promise<boolean> {
  try {
    return await startsWithGzipMagic(path);
  } catch {
    return name.endsWith('.gz');
  }
}

/**
 * Roughly how many bytes of log the run will parse, for `--jobs auto` (stdin is unknown and counts
 * 0). Gzip only adds to the estimate, so once the stored sizes alone reach `enough` no file is
 * opened: a bucket of thousands of rotated files is sniffed only when it is small.
 */
export async function estimatedInputBytes(
  sources: readonly Source[], enough = Infinity, isGzip: (path: string, name: string) => Promise<boolean> = gzipByMagic,
): Promise<number> {
  // A named pipe has no size and is never opened here: the two bytes read would be taken from the run.
  const files = sources.filter((source): source is Source & { path: string; size: number } => source.path !== undefined && source.size !== undefined);
  let bytes = files.reduce((sum, file) => sum + file.size, 0);
  if (bytes >= enough) return bytes;
  for (const file of files) {
    if (await isGzip(file.path, file.name)) bytes += file.size * (GZIP_EXPANSION - 1);
  }
  return bytes;
}

export interface AutoWorkers {
  /** Parse workers at most; 1 means none. */
  workers: number;
  /** Why there are none, for the run's summary; null when there are. */
  noneBecause: string | null;
}

/** How many parse workers `--jobs auto` allows for a run: one per core, or none for a small input or a single core. */
export async function autoWorkers(sources: readonly Source[], minBytes: number = AUTO_MIN_INPUT_BYTES, cores: number = availableParallelism()): Promise<AutoWorkers> {
  if ((await estimatedInputBytes(sources, minBytes)) < minBytes) {
    return { workers: 1, noneBecause: `under ${Math.round(minBytes / 1024 / 1024)} MiB of input, where starting them costs more than they save` };
  }
  return cores > 1 ? { workers: cores, noneBecause: null } : { workers: 1, noneBecause: 'this machine has one core' };
}

/** Whether `--jobs auto` hands a file of this format to a worker (unknown formats go: the worker reports them). */
export function workerPaysFor(format: FormatDef | null): boolean {
  return format?.cheapToParse !== true;
}
