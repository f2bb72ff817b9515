/**
 * The end of early boot: the early lowmem allocations (mem_map and the rest, one calibrated block,
 * SPEC §3.7), the LPAE swiotlb buffer, the `Memory:` line of mem_init() per era, and the
 * /proc/meminfo figures the boot decides.
 */
import type { Dmesg } from "../kernel/dmesg.js";
import type { BootRules, BuildConstants } from "../kernel/profile.js";
import type { CmaArea } from "./cma.js";
import type { Memblock } from "./memblock.js";
import { alignUp, fmtPa, PAGE_SIZE, pfnDown, pfnUp, SZ_1M } from "./units.js";
import type { ZoneSpan } from "./zones.js";

const SMP_CACHE_BYTES = 64;

/**
 * alloc_node_mem_map() and the other early lowmem allocations of paging_init/mm_init, below the
 * current limit (arm_lowmem_limit). Returns the panic text when mem_map does not fit in lowmem.
 */
export function earlyLowmemAllocations(
  mb: Memblock,
  build: BuildConstants,
  maxOrder: number,
  structPage: number,
  dmesg: Dmesg,
): string | undefined {
  const orderPages = 2 ** maxOrder;
  const startPfn = Math.floor(pfnUp(mb.startOfDram()) / orderPages) * orderPages;
  const endPfn = alignUp(pfnDown(mb.endOfDram()), orderPages);
  const memmapBytes = (endPfn - startPfn) * structPage;
  if (!mb.alloc(memmapBytes, SMP_CACHE_BYTES, "mem_map")) {
    const panic = `Failed to allocate ${memmapBytes} bytes for node 0 memory map`;
    dmesg.log("emerg", `Kernel panic - not syncing: ${panic}`);
    return panic;
  }
  // the rest of the calibrated block: page tables, percpu, log buffer, hash tables (≈ 1 KiB per MiB)
  const spannedPages = pfnDown(mb.endOfDram()) - pfnUp(mb.startOfDram());
  const totalKb = build.earlyLowmemBaseKb + Math.ceil((spannedPages * build.earlyLowmemKbPerMiB) / 256);
  const restBytes = alignUp(Math.max(0, totalKb * 1024 - memmapBytes), PAGE_SIZE);
  if (restBytes) mb.alloc(restBytes, PAGE_SIZE, "early-lowmem");
  return undefined;
}

/** swiotlb_init() on LPAE (mem_init): 64 MiB + 512 KiB of slots, top-down in lowmem. */
export function swiotlbInit(mb: Memblock, rules: BootRules, lpae: boolean, dmesg: Dmesg): void {
  const bytes = 64 * SZ_1M;
  const tlb = mb.alloc(bytes, PAGE_SIZE, "swiotlb");
  if (!tlb) return;
  mb.alloc(512 * 1024, PAGE_SIZE, "swiotlb");
  if (rules.swiotlbAreaLine) dmesg.info("software IO TLB: area num 1.");
  dmesg.info(`software IO TLB: mapped [mem ${fmtPa(tlb, lpae)}-${fmtPa(tlb + bytes, lpae)}] (64MB)`);
}

export interface PageCounts {
  /** present pages (physpages) */
  physPages: number;
  /** pages memblock_free_all() hands to the buddy allocator */
  freePages: number;
  freeHighPages: number;
  cmaPages: number;
  cmaHighPages: number;
  /** free pages per zone (CMA excluded) */
  freeByZone: Record<string, number>;
}

