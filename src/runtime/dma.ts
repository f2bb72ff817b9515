/**
 * dma_alloc_attrs / dma_free_attrs per era (SPEC §6): D0 consistent window (≤ 3.4), D1 arm_dma_ops
 * `__dma_alloc` (3.5 – 5.18), D2 dma-direct with arch_dma_alloc for non-coherent devices (5.19+).
 */
import type { RuntimeRules } from "../kernel/profile.js";
import type { BufferSource, DmaAllocResult, DmaAttrs, DmaDevice, FailureCause, GfpFlags } from "./api.js";
import type { BitmapLike } from "./bitmap.js";
import type { Buddy } from "./buddy.js";
import { type CmaArea, EBUSY } from "./cma.js";
import { PAGE_SIZE, type VmapSpace, VmKind } from "./vmalloc.js";

/** The parts of the running machine the DMA API uses. */
export interface DmaContext {
  rules: RuntimeRules;
  buddy: Buddy;
  vmalloc: VmapSpace;
  /** the D0 consistent window, when the era has one */
  consistent: VmapSpace | null;
  cmaAreas: CmaArea[];
  defaultCma: CmaArea | null;
  /** CONFIG_CMA_ALIGNMENT */
  cmaAlignment: number;
  /** atomic pool (gen_pool over DEFAULT_DMA_COHERENT_POOL_SIZE), one bit per page */
  atomicPool: { bitmap: BitmapLike; basePfn: number; vaddr: number } | null;
  /** first highmem pfn */
  armLowmemLimitPfn: number;
  /** CONFIG_ARM_LPAE */
  lpae: boolean;
  /** dev_info etc.: appended to the run's dmesg */
  log(level: "info" | "warn", text: string): void;
  /** linear map address of a lowmem pfn */
  lowmemVaddr(pfn: number): number;
}

const NO_MESSAGES: readonly string[] = Object.freeze([]);

/** BufferSource by index, as the buffer table stores it */
const SOURCES: readonly BufferSource[] = ["cma", "buddy", "atomic-pool", "dev-pool"];
const CMA = 0;
const BUDDY = 1;
const ATOMIC_POOL = 2;
/** a buffer's packed flags: its source index in the low bits, then these */
const SOURCE_MASK = 3;
const VMALLOC = 4;
const LIVE = 8;
const ORDER_SHIFT = 4;

/**
 * A handle is slot * GENERATIONS + generation: a stale handle (its slot freed and reused since) is
 * recognised as unknown until the slot has been reused GENERATIONS times. Small enough to stay a
 * small integer (no boxed number per call) up to 2^22 live buffers.
 */
const GENERATIONS = 256;

/** A coherent mask below 32 bits adds GFP_DMA: ZONE_DMA pages only. */
const gfpDma = (dev: DmaDevice) => dev.dmaMaskBits < 32;

/** get_order(size) for size > 0 */
export function getOrder(sizeBytes: number): number {
  const pages = Math.ceil(sizeBytes / PAGE_SIZE);
  return pages <= 1 ? 0 : 32 - Math.clz32(pages - 1);
}

export class DmaApi {
  /*
   * Live buffers as columns indexed by slot (what dma_free_attrs needs to undo the allocation):
   * a simulation does millions of alloc/free pairs, so no object or Map entry per buffer.
   */
  /** source | VMALLOC | LIVE | (order + 1) << ORDER_SHIFT (order -1: an exact buddy allocation) */
  private bMeta = new Int32Array(64);
  private bPfn = new Int32Array(64);
  private bPages = new Int32Array(64);
  /** kernel virtual address, -1 without a mapping */
  private bVaddr = new Float64Array(64);
  private bGeneration = new Int32Array(64);
  private readonly bCma: (CmaArea | null)[] = [];
  private freeSlots = new Int32Array(64);
  private freeCount = 0;
  private slotCount = 0;
  private live = 0;

  /** The outcome of the last allocHandle: a success's buffer, or a failure's cause and lines. */
  lastSource: BufferSource = "cma";
  lastPfn = -1;
  /** -1 with no kernel mapping */
  lastVaddr = -1;
  lastInVmalloc = false;
  lastCause: FailureCause = "buddy-exhausted";
  lastMessages: readonly string[] = NO_MESSAGES;

  /** the scratch result of directPages */
  private dSource = CMA;
  private dPfn = 0;
  private dOrder = -1;
  private dCma: CmaArea | null = null;

  constructor(private readonly ctx: DmaContext) {}

  get liveBuffers(): number {
    return this.live;
  }

  private areaFor(dev: DmaDevice): CmaArea | null {
    if (dev.cmaArea === undefined) return this.ctx.defaultCma;
    return this.ctx.cmaAreas.find((a) => a.name === dev.cmaArea) ?? null;
  }

