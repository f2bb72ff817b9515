/**
 * A kernel virtual range allocator: the vmalloc area [VMALLOC_START, VMALLOC_END) and the modules
 * area [MODULES_VADDR, MODULES_END) (mm/vmalloc.c: alloc_vmap_area, __get_vm_area_node,
 * free_vmap_area_noflush, purge_vmap_area_lazy). SPEC §5.
 *
 * One bit per page of the range in a BitmapLike. An area occupies its pages plus the guard page;
 * the lowest fitting address wins, which is what the kernel's augmented rb-tree
 * (find_vmap_lowest_match) returns. Freed areas stay busy ("unpurged vm_area") until a purge.
 */
import type { BitmapLike } from "./bitmap.js";
import type { RateLimit } from "./ratelimit.js";

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;

/** vm_struct flags that change placement. */
export const VM_IOREMAP = 1;
/** no guard page (4.0+) */
export const VM_NO_GUARD = 2;

/** What an area is, as /proc/vmallocinfo and VmallocUsed tell them apart. */
export const VmKind = {
  Free: 0,
  /** vmalloc()/vzalloc(): its pages count in VmallocUsed */
  Vmalloc: 1,
  Ioremap: 2,
  /** dma_common_contiguous_remap (VM_DMA_COHERENT) */
  DmaCoherent: 3,
  /** vmap() of existing pages, static mappings, anything else */
  Vmap: 4,
  /** vunmapped/vfreed, waiting for the lazy purge */
  Lazy: 5,
} as const;
export type VmKind = (typeof VmKind)[keyof typeof VmKind];

export interface VmapSpaceOptions {
  /** lazy_max_pages(): fls(num_online_cpus) * 32 MiB / PAGE_SIZE */
  lazyMaxPages: number;
  /** IOREMAP_MAX_ORDER (19, or 24 on !SMP && !LPAE) */
  ioremapMaxOrder: number;
  /** ≤ 4.8: fls(size) instead of get_count_order_long(size) for VM_IOREMAP alignment */
  ioremapAlignFls: boolean;
  /** the failure line, or null when this range prints none */
  failureMessage: ((sizeBytes: number) => string) | null;
  /** printk_ratelimit() state shared by the kernel's ratelimited printers */
  rateLimit: RateLimit;
  /** the emulated clock for rate limiting */
  nowMs: () => number;
  /** where a printed failure line goes (pr_warn) */
  log?: (text: string) => void;
}

/**
 * An area record: its pages below KIND_SHIFT (a range has fewer than 2^24 pages), its VmKind,
 * NAMED when `callers` holds its caller, BACKED when areaBacking holds its page count.
 */
const KIND_SHIFT = 24;
const PAGES_MASK = (1 << KIND_SHIFT) - 1;
const NAMED = 1 << 28;
const BACKED = 1 << 29;
const kindOf = (record: number): VmKind => ((record >>> KIND_SHIFT) & 15) as VmKind;

/** Result of the last failed getVmArea: the kernel line, or "" when nothing was printed. */
export interface VmapFailure {
  sizeBytes: number;
  message: string;
}

export class VmapSpace {
  readonly startPage: number;
  readonly nrPages: number;
  /** each area's record (see KIND_SHIFT) at its first page, 0 where none starts: one access per area */
  private readonly area: Int32Array;
  /** pages backing a vmalloc() area (VmallocUsed), by first page */
  private readonly areaBacking: Int32Array;
  /** /proc/vmallocinfo callers of imported or named areas, by first page */
  private readonly callers = new Map<number, string>();
  private lazyStack: Int32Array = new Int32Array(64);
  private lazyCount = 0;
  /** vmap_lazy_nr */
  lazyPages = 0;
  /** pages backing vmalloc() areas (VmallocUsed; 5.x+ counts vmalloc_nr_pages) */
  vmallocPages = 0;
  /** areas currently mapped (lazy ones excluded) */
  liveAreas = 0;
  purges = 0;
  readonly lastFailure: VmapFailure = { sizeBytes: 0, message: "" };

