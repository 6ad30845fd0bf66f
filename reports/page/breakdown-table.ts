import { formatNumber, formatShare } from '../format.js';
import type { BreakdownDimension, BreakdownRow } from './cube-view.js';

/**
 * The breakdown tables' columns and cell texts, shared by html.ts (which writes the page's first
 * rows as HTML) and the page's script (which rebuilds them with DOM text nodes when a filter
 * changes): one definition of what each cell says. `sort` is the value a column sorts by.
 */
export const BREAKDOWN_TITLES: Record<BreakdownDimension, string> = { route: 'route', key: 'API key', status: 'status' };

export const BREAKDOWN_COLUMNS = ['requests', 'share', 'made by the proxy', 'median client time', 'p95 client time'] as const;

export interface BreakdownCell {
  text: string;
  sort: string | number;
  numeric: boolean;
}

function seconds(value: number | null): BreakdownCell {
  return { text: value === null ? '–' : `≤ ${formatNumber(value)} s`, sort: value ?? -1, numeric: true };
}

export function breakdownCells(row: BreakdownRow, total: number): BreakdownCell[] {
  return [
    { text: row.name, sort: row.name, numeric: false },
    { text: formatNumber(row.requests), sort: row.requests, numeric: true },
    { text: formatShare(total > 0 ? row.requests / total : 0), sort: row.requests, numeric: true },
    { text: row.proxyMade === 0 ? '0' : `${formatNumber(row.proxyMade)} (${formatShare(row.proxyMade / row.requests)})`, sort: row.proxyMade, numeric: true },
    seconds(row.medianSeconds),
    seconds(row.p95Seconds),
  ];
}
