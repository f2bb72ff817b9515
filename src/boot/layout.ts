/**
 * The kernel's virtual address space and the lowmem limit (arch/arm/mm/mmu.c, arch/arm/mm/init.c):
 * PAGE_OFFSET per split, `vmalloc=` (early_vmalloc), the lowmem bounds (sanity_check_meminfo ≤4.10,
 * adjust_lowmem_bounds 4.11+), high_memory, VMALLOC_START, and the "Virtual kernel memory layout" block.
 */
import { ConfigError } from "../errors.js";
import type { Dmesg } from "../kernel/dmesg.js";
import type { BootRules } from "../kernel/profile.js";
import type { VmSplit } from "./config.js";
import type { VirtualLayout } from "./machine.js";
import type { Memblock } from "./memblock.js";
import { alignDown, fmtPa, hexPad, isAligned, SZ_1M } from "./units.js";

export const VMALLOC_OFFSET = 8 * SZ_1M;
const PMD_SIZE = 2 * SZ_1M;
/** the default vmalloc area size of every era (240 MiB) */
const VMALLOC_DEFAULT = 240 * SZ_1M;

const PAGE_OFFSETS: Record<VmSplit, number> = {
  "3G": 0xc0000000,
  "3G_OPT": 0xb0000000,
  "2G": 0x80000000,
  "1G": 0x40000000,
};

/** CONFIG_PAGE_OFFSET of a CONFIG_VMSPLIT_* choice (arch/arm/Kconfig). */
export function pageOffsetOf(split: string, lpae: boolean): number {
  const s = split.toUpperCase().replace(/^VMSPLIT_/, "");
  if (s === "2G_OPT")
    throw new ConfigError(
      `--split 2G_OPT: there is no VMSPLIT_2G_OPT on 32-bit ARM; accepted: 3G, 3G_OPT, 2G, 1G`,
    );
  if (!(s in PAGE_OFFSETS))
    throw new ConfigError(`--split ${split}: unknown split; accepted: 3G, 3G_OPT, 2G, 1G`);
  if (s === "3G_OPT" && lpae)
    throw new ConfigError(
      "--split 3G_OPT with --lpae: Kconfig refuses it (VMSPLIT_3G_OPT depends on !ARM_LPAE)",
    );
  return PAGE_OFFSETS[s as VmSplit];
}

/**
 * early_vmalloc(): clamps `vmalloc=N` with the era's warnings and returns the resulting physical
 * vmalloc_limit function input: V1 stores vmalloc_min = VMALLOC_END − N, V2 stores vmalloc_size = N.
 */
export function earlyVmalloc(
  requestedBytes: number,
  rules: BootRules,
  pageOffset: number,
  dmesg: Dmesg,
): number {
  let n = requestedBytes % 2 ** 32; // memparse() result stored in an unsigned long
  const unit = rules.vmallocVariant === "V1" ? "MB" : "MiB";
  if (n < 16 * SZ_1M) {
    n = 16 * SZ_1M;
    dmesg.warn(
      `vmalloc area ${rules.vmallocVariant === "V1" ? "too small" : "is too small"}, limiting to ${n / SZ_1M}${unit}`,
    );
  }
  const max =
    rules.vmallocVariant === "V1"
      ? rules.vmallocEnd - (pageOffset + 32 * SZ_1M)
      : rules.vmallocEnd - (pageOffset + 32 * SZ_1M + VMALLOC_OFFSET);
  if (n > max) {
    n = max;
    dmesg.warn(`vmalloc area is too big, limiting to ${Math.floor(n / SZ_1M)}${unit}`);
  }
  return n;
}

/** The physical address above which RAM cannot be lowmem (vmalloc_limit of mmu.c). */
export function vmallocLimit(
  rules: BootRules,
  pageOffset: number,
  physOffset: number,
  vmallocBytes?: number,
): number {
  const vmallocMin =
    rules.vmallocVariant === "V1"
      ? rules.vmallocEnd - (vmallocBytes ?? VMALLOC_DEFAULT + VMALLOC_OFFSET)
      : rules.vmallocEnd - (vmallocBytes ?? VMALLOC_DEFAULT) - VMALLOC_OFFSET;
  return vmallocMin - pageOffset + physOffset;
}

