/**
 * CONTRACT between src/runtime (producer) and src/sim, src/report, src/cli (consumers):
 * the operations a running emulated kernel answers. Fields may be added, none removed or renamed
 * without updating every consumer. Addresses: pfn numbers (physical), 32-bit numbers (virtual).
 */

/** A device as the DMA API sees it (SPEC §6 common inputs). */
export interface DmaDevice {
  name: string;
  /** dev->dma_coherent */
  coherent: boolean;
  /** coherent_dma_mask as a number of address bits (32 = DMA_BIT_MASK(32)) */
  dmaMaskBits: number;
  /** name of a per-device CMA area (DT pool); undefined = the default area */
  cmaArea?: string;
}

export interface DmaAttrs {
  /** DMA_ATTR_NO_KERNEL_MAPPING */
  noKernelMapping?: boolean;
}

export interface GfpFlags {
  /** GFP_ATOMIC (non-blocking): atomic pool instead of CMA */
  atomic?: boolean;
  /** __GFP_NOWARN: no failure messages */
  nowarn?: boolean;
}

/** Why an allocation failed; one cause per failure. */
export type FailureCause =
  | "cma-no-range" // cma_alloc found no free aligned range (-ENOMEM)
  | "cma-busy" // alloc_contig_range -EBUSY on every candidate (pinned pages)
  | "vmalloc-exhausted" // vmap allocation failed in the vmalloc area
  | "modules-exhausted" // module area full (vmalloc= does not help)
  | "buddy-exhausted" // page allocator could not satisfy the order
  | "atomic-pool-exhausted"
  | "highmem-rejected"; // coherent device given a highmem CMA page (dma-direct)

/** Where a successful buffer's pages came from. */
export type BufferSource = "cma" | "buddy" | "atomic-pool" | "dev-pool";

export type DmaAllocResult =
  | {
      ok: true;
      /** opaque handle for dmaFree */
      handle: number;
      source: BufferSource;
      /** first pfn of the buffer */
      pfn: number;
      /** kernel virtual address, or undefined with NO_KERNEL_MAPPING */
      vaddr?: number;
      /** the mapping lives in the vmalloc area */
      inVmalloc: boolean;
    }
  | {
      ok: false;
      cause: FailureCause;
      /** the kernel's message lines for this failure ([] when the kernel prints none) */
      messages: string[];
    };
