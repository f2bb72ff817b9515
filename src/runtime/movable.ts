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

const FREE = 0;
const MOVABLE = 1;
const PINNED = 2;

interface Region {
  basePfn: number;
  state: Uint8Array;
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
      const state = new Uint8Array(a.countPages);
      for (let i = 0; i < state.length; i++) {
        if (rnd() >= params.movableShare) continue;
        state[i] = rnd() < params.pinProbability ? PINNED : MOVABLE;
        this.occupiedPages++;
        if (state[i] === PINNED) this.pinnedPages++;
      }
      return { basePfn: a.basePfn, state };
    });
  }

  private regionOf(pfn: number): Region | undefined {
    for (const r of this.regions) if (pfn >= r.basePfn && pfn < r.basePfn + r.state.length) return r;
    return undefined;
  }

  allocContigRange(startPfn: number, endPfn: number): number {
    if (this.occupiedPages === 0) return 0;
    const r = this.regionOf(startPfn);
    if (!r) return 0;
    const from = startPfn - r.basePfn;
    const to = Math.min(endPfn - r.basePfn, r.state.length);
    let movable = 0;
    for (let i = from; i < to; i++) {
      if (r.state[i] === PINNED) {
        this.busyRanges++;
        this.onBusy?.(startPfn, endPfn);
        return EBUSY;
      }
      if (r.state[i] === MOVABLE) movable++;
    }
    if (movable > 0 && !this.migrate(movable)) return ENOMEM;
    if (movable > 0) {
      for (let i = from; i < to; i++) r.state[i] = FREE;
      this.occupiedPages -= movable;
    }
    return 0;
  }

  freeContigRange(): void {}

  /** Pins or unpins one page (explicit pins of a scenario); false outside every area. */
  setPinned(pfn: number, pinned: boolean): boolean {
    const r = this.regionOf(pfn);
    if (!r) return false;
    const i = pfn - r.basePfn;
    const was = r.state[i];
    if (was === FREE) this.occupiedPages++;
    if (was === PINNED) this.pinnedPages--;
    r.state[i] = pinned ? PINNED : MOVABLE;
    if (pinned) this.pinnedPages++;
    return true;
  }

  /** Movable pages (pinned ones included) occupying [startPfn, endPfn): they are not free CMA pages. */
  occupiedIn(startPfn: number, endPfn: number): number {
    return this.count(startPfn, endPfn, (s) => s !== FREE);
  }

  /** "movable", "pinned" or "free" for one pfn (pages outside every area are "free"). */
  stateAt(pfn: number): "free" | "movable" | "pinned" {
    const r = this.occupiedPages === 0 ? undefined : this.regionOf(pfn);
    const st = r ? r.state[pfn - r.basePfn] : FREE;
    return st === PINNED ? "pinned" : st === MOVABLE ? "movable" : "free";
  }

  /** Pinned pages in [startPfn, endPfn). */
  pinnedIn(startPfn: number, endPfn: number): number {
    return this.count(startPfn, endPfn, (s) => s === PINNED);
  }

  private count(startPfn: number, endPfn: number, match: (state: number) => boolean): number {
    if (this.occupiedPages === 0) return 0;
    let n = 0;
    for (const r of this.regions) {
      const from = Math.max(startPfn, r.basePfn) - r.basePfn;
      const to = Math.min(endPfn, r.basePfn + r.state.length) - r.basePfn;
      for (let i = from; i < to; i++) if (match(r.state[i])) n++;
    }
    return n;
  }
}
