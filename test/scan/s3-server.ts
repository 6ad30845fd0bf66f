import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * s3rver (pure npm, S3-compatible) in a child process on 127.0.0.1. A child, not in-process:
 * s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 (Node 17+) only
 * offers with --openssl-legacy-provider, so listings past 1000 keys fail in a plain Node 20.
 * Being a separate process also keeps its CPU out of the scanner's measurements.
 */
export interface S3Server {
  endpoint: string;
  /** The server process, to stop (SIGSTOP) or kill it under a running scan. */
  pid: number;
  stop(): Promise<void>;
}

export async function startS3Server(directory: string): Promise<S3Server> {
  const require = createRequire(import.meta.url);
  const bin = join(dirname(require.resolve('s3rver/package.json')), 'bin', 's3rver.js');
  const child: ChildProcess = spawn(process.execPath, ['--openssl-legacy-provider', bin, '-d', directory, '-a', '127.0.0.1', '-p', '0', '--silent'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const endpoint = await new Promise<string>((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /listening on (127\.0\.0\.1:\d+)/.exec(output);
      if (match) {
        child.stdout?.off('data', onData);
        resolve(`http://${match[1]}`);
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`s3rver exited with ${code}: ${output}`)));
  });
  return {
    endpoint,
    pid: child.pid!,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.kill('SIGCONT'); // a stopped server must be able to die
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    }),
  };
}