/** Counts pages the way memblock_free_all() frees them (free ranges rounded inward to pages). */
export function countPages(
  mb: Memblock,
  spans: ZoneSpan[],
  armLowmemLimit: number,
  areas: CmaArea[],
): PageCounts {
  const lowPfn = pfnDown(armLowmemLimit);
  const freeByZone: Record<string, number> = {};
  for (const z of spans) if (z.endPfn > z.startPfn) freeByZone[z.name] = 0;
  let physPages = 0;
  for (const r of mb.memory) physPages += Math.max(0, pfnDown(r.end) - pfnUp(r.base));
  let freePages = 0;
  let freeHighPages = 0;
  for (const f of mb.freeRanges()) {
    const s = pfnUp(f.base);
    const e = pfnDown(f.end);
    if (e <= s) continue;
    freePages += e - s;
    freeHighPages += Math.max(0, e - Math.max(s, lowPfn));
    for (const z of spans) {
      const n = Math.min(e, z.endPfn) - Math.max(s, z.startPfn);
      if (n > 0) freeByZone[z.name] += n;
    }
  }
  let cmaPages = 0;
  let cmaHighPages = 0;
  for (const a of areas) {
    cmaPages += a.size / PAGE_SIZE;
    if (a.base >= armLowmemLimit) cmaHighPages += a.size / PAGE_SIZE;
  }
  return { physPages, freePages, freeHighPages, cmaPages, cmaHighPages, freeByZone };
}

/** The `Memory:` line(s) of mem_init() / mem_init_print_info() per era (SPEC §3.7). */
export function memoryLines(
  rules: BootRules,
  build: BuildConstants,
  pc: PageCounts,
  opts: { highmem: boolean; cma: boolean },
  mb: Memblock,
): string[] {
  const kb = (pages: number) => pages * (PAGE_SIZE / 1024);
  const hi = opts.highmem ? `, ${kb(pc.freeHighPages)}K highmem` : "";
  // ", %luK cma-reserved" exists only with CONFIG_CMA
  const cma = opts.cma ? `, ${kb(pc.cmaPages)}K cma-reserved` : "";
  const sizes = `${build.codeKb}K kernel code, ${build.rwdataKb}K rwdata, ${build.rodataKb}K rodata, ${build.initKb}K init, ${build.bssKb}K bss`;
  switch (rules.memoryLine) {
    case "L0": {
      const banks = mb.memory.map((r) => ` ${Math.floor((pfnDown(r.end) - pfnUp(r.base)) / 256)}MB`).join("");
      return [
        `Memory:${banks} = ${Math.floor(pc.physPages / 256)}MB total`,
        `Memory: ${kb(pc.freePages)}k/${kb(pc.freePages)}k available, ${kb(pc.physPages - pc.freePages)}k reserved, ${kb(pc.freeHighPages)}K highmem`,
      ];
    }
    case "L1":
      return [
        `Memory: ${kb(pc.freePages)}K/${kb(pc.physPages)}K available (${sizes}, ${kb(pc.physPages - pc.freePages)}K reserved${hi})`,
      ];
    case "L2":
      return [
        `Memory: ${kb(pc.freePages)}K/${kb(pc.physPages)}K available (${sizes}, ${kb(pc.physPages - pc.freePages - pc.cmaPages)}K reserved${cma}${hi})`,
      ];
  }
}

/** /proc/meminfo right after boot: what the boot decides (SPEC §3.7). */
export function bootMeminfo(opts: {
  rules: BootRules;
  pc: PageCounts;
  highmem: boolean;
  build: BuildConstants;
  initrdKb: number;
  vmallocTotalKb: number;
  /** the atomic DMA pool (256 KiB) is taken from the default CMA area */
  atomicPoolKb: number;
}): Record<string, number> {
  const { pc, rules } = opts;
  const kb = (pages: number) => pages * (PAGE_SIZE / 1024);
  const memTotal = kb(pc.freePages + pc.cmaPages) + opts.build.initKb + opts.initrdKb;
  const m: Record<string, number> = { MemTotal: memTotal };
  if (opts.highmem) {
    m.HighTotal = kb(pc.freeHighPages + pc.cmaHighPages);
    m.LowTotal = memTotal - m.HighTotal;
  }
  m.VmallocTotal = opts.vmallocTotalKb;
  if (rules.meminfoCma) {
    m.CmaTotal = kb(pc.cmaPages);
    m.CmaFree = Math.max(0, m.CmaTotal - opts.atomicPoolKb);
  }
  return m;
}