  constructor(
    readonly name: string,
    readonly startVa: number,
    readonly endVa: number,
    private readonly bitmap: BitmapLike,
    private readonly opts: VmapSpaceOptions,
  ) {
    this.startPage = startVa >>> PAGE_SHIFT;
    this.nrPages = (endVa - startVa) >>> PAGE_SHIFT;
    if (bitmap.size !== this.nrPages)
      throw new RangeError(`${name}: bitmap of ${bitmap.size} bits, need ${this.nrPages}`);
    this.area = new Int32Array(this.nrPages);
    this.areaBacking = new Int32Array(this.nrPages);
  }

  /** The alignment __get_vm_area_node uses, in bytes. */
  alignFor(sizeBytes: number, flags: number): number {
    if (!(flags & VM_IOREMAP)) return PAGE_SIZE;
    // get_count_order_long(size) = ceil(log2(size)); fls(size) = floor(log2(size)) + 1
    const order = this.opts.ioremapAlignFls ? 32 - Math.clz32(sizeBytes) : 32 - Math.clz32(sizeBytes - 1);
    return 2 ** Math.min(Math.max(order, PAGE_SHIFT), this.opts.ioremapMaxOrder);
  }

  /**
   * __get_vm_area_node + alloc_vmap_area: returns the area's start address, or -1 (lastFailure says
   * why). On a miss it purges the lazy areas and retries once; then it prints the failure line
   * unless `nowarn` or the rate limit forbids. `alignBytes`: the caller's alignment (__vmalloc_node_range).
   */
  getVmArea(sizeBytes: number, flags: number, kind: VmKind, nowarn = false, alignBytes = PAGE_SIZE): number {
    let size = Math.ceil(sizeBytes / PAGE_SIZE) * PAGE_SIZE;
    if (size === 0) return this.fail(0, "", nowarn);
    const align = Math.max(this.alignFor(size, flags), alignBytes);
    if (!(flags & VM_NO_GUARD)) size += PAGE_SIZE;
    const nr = size >>> PAGE_SHIFT;
    const mask = align / PAGE_SIZE - 1;
    const offset = this.startPage & mask;
    let idx = this.bitmap.findNextZeroAreaOff(0, nr, mask, offset);
    if (idx + nr > this.nrPages && this.lazyCount > 0) {
      this.purge();
      idx = this.bitmap.findNextZeroAreaOff(0, nr, mask, offset);
    }
    if (idx + nr > this.nrPages) return this.fail(size, this.opts.failureMessage?.(size) ?? "", nowarn);
    this.occupyPages(idx, nr, kind, kind === VmKind.Vmalloc ? nr - (flags & VM_NO_GUARD ? 0 : 1) : 0);
    return (this.startVa + idx * PAGE_SIZE) >>> 0;
  }

  private fail(sizeBytes: number, message: string, nowarn: boolean): number {
    this.lastFailure.sizeBytes = sizeBytes;
    this.lastFailure.message =
      message !== "" && !nowarn && this.opts.rateLimit.allow(this.opts.nowMs()) ? message : "";
    if (this.lastFailure.message !== "") this.opts.log?.(message);
    return -1;
  }

  private occupyPages(idx: number, nr: number, kind: VmKind, backingPages: number): void {
    this.bitmap.setRange(idx, nr);
    this.area[idx] = nr | (kind << KIND_SHIFT) | (backingPages !== 0 ? BACKED : 0);
    if (backingPages !== 0) this.areaBacking[idx] = backingPages;
    this.liveAreas++;
    this.vmallocPages += backingPages;
  }

  /**
   * Records an area that exists already (a boot-time occupant from /proc/vmallocinfo or a preset).
   * `lazy` = an "unpurged vm_area". Returns false when it overlaps another area or lies outside.
   */
  occupy(startVa: number, sizeBytes: number, kind: VmKind, caller: string, backingPages = 0): boolean {
    const idx = (startVa - this.startVa) / PAGE_SIZE;
    const nr = Math.ceil(sizeBytes / PAGE_SIZE);
    if (!Number.isInteger(idx) || idx < 0 || idx + nr > this.nrPages || nr === 0) return false;
    if (!this.bitmap.isRangeClear(idx, nr)) return false;
    if (kind === VmKind.Lazy) {
      this.bitmap.setRange(idx, nr);
      this.area[idx] = nr | (VmKind.Lazy << KIND_SHIFT);
      this.pushLazy(idx, nr);
    } else {
      this.occupyPages(idx, nr, kind, backingPages);
    }
    this.callers.set(idx, caller);
    this.area[idx] |= NAMED;
    return true;
  }

