import { execFileSync } from 'node:child_process';
import { builtIsFresh, ROOT } from './built-cli.js';

/**
 * Global setup of the integration and e2e projects (vitest.config.ts): they start the built CLI,
 * so build it first when it is missing or older than a source. After `npm test`'s own build this
 * only compares times; `npm run test:integration` on a fresh clone builds once here.
 */
export default function buildOnce(): void {
  if (builtIsFresh()) return;
  console.log('dist/ is missing or older than the sources: npm run build');
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
}