/** RAM the kernel drops, and why (for the reports). */
export interface DroppedRam {
  base: number;
  end: number;
  why: string;
}

const NO_HIGHMEM = "above the lowmem limit, CONFIG_HIGHMEM off";

export interface LowmemBounds {
  /** arm_lowmem_limit: end of lowmem (physical, exclusive) */
  armLowmemLimit: number;
  /** memblock.current_limit during early allocations */
  memblockLimit: number;
}

export interface BoundsContext {
  memblock: Memblock;
  rules: BootRules;
  lpae: boolean;
  highmem: boolean;
  vmallocLimit: number;
  dmesg: Dmesg;
  /** RAM the kernel drops here, appended */
  dropped: DroppedRam[];
}

/** sanity_check_meminfo() (≤4.10): one pass; !HIGHMEM truncates with M0/M1 messages. */
export function sanityCheckMeminfo(ctx: BoundsContext): LowmemBounds {
  const { memblock: mb, rules, lpae, vmallocLimit: vl, dmesg } = ctx;
  const sectionSize = lpae ? 2 * SZ_1M : SZ_1M;
  let armLowmemLimit = 0;
  let memblockLimit = 0;
  let highmem = false;
  let shouldUseHighmem = false;
  for (const reg of [...mb.memory]) {
    const blockStart = reg.base;
    let blockEnd = reg.end;
    const size = reg.end - reg.base;
    let sizeLimit = size;
    if (reg.base >= vl) highmem = true;
    else sizeLimit = vl - reg.base;
    if (!ctx.highmem) {
      if (highmem) {
        if (rules.lowmemCapMessage === "M0")
          dmesg.notice(`Ignoring RAM at ${h8(blockStart)}-${h8(blockEnd - 1)} (vmalloc region overlap).`);
        else
          dmesg.notice(
            `Ignoring RAM at ${fmtPa(blockStart, lpae)}-${fmtPa(blockEnd, lpae)} (!CONFIG_HIGHMEM)`,
          );
        mb.remove(blockStart, blockEnd);
        shouldUseHighmem = true;
        continue;
      }
      if (size > sizeLimit) {
        if (rules.lowmemCapMessage === "M0")
          dmesg.notice(
            `Truncating RAM at ${h8(blockStart)}-${h8(blockEnd - 1)} to -${h8(vl - 1)} (vmalloc region overlap).`,
          );
        else
          dmesg.notice(
            `Truncating RAM at ${fmtPa(blockStart, lpae)}-${fmtPa(blockEnd, lpae)} to -${fmtPa(vl, lpae)}`,
          );
        mb.remove(vl, blockEnd);
        ctx.dropped.push({ base: vl, end: blockEnd, why: NO_HIGHMEM });
        blockEnd = vl;
        shouldUseHighmem = true;
      }
    }
    if (!highmem) {
      if (blockEnd > armLowmemLimit) armLowmemLimit = size > sizeLimit ? vl : blockEnd;
      if (!memblockLimit) {
        if (!isAligned(blockStart, sectionSize)) memblockLimit = blockStart;
        else if (!isAligned(blockEnd, sectionSize)) memblockLimit = armLowmemLimit;
      }
    }
  }
  if (shouldUseHighmem && rules.highmemHint) dmesg.notice("Consider using a HIGHMEM enabled kernel.");
  if (memblockLimit) memblockLimit = alignDown(memblockLimit, sectionSize);
  if (!memblockLimit) memblockLimit = armLowmemLimit;
  mb.currentLimit = memblockLimit;
  return { armLowmemLimit, memblockLimit };
}

