/**
 * A CMA area at run time (mm/cma.c: cma_alloc, cma_release, cma_debug_show_areas), SPEC §4.
 * One bit per (1 << orderPerBit) pages in a BitmapLike; the search is
 * bitmap_find_next_zero_area_off, first fit from bit 0, retried past a busy candidate.
 */
import type { CmaAreaInfo } from "../boot/machine.js";
import type { RuntimeRules } from "../kernel/profile.js";
import type { BitmapLike } from "./bitmap.js";
import type { RateLimit } from "./ratelimit.js";

/** shared empty message list: failures under __GFP_NOWARN allocate nothing */
const NO_LINES: readonly string[] = Object.freeze([]);

export const ENOMEM = -12;
export const EBUSY = -16;

/** What alloc_contig_range answers for [startPfn, endPfn): 0, EBUSY (pinned) or ENOMEM (nowhere to migrate). */
export interface ContigRangeModel {
  allocContigRange(startPfn: number, endPfn: number): number;
  /** the pages went back to the buddy allocator (free_contig_range) */
  freeContigRange(startPfn: number, endPfn: number): void;
}

/** Every page is free or migratable: the model when nothing else borrows the area. */
export const ALWAYS_MIGRATABLE: ContigRangeModel = {
  allocContigRange: () => 0,
  freeContigRange: () => {},
};

export interface CmaMessageSink {
  /** appends a kernel line (pr_fmt "cma: " already applied) */
  log(level: "err" | "info" | "debug", text: string): void;
}

export class CmaArea {
  readonly name: string;
  readonly basePfn: number;
  readonly countPages: number;
  readonly orderPerBit: number;
  /** cma_bitmap_maxno */
  readonly maxno: number;
  /** pages handed out (bits set << order_per_bit) */
  usedPages = 0;
  /** vmstat cma_alloc_success / cma_alloc_fail; sysfs alloc_pages_success / alloc_pages_fail */
  allocSuccess = 0;
  allocFail = 0;
  allocPagesSuccess = 0;
  allocPagesFail = 0;
  /** -ENOMEM or -EBUSY of the last failed cma_alloc */
  lastError = 0;
  /** the kernel lines of the last failed cma_alloc ([] when it printed none) */
  lastMessages: readonly string[] = NO_LINES;
  /** rules.cmaAlignOffset === "physical", read once */
  private readonly physicalAlignOffset: boolean;
  /** cma_debug_show_areas() prints only with CONFIG_CMA_DEBUG (oracle-extra: 6.1 Debian prints no listing) */
  private readonly showAreas: boolean;

  constructor(
    info: CmaAreaInfo,
    private readonly bitmap: BitmapLike,
    private readonly rules: RuntimeRules,
    private readonly contig: ContigRangeModel,
    private readonly sink: CmaMessageSink,
    private readonly rateLimit: RateLimit,
    private readonly nowMs: () => number,
    cmaDebug = false,
  ) {
    this.name = info.name;
    this.basePfn = info.basePfn;
    this.countPages = info.countPages;
    this.orderPerBit = info.orderPerBit;
    this.maxno = info.countPages >> info.orderPerBit;
    this.physicalAlignOffset = rules.cmaAlignOffset === "physical";
    this.showAreas = rules.cmaShowAreas && cmaDebug;
    if (bitmap.size !== this.maxno) throw new RangeError(`cma ${info.name}: bitmap of ${bitmap.size} bits`);
  }

  /** True when [pfn, pfn + count) lies inside the area. */
  contains(pfn: number, count = 1): boolean {
    return pfn >= this.basePfn && pfn + count <= this.basePfn + this.countPages;
  }

