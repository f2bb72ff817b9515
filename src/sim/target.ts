/**
 * What the simulation drives: one booted machine and its runtime, seen through the few calls the
 * event loop needs. `runtimeTarget` (real-target.ts) adapts the package's Runtime; tests and library
 * users may supply their own (a model of another allocator, a recorded trace player).
 */
import type { BootedMachine } from "../boot/machine.js";
import type {
  BufferSource,
  DmaAllocResult,
  DmaAttrs,
  DmaDevice,
  FailureCause,
  GfpFlags,
} from "../runtime/api.js";

/** Result of a vmalloc-space request (ioremap, module load): a handle, or why it failed. */
export type VmAllocResult =
  | { ok: true; handle: number }
  | { ok: false; cause: FailureCause; messages: string[] };

/** A dmaAlloc result as one record that the caller reuses: no object per call on the hot path. */
export interface DmaOutcome {
  ok: boolean;
  /** when ok */
  handle: number;
  source: BufferSource;
  inVmalloc: boolean;
  /** when not ok */
  cause: FailureCause;
  messages: string[];
}

/** Counters the time series samples; cheap enough to read a few hundred times per run. */
export interface TargetSnapshot {
  /** pages allocated by cma_alloc, per CMA area (same order as machine.cmaAreas) */
  cmaUsedPages: number[];
  /** longest free run of each area's bitmap, in pages (cma_debug maxchunk) */
  cmaLargestFreePages: number[];
  /** pages of each area lent to movable allocations (and pinned among them) */
  cmaMovablePages: number[];
  cmaPinnedPages: number[];
  /** bytes of the vmalloc area in use (guard pages included), and the largest free gap */
  vmallocUsedBytes: number;
  vmallocLargestFreeBytes: number;
  /** bytes of the modules area in use */
  modulesUsedBytes: number;
  /** free pages of the page allocator, lowmem and highmem */
  lowmemFreePages: number;
  highmemFreePages: number;
}

/** One run of a physical map: a CMA area's pages by state. */
export interface PhysRun {
  startPfn: number;
  pages: number;
  state: "free" | "allocated" | "movable" | "pinned";
}

/** One occupied range of a virtual area. */
export interface VirtRun {
  start: number;
  sizeBytes: number;
  /** what mapped it: "dma", "ioremap", "module", "boot", "lazy" (unmapped, not yet purged) ... */
  kind: string;
}

/** The physical and virtual maps, as drawn at the first failure. */
export interface TargetMaps {
  cma: { name: string; basePfn: number; countPages: number; runs: PhysRun[] }[];
  vmalloc: { start: number; end: number; used: VirtRun[] };
  modules: { start: number; end: number; used: VirtRun[] };
}

export interface SimTarget {
  readonly machine: BootedMachine;
  /** advances the emulated clock (ms) that the kernel's rate limits read */
  setClock?(nowMs: number): void;
  /** dma_alloc_attrs() */
  dmaAlloc(dev: DmaDevice, sizeBytes: number, attrs: DmaAttrs, gfp: GfpFlags): DmaAllocResult;
  /** dmaAlloc writing into `out` (optional: the event loop prefers it when present); returns out.ok */
  dmaAllocInto?(dev: DmaDevice, sizeBytes: number, attrs: DmaAttrs, gfp: GfpFlags, out: DmaOutcome): boolean;
  /** dma_free_attrs() of a handle returned by dmaAlloc */
  dmaFree(handle: number): void;
  /** ioremap() of a device register window: a VM_IOREMAP area in vmalloc space */
  ioremap(sizeBytes: number): VmAllocResult;
  iounmap(handle: number): void;
  /** module_alloc(): the modules area */
  moduleAlloc(sizeBytes: number): VmAllocResult;
  moduleFree(handle: number): void;
  snapshot(): TargetSnapshot;
  maps(): TargetMaps;
  /** releases what the target holds (WASM memory) once the run is over */
  dispose?(): void;
}
