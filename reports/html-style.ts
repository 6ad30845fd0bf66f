/** The report's stylesheet, inline so the page needs nothing else; print rules keep it readable on paper. */
export const REPORT_STYLE = `
:root { --fg: #1d1d1f; --muted: #555; --line: #ddd; --high: #b00020; --medium: #c77700; --low: #2a6fb0; --info: #666; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); max-width: 1100px; margin: 2rem auto; padding: 0 1rem; }
h1 { margin-bottom: 0; } .meta { color: var(--muted); margin-top: 0; }
.verdict p { font-size: 1.15rem; border-left: 4px solid var(--high); padding-left: 1rem; }
table.data { border-collapse: collapse; margin: .5rem 0; font-size: .9rem; }
table.data th, table.data td { border: 1px solid var(--line); padding: .2rem .5rem; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
figure.chart { margin: 1.5rem 0; page-break-inside: avoid; } figure.chart svg { max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: .9rem; }
.finding { border: 1px solid var(--line); border-left-width: 6px; padding: .5rem 1rem; margin: 1rem 0; page-break-inside: avoid; }
.severity-critical, .severity-high { border-left-color: var(--high); } .severity-medium { border-left-color: var(--medium); }
.severity-low { border-left-color: var(--low); } .severity-info { border-left-color: var(--info); }
.badge { text-transform: uppercase; font-size: .75rem; padding: .1rem .4rem; border-radius: 3px; background: #eee; }
dl.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: .2rem 1rem; font-size: .88rem; }
dl.figures dt { color: var(--muted); } dl.figures dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
ul.evidence { list-style: none; padding: 0; } .where { font-family: ui-monospace, monospace; font-size: .85rem; }
.note { color: var(--muted); font-size: .85rem; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f6f6f6; padding: .4rem; margin: .2rem 0 .6rem; font-size: .8rem; }
@media print { body { margin: 0; max-width: none; } .finding, figure.chart { break-inside: avoid; } }
`;
