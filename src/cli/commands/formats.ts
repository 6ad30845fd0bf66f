import { FORMATS } from '../../../parsers/registry.js';
import { terminalSafe } from '../terminal-text.js';

/** `alf formats`: every built-in format with its id and an example line. */
export function formatsCommand(): number {
  const lines: string[] = [];
  for (const format of FORMATS) {
    lines.push(`${format.id}  (${format.kind}) ${format.title}`);
    if (format.url) lines.push(`  spec: ${format.url}`);
    const sources = [...new Set((format.realSamples ?? []).map((sample) => sample.source.project))];
    if (sources.length > 0) lines.push(`  read on real lines from: ${sources.join(', ')}`);
    for (const exampleLine of format.example.split('\n').slice(0, 3)) lines.push(`  ${exampleLine.length > 200 ? `${exampleLine.slice(0, 200)}…` : exampleLine}`);
    lines.push('');
  }
  lines.push('nginx with any log_format: alf analyze --log-format "\'$remote_addr ... \'" or --log-format nginx.conf');
  process.stdout.write(`${lines.map(terminalSafe).join('\n')}\n`);
  return 0;
}
