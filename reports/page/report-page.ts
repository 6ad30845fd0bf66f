import { parse, View, type Spec } from 'vega';
import { expressionInterpreter } from 'vega-interpreter';
import { breakdownCells } from './breakdown-table.js';
import { breakdown, cubeTotals, filterSpan, isFiltered, latencyBars, NO_FILTER, statusMatches, timelineBars, type BreakdownDimension, type PageFilter } from './cube-view.js';
import { decodeRows, type PageChart, type PageData } from './page-data.js';

/**
 * The report's one script, inline and allowed by its hash in the page's Content-Security-Policy
 * (nothing else may run, nothing may be fetched). It only reads the page's own JSON data block
 * and writes text nodes and vega's SVG: log content never becomes markup.
 *
 *   - tables sort by any column (click its header);
 *   - a finding's row in the summary opens the finding with its evidence;
 *   - filters by time range, route, API key and status redraw the charts (vega, with its
 *     CSP-safe expression interpreter) and the breakdown tables from the traffic cube;
 *   - charts are redrawn at the width of their column, so they stay legible on a phone.
 */

const data = JSON.parse(document.getElementById('alf-data')!.textContent ?? '{}') as PageData;
let filter: PageFilter = { ...NO_FILTER };
const views = new Map<string, { view: View; chart: PageChart }>();
/** Each chart's rows, decoded once. */
const chartRows = new Map<string, Record<string, Record<string, unknown>[]>>(data.charts.map((chart) =>
  [chart.id, Object.fromEntries(Object.entries(chart.rows).map(([name, encoded]) => [name, decodeRows(encoded)]))]));

// ---------------------------------------------------------------- sorting

function cellValue(cell: HTMLTableCellElement | undefined): string | number {
  if (!cell) return '';
  const sort = cell.dataset.sort;
  if (sort !== undefined && sort !== '' && !Number.isNaN(Number(sort))) return Number(sort);
  return sort ?? cell.textContent ?? '';
}

function sortTable(table: HTMLTableElement, column: number, header: HTMLTableCellElement): void {
  const body = table.tBodies[0];
  if (!body) return;
  const ascending = header.getAttribute('aria-sort') !== 'ascending';
  for (const th of table.tHead?.rows[0]?.cells ?? []) th.removeAttribute('aria-sort');
  header.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
  const rows = [...body.rows];
  rows.sort((a, b) => {
    const x = cellValue(a.cells[column]);
    const y = cellValue(b.cells[column]);
    const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y), 'en', { numeric: true });
    return ascending ? order : -order;
  });
  for (const row of rows) body.appendChild(row);
}

function makeSortable(table: HTMLTableElement): void {
  const headers = table.tHead?.rows[0]?.cells;
  if (!headers || table.dataset.sortable === 'on') return;
  table.dataset.sortable = 'on';
  [...headers].forEach((header, column) => {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'sort';
    button.textContent = header.textContent ?? '';
    button.title = 'sort by this column';
    header.textContent = '';
    header.appendChild(button);
    button.addEventListener('click', () => sortTable(table, column, header));
  });
}

// ---------------------------------------------------------------- findings

/** Opens a finding and its evidence when its summary row or a link to it is followed. */
function openFinding(id: string): void {
  const section = document.getElementById(id);
  if (!section || !section.classList.contains('finding')) return;
  for (const details of section.querySelectorAll('details.evidence')) (details as HTMLDetailsElement).open = true;
}

function setupFindings(): void {
  for (const row of document.querySelectorAll<HTMLTableRowElement>('table.summary tbody tr[data-finding]')) {
    row.addEventListener('click', (event) => {
      if ((event.target as HTMLElement).closest('a')) return;
      const id = row.dataset.finding!;
      openFinding(id);
      document.getElementById(id)?.scrollIntoView({ block: 'start' });
    });
  }
  window.addEventListener('hashchange', () => openFinding(location.hash.slice(1)));
  if (location.hash) openFinding(location.hash.slice(1));
}

// ---------------------------------------------------------------- filters

