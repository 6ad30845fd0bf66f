import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The built CLI (dist/) that the integration and e2e tests run as a process, as a user would.
 * test/layers/build-once.ts builds it before those projects when it is missing or stale, so
 * they never run code older than the sources.
 */

export const ROOT = resolve(import.meta.dirname, '../..');
export const BUILT_MAIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');

/** What `npm run build` writes last of all: the two esbuild bundles after tsc's output. */
const BUILT = [BUILT_MAIN, join(ROOT, 'dist/reports/vega-runtime.js'), join(ROOT, 'dist/reports/page/report-page.bundle.js')];

/** Newest modification time of the TypeScript sources under a directory. */
function newestSource(directory: string): number {
  let newest = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** Every built file exists and is newer than every source, package.json and tsconfig.json. */
export function builtIsFresh(): boolean {
  if (!BUILT.every((path) => existsSync(path))) return false;
  const built = Math.min(...BUILT.map((path) => statSync(path).mtimeMs));
  const sources = Math.max(
    ...['src', 'parsers', 'reports'].map((directory) => newestSource(join(ROOT, directory))),
    ...['package.json', 'tsconfig.json'].map((file) => statSync(join(ROOT, file)).mtimeMs),
  );
  return built > sources;
}
