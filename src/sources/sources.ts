import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { InputError } from '../model/errors.js';
import { walk } from './glob.js';

/** Something that can be read as bytes: a file, stdin, and (later) an object in a bucket. */
export interface Source {
  /** Shown in reports and used in evidence (file:line). */
  readonly name: string;
  /** Size in bytes as stored (compressed for .gz), when known: drives the progress bar. */
  readonly size?: number;
  /** Set for local files (and named pipes): a parse worker opens the path itself (`--jobs N`). */
  readonly path?: string;
  /**
   * Opened again, it gives the same bytes from the start (a regular file; not a pipe or stdin):
   * a run may read its first lines early and all of it later (src/pipeline/analyze.ts).
   */
  readonly rereadable?: boolean;
  /**
   * Found by listing a directory or a bucket prefix, not named as an input: such a file that holds
   * only lines its server writes besides its requests (nginx's error.log beside its access logs) is
   * passed over with a note, where a file named so fails the run (src/parse/parse-source.ts).
   */
  readonly listed?: boolean;
  open(): Readable;
}

/**
 * Bytes per read of a local file. 64 KiB (Node's default) and 256 KiB left the parser idle while
 * each next read came back (6.4% of a 2 M-line profile was "(idle)"); 2 M combined lines, median
 * of 3 runs, twice: 256 KiB 4.46-4.52 s wall, 512 KiB 4.26-4.38 s, 1 MiB 4.27-4.33 s, 2 MiB 4.34-4.37 s.
 * Peak RSS grows with it (156, 176, 185, 226 MB), so 512 KiB.
 */
export const READ_CHUNK_BYTES = 512 * 1024;

export function fileSource(path: string, size?: number): Source {
  return { name: path, size, path, rereadable: true, open: () => createReadStream(path, { highWaterMark: READ_CHUNK_BYTES }) };
}

/** A named pipe: read through its path like a file, but only once. */
export function pipeSource(path: string): Source {
  return { name: path, path, open: () => createReadStream(path, { highWaterMark: READ_CHUNK_BYTES }) };
}

export function stdinSource(stream: Readable = process.stdin): Source {
  return { name: '-', open: () => stream };
}

export interface ResolveOptions {
  /** Files named in `exclude` are not read (the nginx.conf a --log-format came from). */
  exclude?: ReadonlySet<string>;
  /** Follow symlinks that lead out of a directory named as an input (`--follow-symlinks`). */
  followSymlinks?: boolean;
  /** Told the symlinks of a directory that lead out of it and were passed over. */
  onSymlinksSkipped?: (directory: string, links: readonly string[]) => void;
}

/**
 * Expands command-line inputs: `-` is stdin, a directory is every regular file below it
 * (hidden files skipped, names sorted; symlinks only to files inside it unless followSymlinks,
 * see glob.ts), anything else must be a readable file.
 */
export async function resolveInputs(inputs: readonly string[], options: ResolveOptions = {}): Promise<Source[]> {
  const exclude = options.exclude ?? new Set<string>();
  const sources: Source[] = [];
  for (const input of inputs) {
    if (input === '-') {
      sources.push(stdinSource());
      continue;
    }
    let info;
    try {
      info = await stat(input);
    } catch (error) {
      throw new InputError(`cannot read ${input}: ${describeFsError(error)}`);
    }
    if (info.isDirectory()) {
      const listing = await walk(input, await realpath(input), { follow: options.followSymlinks === true, maxDepth: Infinity, match: () => true });
      const files = listing.files.filter((file) => !exclude.has(file));
      if (listing.outside.length > 0) {
        // Kubernetes' /var/log/containers holds nothing but links into /var/log/pods.
        if (files.length === 0) {
          throw new InputError(`directory ${input} holds no files, only ${listing.outside.length === 1 ? 'a symlink' : `${listing.outside.length} symlinks`} leading out of it (${listing.outside[0]}): --follow-symlinks reads them`);
        }
        options.onSymlinksSkipped?.(input, listing.outside);
      }
      if (files.length === 0) throw new InputError(`directory ${input} holds no files`);
      for (const file of files) sources.push({ ...fileSource(file, (await stat(file)).size), listed: true });
    } else if (info.isFile()) {
      sources.push(fileSource(input, info.size));
    } else if (info.isFIFO()) {
      // A named pipe reads like a file, once: `--apm <(zcat export.csv.gz)`; the bench's flat-memory
      // run feeds 20 M generated lines through two FIFOs instead of writing a 4.5 GB file.
      sources.push(pipeSource(input));
    } else {
      throw new InputError(`cannot read ${input}: not a regular file or directory`);
    }
  }
  return sources;
}

export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT': return 'no such file or directory';
    case 'EACCES': return 'permission denied';
    case 'EISDIR': return 'is a directory';
    default: return (error as Error).message;
  }
}
