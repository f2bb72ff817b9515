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

/** pages per summary block: a range check skips a block none of whose pages is occupied */
const BLOCK_SHIFT = 6;
const BLOCK_PAGES = 1 << BLOCK_SHIFT;

interface Region {
  basePfn: number;
  state: Uint8Array;
  /** occupied (movable or pinned) pages per block */
  occupied: Uint16Array;
  /** pinned pages per block */
  pinned: Uint16Array;
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
      const blocks = (a.countPages + BLOCK_PAGES - 1) >> BLOCK_SHIFT;
      const occupied = new Uint16Array(blocks);
      const pinned = new Uint16Array(blocks);
      for (let i = 0; i < state.length; i++) {
        if (rnd() >= params.movableShare) continue;
        state[i] = rnd() < params.pinProbability ? PINNED : MOVABLE;
        this.occupiedPages++;
        occupied[i >> BLOCK_SHIFT]++;
        if (state[i] === PINNED) {
          this.pinnedPages++;
          pinned[i >> BLOCK_SHIFT]++;
        }
      }
      return { basePfn: a.basePfn, state, occupied, pinned };
    });
  }

  private regionOf(pfn: number): Region | undefined {
    for (const r of this.regions) if (pfn >= r.basePfn && pfn < r.basePfn + r.state.length) return r;
    return undefined;
  }

  /**
   * Any pinned page in the range: -EBUSY. Otherwise the movable pages migrate out (ENOMEM when
   * there is nowhere to put them) and the range is free. Blocks without occupied pages are skipped
   * whole, so the cost follows the occupied blocks rather than the range's length.
   */
  allocContigRange(startPfn: number, endPfn: number): number {
    if (this.occupiedPages === 0) return 0;
    const r = this.regionOf(startPfn);
    if (!r) return 0;
    const from = startPfn - r.basePfn;
    const to = Math.min(endPfn - r.basePfn, r.state.length);
    if (to <= from) return 0;
    const { state, occupied, pinned } = r;
    const lastBlock = (to - 1) >> BLOCK_SHIFT;
    let movable = 0;
    for (let b = from >> BLOCK_SHIFT; b <= lastBlock; b++) {
      if (occupied[b] === 0) continue;
      const lo = Math.max(from, b << BLOCK_SHIFT);
      const hi = Math.min(to, (b + 1) << BLOCK_SHIFT);
      if (pinned[b] === 0 && hi - lo === BLOCK_PAGES) {
        movable += occupied[b];
        continue;
      }
      for (let i = lo; i < hi; i++) {
        if (state[i] === PINNED) {
          this.busyRanges++;
          this.onBusy?.(startPfn, endPfn);
          return EBUSY;
        }
        if (state[i] === MOVABLE) movable++;
      }
    }
    if (movable === 0) return 0;
    if (!this.migrate(movable)) return ENOMEM;
    for (let b = from >> BLOCK_SHIFT; b <= lastBlock; b++) {
      if (occupied[b] === 0) continue;
      const lo = Math.max(from, b << BLOCK_SHIFT);
      const hi = Math.min(to, (b + 1) << BLOCK_SHIFT);
      for (let i = lo; i < hi; i++) {
        if (state[i] === MOVABLE) {
          state[i] = FREE;
          occupied[b]--;
        }
      }
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
    const b = i >> BLOCK_SHIFT;
    const was = r.state[i];
    if (was === FREE) {
      this.occupiedPages++;
      r.occupied[b]++;
    }
    if (was === PINNED) {
      this.pinnedPages--;
      r.pinned[b]--;
    }
    r.state[i] = pinned ? PINNED : MOVABLE;
    if (pinned) {
      this.pinnedPages++;
      r.pinned[b]++;
    }
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
