import { setFlagsFromString } from 'node:v8';

/**
 * V8's allocation-site pretenuring off, for the whole process (parse workers are threads of it).
 *
 * V8 watches, per allocation site, how many of its young objects survive a scavenge; a site whose
 * objects mostly survive gets every later object allocated straight in the old generation. alf
 * allocates a record per line at one site, and nearly all of them die young, but a short spell in
 * which records wait (every file of a rotated log opened, its first records held until the merge
 * reaches its hour) can tip the decision for the rest of the run: `alf analyze` of the bench's
 * 1 M high-profile `combined` lines in 24 rotated files then promoted ~585 MB (against 25 MB for
 * the same lines in one file) and took 6.93 s CPU (median of 5, alternating; 5.89-7.85) and
 * 259-282 MB; with pretenuring off, 4.87 s (4.25-5.61), 198-209 MB and 80-88 MB promoted. A first
 * `alf scan` of those files went 11.27 -> 10.99 s; single files and the join were within this
 * host's noise either way (3 alternating runs each: combined both profiles, extended, extended +
 * New Relic).
 *
 * The flag is read when the collector decides, so setting it at start-up, before any log is read,
 * takes effect (unlike flags that configure the collector's threads, which V8 fixes at start).
 */
export function applyHeapPolicy(): void {
  setFlagsFromString('--no-allocation-site-pretenuring');
}
