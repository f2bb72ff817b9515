/**
 * The page allocator at zone level (mm/page_alloc.c: __rmqueue_smallest, expand, __free_one_page,
 * __zone_watermark_ok), enough of it for DMA fallbacks and remap buffers (SPEC §6.3(e)).
 *
 * Free blocks are kept per zone and order by pfn (Sets, insertion order = the kernel's list head
 * for allocation), split on allocation and merged with their buddy on free. MIGRATE_CMA pageblocks
 * are not in these lists: CMA pages are accounted by the CMA areas and only counted here
 * (NR_FREE_CMA_PAGES) for the watermark of non-CMA allocations.
 */
import type { PfnRange } from "../boot/machine.js";

export interface BuddyZoneSpec {
  name: string;
  startPfn: number;
  endPfn: number;
  highmem: boolean;
  /** free ranges handed to the allocator at the end of boot */
  free: PfnRange[];
  /** min watermark in pages */
  minPages: number;
}

export interface BuddyZone {
  readonly name: string;
  readonly startPfn: number;
  readonly endPfn: number;
  readonly highmem: boolean;
  /** free block start pfns per order */
  readonly lists: Set<number>[];
  freePages: number;
  /** free pages in MIGRATE_CMA pageblocks of this zone */
  cmaFreePages: number;
  minPages: number;
  /** pages reclaim can still free in this zone (page cache and slab the model holds), as blocks */
  reclaimable: { pfn: number; order: number }[];
}

export class Buddy {
  readonly zones: BuddyZone[];
  /** pages allocated and not freed, per block start pfn (order) */
  private readonly allocated = new Map<number, number>();

  constructor(
    specs: BuddyZoneSpec[],
    /** MAX_ORDER: orders 0 .. maxOrder - 1 */
    readonly maxOrder: number,
  ) {
    this.zones = specs.map((s) => ({
      name: s.name,
      startPfn: s.startPfn,
      endPfn: s.endPfn,
      highmem: s.highmem,
      lists: Array.from({ length: maxOrder }, () => new Set<number>()),
      freePages: 0,
      cmaFreePages: 0,
      minPages: s.minPages,
      reclaimable: [],
    }));
    specs.forEach((s, i) => {
      for (const r of s.free) this.freeRange(this.zones[i], r.startPfn, r.endPfn);
    });
  }

  /** Frees [start, end) as maximal aligned blocks (memblock_free_all → __free_pages_core at boot). */
  private freeRange(zone: BuddyZone, start: number, end: number): void {
    let pfn = start;
    while (pfn < end) {
      let order = this.maxOrder - 1;
      while (order > 0 && (pfn % 2 ** order !== 0 || pfn + 2 ** order > end)) order--;
      this.freeBlock(zone, pfn, order);
      pfn += 2 ** order;
    }
  }

  zoneOf(pfn: number): BuddyZone | undefined {
    return this.zones.find((z) => pfn >= z.startPfn && pfn < z.endPfn);
  }

  /** __free_one_page: merge with free buddies while possible. */
  private freeBlock(zone: BuddyZone, pfn: number, order: number): void {
    zone.freePages += 2 ** order;
    while (order < this.maxOrder - 1) {
      const buddy = pfn ^ (2 ** order);
      if (buddy < zone.startPfn || buddy + 2 ** order > zone.endPfn || !zone.lists[order].delete(buddy))
        break;
      pfn = Math.min(pfn, buddy);
      order++;
    }
    zone.lists[order].add(pfn);
  }

  /** __zone_watermark_ok for a non-CMA allocation with ALLOC_WMARK_MIN. */
  watermarkOk(zone: BuddyZone, order: number): boolean {
    const free = zone.freePages - (2 ** order - 1);
    if (free <= zone.minPages) return false;
    for (let o = order; o < this.maxOrder; o++) if (zone.lists[o].size > 0) return true;
    return false;
  }

  /** __rmqueue_smallest + expand: takes the first block of the smallest order that fits. */
  private take(zone: BuddyZone, order: number): number {
    for (let o = order; o < this.maxOrder; o++) {
      const list = zone.lists[o];
      if (list.size === 0) continue;
      const pfn = list.values().next().value as number;
      list.delete(pfn);
      for (let h = o - 1; h >= order; h--) zone.lists[h].add(pfn + 2 ** h);
      zone.freePages -= 2 ** order;
      return pfn;
    }
    return -1;
  }

  /**
   * alloc_pages(gfp, order) over the zonelist: highmem zones only when `highmem` is allowed, only
   * ZONE_DMA with `dmaOnly` (GFP_DMA),
   * highest zone first; direct reclaim of the zone's reclaimable pages once when the watermark
   * or fragmentation stops it. Returns the first pfn or -1.
   */
  allocPages(order: number, highmem: boolean, dmaOnly = false): number {
    if (order >= this.maxOrder) return -1;
    for (let pass = 0; pass < 2; pass++) {
      for (let i = this.zones.length - 1; i >= 0; i--) {
        const zone = this.zones[i];
        if ((zone.highmem && !highmem) || (dmaOnly && zone.name !== "DMA")) continue;
        if (!this.watermarkOk(zone, order)) continue;
        const pfn = this.take(zone, order);
        if (pfn >= 0) {
          this.allocated.set(pfn, order);
          return pfn;
        }
      }
      if (pass === 0 && !this.reclaim(highmem)) break;
    }
    return -1;
  }

