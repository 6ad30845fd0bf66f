import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/**
 * The system Chromium (Debian's /usr/bin/chromium; CI installs it with apt-get in .ci/run),
 * driven by playwright-core. Never a downloaded browser. Background networking is off so the
 * only requests the browser makes are the page's own: exactly what the tests watch.
 */
export const CHROMIUM_PATH = process.env.ALF_CHROMIUM ?? '/usr/bin/chromium';
export const HAS_CHROMIUM = existsSync(CHROMIUM_PATH);

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}