function rowPasses(row: Record<string, unknown>, chart: PageChart, span: { fromMs: number; toMs: number }): boolean {
  const fields = chart.rowFields;
  if (!fields) return true;
  if (fields.time && (filter.fromBucket !== null || filter.toBucket !== null)) {
    const value = row[fields.time];
    const time = typeof value === 'number' ? value : Date.parse(String(value));
    if (!(time >= span.fromMs && time < span.toMs)) return false;
  }
  if (fields.route && filter.route !== null && row[fields.route] !== filter.route) return false;
  if (fields.key && filter.key !== null && row[fields.key] !== filter.key) return false;
  if (fields.status && filter.status !== null && !statusMatches(row[fields.status] as number | null, filter.status)) return false;
  return true;
}

function chartValues(chart: PageChart): Record<string, Record<string, unknown>[]> {
  const cube = data.cube;
  switch (chart.source) {
    case 'timeline': return { main: timelineBars(cube, filter) as unknown as Record<string, unknown>[] };
    case 'latency': return { main: latencyBars(cube, filter) as unknown as Record<string, unknown>[] };
    default: {
      const span = filterSpan(cube, filter);
      const out: Record<string, Record<string, unknown>[]> = {};
      for (const [name, rows] of Object.entries(chartRows.get(chart.id) ?? {})) out[name] = rows.filter((row) => rowPasses(row, chart, span));
      return out;
    }
  }
}

/** Which of the active filters a chart cannot apply, for its note. */
function unapplied(chart: PageChart): string[] {
  const missing: string[] = [];
  if (chart.source !== 'rows') return missing;
  const fields = chart.rowFields ?? {};
  if (filter.route !== null && !fields.route) missing.push('route');
  if (filter.key !== null && !fields.key) missing.push('API key');
  if (filter.status !== null && !fields.status) missing.push('status');
  return missing;
}

function renderBreakdowns(): void {
  const total = cubeTotals(data.cube, filter).requests;
  for (const table of document.querySelectorAll<HTMLTableElement>('table.breakdown')) {
    const dimension = table.dataset.dimension as BreakdownDimension;
    const body = table.tBodies[0]!;
    body.replaceChildren(...breakdown(data.cube, filter, dimension).map((row) => {
      const tr = document.createElement('tr');
      for (const cell of breakdownCells(row, total)) {
        const td = document.createElement('td');
        td.textContent = cell.text;
        td.dataset.sort = String(cell.sort);
        if (cell.numeric) td.className = 'num';
        tr.appendChild(td);
      }
      return tr;
    }));
    for (const th of table.tHead?.rows[0]?.cells ?? []) th.removeAttribute('aria-sort');
  }
}

function describeFilter(): string {
  const totals = cubeTotals(data.cube, filter);
  const all = cubeTotals(data.cube, NO_FILTER);
  const parts: string[] = [];
  const span = filterSpan(data.cube, filter);
  if (filter.fromBucket !== null || filter.toBucket !== null) {
    const from = Number.isFinite(span.fromMs) ? new Date(span.fromMs).toISOString().slice(0, 16).replace('T', ' ') : 'start';
    const to = Number.isFinite(span.toMs) ? new Date(span.toMs).toISOString().slice(0, 16).replace('T', ' ') : 'end';
    parts.push(`${from} to ${to} UTC`);
  }
  if (filter.route !== null) parts.push(`route ${filter.route}`);
  if (filter.key !== null) parts.push(`key ${filter.key}`);
  if (filter.status !== null) parts.push(`status ${filter.status}`);
  const shown = `${totals.requests.toLocaleString('en-US')} of ${all.requests.toLocaleString('en-US')} requests`;
  return parts.length === 0 ? `All ${all.requests.toLocaleString('en-US')} requests.` : `${shown}: ${parts.join(', ')}.`;
}

async function applyFilter(): Promise<void> {
  document.getElementById('filter-summary')!.textContent = describeFilter();
  document.body.classList.toggle('filtered', isFiltered(filter));
  renderBreakdowns();
  await Promise.all([...views.values()].map(async ({ view, chart }) => {
    for (const [name, values] of Object.entries(chartValues(chart))) view.data(name, values);
    const note = document.querySelector(`#chart-${chart.id} .filter-note`);
    const missing = unapplied(chart);
    if (note) note.textContent = missing.length === 0 ? '' : `Not filtered by ${missing.join(' or ')}: this chart's data does not carry it.`;
    await view.runAsync();
  }));
}

function fillSelect(select: HTMLSelectElement, values: readonly string[]): void {
  for (const value of values) {
    const option = document.createElement('option');
    option.value = value;
    option.textContent = value;
    select.appendChild(option);
  }
}

