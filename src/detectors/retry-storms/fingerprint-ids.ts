import { ownString } from '../../model/own-string.js';
import { OTHER, trackCapped, type Capped } from '../../statistics/bounded-counter.js';

/**
 * Dense ids for the distinct values of a per-record string (client addresses, API keys), looked up
 * by a 64-bit fingerprint of the text in one Int32Array, so a lookup neither hashes a fresh string
 * into a Map nor compares it with the stored one. Past `cap` distinct values, new ones share the
 * id of "(other)" and are counted as overflow, as a BoundedCounter does (and reported the same
 * way, through the run's CapRegistry). Callers keep their per-value figures in arrays by id.
 *
 * Why: retry storms looked every record's client up in a BoundedCounter (a Map of 10,000 fresh
 * address strings): `get` was 340 ms of 4.1 s CPU on `alf analyze` of the bench's 1 M
 * high-cardinality `combined` lines (55 k distinct addresses, Zipf), the largest single cost
 * after the GC (`node --cpu-prof`); retry-storms.ts has the figure after.
 *
 * A fingerprint collision (two values with the same 64 bits; odds ~1e-10 among 10,000 values)
 * would count two clients as one.
 */
export class FingerprintIds implements Capped {
  /** Per slot: fingerprint high, fingerprint low, id + 1 (0: empty). */
  private cells: Int32Array;
  private slots: number;
  /** The value of each id, owned copies (they are kept for the run). */
  readonly values: string[] = [];
  overflowed = 0;
  private otherId = -1;

  constructor(readonly cap: number) {
    this.slots = 1 << 12;
    this.cells = new Int32Array(this.slots * 3);
    trackCapped(this);
  }

  get size(): number {
    return this.values.length;
  }

  /** The id of `value`, given a new one (or "(other)"'s past the cap) on its first sighting. */
  idOf(value: string): number {
    let fnv = 0x811c9dc5 | 0;
    let mix = 0x9e3779b9 | 0;
    for (let i = 0; i < value.length; i++) {
      const code = value.charCodeAt(i);
      fnv = Math.imul(fnv ^ code, 0x01000193);
      mix = Math.imul(mix ^ code, 0x5bd1e995);
      mix ^= mix >>> 15;
    }
    const id = this.find(fnv, mix);
    return id >= 0 ? id : this.add(value, fnv, mix);
  }

  /** The id with this fingerprint, or -1. */
  private find(fnv: number, mix: number): number {
    const cells = this.cells;
    const mask = this.slots - 1;
    for (let slot = fnv & mask; ; slot = (slot + 1) & mask) {
      const at = slot * 3;
      const id = cells[at + 2]!;
      if (id === 0) return -1;
      if (cells[at] === fnv && cells[at + 1] === mix) return id - 1;
    }
  }

  private add(value: string, fnv: number, mix: number): number {
    if (this.values.length < this.cap) return this.insert(value, fnv, mix);
    this.overflowed++;
    if (this.otherId < 0) {
      // "(other)" may have come as a value before the cap: then that is its id.
      const known = this.values.indexOf(OTHER);
      this.otherId = known >= 0 ? known : this.insert(OTHER, fnv, mix, false);
    }
    return this.otherId;
  }

  /** A new id; `findable` false for "(other)" past the cap, which is reached through otherId only. */
  private insert(value: string, fnv: number, mix: number, findable = true): number {
    if ((this.values.length + 1) * 2 > this.slots) this.grow();
    const id = this.values.length;
    this.values.push(ownString(value));
    if (findable) this.place(fnv, mix, id);
    return id;
  }

  private place(fnv: number, mix: number, id: number): void {
    const cells = this.cells;
    const mask = this.slots - 1;
    let slot = fnv & mask;
    while (cells[slot * 3 + 2] !== 0) slot = (slot + 1) & mask;
    cells[slot * 3] = fnv;
    cells[slot * 3 + 1] = mix;
    cells[slot * 3 + 2] = id + 1;
  }

  private grow(): void {
    const old = this.cells;
    this.slots *= 2;
    this.cells = new Int32Array(this.slots * 3);
    for (let at = 0; at < old.length; at += 3) if (old[at + 2] !== 0) this.place(old[at]!, old[at + 1]!, old[at + 2]! - 1);
  }
}
