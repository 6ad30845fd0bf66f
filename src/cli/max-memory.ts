import { spawn } from 'node:child_process';
import { UsageError } from '../model/errors.js';

/**
 * `--max-memory MB` (any command, anywhere on the line). alf's own state is bounded by design
 * (caps, windows), but V8 grows its heap lazily, so peak RSS still rises with input size: 6 M
 * combined lines took 483 MB RSS uncapped and 241 MB with a 160 MB old space, at the same speed
 * (50.4 s vs 51.9 s). The heap limit can only be set when Node starts, so alf runs itself again
 * with `--max-old-space-size`; the child sees ALF_MAX_MEMORY_APPLIED and does not re-run.
 */
const FLAG = '--max-memory';

export interface MemoryOption {
  /** argv without the flag and its value. */
  argv: string[];
  megabytes: number | null;
}

export function takeMaxMemory(argv: readonly string[]): MemoryOption {
  const rest: string[] = [];
  let megabytes: number | null = null;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    let value: string | undefined;
    if (arg === FLAG) value = argv[++i];
    else if (arg.startsWith(`${FLAG}=`)) value = arg.slice(FLAG.length + 1);
    else {
      rest.push(arg);
      continue;
    }
    const parsed = Number(value);
    if (value === undefined || !Number.isInteger(parsed) || parsed < 64) {
      throw new UsageError(`${FLAG} takes a whole number of megabytes, at least 64 (got "${value ?? ''}")`);
    }
    megabytes = parsed;
  }
  return { argv: rest, megabytes };
}

/** Runs this same script in a child Node with the heap capped; resolves to the child's exit code. */
export function rerunWithHeapLimit(argv: readonly string[], megabytes: number): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [`--max-old-space-size=${megabytes}`, ...argv.slice(1)], {
      stdio: 'inherit',
      env: { ...process.env, ALF_MAX_MEMORY_APPLIED: '1' },
    });
    // Ctrl-C reaches the child through the terminal's process group; wait for its exit code.
    process.on('SIGINT', () => {});
    child.on('exit', (code, signal) => resolve(code ?? (signal === 'SIGINT' ? 130 : 1)));
  });
}

export function heapLimitApplied(): boolean {
  return process.env.ALF_MAX_MEMORY_APPLIED === '1';
}
