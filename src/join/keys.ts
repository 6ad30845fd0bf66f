import type { ApmTransaction, ProxyRecord } from '../model/records.js';

/** Heuristic join key: method and path must agree (query strings are never in APM paths). */
export function proxyJoinKey(record: ProxyRecord): string | null {
  if (record.path === null) return null;
  return `${record.method ?? ''} ${normalisePath(record.path)}`;
}

export function apmJoinKey(transaction: ApmTransaction): string | null {
  if (transaction.path === null) return null;
  return `${transaction.method ?? ''} ${normalisePath(transaction.path)}`;
}

/** Trailing slashes and doubled slashes differ between layers; case does not (paths are case-sensitive). */
export function normalisePath(path: string): string {
  let normalised = path.includes('//') ? path.replace(/\/{2,}/g, '/') : path;
  if (normalised.length > 1 && normalised.endsWith('/')) normalised = normalised.slice(0, -1);
  return normalised;
}