  /** True when an area (live or lazy) starts at `va`. */
  has(va: number): boolean {
    const idx = (va - this.startVa) / PAGE_SIZE;
    return Number.isInteger(idx) && idx >= 0 && idx < this.nrPages && this.area[idx] !== 0;
  }

  /** Size of the live area at `va` in bytes (guard included), 0 if none. */
  areaSize(va: number): number {
    const idx = (va - this.startVa) / PAGE_SIZE;
    if (!Number.isInteger(idx) || idx < 0 || idx >= this.nrPages) return 0;
    const a = this.area[idx];
    return kindOf(a) === VmKind.Lazy ? 0 : (a & PAGES_MASK) * PAGE_SIZE;
  }

  /**
   * vunmap/vfree (free_vmap_area_noflush): the area becomes lazy; past lazy_max_pages the
   * kernel drains (purges) all lazy areas. Returns false if no live area starts at `va`.
   */
  free(va: number): boolean {
    const idx = (va - this.startVa) / PAGE_SIZE;
    if (!Number.isInteger(idx) || idx < 0 || idx >= this.nrPages) return false;
    const a = this.area[idx];
    const nr = a & PAGES_MASK;
    const kind = kindOf(a);
    if (nr === 0 || kind === VmKind.Lazy) return false;
    if (a & BACKED) {
      this.vmallocPages -= this.areaBacking[idx];
      this.areaBacking[idx] = 0;
    }
    this.liveAreas--;
    this.area[idx] = nr | (VmKind.Lazy << KIND_SHIFT);
    if (a & NAMED) this.callers.delete(idx);
    this.pushLazy(idx, nr);
    if (this.lazyPages > this.opts.lazyMaxPages) this.purge();
    return true;
  }

  private pushLazy(idx: number, nr: number): void {
    if (this.lazyCount === this.lazyStack.length) {
      const bigger = new Int32Array(this.lazyStack.length * 2);
      bigger.set(this.lazyStack);
      this.lazyStack = bigger;
    }
    this.lazyStack[this.lazyCount++] = idx;
    this.lazyPages += nr;
  }

  /**
   * purge_vmap_area_lazy: every unpurged area becomes free address space. Lazy areas that follow
   * each other are cleared with one bitmap call (half of them, in a long simulation).
   */
  purge(): void {
    const area = this.area;
    for (let i = 0; i < this.lazyCount; i++) {
      const first = this.lazyStack[i];
      if (kindOf(area[first]) !== VmKind.Lazy) continue; // cleared with the run of an area before it
      let end = first;
      do {
        const a = area[end];
        area[end] = 0;
        if (a & NAMED) this.callers.delete(end);
        end += a & PAGES_MASK;
      } while (end < this.nrPages && kindOf(area[end]) === VmKind.Lazy);
      this.bitmap.clearRange(first, end - first);
    }
    this.lazyCount = 0;
    this.lazyPages = 0;
    this.purges++;
  }

  /** Bytes of address space held by live and lazy areas (guards included). */
  usedBytes(): number {
    return this.bitmap.weight() * PAGE_SIZE;
  }

  /** Largest free gap in bytes, lazy areas counted as busy (what the next allocation sees). */
  largestGapBytes(): number {
    return this.bitmap.maxChunk() * PAGE_SIZE;
  }

  /** The areas in address order, as /proc/vmallocinfo lists them (lazy ones as "unpurged vm_area"). */
  areas(): { start: number; sizeBytes: number; kind: VmKind; caller: string }[] {
    const out: { start: number; sizeBytes: number; kind: VmKind; caller: string }[] = [];
    for (let idx = 0; idx < this.nrPages; idx++) {
      const nr = this.area[idx] & PAGES_MASK;
      if (nr === 0) continue;
      const kind = kindOf(this.area[idx]);
      out.push({
        start: (this.startVa + idx * PAGE_SIZE) >>> 0,
        sizeBytes: nr * PAGE_SIZE,
        kind,
        caller: kind === VmKind.Lazy ? "unpurged vm_area" : (this.callers.get(idx) ?? ""),
      });
      idx += nr - 1;
    }
    return out;
  }

  dispose(): void {
    this.bitmap.dispose();
  }
}