  private takeSlot(): number {
    if (this.freeCount > 0) return this.freeSlots[--this.freeCount];
    if (this.slotCount === this.bMeta.length) this.growSlots();
    return this.slotCount++;
  }

  private growSlots(): void {
    const n = this.bMeta.length * 2;
    const grow = <T extends Int32Array | Float64Array>(a: T, b: T): T => {
      b.set(a);
      return b;
    };
    this.bMeta = grow(this.bMeta, new Int32Array(n));
    this.bPfn = grow(this.bPfn, new Int32Array(n));
    this.bPages = grow(this.bPages, new Int32Array(n));
    this.bVaddr = grow(this.bVaddr, new Float64Array(n));
    this.bGeneration = grow(this.bGeneration, new Int32Array(n));
    this.freeSlots = grow(this.freeSlots, new Int32Array(n));
  }

  /** Records a successful buffer; returns its handle. */
  private commit(
    source: number,
    pfn: number,
    pages: number,
    order: number,
    vaddr: number,
    vmalloc: boolean,
    cma: CmaArea | null,
  ): number {
    const slot = this.takeSlot();
    this.bMeta[slot] = source | (vmalloc ? VMALLOC : 0) | LIVE | ((order + 1) << ORDER_SHIFT);
    this.bPfn[slot] = pfn;
    this.bPages[slot] = pages;
    this.bVaddr[slot] = vaddr;
    this.bCma[slot] = cma;
    this.live++;
    this.lastSource = SOURCES[source];
    this.lastPfn = pfn;
    this.lastVaddr = vaddr;
    this.lastInVmalloc = vmalloc;
    return slot * GENERATIONS + this.bGeneration[slot];
  }

  private fail(cause: FailureCause, messages: readonly string[]): number {
    this.lastCause = cause;
    this.lastMessages = messages;
    return -1;
  }

  /** dma_alloc_attrs(dev, size, &handle, gfp, attrs) */
  alloc(dev: DmaDevice, sizeBytes: number, attrs?: DmaAttrs, gfp?: GfpFlags): DmaAllocResult {
    const handle = this.allocHandle(dev, sizeBytes, attrs, gfp);
    if (handle < 0) return { ok: false, cause: this.lastCause, messages: this.lastMessages as string[] };
    return {
      ok: true,
      handle,
      source: this.lastSource,
      pfn: this.lastPfn,
      vaddr: this.lastVaddr < 0 ? undefined : this.lastVaddr,
      inVmalloc: this.lastInVmalloc,
    };
  }

  /**
   * dma_alloc_attrs without a result object: the handle, or -1; the details are in the `last*`
   * fields until the next call.
   */
  allocHandle(dev: DmaDevice, sizeBytes: number, attrs: DmaAttrs = {}, gfp: GfpFlags = {}): number {
    const size = Math.ceil(sizeBytes / PAGE_SIZE) * PAGE_SIZE;
    if (size === 0) return this.fail("buddy-exhausted", NO_MESSAGES);
    const rules = this.ctx.rules;
    if (rules.dmaPath === "D0") return this.allocConsistent(dev, size, gfp);
    // dma-direct: every device from 5.19 (D2), LPAE kernels already from 5.3 (U20)
    if (rules.dmaPath === "D2" || (this.ctx.lpae && rules.lpaeDmaDirect)) {
      if (attrs.noKernelMapping === true) return this.allocDirectNoMapping(dev, size, gfp);
      if (dev.coherent) return this.allocDirectCoherent(dev, size, gfp);
      return this.allocArm(dev, size, true, gfp);
    }
    const noMap = attrs.noKernelMapping === true && rules.noKernelMapping !== "ignored";
    return this.allocArm(dev, size, !noMap, gfp);
  }

  /** arch/arm/mm/dma-mapping.c __dma_alloc (D1, and arch_dma_alloc in D2). */
  private allocArm(dev: DmaDevice, size: number, wantVaddr: boolean, gfp: GfpFlags): number {
    const cma = this.areaFor(dev);
    const blocking = gfp.atomic !== true;
    const rules = this.ctx.rules;
    if (rules.dmaCmaFirst) {
      if (cma && blocking) return this.allocFromContiguous(cma, size, wantVaddr, gfp);
      if (dev.coherent) return this.allocSimple(dev, size);
      if (blocking) return this.allocRemap(dev, size, wantVaddr);
      return this.allocFromPool(size);
    }
    if (dev.coherent) return this.allocSimple(dev, size);
    if (!blocking) return this.allocFromPool(size);
    if (!cma) return this.allocRemap(dev, size, wantVaddr);
    return this.allocFromContiguous(cma, size, wantVaddr, gfp);
  }