  /** Direct reclaim: frees every reclaimable block of the eligible zones; false if there was none. */
  private reclaim(highmem: boolean): boolean {
    let any = false;
    for (const zone of this.zones) {
      if (zone.highmem && !highmem) continue;
      for (const b of zone.reclaimable) this.freeBlock(zone, b.pfn, b.order);
      any ||= zone.reclaimable.length > 0;
      zone.reclaimable.length = 0;
    }
    return any;
  }

  /**
   * alloc_pages_exact / __dma_alloc_buffer: an order-sized block whose tail beyond `count` pages
   * goes straight back to the allocator (split_page + __free_page). Returns the first pfn or -1.
   */
  allocPagesExact(count: number, highmem: boolean, dmaOnly = false): number {
    const order = count <= 1 ? 0 : 32 - Math.clz32(count - 1);
    const pfn = this.allocPages(order, highmem, dmaOnly);
    if (pfn < 0) return -1;
    this.allocated.delete(pfn);
    this.allocated.set(pfn, -count);
    this.freeRange(this.zoneOf(pfn) as BuddyZone, pfn + count, pfn + 2 ** order);
    return pfn;
  }

  /**
   * `count` pages in as many blocks of at most 2^(maxOrder-1) pages as needed (vmalloc backing,
   * migration targets): the blocks' first pfns, or null (and nothing kept) on a shortfall.
   * Give the list back to freeChunks to free them.
   */
  allocChunks(count: number, highmem: boolean): number[] | null {
    const taken: number[] = [];
    for (let left = count; left > 0; left -= this.chunkPages) {
      const pfn = this.allocPagesExact(Math.min(left, this.chunkPages), highmem);
      if (pfn < 0) {
        this.freeChunks(taken, count);
        return null;
      }
      taken.push(pfn);
    }
    return taken;
  }

  /** Frees the blocks of allocChunks(count, ...) (the first `chunks.length` of them). */
  freeChunks(chunks: number[], count: number): void {
    for (let i = 0; i < chunks.length; i++) {
      this.freePagesExact(chunks[i], Math.min(count - i * this.chunkPages, this.chunkPages));
    }
  }

  private get chunkPages(): number {
    return 2 ** (this.maxOrder - 1);
  }

  /** free_pages_exact: false when [pfn, pfn + count) was not allocated by allocPagesExact. */
  freePagesExact(pfn: number, count: number): boolean {
    if (this.allocated.get(pfn) !== -count) return false;
    const zone = this.zoneOf(pfn) as BuddyZone;
    this.allocated.delete(pfn);
    this.freeRange(zone, pfn, pfn + count);
    return true;
  }

  /** __free_pages(page, order); false when the block was not allocated by allocPages. */
  freePages(pfn: number, order: number): boolean {
    if (this.allocated.get(pfn) !== order) return false;
    const zone = this.zoneOf(pfn);
    if (!zone) return false;
    this.allocated.delete(pfn);
    this.freeBlock(zone, pfn, order);
    return true;
  }

  /**
   * Boot-time consumers the allocator has served before userspace runs (slab, page tables, page
   * cache): `pages` taken from the zone, `reclaimablePages` of them reclaimable later, and free
   * fragments left at the given orders (a freed block whose buddy stays in use).
   */
  consumeAtBoot(zoneName: string, pages: number, reclaimablePages: number, fragmentOrders: number[]): void {
    const zone = this.zones.find((z) => z.name === zoneName);
    if (!zone || pages <= 0) return;
    let left = Math.min(pages, Math.max(0, zone.freePages - zone.minPages));
    // each fragment: take an order+1 block, keep one half in use, free the other half
    for (const order of fragmentOrders) {
      if (order + 1 >= this.maxOrder || left < 2 ** order) continue;
      const pfn = this.take(zone, order + 1);
      if (pfn < 0) continue;
      zone.lists[order].add(pfn + 2 ** order);
      zone.freePages += 2 ** order;
      left -= 2 ** order;
    }
    let reclaim = Math.min(reclaimablePages, left);
    while (left > 0) {
      const block = this.takeAtMost(zone, Math.min(this.maxOrder - 1, 31 - Math.clz32(left)));
      if (!block) break;
      const { pfn, order } = block;
      left -= 2 ** order;
      if (reclaim >= 2 ** order) {
        zone.reclaimable.push({ pfn, order });
        reclaim -= 2 ** order;
      }
    }
  }

  /** Takes a block of the given order, or the largest smaller one available. */
  private takeAtMost(zone: BuddyZone, order: number): { pfn: number; order: number } | null {
    for (let o = order; o >= 0; o--) {
      const pfn = this.take(zone, o);
      if (pfn >= 0) return { pfn, order: o };
    }
    return null;
  }

  /** Free pages per order (like /proc/buddyinfo) for one zone. */
  buddyinfo(zoneName: string): number[] {
    const zone = this.zones.find((z) => z.name === zoneName);
    return zone ? zone.lists.map((l) => l.size) : [];
  }
}
