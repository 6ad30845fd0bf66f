/**
 * The report's stylesheet, inline so the page needs nothing else (allowed by its hash in the
 * CSP: no style attribute anywhere). Wide screens get two chart columns and the full width;
 * narrow ones one column, tables that scroll sideways rather than squeeze their columns to a
 * letter each, and charts redrawn at their width. Print rules keep it readable on paper.
 */
export const REPORT_STYLE = `
:root { --fg: #1d1d1f; --muted: #555; --line: #ddd; --bg-soft: #f6f6f6; --critical: #7a0016; --high: #b00020; --medium: #c77700; --low: #2a6fb0; --info: #666; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); max-width: 1680px; margin: 1.5rem auto; padding: 0 1.5rem; }
h1 { margin-bottom: 0; } h2 { margin-top: 2rem; border-bottom: 1px solid var(--line); } .meta { color: var(--muted); margin-top: 0; }
a { color: var(--low); }
.slice { background: #eef4fb; border-left: 4px solid var(--low); padding: .4rem .8rem; }
.verdict p { font-size: 1.15rem; border-left: 4px solid var(--high); padding-left: 1rem; max-width: 90ch; }
dl.glance { display: flex; flex-wrap: wrap; gap: .5rem; margin: 1rem 0; }
dl.glance div { border: 1px solid var(--line); border-radius: 4px; padding: .3rem .7rem; min-width: 9rem; }
dl.glance dt { color: var(--muted); font-size: .8rem; } dl.glance dd { margin: 0; font-weight: 600; font-variant-numeric: tabular-nums; }
.table-scroll { overflow-x: auto; max-width: 100%; }
table.data { border-collapse: collapse; margin: .5rem 0; font-size: .9rem; }
table.data th, table.data td { border: 1px solid var(--line); padding: .2rem .5rem; text-align: left; vertical-align: top; }
table.data th { white-space: nowrap; background: #fafafa; }
table.data td { overflow-wrap: normal; }
table.data td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.data td.where, table.data td.key-figures { overflow-wrap: anywhere; min-width: 14ch; }
table.summary { width: 100%; } table.summary td:nth-child(-n+2) { white-space: nowrap; } table.summary td:nth-child(3) { min-width: 22ch; }
table.summary tbody tr { cursor: pointer; } table.summary tbody tr:hover { background: #fafafa; }
table.summary td.key-figures { font-size: .85rem; color: var(--muted); } table.summary td.key-figures strong { color: var(--fg); }
button.sort { all: unset; cursor: pointer; font-weight: 600; } button.sort:focus-visible { outline: 2px solid var(--low); }
th[aria-sort=ascending] button.sort::after { content: " ▲"; font-size: .7em; } th[aria-sort=descending] button.sort::after { content: " ▼"; font-size: .7em; }
form.filters { position: sticky; top: 0; z-index: 2; background: #fff; border: 1px solid var(--line); border-radius: 4px; padding: .5rem .8rem; margin: 1.5rem 0 0;
  display: flex; flex-wrap: wrap; gap: .4rem 1.2rem; align-items: center; box-shadow: 0 2px 6px rgba(0,0,0,.06); }
form.filters[hidden] { display: none; }
form.filters fieldset { border: 0; padding: 0; margin: 0; display: flex; flex-wrap: wrap; gap: .3rem 1rem; }
form.filters legend { float: left; margin-right: .6rem; color: var(--muted); font-size: .85rem; }
form.filters label { font-size: .85rem; color: var(--muted); display: inline-flex; align-items: center; gap: .3rem; }
form.filters label span { color: var(--fg); font-variant-numeric: tabular-nums; }
form.filters select { max-width: 16rem; }
form.filters output { flex-basis: 100%; font-size: .85rem; }
body.filtered form.filters output { font-weight: 600; color: var(--low); }
.chart-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 640px), 1fr)); gap: 0 2rem; }
figure.chart { margin: 1.5rem 0; min-width: 0; page-break-inside: avoid; }
figure.chart svg { max-width: 100%; height: auto; display: block; }
figure.chart.live .chart-static { display: none; }
figure.chart h3 { margin-bottom: .2rem; }
figcaption { color: var(--muted); font-size: .9rem; margin-bottom: .4rem; max-width: 90ch; }
.filter-note:empty { display: none; }
.breakdowns { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 460px), 1fr)); gap: 0 2rem; }
.breakdowns table.data { width: 100%; } .breakdowns table.data td:first-child { overflow-wrap: anywhere; min-width: 16ch; }
.finding { border: 1px solid var(--line); border-left-width: 6px; padding: .5rem 1rem; margin: 1rem 0; page-break-inside: avoid; max-width: 1200px; }
.severity-critical { border-left-color: var(--critical); } .severity-high { border-left-color: var(--high); } .severity-medium { border-left-color: var(--medium); }
.severity-low { border-left-color: var(--low); } .severity-info { border-left-color: var(--info); }
.badge { text-transform: uppercase; font-size: .72rem; padding: .1rem .4rem; border-radius: 3px; background: #eee; color: var(--fg); white-space: nowrap; }
.badge-critical { background: var(--critical); color: #fff; } .badge-high { background: var(--high); color: #fff; }
.badge-medium { background: var(--medium); color: #fff; } .badge-low { background: var(--low); color: #fff; }
.see-chart { font-size: .8rem; font-weight: normal; margin-left: .5rem; }
.next { background: #fff8e1; padding: .3rem .6rem; border-radius: 3px; }
dl.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: .2rem 1rem; font-size: .88rem; }
dl.figures dt { color: var(--muted); } dl.figures dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; font-variant-numeric: tabular-nums; }
details { margin: .4rem 0; } summary { cursor: pointer; color: var(--muted); }
ul.evidence { list-style: none; padding: 0; } .where { font-family: ui-monospace, monospace; font-size: .85rem; overflow-wrap: anywhere; }
.note { color: var(--muted); font-size: .85rem; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: var(--bg-soft); padding: .4rem; margin: .2rem 0 .6rem; font-size: .8rem; }
.deciles-wrap { max-width: 420px; }
svg.deciles { width: 100%; height: auto; display: block; }
svg.deciles rect.bar { fill: #4c78a8; } svg.deciles text { font-size: 10px; fill: var(--muted); } svg.deciles line { stroke: var(--muted); }
.deciles-axis { display: flex; justify-content: space-between; font-size: .7rem; color: var(--muted); }
footer { margin: 2rem 0; }
@media (max-width: 600px) {
  body { padding: 0 .6rem; margin: .8rem auto; font-size: 14px; }
  .verdict p { font-size: 1rem; padding-left: .6rem; }
  dl.glance div { min-width: calc(50% - .5rem); }
  .finding { padding: .4rem .6rem; }
  form.filters { position: static; }
  form.filters select { max-width: 100%; }
}
@media print {
  body { margin: 0; max-width: none; font-size: 12px; }
  .finding, figure.chart, table.summary { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
  .meta a, .see-chart, form.filters { display: none; }
  .chart-grid { display: block; }
}
`;