  /** __alloc_from_contiguous: CMA pages, remapped into vmalloc when in highmem; no buddy fallback. */
  private allocFromContiguous(cma: CmaArea, size: number, wantVaddr: boolean, gfp: GfpFlags): number {
    const count = size / PAGE_SIZE;
    const align = Math.min(getOrder(size), this.ctx.cmaAlignment);
    const pfn = cma.alloc(count, align, gfp.nowarn === true);
    if (pfn < 0) return this.fail(cma.lastError === EBUSY ? "cma-busy" : "cma-no-range", cma.lastMessages);
    if (!wantVaddr) return this.commit(CMA, pfn, count, -1, -1, false, cma);
    if (pfn < this.ctx.armLowmemLimitPfn)
      return this.commit(CMA, pfn, count, -1, this.ctx.lowmemVaddr(pfn), false, cma);
    const va = this.ctx.vmalloc.getVmArea(size, 0, VmKind.DmaCoherent);
    if (va < 0) {
      cma.release(pfn, count);
      return this.fail("vmalloc-exhausted", this.failureLines(this.ctx.vmalloc));
    }
    return this.commit(CMA, pfn, count, -1, va, true, cma);
  }

  private failureLines(space: VmapSpace): readonly string[] {
    return space.lastFailure.message === "" ? NO_MESSAGES : [space.lastFailure.message];
  }

  /** __alloc_simple_buffer: lowmem pages from the buddy allocator, linear map. */
  private allocSimple(dev: DmaDevice, size: number): number {
    const count = size / PAGE_SIZE;
    const pfn = this.ctx.buddy.allocPagesExact(count, false, gfpDma(dev));
    if (pfn < 0) return this.fail("buddy-exhausted", NO_MESSAGES);
    return this.commit(BUDDY, pfn, count, -1, this.ctx.lowmemVaddr(pfn), false, null);
  }

  /** __alloc_remap_buffer: lowmem buddy pages remapped into vmalloc (unless !want_vaddr). */
  private allocRemap(dev: DmaDevice, size: number, wantVaddr: boolean): number {
    const count = size / PAGE_SIZE;
    const pfn = this.ctx.buddy.allocPagesExact(count, false, gfpDma(dev));
    if (pfn < 0) return this.fail("buddy-exhausted", NO_MESSAGES);
    if (!wantVaddr) return this.commit(BUDDY, pfn, count, -1, -1, false, null);
    const va = this.ctx.vmalloc.getVmArea(size, 0, VmKind.DmaCoherent);
    if (va < 0) {
      this.ctx.buddy.freePagesExact(pfn, count);
      return this.fail("vmalloc-exhausted", this.failureLines(this.ctx.vmalloc));
    }
    return this.commit(BUDDY, pfn, count, -1, va, true, null);
  }

  /** __alloc_from_pool: the atomic pool (gen_pool_first_fit_order_align). */
  private allocFromPool(size: number): number {
    const pool = this.ctx.atomicPool;
    const count = size / PAGE_SIZE;
    if (!pool) return this.fail("atomic-pool-exhausted", NO_MESSAGES);
    const order = getOrder(size);
    const bit = pool.bitmap.findNextZeroAreaOff(0, count, (1 << order) - 1, 0);
    if (bit + count > pool.bitmap.size) return this.fail("atomic-pool-exhausted", NO_MESSAGES);
    pool.bitmap.setRange(bit, count);
    return this.commit(ATOMIC_POOL, pool.basePfn + bit, count, -1, pool.vaddr + bit * PAGE_SIZE, false, null);
  }

  /**
   * __dma_direct_alloc_pages (kernel/dma/direct.c): CMA (the device's area, or the default one
   * for more than a page, blocking only), else alloc_pages of the whole order from the zones a
   * 32-bit mask reaches (lowmem on ARM). False when neither has the pages; else the pages are in
   * dSource, dPfn, dOrder and dCma.
   */
  private directPages(dev: DmaDevice, size: number, gfp: GfpFlags): boolean {
    const count = size / PAGE_SIZE;
    const cma = dev.cmaArea !== undefined || size > PAGE_SIZE ? this.areaFor(dev) : null;
    if (cma && gfp.atomic !== true) {
      const align = Math.min(getOrder(size), this.ctx.cmaAlignment);
      const pfn = cma.alloc(count, align, gfp.nowarn === true);
      // dma_coherent_ok: a CMA page the device cannot address goes back
      if (pfn >= 0 && pfn + count <= 2 ** (dev.dmaMaskBits - 12)) {
        this.dSource = CMA;
        this.dPfn = pfn;
        this.dOrder = -1;
        this.dCma = cma;
        return true;
      }
      if (pfn >= 0) cma.release(pfn, count);
    }
    const order = getOrder(size);
    const pfn = this.ctx.buddy.allocPages(order, false, gfpDma(dev));
    if (pfn < 0) return false;
    this.dSource = BUDDY;
    this.dPfn = pfn;
    this.dOrder = order;
    this.dCma = null;
    return true;
  }

