import { APM_FORMATS } from '../../../parsers/apm-formats.js';
import { FORMATS, findFormat } from '../../../parsers/registry.js';
import { loadLogFormat } from '../../parse/log-format.js';
import { DEFAULT_JOIN_OPTIONS } from '../../join/options.js';
import { timeBoundsTest } from '../../pipeline/slice.js';
import type { SliceSpec } from '../../pipeline/slice-spec.js';
import type { ParseSettings } from '../read-into-spool.js';
import type { ReplaySettings } from '../replay.js';
import type { TaskSettings } from './tasks.js';

/** A worker's parse and replay settings, rebuilt from a task's data exactly as `alf scan` builds its own. */
export interface WorkerSettings {
  parse: ParseSettings;
  replay: ReplaySettings;
}

const cache = new Map<string, WorkerSettings>();

export function workerSettings(settings: TaskSettings): WorkerSettings {
  const key = JSON.stringify(settings);
  const cached = cache.get(key);
  if (cached) return cached;
  const { format: logFormat } = loadLogFormat(settings.logFormat, settings.keyField, []);
  const candidates = logFormat ? [...APM_FORMATS, logFormat, ...FORMATS.filter((f) => f.kind === 'proxy')] : FORMATS;
  const bounds: SliceSpec = {
    since: settings.sinceMs === null ? null : { ms: settings.sinceMs, text: new Date(settings.sinceMs).toISOString() },
    until: settings.untilMs === null ? null : { ms: settings.untilMs, text: new Date(settings.untilMs).toISOString() },
    where: [],
  };
  const built: WorkerSettings = {
    parse: {
      candidates, formatById: (id) => (logFormat?.id === id ? logFormat : findFormat(id)), keyField: settings.keyField, timeZone: settings.timeZone,
      keep: timeBoundsTest(bounds, DEFAULT_JOIN_OPTIONS) ?? undefined,
      // Kept with the cached settings: a worker's next object of the same bucket is tried in its last one's format first.
      memo: { last: null },
    },
    replay: {
      budget: settings.budget, keyField: settings.keyField, join: DEFAULT_JOIN_OPTIONS,
      slice: { since: null, until: null, where: settings.where },
      formats: settings.formats,
    },
  };
  cache.set(key, built);
  return built;
}
