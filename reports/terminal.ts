import { detectorOf, type Finding } from '../src/detectors/registry.js';
import type { AnyFinding } from '../src/model/finding.js';
import type { Analysis } from '../src/pipeline/analysis.js';
import { replaceControlCharacters } from './control-characters.js';
import { countBySeverity, figureLabel, formatFigure, formatInstant, formatNumber, formatSeverityCounts, plural } from './format.js';
import { buildVerdict } from './verdict.js';

/**
 * The terminal summary: what a person at a shell reads after `alf analyze` (`--format text`, the
 * default when stdout is a terminal): the verdict, then each finding on a line with its
 * severity, its title and the one figure that says how big it is. Colour is the caller's
 * decision (NO_COLOR, FORCE_COLOR, TERM=dumb); log content in titles is made terminal-safe here.
 */
export interface TerminalStyle {
  colour: boolean;
  /** Columns to wrap the verdict to. */
  width: number;
}

const SEVERITY_CODES: Record<string, string> = { critical: '1;97;41', high: '1;31', medium: '33', low: '36', info: '2' };

/** Bidi controls and line separators as well as C0/C1: a title quoting a log must not move the cursor or reorder the line. */
// eslint-disable-next-line no-control-regex
const TERMINAL_UNSAFE = /[\u2028\u2029\u202a-\u202e\u2066-\u2069\t\r\n]/g;

function safe(text: string): string {
  return replaceControlCharacters(text).replace(TERMINAL_UNSAFE, '\uFFFD');
}

/** The figure that says how big a finding is: the one its detector names, else the first number not already in the title. */
export function headlineFigure(finding: AnyFinding): string | null {
  const headlines = detectorOf(finding.kind as Finding['kind'])?.headline as Readonly<Record<string, string>> | undefined;
  const preferred = headlines?.[finding.kind];
  const digits = finding.title.replace(/,/g, '');
  const entries = Object.entries(finding.figures) as [string, unknown][];
  const chosen = entries.find(([name, value]) => name === preferred && typeof value === 'number')
    ?? entries.find(([, value]) => typeof value === 'number' && !digits.includes(String(value)) && !digits.includes(formatNumber(value).replace(/,/g, '')));
  if (!chosen) return null;
  const [name, value] = chosen;
  return `${figureLabel(name)} ${formatFigure(finding.kind, name, value as number)}`;
}

function paint(code: string | undefined, text: string, colour: boolean): string {
  return colour && code ? `\u001b[${code}m${text}\u001b[0m` : text;
}

/** Greedy word wrap with an indent; words longer than the width stay whole. */
export function wrap(text: string, width: number, indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (line !== '' && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(indent + line);
  return lines;
}

/** Verdict, slice and findings: the part of the summary shown after a report is written, too. */
export function renderVerdictAndFindings(analysis: Analysis, style: TerminalStyle): string[] {
  const width = Math.max(40, Math.min(style.width, 120));
  const out: string[] = [];
  out.push(paint('1', 'Verdict', style.colour));
  out.push(...wrap(safe(buildVerdict(analysis).join(' ')), width, '  '));
  if (analysis.slice) {
    const slice = analysis.slice;
    out.push('', `${paint('1', 'Slice', style.colour)}  ${safe(slice.description)}: ${plural(slice.proxyKept, 'proxy request')} of ${formatNumber(slice.proxyKept + slice.proxyOutside)} kept`);
  }
  const findings = analysis.findings;
  const counts = formatSeverityCounts(countBySeverity(findings), (severity, text) => paint(SEVERITY_CODES[severity], text, style.colour));
  out.push('', `${paint('1', 'Findings', style.colour)} (${counts})`);
  if (findings.length === 0) out.push('  none');
  findings.forEach((finding, index) => {
    const badge = paint(SEVERITY_CODES[finding.severity], finding.severity.toUpperCase().padEnd(8), style.colour);
    const figure = headlineFigure(finding);
    const text = safe(finding.title) + (figure === null ? '' : ` · ${safe(figure)}`);
    const [first = '', ...rest] = wrap(text, width, ' '.repeat(14));
    out.push(`  ${String(index + 1).padStart(2)}. ${badge}${first.trimStart()}`, ...rest);
  });
  return out;
}

/** `--format text`: the summary, then what was read and where the details are. */
/** Lines read that are no records by design (blank lines, headers, a proxy's own notices), when there are any: read = parsed + skipped + ignored. */
export function ignoredPart(ignored: number): string {
  return ignored > 0 ? `, ${formatNumber(ignored)} ignored` : '';
}

export function renderTerminal(analysis: Analysis, style: TerminalStyle): string {
  const out = renderVerdictAndFindings(analysis, style);
  const range = analysis.inputs.timeRange;
  const totals = analysis.inputs.totals;
  out.push('', paint('2', `${plural(analysis.inputs.files.length, 'file')}, ${plural(totals.linesRead, 'line')} read, ${formatNumber(totals.records)} parsed, ${formatNumber(totals.skipped)} skipped` +
    ignoredPart(totals.ignored) +
    (range ? `; ${formatInstant(range.from)} to ${formatInstant(range.to)}` : '') +
    '. Details: --out report.html, or --format md|json.', style.colour));
  return `${out.join('\n')}\n`;
}
