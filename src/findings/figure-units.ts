import type { Unit } from '../model/finding.js';
import { COLUMN_UNITS, FIGURE_UNITS } from './units.generated.js';

/**
 * The unit of a finding's figure or table column, as its kind's type declares it (read off the
 * generated schema: units.generated.ts). A name no kind declares (a hand-made finding in a test)
 * reads as a plain number.
 */
export function unitOf(kind: string, figure: string): Unit {
  return FIGURE_UNITS[kind]?.[figure] ?? 'scalar';
}

export function columnUnitOf(kind: string, column: string): Unit {
  return COLUMN_UNITS[kind]?.[column] ?? 'scalar';
}
