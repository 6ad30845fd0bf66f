import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FORMATS } from '../../parsers/registry.js';
import { formatTable, README_PATH, withTable } from '../generators/format-table.js';

describe('the README\'s format table', () => {
  it('is the one the format modules generate (npm run formats-table)', () => {
    const readme = readFileSync(README_PATH, 'utf8');
    expect(readme).toBe(withTable(readme, formatTable()));
  });

  it('has a row for every format in the registry', () => {
    const table = formatTable();
    for (const format of FORMATS) expect(table).toContain(`| \`${format.id}\` |`);
  });
});
