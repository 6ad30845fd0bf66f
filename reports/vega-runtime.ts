/**
 * The parts of vega and vega-lite the report renders with, in one module so that `npm run build`
 * can replace its compiled form with a single esbuild bundle: Node imports one 0.8 MB file in
 * ~50 ms, against ~150 ms for the ~40 ESM packages it would otherwise resolve and load one by one
 * (a 2 M-line HTML run spends ~0.28 s on the report, of which the import was half).
 * Tests and tsx run this file as it is, unbundled; the API is the same.
 */
export { compile, type TopLevelSpec } from 'vega-lite';
export { logger, None, parse, View } from 'vega';
