import { InputError, UsageError } from '../model/errors.js';

/**
 * Errors of the night shift: a disk that fills, a bucket that vanishes, credentials that expire,
 * an endpoint that stops answering. None of them is a bug in alf, so each becomes one line that
 * names the file or object and exit 2, never a stack trace and exit 3.
 */

/** A run cannot go on (its own output or state cannot be written or read): ends the run with exit 2. */
export class ScanAbort extends InputError {
  override name = 'ScanAbort';
}

const ERRNO_TEXT: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large (file size limit)',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  EIO: 'input/output error',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EPIPE: 'broken pipe',
};

/** Is this an error of the system or network rather than of alf's logic? */
export function isOperational(error: unknown): boolean {
  if (error instanceof InputError) return true;
  const e = error as { code?: unknown; $metadata?: unknown; name?: unknown } | null;
  if (e === null || typeof e !== 'object') return false;
  if (typeof e.code === 'string' && /^E[A-Z0-9_]+$/.test(e.code)) return true;
  // AWS SDK: service errors carry $metadata; credential and timeout errors are named.
  if (e.$metadata !== undefined) return true;
  return typeof e.name === 'string' && /^(CredentialsProviderError|TimeoutError|RequestTimeout|AbortError|ProviderError)$/.test(e.name);
}

/** One line about an operational error, without the stack. */
export function describeOperational(error: unknown): string {
  const e = error as { code?: unknown; name?: unknown; message?: unknown; path?: unknown; syscall?: unknown; $metadata?: { httpStatusCode?: number } } | null;
  if (e === null || typeof e !== 'object') return String(error);
  if (error instanceof InputError || error instanceof UsageError) return oneLine(error.message);
  if (typeof e.code === 'string' && ERRNO_TEXT[e.code] !== undefined) {
    const where = typeof e.path === 'string' ? ` ${e.path}` : '';
    const what = typeof e.syscall === 'string' ? `${e.syscall}${where}: ` : where ? `${where.trim()}: ` : '';
    return oneLine(`${what}${ERRNO_TEXT[e.code]} (${e.code})`);
  }
  const message = typeof e.message === 'string' ? e.message : String(error);
  if (e.$metadata !== undefined || typeof e.name === 'string') {
    const name = typeof e.name === 'string' && e.name !== 'Error' ? e.name : '';
    const status = e.$metadata?.httpStatusCode ? ` (HTTP ${e.$metadata.httpStatusCode})` : '';
    // An unnamed S3 error whose body did not parse says only "UnknownError": the status says more.
    return oneLine(name && !message.startsWith(name) ? `${name}${status}: ${message}` : `${message}${status}`);
  }
  return oneLine(message);
}

function oneLine(text: string): string {
  const line = text.split('\n').map((part) => part.trim()).filter(Boolean).join(' ')
    // The HTTP handler's own wording names itself and its settings: the gist is the timeout.
    .replace(/@smithy\/node-http-handler - (?:\[ERROR\] )?/g, '')
    .replace(/ \((?:configured by client requestHandler|service default socket timeout)\)\.?/g, '');
  return line.length > 400 ? `${line.slice(0, 400)}…` : line;
}
