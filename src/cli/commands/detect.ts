import { FORMATS } from '../../../parsers/registry.js';
import { closestText, jsonShapeHint, detectFirstLines, nonRequestFormat, SERVER_OWN_LINES } from '../../../parsers/detect.js';
import type { FormatDef } from '../../../parsers/format.js';
import { readLineBatches } from '../../lines/lines.js';
import { sampleInsideWrapper } from '../../lines/container-log.js';
import { CONTAINER_WRAPPER_NAMES } from '../../model/file-stats.js';
import { MAX_LINE_BYTES } from '../../lines/line-cap.js';
import { describeReadError, detectInsideWrapper } from '../../parse/parse-source.js';
import { resolveInputs } from '../../sources/sources.js';
import { terminalSafe } from '../terminal-text.js';
import { loadLogFormat } from '../../parse/log-format.js';

/** `alf detect FILE...`: which format each file would be read as, or why none fits. Exit 2 when one fits none (a file found in a directory that holds no request yet does not count). */
export async function detectCommand(inputs: string[], options: { logFormat?: string }): Promise<number> {
  const { format: custom } = loadLogFormat(options.logFormat, undefined, []);
  const candidates: readonly FormatDef[] = custom ? [custom, ...FORMATS] : FORMATS;
  let undetected = 0;
  // The last file's format is tried first on the next, as analyze and scan do (FormatMemo), so they answer alike.
  let preferred: FormatDef | null = null;
  for (const source of await resolveInputs(inputs)) {
    // The first batch of lines, as analyze and scan detect on (parsers/detect.ts, detectFirstLines).
    let sample: readonly string[] = [];
    const stream = source.open();
    try {
      for await (const batch of readLineBatches(stream)) {
        sample = batch.lines;
        break;
      }
    } catch (error) {
      // A corrupt .gz or an I/O error is about this file, not a bug: say so and go on with the others.
      undetected++;
      process.stdout.write(`${terminalSafe(`${source.name}: cannot read: ${describeReadError(error)}`)}\n`);
      continue;
    } finally {
      stream.destroy();
    }
    // Inside a container runtime's wrapper, the lines the application wrote are what is detected.
    let { wrapper, lines } = sampleInsideWrapper(sample, MAX_LINE_BYTES);
    let detection = detectFirstLines(candidates, source.name, lines, preferred);
    // `docker logs --timestamps` or syslog lines, tried only when the lines as they are fit nothing, as parseSource does.
    const stamped = !detection.best && wrapper === null ? detectInsideWrapper(candidates, source.name, sample) : null;
    if (stamped !== null) ({ wrapper, lines, detection } = stamped);
    const inside = wrapper === null ? '' : ` inside ${CONTAINER_WRAPPER_NAMES[wrapper]} lines`;
    let line: string;
    if (detection.best) {
      const best = detection.best;
      preferred = best.format;
      const parsed = best.records === 0
        ? `its sample holds ${best.declined === 1 ? 'one event of its own that is no transaction' : `${best.declined} events of its own that are no transactions`}, and no transaction yet`
        : `${best.records} of ${best.records + best.issues} sample lines parsed`;
      line = `${source.name}: ${best.format.id}${inside} (${best.format.kind}; ${parsed})`;
    } else if (nonRequestFormat(detection, lines) !== null) {
      // As analyze reads such a file (src/parse/parse-source.ts, NonRequestLines): detected on its
      // first request further on, if it has one; passed over in a directory, failing when named.
      if (source.listed !== true) undetected++;
      line = `${source.name}: no request in its first ${lines.length === 1 ? 'line' : `${lines.length} lines`}${inside}: ` +
        `${lines.length === 1 ? 'it is' : 'all are'} ${SERVER_OWN_LINES}; ` +
        (source.listed === true ? 'analyze reads on to its first request, and passes over a file of a directory that has none' : 'analyze reads on to its first request, and fails on a file that has none');
    } else {
      undetected++;
      line = `${source.name}: no known format fits${inside}${closestText(detection, lines, 'is')}${jsonShapeHint(lines, detection)}`;
    }
    process.stdout.write(`${terminalSafe(line)}\n`);
  }
  return undetected > 0 ? 2 : 0;
}
