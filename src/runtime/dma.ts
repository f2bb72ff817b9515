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

interface DmaBuffer {
  source: BufferSource;
  pfn: number;
  pages: number;
  /** buddy block order, -1 for an exact (split) buddy allocation */
  order: number;
  vaddr: number;
  vmalloc: boolean;
  cma: CmaArea | null;
}

/** A coherent mask below 32 bits adds GFP_DMA: ZONE_DMA pages only. */
const gfpDma = (dev: DmaDevice) => dev.dmaMaskBits < 32;

/** get_order(size) for size > 0 */
export function getOrder(sizeBytes: number): number {
  const pages = Math.ceil(sizeBytes / PAGE_SIZE);
  return pages <= 1 ? 0 : 32 - Math.clz32(pages - 1);
}

export class DmaApi {
  private readonly buffers = new Map<number, DmaBuffer>();
  private nextHandle = 1;

  constructor(private readonly ctx: DmaContext) {}

  get liveBuffers(): number {
    return this.buffers.size;
  }

  private areaFor(dev: DmaDevice): CmaArea | null {
    if (dev.cmaArea === undefined) return this.ctx.defaultCma;
    return this.ctx.cmaAreas.find((a) => a.name === dev.cmaArea) ?? null;
  }

  private ok(b: DmaBuffer): DmaAllocResult {
    const handle = this.nextHandle++;
    this.buffers.set(handle, b);
    return {
      ok: true,
      handle,
      source: b.source,
      pfn: b.pfn,
      vaddr: b.vaddr < 0 ? undefined : b.vaddr,
      inVmalloc: b.vmalloc,
    };
  }

  private static fail(cause: FailureCause, messages: readonly string[]): DmaAllocResult {
    return { ok: false, cause, messages: messages as string[] };
  }

