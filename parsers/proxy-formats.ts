import type { FormatDef } from './format.js';
import { nginxCombined, nginxMain } from './nginx.js';

/**
 * Proxy and gateway formats, in detection order: specific before generic (a `main` line also
 * fits `combined` loosely, so `main` comes first).
 */
export const PROXY_FORMATS: readonly FormatDef[] = [
  nginxMain,
  nginxCombined,
];
