/**
 * The result of an emulated boot: everything later stages (runtime, simulation, reports) read.
 * Physical addresses are page frame numbers (`number`, exact to 2^53); virtual addresses are
 * 32-bit unsigned numbers; sizes say their unit in their name (`Pages`, `Bytes`, `Kb`).
 *
 * CONTRACT shared by src/boot (producer) and src/runtime, src/sim, src/report (consumers):
 * fields may be added, none removed or renamed without updating every consumer.
 */
import type { DmesgLine } from "../kernel/dmesg.js";
import type { KernelProfile } from "../kernel/profile.js";

/** A half-open virtual range [start, end) of the kernel address space. */
export interface VirtRange {
  start: number;
  end: number;
}

/** The kernel's virtual memory layout (what the "Virtual kernel memory layout:" block prints). */
export interface VirtualLayout {
  pageOffset: number;
  taskSize: number;
  vector: VirtRange;
  fixmap: VirtRange;
  /** VMALLOC_START .. VMALLOC_END */
  vmalloc: VirtRange;
  /** PAGE_OFFSET .. high_memory */
  lowmem: VirtRange;
  /** absent without CONFIG_HIGHMEM */
  pkmap?: VirtRange;
  modules: VirtRange;
}

/** A half-open physical range [startPfn, endPfn) in page frames. */
export interface PfnRange {
  startPfn: number;
  endPfn: number;
}

export interface ReservedRegion extends PfnRange {
  /** what reserved it: "kernel", "initrd", "swapper_pg_dir", "dt:<node>", "cma:<name>", "early-lowmem", "swiotlb", "cma-leak" ... */
  owner: string;
}

export interface Zone extends PfnRange {
  name: "DMA" | "Normal" | "HighMem";
  /** present pages in the zone (holes excluded) */
  presentPages: number;
}

/** A CMA area as cma_init_reserved_mem() records it. */
export interface CmaAreaInfo {
  /** "reserved" for the default area (6.1), the DT node name otherwise */
  name: string;
  basePfn: number;
  countPages: number;
  orderPerBit: number;
  /** the default area (dev_get_cma_area() of a device without its own pool) */
  isDefault: boolean;
  /** base >= arm_lowmem_limit: buffers from it need a vmalloc mapping */
  inHighmem: boolean;
}

/** A per-device coherent pool (shared-dma-pool + no-map): not CMA. */
export interface DmaPoolInfo extends PfnRange {
  name: string;
}

export interface BootedMachine {
  profile: KernelProfile;
  lpae: boolean;
  highmem: boolean;
  layout: VirtualLayout;
  /** PHYS_OFFSET >> PAGE_SHIFT */
  physOffsetPfn: number;
  /** memblock.memory after truncation, no-map regions removed, merged, sorted */
  memory: PfnRange[];
  /** MEMBLOCK_NOMAP regions (DT no-map on 5.12+, an unaligned first-bank head): present but never mapped */
  nomap?: PfnRange[];
  reserved: ReservedRegion[];
  /** arm_lowmem_limit >> PAGE_SHIFT: first highmem pfn */
  armLowmemLimitPfn: number;
  maxPfn: number;
  /** non-empty zones, in order */
  zones: Zone[];
  cmaAreas: CmaAreaInfo[];
  dmaPools: DmaPoolInfo[];
  /** free pages handed to the buddy allocator at the end of boot (CMA pages excluded), per zone */
  freePagesByZone: Record<string, number>;
  /** /proc/meminfo figures the boot decides, in kB */
  meminfo: Record<string, number>;
  dmesg: DmesgLine[];
  /** the panic, when this configuration would not boot (e.g. memory map does not fit in lowmem) */
  panic?: string;
  // The fields below are always set by boot(); they are optional so that hand-built machines
  // (test fakes of other stages) stay valid.
  /** named profile id ("debian-6.1-armmp") or "generic"; "oracle" evidence or "computed" from the era table */
  profileName?: string;
  evidence?: "oracle" | "computed";
  /** the effective CONFIG_* symbols (profile defaults, .config, --kconfig) */
  kconfig?: Record<string, string>;
  /** highest buddy order (MAX_ORDER-1 before 6.4) and pageblock_order of this build */
  maxOrder?: number;
  pageblockOrder?: number;
  /** CMA_MIN_ALIGNMENT_BYTES of this build */
  cmaMinAlignBytes?: number;
  /** arm_dma_limit >> PAGE_SHIFT (GFP_DMA / ZONE_DMA bound) */
  armDmaPfnLimit?: number;
  /** memblock.current_limit during early boot (memblock_limit), pfn */
  memblockLimitPfn?: number;
  /** RAM the kernel dropped (truncation, 32-bit cap, !HIGHMEM), physical pfn ranges */
  droppedRam?: (PfnRange & { reason: string })[];
  /** P2 (Debian 6.1 LPAE ≥4 GiB) CMA regions left reserved but unused */
  leakedCma?: PfnRange[];
  /** emulator warnings (not kernel output): command-line syntax the kernel ignores or misreads */
  warnings?: string[];
}