  /** dma_direct_alloc_no_mapping: a page cookie, falling back to the page allocator (D2). */
  private allocDirectNoMapping(dev: DmaDevice, size: number, gfp: GfpFlags): number {
    if (!this.directPages(dev, size, gfp)) return this.fail("buddy-exhausted", NO_MESSAGES);
    return this.commit(this.dSource, this.dPfn, size / PAGE_SIZE, this.dOrder, -1, false, this.dCma);
  }

  /**
   * dma_direct_alloc for a coherent device: page_address, or for a highmem (CMA) page a vmalloc
   * remap (5.18+, f5ff79fddf0e "dma-mapping: remove CONFIG_DMA_REMAP"); before, ARM had no
   * DMA_REMAP and the page was rejected with a dev_info line.
   */
  private allocDirectCoherent(dev: DmaDevice, size: number, gfp: GfpFlags): number {
    if (!this.directPages(dev, size, gfp)) return this.fail("buddy-exhausted", NO_MESSAGES);
    const { dSource: source, dPfn: pfn, dOrder: order, dCma: cma } = this;
    const pages = size / PAGE_SIZE;
    if (pfn < this.ctx.armLowmemLimitPfn)
      return this.commit(source, pfn, pages, order, this.ctx.lowmemVaddr(pfn), false, cma);
    if (!this.ctx.rules.dmaDirectHighmemRemap) {
      this.release(source, pfn, pages, order, -1, false, cma);
      // dev_info() of a device without a driver: "<bus> <device>: "
      const line = `platform ${dev.name}: Rejecting highmem page from CMA.`;
      this.ctx.log("info", line);
      return this.fail("highmem-rejected", [line]);
    }
    const va = this.ctx.vmalloc.getVmArea(size, 0, VmKind.DmaCoherent);
    if (va < 0) {
      this.release(source, pfn, pages, order, -1, false, cma);
      return this.fail("vmalloc-exhausted", this.failureLines(this.ctx.vmalloc));
    }
    return this.commit(source, pfn, pages, order, va, true, cma);
  }

  /** ≤ 3.4: buddy pages remapped into the fixed consistent window. */
  private allocConsistent(dev: DmaDevice, size: number, gfp: GfpFlags): number {
    if (dev.coherent) return this.allocSimple(dev, size);
    const space = this.ctx.consistent;
    const count = size / PAGE_SIZE;
    const pfn = this.ctx.buddy.allocPagesExact(count, false, gfpDma(dev));
    if (pfn < 0) return this.fail("buddy-exhausted", NO_MESSAGES);
    const va = space ? space.getVmArea(size, 0, VmKind.DmaCoherent, gfp.nowarn === true) : -1;
    if (va < 0) {
      this.ctx.buddy.freePagesExact(pfn, count);
      return this.fail("vmalloc-exhausted", space ? this.failureLines(space) : NO_MESSAGES);
    }
    return this.commit(BUDDY, pfn, count, -1, va, true, null);
  }

  /** Gives a buffer's pages (and its mapping) back to where they came from. */
  private release(
    source: number,
    pfn: number,
    pages: number,
    order: number,
    vaddr: number,
    vmalloc: boolean,
    cma: CmaArea | null,
  ): void {
    if (vmalloc) (this.ctx.consistent?.has(vaddr) ? this.ctx.consistent : this.ctx.vmalloc).free(vaddr);
    if (source === CMA) (cma as CmaArea).release(pfn, pages);
    else if (source === ATOMIC_POOL) {
      const pool = this.ctx.atomicPool;
      pool?.bitmap.clearRange(pfn - pool.basePfn, pages);
    } else if (order >= 0) this.ctx.buddy.freePages(pfn, order);
    else this.ctx.buddy.freePagesExact(pfn, pages);
  }

  /** dma_free_attrs: false for an unknown handle. */
  free(handle: number): boolean {
    const slot = Math.floor(handle / GENERATIONS);
    const generation = handle - slot * GENERATIONS;
    if (!(slot >= 0 && slot < this.slotCount)) return false;
    const meta = this.bMeta[slot];
    if ((meta & LIVE) === 0 || this.bGeneration[slot] !== generation) return false;
    this.bMeta[slot] = 0;
    this.bGeneration[slot] = (this.bGeneration[slot] + 1) % GENERATIONS;
    const cma = this.bCma[slot];
    this.bCma[slot] = null;
    this.freeSlots[this.freeCount++] = slot;
    this.live--;
    this.release(
      meta & SOURCE_MASK,
      this.bPfn[slot],
      this.bPages[slot],
      (meta >> ORDER_SHIFT) - 1,
      this.bVaddr[slot],
      (meta & VMALLOC) !== 0,
      cma,
    );
    return true;
  }
}