function setupFilters(): void {
  const form = document.getElementById('filters') as HTMLFormElement | null;
  if (!form) return;
  form.hidden = false;
  const cube = data.cube;
  const from = form.elements.namedItem('from') as HTMLInputElement;
  const to = form.elements.namedItem('to') as HTMLInputElement;
  const route = form.elements.namedItem('route') as HTMLSelectElement;
  const key = form.elements.namedItem('key') as HTMLSelectElement;
  const status = form.elements.namedItem('status') as HTMLSelectElement;
  from.max = to.max = String(cube.buckets.length);
  // The defaults too: the form's reset restores them (a range input's own default is its middle).
  from.defaultValue = from.value = '0';
  to.defaultValue = to.value = String(cube.buckets.length);
  fillSelect(route, cube.routes);
  fillSelect(key, cube.keys);
  fillSelect(status, data.statusChoices);
  const label = (position: number): string => {
    const ms = position >= cube.buckets.length ? (cube.buckets[cube.buckets.length - 1] ?? 0) + cube.bucketSeconds * 1000 : cube.buckets[position] ?? 0;
    return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
  };
  const read = (): void => {
    let fromAt = Number(from.value);
    let toAt = Number(to.value);
    if (toAt <= fromAt) {
      // The two ends never cross: the one being moved pushes the other.
      if (document.activeElement === to) fromAt = Math.max(0, toAt - 1);
      else toAt = Math.min(cube.buckets.length, fromAt + 1);
      from.value = String(fromAt);
      to.value = String(toAt);
    }
    document.getElementById('from-label')!.textContent = label(fromAt);
    document.getElementById('to-label')!.textContent = label(toAt);
    filter = {
      fromBucket: fromAt === 0 ? null : fromAt,
      toBucket: toAt === cube.buckets.length ? null : toAt,
      route: route.value === '' ? null : route.value,
      key: key.value === '' ? null : key.value,
      status: status.value === '' ? null : status.value,
    };
    void applyFilter();
  };
  for (const input of [from, to, route, key, status]) input.addEventListener('input', read);
  form.addEventListener('reset', () => setTimeout(read, 0));
  form.addEventListener('submit', (event) => event.preventDefault());
  document.getElementById('from-label')!.textContent = label(0);
  document.getElementById('to-label')!.textContent = label(cube.buckets.length);
  document.getElementById('filter-summary')!.textContent = describeFilter();
}

// ---------------------------------------------------------------- charts

/** Redraws a chart at its figure's width: every width signal the compiled spec has. */
function fitWidth(view: View, chart: PageChart, figure: HTMLElement): void {
  const available = Math.max(240, figure.clientWidth - chart.extraWidth);
  const width = Math.min(chart.maxWidth, available);
  for (const signal of chart.widthSignals) view.signal(signal, width);
  if (chart.topLevelWidth) view.width(width);
}

async function upgradeChart(chart: PageChart): Promise<void> {
  const figure = document.getElementById(`chart-${chart.id}`);
  const holder = figure?.querySelector<HTMLElement>('.chart-live');
  if (!figure || !holder) return;
  const view = new View(parse(chart.spec as Spec, undefined, { ast: true }), {
    expr: expressionInterpreter, renderer: 'svg', container: holder, hover: true,
  });
  for (const [name, values] of Object.entries(chartValues(chart))) view.data(name, values);
  fitWidth(view, chart, figure);
  await view.runAsync();
  figure.classList.add('live');
  views.set(chart.id, { view, chart });
}

let resizeTimer = 0;
function onResize(): void {
  clearTimeout(resizeTimer);
  resizeTimer = window.setTimeout(() => {
    for (const { view, chart } of views.values()) {
      const figure = document.getElementById(`chart-${chart.id}`);
      if (figure) {
        fitWidth(view, chart, figure);
        void view.runAsync();
      }
    }
  }, 150);
}

async function main(): Promise<void> {
  for (const table of document.querySelectorAll<HTMLTableElement>('table.data')) makeSortable(table);
  setupFindings();
  setupFilters();
  await Promise.all(data.charts.map(upgradeChart));
  window.addEventListener('resize', onResize);
  document.body.dataset.ready = 'true';
}

void main().catch((error: unknown) => {
  // The static charts stay; say why the live ones are missing instead of failing silently.
  document.body.dataset.ready = 'error';
  const note = document.getElementById('filter-summary');
  if (note) note.textContent = `Interactive charts unavailable: ${String(error)}`;
});
