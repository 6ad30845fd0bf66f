#!/usr/bin/env node
import { InputError, UsageError } from '../model/errors.js';
import { ExitCode } from './exit-codes.js';
import { jsonLine } from './json-line.js';
import { runInterruptCleanups } from './interrupt.js';
import { applyHeapPolicy } from './heap-policy.js';
import { heapLimitApplied, rerunWithHeapLimit, takeMaxMemory } from './max-memory.js';
import { terminalLine, terminalSafe } from './terminal-text.js';

/** The one JSON line of a `--quiet` scan or merge that could not start: what was wrong, exit 2. */
function usageLine(command: string, message: string): string {
  return jsonLine({ alf: command, error: message, exitCode: ExitCode.usage });
}

/**
 * The single exit point: maps error classes to documented exit codes. `alf --version` answers
 * before commander and the command registry load (an ESM module graph costs start-up time);
 * everything else goes through the registry, which loads each command's module as it runs.
 */
async function main(fullArgv: string[]): Promise<number> {
  if (fullArgv.length === 3 && (fullArgv[2] === '--version' || fullArgv[2] === '-V')) {
    const { ALF_VERSION } = await import('../model/version.js');
    process.stdout.write(`${ALF_VERSION}\n`);
    return ExitCode.ok;
  }
  let exitCode: number = ExitCode.ok;
  const [{ CommanderError }, { buildProgram }] = await Promise.all([import('commander'), import('./program.js')]);
  // scan and merge under --quiet promise one JSON line per run, for log shippers: a bad argument too.
  const quietJsonCommand = ['scan', 'merge'].includes(fullArgv[2] ?? '') && (fullArgv.includes('--quiet') || fullArgv.includes('-q')) ? fullArgv[2]! : null;
  const program = buildProgram((code) => { exitCode = code; }, { quietErrors: quietJsonCommand !== null });
  try {
    const { argv, megabytes } = takeMaxMemory(fullArgv);
    if (megabytes !== null && !heapLimitApplied()) return await rerunWithHeapLimit(argv, megabytes);
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with exitCode 0; argument errors were already printed, or are the JSON line.
      if (error.exitCode === 0) return ExitCode.ok;
      if (quietJsonCommand !== null) process.stderr.write(usageLine(quietJsonCommand, error.message.replace(/^error: /, '')));
      return ExitCode.usage;
    }
    if (error instanceof UsageError || error instanceof InputError) {
      process.stderr.write(quietJsonCommand !== null ? usageLine(quietJsonCommand, error.message) : `alf: ${terminalLine(error.message)}\n`);
      return ExitCode.usage;
    }
    process.stderr.write(`alf: internal error: ${terminalSafe((error as Error)?.stack ?? String(error))}\nThis is a bug in alf; please report it with the command line you ran.\n`);
    return ExitCode.internal;
  }
}

process.on('SIGINT', () => {
  runInterruptCleanups();
  process.exit(ExitCode.interrupted);
});
// A closed pipe (alf ... | head) is not an error worth a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(ExitCode.ok);
});

applyHeapPolicy();
main(process.argv).then((code) => { process.exitCode = code; });
