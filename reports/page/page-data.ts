import type { TrafficCube } from '../../src/summaries/traffic-cube.js';

/**
 * What the report's script reads from the page's JSON block: the traffic cube, and per chart
 * its compiled vega spec with the data it redraws from. Types only, shared by html.ts (which
 * writes the block) and report-page.ts (which reads it).
 */
export interface PageChart {
  id: string;
  /** The vega spec (compiled from the chart's vega-lite spec), its redrawn datasets emptied: their rows come from `rows` or the cube. */
  spec: object;
  /** Where the chart's data comes from under a filter: the cube's timeline or latency view, or its own rows filtered by their fields. */
  source: 'timeline' | 'latency' | 'rows';
  /** Dataset name → every row (source 'rows'), column by column (encodeRows). */
  rows: Record<string, EncodedRows>;
  /** Which row field carries the time, route, key and status the filters test; a missing one is a filter the chart cannot apply. */
  rowFields?: { time?: string; route?: string; key?: string; status?: string };
  /** Signals of the compiled spec that hold a plot width (facets and concatenations), set to fit the page. */
  widthSignals: string[];
  /** A single (layered) view sized by its top-level width. */
  topLevelWidth: boolean;
  /** Pixels beside the plot (axes, legends, headers), from the chart as first drawn. */
  extraWidth: number;
  maxWidth: number;
}

export interface PageData {
  cube: TrafficCube;
  statusChoices: string[];
  charts: PageChart[];
}

/**
 * Rows column by column, a column of repeated strings as a dictionary and codes: 4,000 scatter
 * points that repeat a 60-character user agent as their group cost ~60 kB instead of ~750 kB.
 */
export interface EncodedRows {
  length: number;
  columns: Record<string, { values: unknown[] } | { dictionary: unknown[]; codes: number[] }>;
}

export function encodeRows(rows: readonly Record<string, unknown>[]): EncodedRows {
  const names = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const columns: EncodedRows['columns'] = {};
  for (const name of names) {
    const values = rows.map((row) => row[name] ?? null);
    const distinct = [...new Set(values)];
    if (distinct.length * 2 < values.length) {
      const code = new Map(distinct.map((value, index) => [value, index]));
      columns[name] = { dictionary: distinct, codes: values.map((value) => code.get(value)!) };
    } else {
      columns[name] = { values };
    }
  }
  return { length: rows.length, columns };
}

export function decodeRows(encoded: EncodedRows): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = Array.from({ length: encoded.length }, () => ({}));
  for (const [name, column] of Object.entries(encoded.columns)) {
    rows.forEach((row, index) => {
      row[name] = 'values' in column ? column.values[index] : column.dictionary[column.codes[index]!];
    });
  }
  return rows;
}