  /** dma_alloc_attrs(dev, size, &handle, gfp, attrs) */
  alloc(dev: DmaDevice, sizeBytes: number, attrs: DmaAttrs = {}, gfp: GfpFlags = {}): DmaAllocResult {
    const size = Math.ceil(sizeBytes / PAGE_SIZE) * PAGE_SIZE;
    if (size === 0) return DmaApi.fail("buddy-exhausted", NO_MESSAGES);
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
  private allocArm(dev: DmaDevice, size: number, wantVaddr: boolean, gfp: GfpFlags): DmaAllocResult {
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
  private allocFromContiguous(cma: CmaArea, size: number, wantVaddr: boolean, gfp: GfpFlags): DmaAllocResult {
    const count = size / PAGE_SIZE;
    const align = Math.min(getOrder(size), this.ctx.cmaAlignment);
    const pfn = cma.alloc(count, align, gfp.nowarn === true);
    if (pfn < 0) return DmaApi.fail(cma.lastError === EBUSY ? "cma-busy" : "cma-no-range", cma.lastMessages);
    const b: DmaBuffer = { source: "cma", pfn, pages: count, order: -1, vaddr: -1, vmalloc: false, cma };
    if (!wantVaddr) return this.ok(b);
    if (pfn >= this.ctx.armLowmemLimitPfn) {
      const va = this.ctx.vmalloc.getVmArea(size, 0, VmKind.DmaCoherent);
      if (va < 0) {
        cma.release(pfn, count);
        return DmaApi.fail("vmalloc-exhausted", this.failureLines(this.ctx.vmalloc));
      }
      b.vaddr = va;
      b.vmalloc = true;
    } else {
      b.vaddr = this.ctx.lowmemVaddr(pfn);
    }
    return this.ok(b);
  }

  private failureLines(space: VmapSpace): readonly string[] {
    return space.lastFailure.message === "" ? NO_MESSAGES : [space.lastFailure.message];
  }

  /** __alloc_simple_buffer: lowmem pages from the buddy allocator, linear map. */
  private allocSimple(dev: DmaDevice, size: number): DmaAllocResult {
    const count = size / PAGE_SIZE;
    const pfn = this.ctx.buddy.allocPagesExact(count, false, gfpDma(dev));
    if (pfn < 0) return DmaApi.fail("buddy-exhausted", NO_MESSAGES);
    return this.ok({
      source: "buddy",
      pfn,
      pages: count,
      order: -1,
      vaddr: this.ctx.lowmemVaddr(pfn),
      vmalloc: false,
      cma: null,
    });
  }

  /** __alloc_remap_buffer: lowmem buddy pages remapped into vmalloc (unless !want_vaddr). */
  private allocRemap(dev: DmaDevice, size: number, wantVaddr: boolean): DmaAllocResult {
    const count = size / PAGE_SIZE;
    const pfn = this.ctx.buddy.allocPagesExact(count, false, gfpDma(dev));
    if (pfn < 0) return DmaApi.fail("buddy-exhausted", NO_MESSAGES);
    const b: DmaBuffer = {
      source: "buddy",
      pfn,
      pages: count,
      order: -1,
      vaddr: -1,
      vmalloc: false,
      cma: null,
    };
    if (wantVaddr) {
      const va = this.ctx.vmalloc.getVmArea(size, 0, VmKind.DmaCoherent);
      if (va < 0) {
        this.ctx.buddy.freePagesExact(pfn, count);
        return DmaApi.fail("vmalloc-exhausted", this.failureLines(this.ctx.vmalloc));
      }
      b.vaddr = va;
      b.vmalloc = true;
    }
    return this.ok(b);
  }

  /** __alloc_from_pool: the atomic pool (gen_pool_first_fit_order_align). */
  private allocFromPool(size: number): DmaAllocResult {
    const pool = this.ctx.atomicPool;
    const count = size / PAGE_SIZE;
    if (!pool) return DmaApi.fail("atomic-pool-exhausted", NO_MESSAGES);
    const order = getOrder(size);
    const bit = pool.bitmap.findNextZeroAreaOff(0, count, (1 << order) - 1, 0);
    if (bit + count > pool.bitmap.size) return DmaApi.fail("atomic-pool-exhausted", NO_MESSAGES);
    pool.bitmap.setRange(bit, count);
    return this.ok({
      source: "atomic-pool",
      pfn: pool.basePfn + bit,
      pages: count,
      order: -1,
      vaddr: pool.vaddr + bit * PAGE_SIZE,
      vmalloc: false,
      cma: null,
    });
  }

  /**
   * __dma_direct_alloc_pages (kernel/dma/direct.c): CMA (the device's area, or the default one
   * for more than a page, blocking only), else alloc_pages of the whole order from the zones a
   * 32-bit mask reaches (lowmem on ARM).
   */
  private directPages(dev: DmaDevice, size: number, gfp: GfpFlags): DmaBuffer | null {
    const count = size / PAGE_SIZE;
    const cma = dev.cmaArea !== undefined || size > PAGE_SIZE ? this.areaFor(dev) : null;
    if (cma && gfp.atomic !== true) {
      const align = Math.min(getOrder(size), this.ctx.cmaAlignment);
      const pfn = cma.alloc(count, align, gfp.nowarn === true);
      // dma_coherent_ok: a CMA page the device cannot address goes back
      if (pfn >= 0 && pfn + count <= 2 ** (dev.dmaMaskBits - 12))
        return { source: "cma", pfn, pages: count, order: -1, vaddr: -1, vmalloc: false, cma };
      if (pfn >= 0) cma.release(pfn, count);
    }
    const order = getOrder(size);
    const pfn = this.ctx.buddy.allocPages(order, false, gfpDma(dev));
    if (pfn < 0) return null;
    return { source: "buddy", pfn, pages: count, order, vaddr: -1, vmalloc: false, cma: null };
  }

  /** dma_direct_alloc_no_mapping: a page cookie, falling back to the page allocator (D2). */
  private allocDirectNoMapping(dev: DmaDevice, size: number, gfp: GfpFlags): DmaAllocResult {
    const b = this.directPages(dev, size, gfp);
    return b ? this.ok(b) : DmaApi.fail("buddy-exhausted", NO_MESSAGES);
  }

  /**
   * dma_direct_alloc for a coherent device: page_address, or for a highmem (CMA) page a vmalloc
   * remap (5.18+, f5ff79fddf0e "dma-mapping: remove CONFIG_DMA_REMAP"); before, ARM had no
   * DMA_REMAP and the page was rejected with a dev_info line.
   */
  private allocDirectCoherent(dev: DmaDevice, size: number, gfp: GfpFlags): DmaAllocResult {
    const b = this.directPages(dev, size, gfp);
    if (!b) return DmaApi.fail("buddy-exhausted", NO_MESSAGES);
    if (b.pfn < this.ctx.armLowmemLimitPfn) {
      b.vaddr = this.ctx.lowmemVaddr(b.pfn);
      return this.ok(b);
    }
    if (!this.ctx.rules.dmaDirectHighmemRemap) {
      this.release(b);
      // dev_info() of a device without a driver: "<bus> <device>: "
      const line = `platform ${dev.name}: Rejecting highmem page from CMA.`;
      this.ctx.log("info", line);
      return DmaApi.fail("highmem-rejected", [line]);
    }
    const va = this.ctx.vmalloc.getVmArea(size, 0, VmKind.DmaCoherent);
    if (va < 0) {
      this.release(b);
      return DmaApi.fail("vmalloc-exhausted", this.failureLines(this.ctx.vmalloc));
    }
    b.vaddr = va;
    b.vmalloc = true;
    return this.ok(b);
  }

  /** ≤ 3.4: buddy pages remapped into the fixed consistent window. */
  private allocConsistent(dev: DmaDevice, size: number, gfp: GfpFlags): DmaAllocResult {
    if (dev.coherent) return this.allocSimple(dev, size);
    const space = this.ctx.consistent;
    const count = size / PAGE_SIZE;
    const pfn = this.ctx.buddy.allocPagesExact(count, false, gfpDma(dev));
    if (pfn < 0) return DmaApi.fail("buddy-exhausted", NO_MESSAGES);
    const va = space ? space.getVmArea(size, 0, VmKind.DmaCoherent, gfp.nowarn === true) : -1;
    if (va < 0) {
      this.ctx.buddy.freePagesExact(pfn, count);
      return DmaApi.fail("vmalloc-exhausted", space ? this.failureLines(space) : NO_MESSAGES);
    }
    return this.ok({ source: "buddy", pfn, pages: count, order: -1, vaddr: va, vmalloc: true, cma: null });
  }

  private release(b: DmaBuffer): void {
    if (b.vmalloc) (this.ctx.consistent?.has(b.vaddr) ? this.ctx.consistent : this.ctx.vmalloc).free(b.vaddr);
    if (b.source === "cma") (b.cma as CmaArea).release(b.pfn, b.pages);
    else if (b.source === "atomic-pool") {
      const pool = this.ctx.atomicPool;
      pool?.bitmap.clearRange(b.pfn - pool.basePfn, b.pages);
    } else if (b.order >= 0) this.ctx.buddy.freePages(b.pfn, b.order);
    else this.ctx.buddy.freePagesExact(b.pfn, b.pages);
  }

  /** dma_free_attrs: false for an unknown handle. */
  free(handle: number): boolean {
    const b = this.buffers.get(handle);
    if (!b) return false;
    this.buffers.delete(handle);
    this.release(b);
    return true;
  }
}
