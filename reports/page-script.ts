import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The report page's script (reports/page/report-page.ts with vega and its CSP-safe interpreter),
 * as one browser bundle. `npm run build` writes it beside this module's compiled form; run from
 * source (tests, tsx), it is bundled on first use with esbuild, from the same source.
 */
const BUNDLE = new URL('./page/report-page.bundle.js', import.meta.url);
const SOURCE = new URL('./page/report-page.ts', import.meta.url);

let cached: Promise<string> | null = null;

async function build(): Promise<string> {
  if (existsSync(BUNDLE)) return readFileSync(BUNDLE, 'utf8');
  const esbuild = await import('esbuild');
  const result = await esbuild.build({ ...PAGE_BUNDLE_OPTIONS, entryPoints: [fileURLToPath(SOURCE)], write: false });
  return result.outputFiles[0]!.text;
}

/** The options `npm run bundle-page` passes on its command line too. */
export const PAGE_BUNDLE_OPTIONS = { bundle: true, format: 'iife', platform: 'browser', minify: true, legalComments: 'none', target: 'es2020', logLevel: 'warning' } as const;

export function pageScript(): Promise<string> {
  cached ??= build().then((text) => {
    // Inside <script>, only "</script" could end the element early; a bundle that held it would be a bug.
    if (/<\/script/i.test(text)) throw new Error('the report page script contains "</script": it cannot be inlined');
    return text.trimEnd();
  });
  return cached;
}

/** The CSP source for an inline element's exact text: 'sha256-…'. */
export function cspHash(text: string): string {
  return `sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}`;
}
