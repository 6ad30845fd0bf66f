import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import ts from 'typescript';

/**
 * The flow of alf's modules, first to last: a module may import from its own layer or an earlier
 * one, never from a later one. A layer is a folder with everything below it (src/parse holds
 * src/parse/workers). Declared once, here; test/architecture/imports-flow-one-way.test.ts checks
 * every import of src/, parsers/ and reports/ against it.
 */
export const FLOW: readonly { layer: string; folder: string }[] = [
  { layer: 'model', folder: 'src/model' }, // records, findings, budgets: the words every layer speaks
  { layer: 'sources', folder: 'src/sources' }, // what can be read: files, globs, stdin, S3
  { layer: 'lines', folder: 'src/lines' }, // bytes to capped line batches
  { layer: 'parsers', folder: 'parsers' }, // one module per format: a line to a record
  { layer: 'parse', folder: 'src/parse' }, // a source to record batches, on this thread or in workers
  { layer: 'join', folder: 'src/join' }, // proxy records to APM transactions
  { layer: 'statistics', folder: 'src/statistics' }, // bounded tallies the detectors keep
  { layer: 'detectors', folder: 'src/detectors' }, // joined requests to findings
  { layer: 'summaries', folder: 'src/summaries' }, // joined requests to chart data
  { layer: 'findings', folder: 'src/findings' }, // units and the verdict over all findings
  { layer: 'pipeline', folder: 'src/pipeline' }, // one run: merge, join, detect, summarise
  { layer: 'reports', folder: 'reports' }, // an analysis to HTML, JSON, Markdown, terminal, CSV
  { layer: 'scan', folder: 'src/scan' }, // scheduled, incremental runs over buckets
  { layer: 'cli', folder: 'src/cli' }, // argv to a run, and the one exit point
];

export interface ModuleSource {
  /** Path from the repository root, with `/`. */
  path: string;
  text: string;
}

export interface FlowViolation {
  from: string;
  to: string;
  why: string;
}

/** The layer a module belongs to: the longest declared folder that holds it. */
export function layerOf(path: string, flow: typeof FLOW = FLOW): number {
  let best = -1;
  for (let i = 0; i < flow.length; i++) {
    const folder = flow[i]!.folder;
    if (path.startsWith(`${folder}/`) && (best < 0 || folder.length > flow[best]!.folder.length)) best = i;
  }
  return best;
}

/**
 * Every relative module a file names: static imports, `export … from`, `import type`, dynamic
 * `import()`. Read by TypeScript's own pre-processor, not a pattern of ours.
 */
export function importedPaths(module: ModuleSource): string[] {
  const info = ts.preProcessFile(module.text, true, true);
  return info.importedFiles
    .map((file) => file.fileName)
    .filter((name) => name.startsWith('./') || name.startsWith('../'))
    .map((name) => posix.normalize(posix.join(posix.dirname(module.path), name)).replace(/\.js$/, '.ts'));
}

export function flowViolations(modules: readonly ModuleSource[], flow: typeof FLOW = FLOW): FlowViolation[] {
  const violations: FlowViolation[] = [];
  for (const module of modules) {
    const from = layerOf(module.path, flow);
    if (from < 0) {
      violations.push({ from: module.path, to: '', why: 'in no layer of the flow: add its folder to FLOW' });
      continue;
    }
    for (const target of importedPaths(module)) {
      const to = layerOf(target, flow);
      if (to < 0) violations.push({ from: module.path, to: target, why: 'imports a module in no layer of the flow' });
      else if (to > from) violations.push({ from: module.path, to: target, why: `${flow[from]!.layer} imports ${flow[to]!.layer}, which comes later in the flow` });
    }
  }
  return violations;
}

const CODE = /\.(ts|mts)$/;

/** The TypeScript modules under the given folders of the repository at `root`. */
export function readModules(root: string, folders: readonly string[]): ModuleSource[] {
  const modules: ModuleSource[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (CODE.test(entry.name)) modules.push({ path: relative(root, full).split('\\').join('/'), text: readFileSync(full, 'utf8') });
    }
  };
  for (const folder of folders) walk(join(root, folder));
  return modules.sort((a, b) => a.path.localeCompare(b.path));
}
