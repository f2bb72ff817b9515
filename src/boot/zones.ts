/**
 * Zones (arch/arm/mm/init.c zone_sizes_init / find_limits, mm/page_alloc.c free_area_init) and their
 * boot messages: F2 "Zone ranges:" (5.8+) and the F1 per-zone lines (KERN_DEBUG, ≤5.18).
 */
import type { Dmesg } from "../kernel/dmesg.js";
import type { Kconfig } from "../kernel/kconfig.js";
import type { BootRules } from "../kernel/profile.js";
import type { Zone } from "./machine.js";
import type { Memblock } from "./memblock.js";
import { fmtMem, PAGE_SIZE, pfnDown, pfnUp } from "./units.js";

/**
 * sizeof(struct page) on 32-bit ARM: flags, a 20-byte union, _mapcount, _refcount (32 bytes), plus
 * page->mem_cgroup / memcg_data with CONFIG_MEMCG (from 3.19) and page->virtual with
 * WANT_PAGE_VIRTUAL. The Debian 6.1 kernels (MEMCG=y) panic with 36 x pages [oracle-sweep].
 */
export function structPageBytes(rules: BootRules, kconfig: Kconfig): number {
  const memcg = rules.memcgInStructPage && kconfig.bool("CONFIG_MEMCG", false) ? 4 : 0;
  return 32 + memcg + (kconfig.bool("CONFIG_WANT_PAGE_VIRTUAL", false) ? 4 : 0);
}

export interface ZoneSpan {
  name: Zone["name"];
  startPfn: number;
  endPfn: number;
}

export interface ZoneInput {
  memblock: Memblock;
  armLowmemLimit: number;
  /** arm_dma_pfn_limit when CONFIG_ZONE_DMA, else null */
  dmaPfnLimit: number | null;
  /** mdesc->dma_zone_size in pages (0: none) */
  dmaZonePages: number;
  rules: BootRules;
  highmem: boolean;
}

/** Present pages of memory (NOMAP regions included, as the kernel counts them) in [startPfn, endPfn). */
export function presentPages(mb: Memblock, startPfn: number, endPfn: number): number {
  let n = 0;
  for (const r of mb.memory) {
    const s = Math.max(pfnUp(r.base), startPfn);
    const e = Math.min(pfnDown(r.end), endPfn);
    if (e > s) n += e - s;
  }
  return n;
}

/** free_area_init(): every configured zone's span (empty ones have start == end). */
export function zoneSpans(z: ZoneInput): ZoneSpan[] {
  const min = pfnUp(z.memblock.startOfDram());
  const maxLow = pfnDown(z.armLowmemLimit);
  const maxHigh = Math.max(maxLow, pfnDown(z.memblock.endOfDram()));
  const limits: [Zone["name"], number][] = [];
  if (z.dmaPfnLimit !== null) {
    // arm_adjust_dma_zone() counts dma_zone_size pages from the first pfn; free_area_init() stops at
    // arm_dma_pfn_limit; without dma_zone_size both give all of lowmem
    const dmaEnd =
      z.rules.zoneSizing === "arm_zone_sizes" && z.dmaZonePages ? min + z.dmaZonePages : z.dmaPfnLimit;
    limits.push(["DMA", Math.min(dmaEnd, maxLow)]);
  }
  limits.push(["Normal", maxLow]);
  if (z.highmem) limits.push(["HighMem", maxHigh]);
  let start = min;
  return limits.map(([name, limit]) => {
    const end = Math.max(limit, start);
    const span = { name, startPfn: start, endPfn: end };
    start = end;
    return span;
  });
}

/** The non-empty zones with their present pages (the BootedMachine view). */
export function zonesOf(spans: ZoneSpan[], mb: Memblock): Zone[] {
  return spans
    .filter((s) => s.endPfn > s.startPfn)
    .map((s) => ({ ...s, presentPages: presentPages(mb, s.startPfn, s.endPfn) }));
}

const memRange = (startPfn: number, endPfn: number) =>
  `[mem ${fmtMem(startPfn * PAGE_SIZE)}-${fmtMem(endPfn * PAGE_SIZE - 1)}]`;

/** "Zone ranges:" ... "Initmem setup node 0" (F2, mm/page_alloc.c free_area_init). */
export function printZoneRanges(spans: ZoneSpan[], mb: Memblock, dmesg: Dmesg): void {
  dmesg.info("Zone ranges:");
  for (const s of spans)
    dmesg.info(`  ${s.name.padEnd(8)} ${s.endPfn > s.startPfn ? memRange(s.startPfn, s.endPfn) : "empty"}`);
  dmesg.info("Movable zone start for each node");
  dmesg.info("Early memory node ranges");
  for (const r of mb.memory) dmesg.info(`  node   0: ${memRange(pfnUp(r.base), pfnDown(r.end))}`);
  dmesg.info(`Initmem setup node 0 ${memRange(pfnUp(mb.startOfDram()), pfnDown(mb.endOfDram()))}`);
}

/** zone_batchsize(): the per-cpu LIFO batch printed by F1. */
export function zoneBatchsize(managedPages: number, capKb: number): number {
  let batch = Math.floor(managedPages / 1024);
  const cap = (capKb * 1024) / PAGE_SIZE;
  if (batch > cap) batch = cap;
  batch = Math.floor(batch / 4);
  if (batch < 1) batch = 1;
  const x = batch + Math.floor(batch / 2);
  return 2 ** Math.floor(Math.log2(x)) - 1;
}

/** The F1 lines of free_area_init_node/free_area_init_core (KERN_DEBUG). */
export function printZonesF1(
  spans: ZoneSpan[],
  mb: Memblock,
  rules: BootRules,
  structPage: number,
  dmesg: Dmesg,
): void {
  const zones = spans.map((s) => ({ ...s, present: presentPages(mb, s.startPfn, s.endPfn) }));
  dmesg.debug(`On node 0 totalpages: ${zones.reduce((n, z) => n + z.present, 0)}`);
  zones.forEach((z, j) => {
    const spanned = z.endPfn - z.startPfn;
    let free = z.present;
    if (z.name !== "HighMem" || rules.highmemMemmapCharged) {
      // calc_memmap_size(): spanned pages' struct pages, page aligned
      const memmap = Math.ceil((spanned * structPage) / PAGE_SIZE);
      if (free >= memmap) {
        free -= memmap;
        if (memmap) dmesg.debug(`  ${z.name} zone: ${memmap} pages used for memmap`);
      }
    }
    if (j === 0 && free > 0) dmesg.debug(`  ${z.name} zone: 0 pages reserved`);
    const printed = rules.zonePresentLessMemmap ? free : z.present;
    // from 3.8 the batch follows managed_pages, which for HighMem is the real size (memmap not charged)
    const managed = z.name === "HighMem" && !rules.zonePresentLessMemmap ? z.present : free;
    if (z.present > 0)
      dmesg.debug(
        `  ${z.name} zone: ${printed} pages, LIFO batch:${zoneBatchsize(managed, rules.zoneBatchCapKb)}`,
      );
  });
}
