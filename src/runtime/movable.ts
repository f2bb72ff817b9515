/**
 * Movable pages that the page allocator has placed inside CMA pageblocks, and the pinned ones
 * among them: what makes alloc_contig_range (mm/page_alloc.c) fail with -EBUSY (SPEC §4.4).
 * Deterministic from a seed.
 */
import { type ContigRangeModel, EBUSY, ENOMEM } from "./cma.js";

export interface MovableParams {
  /** share of each CMA area's pages occupied by movable (user, page cache) pages, 0..1 */
  movableShare: number;
  /** probability that an occupied page is pinned (cannot migrate), 0..1 */
  pinProbability: number;
  seed: number;
}

export const NO_MOVABLE: MovableParams = { movableShare: 0, pinProbability: 0, seed: 1 };

/** mulberry32: a small, fast, seedable PRNG with a uniform [0, 1) output. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One bit per page, 32 pages per mask word. */
const WORD_SHIFT = 5;

/** Set bits of a 32-bit word. */
function popcount32(v: number): number {
  let x = v - ((v >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** The bits of word `w` that pages [from, to) cover (from < to, the range meets the word). */
function rangeMask(w: number, from: number, to: number): number {
  const lo = w << WORD_SHIFT;
  const head = from > lo ? -1 << (from - lo) : -1;
  return to - lo < 32 ? head & ((1 << (to - lo)) - 1) : head;
}

/**
 * The pages of one CMA area as two bit masks: occupied (movable or pinned) and pinned. A range
 * check reads a word per 32 pages, whatever the pages' states.
 */
interface Region {
  basePfn: number;
  endPfn: number;
  occupied: Int32Array;
  pinned: Int32Array;
}

export class MovablePages implements ContigRangeModel {
  private readonly regions: Region[];
  /** movable pages currently inside CMA areas (they count as used in CmaFree) */
  occupiedPages = 0;
  pinnedPages = 0;
  busyRanges = 0;

  constructor(
    areas: { basePfn: number; countPages: number }[],
    params: MovableParams,
    /** migrate_pages: takes `pages` target pages outside the range (buddy, highmem allowed); false if none */
    private readonly migrate: (pages: number) => boolean,
    /** debug-level "alloc_contig_range: [%lx, %lx) PFNs busy" */
    private readonly onBusy?: (startPfn: number, endPfn: number) => void,
  ) {
    const rnd = mulberry32(params.seed);
    this.regions = areas.map((a) => {
      const words = (a.countPages + 31) >> WORD_SHIFT;
      const occupied = new Int32Array(words);
      const pinned = new Int32Array(words);
      for (let i = 0; i < a.countPages; i++) {
        if (rnd() >= params.movableShare) continue;
        const bit = 1 << (i & 31);
        occupied[i >> WORD_SHIFT] |= bit;
        this.occupiedPages++;
        if (rnd() < params.pinProbability) {
          pinned[i >> WORD_SHIFT] |= bit;
          this.pinnedPages++;
        }
      }
      return { basePfn: a.basePfn, endPfn: a.basePfn + a.countPages, occupied, pinned };
    });
  }

  private regionOf(pfn: number): Region | undefined {
    const regions = this.regions;
    for (let i = 0; i < regions.length; i++) {
      const r = regions[i];
      if (pfn >= r.basePfn && pfn < r.endPfn) return r;
    }
    return undefined;
  }

  /**
   * Any pinned page in the range: -EBUSY. Otherwise the movable pages migrate out (ENOMEM when
   * there is nowhere to put them) and the range is free.
   */
  allocContigRange(startPfn: number, endPfn: number): number {
    if (this.occupiedPages === 0) return 0;
    const r = this.regionOf(startPfn);
    if (!r) return 0;
    const from = startPfn - r.basePfn;
    const to = Math.min(endPfn, r.endPfn) - r.basePfn;
    if (to <= from) return 0;
    const { occupied, pinned } = r;
    const last = (to - 1) >> WORD_SHIFT;
    let movable = 0;
    for (let w = from >> WORD_SHIFT; w <= last; w++) {
      if (occupied[w] === 0) continue;
      const m = rangeMask(w, from, to);
      if ((pinned[w] & m) !== 0) {
        this.busyRanges++;
        this.onBusy?.(startPfn, endPfn);
        return EBUSY;
      }
      movable += popcount32(occupied[w] & m);
    }
    if (movable === 0) return 0;
    if (!this.migrate(movable)) return ENOMEM;
    for (let w = from >> WORD_SHIFT; w <= last; w++) {
      if (occupied[w] !== 0) occupied[w] &= ~rangeMask(w, from, to);
    }
    this.occupiedPages -= movable;
    return 0;
  }

  freeContigRange(): void {}

  /** Pins or unpins one page (explicit pins of a scenario); false outside every area. */
  setPinned(pfn: number, pinned: boolean): boolean {
    const r = this.regionOf(pfn);
    if (!r) return false;
    const i = pfn - r.basePfn;
    const w = i >> WORD_SHIFT;
    const bit = 1 << (i & 31);
    if ((r.occupied[w] & bit) === 0) this.occupiedPages++;
    if ((r.pinned[w] & bit) !== 0) this.pinnedPages--;
    r.occupied[w] |= bit;
    if (pinned) {
      r.pinned[w] |= bit;
      this.pinnedPages++;
    } else r.pinned[w] &= ~bit;
    return true;
  }

  /** Movable pages (pinned ones included) occupying [startPfn, endPfn): they are not free CMA pages. */
  occupiedIn(startPfn: number, endPfn: number): number {
    return this.count(startPfn, endPfn, false);
  }

  /** "movable", "pinned" or "free" for one pfn (pages outside every area are "free"). */
  stateAt(pfn: number): "free" | "movable" | "pinned" {
    const r = this.occupiedPages === 0 ? undefined : this.regionOf(pfn);
    if (!r) return "free";
    const i = pfn - r.basePfn;
    const bit = 1 << (i & 31);
    if ((r.pinned[i >> WORD_SHIFT] & bit) !== 0) return "pinned";
    return (r.occupied[i >> WORD_SHIFT] & bit) !== 0 ? "movable" : "free";
  }

  /** Pinned pages in [startPfn, endPfn). */
  pinnedIn(startPfn: number, endPfn: number): number {
    return this.count(startPfn, endPfn, true);
  }

  private count(startPfn: number, endPfn: number, pinnedOnly: boolean): number {
    if (this.occupiedPages === 0) return 0;
    let n = 0;
    for (const r of this.regions) {
      const from = Math.max(startPfn, r.basePfn) - r.basePfn;
      const to = Math.min(endPfn, r.endPfn) - r.basePfn;
      if (to <= from) continue;
      const bits = pinnedOnly ? r.pinned : r.occupied;
      for (let w = from >> WORD_SHIFT; w <= (to - 1) >> WORD_SHIFT; w++) {
        if (bits[w] !== 0) n += popcount32(bits[w] & rangeMask(w, from, to));
      }
    }
    return n;
  }
}