/** adjust_lowmem_bounds() (4.11+): NOMAP regions skipped; !HIGHMEM removes RAM above the limit (M2). */
export function adjustLowmemBounds(ctx: BoundsContext): LowmemBounds {
  const { memblock: mb, lpae, vmallocLimit: vl, dmesg } = ctx;
  // The first usable region must be PMD aligned: the kernel marks its unaligned head NOMAP.
  const first = mb.memory.find((r) => !r.nomap);
  if (first && !isAligned(first.base, PMD_SIZE) && ctx.rules.dtNoMap === "nomap")
    mb.setNomap(first.base, Math.min(first.end, alignDown(first.base, PMD_SIZE) + PMD_SIZE), true);
  let lowmemLimit = 0;
  let memblockLimit = 0;
  for (const reg of mb.memory) {
    if (reg.nomap || reg.base >= vl) continue;
    if (reg.end > lowmemLimit) lowmemLimit = Math.min(vl, reg.end);
    if (!memblockLimit) {
      if (!isAligned(reg.base, PMD_SIZE)) memblockLimit = reg.base;
      else if (!isAligned(reg.end, PMD_SIZE)) memblockLimit = lowmemLimit;
    }
  }
  const armLowmemLimit = lowmemLimit;
  if (!memblockLimit) memblockLimit = armLowmemLimit;
  memblockLimit = alignDown(memblockLimit, PMD_SIZE);
  if (!ctx.highmem && mb.endOfDram() > armLowmemLimit) {
    const end = mb.endOfDram();
    dmesg.notice(`Ignoring RAM at ${fmtPa(memblockLimit, lpae)}-${fmtPa(end, lpae)}`);
    if (ctx.rules.highmemHint) dmesg.notice("Consider using a HIGHMEM enabled kernel.");
    mb.remove(memblockLimit, end);
    ctx.dropped.push({ base: memblockLimit, end, why: NO_HIGHMEM });
  }
  mb.currentLimit = memblockLimit;
  return { armLowmemLimit, memblockLimit };
}

const h8 = (n: number): string => n.toString(16).padStart(8, "0");

/** The virtual layout once high_memory is known (arch/arm/include/asm/memory.h, pgtable.h). */
export function virtualLayout(
  rules: BootRules,
  pageOffset: number,
  highMemoryVirt: number,
  highmem: boolean,
  thumb2: boolean,
): VirtualLayout {
  const vmallocStart = alignDown(highMemoryVirt + VMALLOC_OFFSET, VMALLOC_OFFSET);
  const modulesStart = pageOffset - (thumb2 ? 8 : 16) * SZ_1M;
  return {
    pageOffset,
    taskSize: pageOffset - 16 * SZ_1M,
    vector: { start: 0xffff0000, end: 0xffff1000 },
    fixmap: { ...rules.fixmap },
    vmalloc: { start: vmallocStart, end: rules.vmallocEnd },
    lowmem: { start: pageOffset, end: highMemoryVirt },
    ...(highmem ? { pkmap: { start: pageOffset - 2 * SZ_1M, end: pageOffset } } : {}),
    modules: { start: modulesStart, end: highmem ? pageOffset - 2 * SZ_1M : pageOffset },
  };
}

/** The "Virtual kernel memory layout:" block of mem_init() (≤5.0), without the section lines. */
export function layoutBlockLines(
  rules: BootRules,
  layout: VirtualLayout,
  opts: { modules: boolean; cma: boolean },
): string[] {
  if (rules.layoutBlock === "none") return [];
  const line = (name: string, r: { start: number; end: number }, unit: "kB" | "MB") => {
    const n = Math.floor((r.end - r.start) / (unit === "kB" ? 1024 : SZ_1M));
    return `    ${name.padEnd(8)}: ${hexPad(r.start, 8)} - ${hexPad(r.end, 8)}   (${String(n).padStart(4)} ${unit})`;
  };
  const out = [
    "Virtual kernel memory layout:",
    line("vector", layout.vector, "kB"),
    line("fixmap", layout.fixmap, "kB"),
  ];
  // ≤3.4: the consistent DMA region (CONSISTENT_BASE..CONSISTENT_END, 2 MiB by default). ARM CMA
  // replaced that region (3.5), so a 3.4 kernel with CMA (a vendor backport) has no DMA line.
  if (rules.layoutBlock === "with-dma" && !opts.cma)
    out.push(line("DMA", { start: 0xffc00000, end: 0xffe00000 }, "MB"));
  out.push(line("vmalloc", layout.vmalloc, "MB"), line("lowmem", layout.lowmem, "MB"));
  if (layout.pkmap) out.push(line("pkmap", layout.pkmap, "MB"));
  if (opts.modules) out.push(line("modules", layout.modules, "MB"));
  return out;
}
