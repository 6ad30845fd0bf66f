import type { Analysis } from '../src/pipeline/analysis.js';

/**
 * The verdict's sentences as plain text. They are built once, with the findings
 * (src/findings/verdict.ts), and carried in the analysis with the figures they cite, so the HTML,
 * Markdown, JSON and terminal outputs all say the same thing. Each renderer escapes them for its
 * medium.
 */
export function buildVerdict(analysis: Analysis): string[] {
  return analysis.verdict.map((sentence) => sentence.text);
}
