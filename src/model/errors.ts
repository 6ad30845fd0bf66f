/**
 * Error classes are the contract with the single exit point (src/cli/main.ts):
 * the class decides the exit code.
 */
export class UsageError extends Error {
  override name = 'UsageError';
  readonly exitCode = 2;
}

export class InputError extends Error {
  override name = 'InputError';
  readonly exitCode = 2;
}

export class InternalError extends Error {
  override name = 'InternalError';
  readonly exitCode = 3;
}
