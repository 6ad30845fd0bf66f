/** The report's stylesheet, inline so the page needs nothing else; print rules keep it readable on paper. */
export const REPORT_STYLE = `
:root { --fg: #1d1d1f; --muted: #555; --line: #ddd; --critical: #7a0016; --high: #b00020; --medium: #c77700; --low: #2a6fb0; --info: #666; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); max-width: 1100px; margin: 2rem auto; padding: 0 1rem; }
h1 { margin-bottom: 0; } h2 { margin-top: 2rem; border-bottom: 1px solid var(--line); } .meta { color: var(--muted); margin-top: 0; }
a { color: var(--low); }
.verdict p { font-size: 1.15rem; border-left: 4px solid var(--high); padding-left: 1rem; max-width: 75ch; }
dl.glance { display: flex; flex-wrap: wrap; gap: .5rem; margin: 1rem 0; }
dl.glance div { border: 1px solid var(--line); border-radius: 4px; padding: .3rem .7rem; min-width: 9rem; }
dl.glance dt { color: var(--muted); font-size: .8rem; } dl.glance dd { margin: 0; font-weight: 600; font-variant-numeric: tabular-nums; }
table.data { border-collapse: collapse; margin: .5rem 0; font-size: .9rem; }
table.data th, table.data td { border: 1px solid var(--line); padding: .2rem .5rem; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
table.data td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.summary th, table.summary td:nth-child(-n+2) { white-space: nowrap; }
table.summary td.key-figures { font-size: .85rem; color: var(--muted); } table.summary td.key-figures strong { color: var(--fg); }
figure.chart { margin: 1.5rem 0; page-break-inside: avoid; } figure.chart svg { max-width: 100%; height: auto; display: block; }
figure.chart h3 { margin-bottom: .2rem; }
figcaption { color: var(--muted); font-size: .9rem; margin-bottom: .4rem; max-width: 90ch; }
.finding { border: 1px solid var(--line); border-left-width: 6px; padding: .5rem 1rem; margin: 1rem 0; page-break-inside: avoid; }
.severity-critical { border-left-color: var(--critical); } .severity-high { border-left-color: var(--high); } .severity-medium { border-left-color: var(--medium); }
.severity-low { border-left-color: var(--low); } .severity-info { border-left-color: var(--info); }
.badge { text-transform: uppercase; font-size: .72rem; padding: .1rem .4rem; border-radius: 3px; background: #eee; color: var(--fg); white-space: nowrap; }
.badge-critical { background: var(--critical); color: #fff; } .badge-high { background: var(--high); color: #fff; }
.badge-medium { background: var(--medium); color: #fff; } .badge-low { background: var(--low); color: #fff; }
.see-chart { font-size: .8rem; font-weight: normal; margin-left: .5rem; }
.next { background: #fff8e1; padding: .3rem .6rem; border-radius: 3px; }
dl.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: .2rem 1rem; font-size: .88rem; }
dl.figures dt { color: var(--muted); } dl.figures dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; font-variant-numeric: tabular-nums; }
details { margin: .4rem 0; } summary { cursor: pointer; color: var(--muted); }
ul.evidence { list-style: none; padding: 0; } .where { font-family: ui-monospace, monospace; font-size: .85rem; }
.note { color: var(--muted); font-size: .85rem; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f6f6f6; padding: .4rem; margin: .2rem 0 .6rem; font-size: .8rem; }
.deciles-wrap { max-width: 420px; }
.deciles { display: flex; align-items: flex-end; gap: 3px; height: 70px; border-bottom: 1px solid var(--muted); margin-top: .5rem; }
.decile { flex: 1; height: 100%; display: flex; flex-direction: column-reverse; position: relative; }
.decile .bar { display: block; background: #4c78a8; min-height: 1px; }
.decile .count { font-size: .65rem; color: var(--muted); text-align: center; }
.deciles-axis { display: flex; justify-content: space-between; font-size: .7rem; color: var(--muted); }
footer { margin: 2rem 0; }
@media print {
  body { margin: 0; max-width: none; font-size: 12px; }
  .finding, figure.chart, table.summary { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
  .meta a, .see-chart { display: none; }
}
`;