  /** cma_alloc(cma, count, align, no_warn): the first pfn, or -1 (lastError, lastMessages). */
  alloc(count: number, alignOrder: number, noWarn: boolean): number {
    if (count === 0 || this.countPages === 0) return -1;
    const opb = this.orderPerBit;
    const mask = alignOrder <= opb ? 0 : (1 << (alignOrder - opb)) - 1;
    // cma_bitmap_aligned_offset: physical alignment from 3.19, area-relative before
    const offset = this.physicalAlignOffset ? (this.basePfn & ((1 << alignOrder) - 1)) >> opb : 0;
    const nbits = (count + (1 << opb) - 1) >> opb;
    let start = 0;
    let ret = ENOMEM;
    // larger than the whole area: the kernel returns before its warning (oracle-extra u9 32 MiB case)
    if (nbits > this.maxno) return this.fail(count, ret, true);
    for (;;) {
      const bitmapNo = this.bitmap.findNextZeroAreaOff(start, nbits, mask, offset);
      if (bitmapNo + nbits > this.maxno) break;
      const pfn = this.basePfn + bitmapNo * (1 << opb);
      // The kernel sets the bits first and clears them when alloc_contig_range fails (other CPUs
      // must not take the range meanwhile); run alone, setting them on success only is the same.
      ret = this.contig.allocContigRange(pfn, pfn + count);
      if (ret === 0) {
        this.bitmap.setRange(bitmapNo, nbits);
        this.usedPages += nbits << opb;
        this.allocSuccess++;
        this.allocPagesSuccess += count;
        return pfn;
      }
      if (ret !== EBUSY) break;
      start = bitmapNo + mask + 1;
    }
    return this.fail(count, ret, noWarn);
  }

  private fail(count: number, ret: number, noWarn: boolean): number {
    this.allocFail++;
    this.allocPagesFail += count;
    this.lastError = ret;
    this.lastMessages = noWarn ? NO_LINES : this.failureMessages(count, ret);
    return -1;
  }

  /** The version's failure report (SPEC §4.5), rate limited like pr_err_ratelimited. */
  private failureMessages(count: number, ret: number): readonly string[] {
    const form = this.rules.cmaAllocFailure;
    if (form === "none" || !this.rateLimit.allow(this.nowMs())) return NO_LINES;
    const fn = form === "dunder" ? "__cma_alloc" : "cma_alloc";
    const lines = [
      form === "noname"
        ? `cma: ${fn}: alloc failed, req-size: ${count} pages, ret: ${ret}`
        : `cma: ${fn}: ${this.name}: alloc failed, req-size: ${count} pages, ret: ${ret}`,
    ];
    this.sink.log("err", lines[0]);
    if (this.showAreas) {
      lines.push(`cma: ${this.debugShowAreas()}`);
      this.sink.log("info", lines[1]);
    }
    return lines;
  }

  /** cma_debug_show_areas: free runs as length@bit_offset, joined by '+'. */
  debugShowAreas(): string {
    let text = "number of available pages: ";
    let total = 0;
    for (const run of this.bitmap.freeRuns()) {
      const pages = run.count << this.orderPerBit;
      text += `${total ? "+" : ""}${pages}@${run.start}`;
      total += pages;
    }
    return `${text}=> ${total} free of ${this.countPages} total pages`;
  }

  /** cma_release: false when the pages are not from this area. */
  release(pfn: number, count: number): boolean {
    if (!this.contains(pfn, count)) return false;
    const opb = this.orderPerBit;
    const bitmapNo = (pfn - this.basePfn) >> opb;
    const nbits = (count + (1 << opb) - 1) >> opb;
    this.contig.freeContigRange(pfn, pfn + count);
    this.bitmap.clearRange(bitmapNo, nbits);
    this.usedPages -= nbits << opb;
    return true;
  }

  /** cma_debugfs maxchunk: the longest free run, in pages. */
  maxChunkPages(): number {
    return this.bitmap.maxChunk() << this.orderPerBit;
  }

  freePages(): number {
    return this.countPages - this.usedPages;
  }

  /** The bitmap's free runs (cma_debugfs `bitmap`, as runs of clear bits). */
  freeRuns(): { start: number; count: number }[] {
    return this.bitmap.freeRuns();
  }

  dispose(): void {
    this.bitmap.dispose();
  }
}
