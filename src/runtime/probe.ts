/**
 * The oracle's test driver (shared oracle/module/dmaprobe.c) run on an emulated machine: load the
 * module (its vmalloc footprint), then dma_alloc_attrs(chunk, GFP_KERNEL | __GFP_NOWARN) on a
 * platform device with a 32-bit mask and the default CMA area until the first failure.
 */
import type { FailureCause } from "./api.js";
import type { Runtime } from "./index.js";
import { DMAPROBE_FOOTPRINT, type ProbeFootprint } from "./presets.js";
import { PAGE_SIZE, VmKind } from "./vmalloc.js";

export interface ProbeParams {
  chunkBytes: number;
  noKernelMapping: boolean;
  /** dmaprobe.stop_outside_cma: stop before the first buffer outside the default CMA area */
  stopOutsideCma: boolean;
  /** a dma-coherent device instead of the oracle's non-coherent one */
  coherent: boolean;
  /** drop __GFP_NOWARN (the variant module's dmaprobe.nowarn=0): the kernel prints its failure lines */
  warn?: boolean;
  footprint?: ProbeFootprint;
}

export interface ProbeResult {
  count: number;
  bytes: number;
  stopped: "alloc_failed" | "outside_cma" | "max_mb";
  /** the first failure; message = the kernel's line ("" when it printed none) */
  failure: { cause: FailureCause; message: string } | null;
  inCma: number;
  outsideCma: number;
  inVmalloc: number;
  /** buffers whose pages are in highmem */
  physHighmem: number;
  /** lowest and highest buffer pfn, -1 when none */
  pfnLo: number;
  pfnHi: number;
  /** the footprint of loading the module in the vmalloc area, bytes (guards included) */
  footprintBytes: number;
}

/** Loads the module: insmod's stacks, the lazily freed finit_module copy, the chunk table. */
function loadModule(rt: Runtime, fp: ProbeFootprint, chunkBytes: number): number {
  const vm = rt.vmallocSpace;
  const before = vm.usedBytes();
  for (let i = 0; i < fp.stacks; i++)
    vm.getVmArea(fp.stackBytes, 0, VmKind.Vmalloc, true, fp.stackAlignBytes);
  const copy = vm.getVmArea(
    rt.machine.lpae ? fp.moduleFileBytes.lpae : fp.moduleFileBytes.armmp,
    0,
    VmKind.Vmalloc,
    true,
  );
  rt.moduleAlloc(16384);
  if (copy >= 0) vm.free(copy);
  const maxChunks = Math.floor((fp.maxMb * 1024) / (chunkBytes / 1024)) + 1;
  vm.getVmArea(maxChunks * fp.chunkEntryBytes, 0, VmKind.Vmalloc, true);
  return vm.usedBytes() - before;
}

export function runDmaProbe(rt: Runtime, params: ProbeParams): ProbeResult {
  const fp = params.footprint ?? DMAPROBE_FOOTPRINT;
  const chunk = params.chunkBytes;
  const footprintBytes = loadModule(rt, fp, chunk);
  const dev = { name: "dmaprobe", coherent: params.coherent, dmaMaskBits: 32 };
  const attrs = { noKernelMapping: params.noKernelMapping };
  const gfp = { nowarn: params.warn !== true };
  const cma = rt.defaultCma;
  const limit = rt.machine.armLowmemLimitPfn;
  const maxChunks = Math.floor((fp.maxMb * 1024) / (chunk / 1024)) + 1;
  const pages = Math.ceil(chunk / PAGE_SIZE);
  const res: ProbeResult = {
    count: 0,
    bytes: 0,
    stopped: "max_mb",
    failure: null,
    inCma: 0,
    outsideCma: 0,
    inVmalloc: 0,
    physHighmem: 0,
    pfnLo: -1,
    pfnHi: -1,
    footprintBytes,
  };
  for (let i = 0; i < maxChunks - 1; i++) {
    const r = rt.dmaAlloc(dev, chunk, attrs, gfp);
    if (!r.ok) {
      res.stopped = "alloc_failed";
      res.failure = { cause: r.cause, message: r.messages[0] ?? "" };
      break;
    }
    const inCma = cma?.contains(r.pfn, pages) === true;
    if (cma && params.stopOutsideCma && !inCma) {
      rt.dmaFree(r.handle);
      res.stopped = "outside_cma";
      break;
    }
    res.count++;
    res.bytes += chunk;
    if (inCma) res.inCma++;
    else res.outsideCma++;
    if (r.inVmalloc) res.inVmalloc++;
    if (r.pfn >= limit) res.physHighmem++;
    if (res.pfnLo < 0 || r.pfn < res.pfnLo) res.pfnLo = r.pfn;
    if (r.pfn > res.pfnHi) res.pfnHi = r.pfn;
  }
  return res;
}
