/**
 * Boot-time CMA reservation (mm/cma.c cma_declare_contiguous*, kernel/dma/contiguous.c
 * dma_contiguous_reserve; drivers/base/dma-contiguous.c before 3.17): size selection, alignment,
 * the era's placement policy P0-P3 (SPEC §3.4) and its messages (SPEC §3.6).
 */
import type { Dmesg } from "../kernel/dmesg.js";
import type { Kconfig } from "../kernel/kconfig.js";
import type { BootRules } from "../kernel/profile.js";
import { ALLOC_ANYWHERE, type Memblock } from "./memblock.js";
import { alignDown, alignUp, fmt08, fmtPa, isAligned, PAGE_SIZE, pfnDown, SZ_1M, SZ_4G } from "./units.js";

/** A reserved CMA area, byte addresses. */
export interface CmaArea {
  name: string;
  base: number;
  size: number;
  isDefault: boolean;
}

/** The highest buddy order and pageblock_order of a build (include/linux/pageblock-flags.h). */
export function pageOrders(
  rules: BootRules,
  kconfig: Kconfig,
  lpae: boolean,
): { maxOrder: number; pageblockOrder: number } {
  const names = ["CONFIG_ARCH_FORCE_MAX_ORDER", "CONFIG_FORCE_MAX_ZONEORDER"];
  // MAX_ORDER counted orders 0..N-1 until 6.3; from 6.4 the symbol is the highest order itself
  const maxOrder = rules.maxOrderInclusive ? kconfig.intAny(names, 10) : kconfig.intAny(names, 11) - 1;
  // HUGETLB_PAGE exists on ARM only with LPAE: pageblock_order = min(HUGETLB_PAGE_ORDER (2 MiB), max)
  const hugetlb = lpae && kconfig.bool("CONFIG_HUGETLB_PAGE", false);
  return { maxOrder, pageblockOrder: hugetlb ? Math.min(9, maxOrder) : maxOrder };
}

/** CMA_MIN_ALIGNMENT_BYTES: PAGE << max(MAX_ORDER-1, pageblock_order) before 5.18, one pageblock after. */
export function cmaMinAlignBytes(rules: BootRules, kconfig: Kconfig, lpae: boolean): number {
  const { maxOrder, pageblockOrder } = pageOrders(rules, kconfig, lpae);
  const order = rules.cmaAlignRule === "pageblock" ? pageblockOrder : Math.max(maxOrder, pageblockOrder);
  return PAGE_SIZE * 2 ** order;
}

export interface CmaContext {
  memblock: Memblock;
  rules: BootRules;
  lpae: boolean;
  dmesg: Dmesg;
  /** __pa(high_memory): arm_lowmem_limit at reservation time */
  highmemStart: number;
  alignBytes: number;
  /** CONFIG_CMA_AREAS */
  maxAreas: number;
  areas: CmaArea[];
  /** memblock ranges reserved by a P2 highmem attempt that was then overwritten */
  leaked: { base: number; end: number }[];
}

export interface CmaRequest {
  size: number;
  base: number;
  limit: number;
  fixed: boolean;
  name: string;
}

/** The `cma: Reserved` line of the era (C0 3.x, C1 3.17, C2 3.18+). */
function reservedLine(ctx: CmaContext, size: number, base: number): string {
  const mib = Math.floor(size / SZ_1M);
  switch (ctx.rules.cmaReservedFormat) {
    case "C0":
      return `cma: CMA: reserved ${mib} MiB at ${fmt08(base)}`;
    case "C1":
      return `cma: Reserved ${mib} MiB at ${fmt08(base)}`;
    default:
      return `cma: Reserved ${mib} MiB at ${fmtPa(base, ctx.lpae)}`;
  }
}

function failedLine(ctx: CmaContext, size: number): string {
  const mib = Math.floor(size / SZ_1M);
  return ctx.rules.cmaReservedFormat === "C0"
    ? `cma: CMA: failed to reserve ${mib} MiB`
    : `cma: Failed to reserve ${mib} MiB`;
}

/** cma_declare_contiguous(): reserves one area, prints the era's lines; null on failure. */
export function cmaDeclareContiguous(req: CmaRequest, ctx: CmaContext): CmaArea | null {
  const { memblock: mb, rules, dmesg, lpae } = ctx;
  if (ctx.areas.length >= ctx.maxAreas) {
    dmesg.err("cma: Not enough slots for CMA reserved regions!");
    return null;
  }
  if (!req.size) return null;
  const align = ctx.alignBytes;
  const modern = rules.cmaPlacement !== "P0";
  let { base, limit, fixed } = req;
  let size = req.size;
  const fail = (): null => {
    dmesg.err(failedLine(ctx, size));
    return null;
  };
  if (rules.cmaFixedChecks && fixed && !isAligned(base, align)) {
    dmesg.err(`cma: Region at ${fmtPa(base, lpae)} must be aligned to ${fmtPa(align, lpae)} bytes`);
    return fail();
  }
  base = alignUp(base, align);
  size = alignUp(size, align);
  limit = alignDown(limit, align);
  if (!base) fixed = false;

  if (modern) {
    const highmemStart = ctx.highmemStart;
    const memblockEnd = mb.endOfDram();
    if (fixed && base < highmemStart && base + size > highmemStart) {
      dmesg.err(
        `cma: Region at ${fmtPa(base, lpae)} defined on low/high memory boundary (${fmtPa(highmemStart, lpae)})`,
      );
      return fail();
    }
    if (limit === 0 || limit > memblockEnd) limit = memblockEnd;
    if (rules.cmaFixedChecks && base + size > limit) {
      dmesg.err(
        `cma: Size (${fmtPa(size, lpae)}) of region at ${fmtPa(base, lpae)} exceeds limit (${fmtPa(limit, lpae)})`,
      );
      return fail();
    }
  }

  const owner = `cma:${req.name}`;
  if (fixed) {
    if (mb.isRegionReserved(base, base + size)) return fail();
    mb.reserve(base, base + size, owner);
  } else {
    const addr = place(size, align, base, limit, owner, ctx);
    if (!addr) return fail();
    base = addr;
  }
  dmesg.info(reservedLine(ctx, size, base));
  const area = { name: req.name, base, size, isDefault: req.name === "reserved" };
  ctx.areas.push(area);
  return area;
}

/** The non-fixed placement of each era (SPEC §3.4). Returns 0 on failure. */
function place(
  size: number,
  align: number,
  base: number,
  limit: number,
  owner: string,
  ctx: CmaContext,
): number {
  const mb = ctx.memblock;
  const hs = ctx.highmemStart;
  const end = limit === 0 ? mb.currentLimit : limit;
  const above4G = ctx.lpae && mb.endOfDram() >= SZ_4G + size;
  const bottomUp4G = () =>
    mb.allocRange(size, align, SZ_4G, limit === 0 ? ALLOC_ANYWHERE : limit, owner, true);
  switch (ctx.rules.cmaPlacement) {
    case "P0":
      // one top-down attempt below min(arm_dma_limit, arm_lowmem_limit)
      return mb.allocRange(size, align, base, end, owner);
    case "P1": {
      let addr = 0;
      if (base < hs && limit > hs) {
        addr = mb.allocRange(size, align, hs, limit, owner);
        limit = hs;
      }
      return addr || mb.allocRange(size, align, base, limit, owner);
    }
    case "P2": {
      let addr = 0;
      if (base < hs && limit > hs) {
        addr = mb.allocRange(size, align, hs, limit, owner);
        limit = hs;
      }
      if (above4G) {
        // the bottom-up attempt overwrites addr: a highmem success stays reserved but unused (the leak)
        const previous = addr;
        addr = bottomUp4G();
        if (previous && previous !== addr) {
          const r = mb.reserved.find((x) => x.base === previous && x.owner === owner);
          if (r) r.owner = "cma-leak";
          ctx.leaked.push({ base: previous, end: previous + size });
        }
      }
      return addr || mb.allocRange(size, align, base, limit, owner);
    }
    case "P3": {
      let addr = above4G ? bottomUp4G() : 0;
      if (!addr && base < hs && limit > hs) {
        addr = mb.allocRange(size, align, hs, limit, owner);
        limit = hs;
      }
      return addr || mb.allocRange(size, align, base, limit, owner);
    }
  }
}

/** CONFIG_CMA_SIZE_SEL_*: the default area's size when `cma=` is absent (dma_contiguous_reserve). */
function kconfigCmaSize(k: Kconfig, mb: Memblock): number {
  const mbytes = k.int("CONFIG_CMA_SIZE_MBYTES", 16) * SZ_1M;
  // cma_early_percent_memory(): a percentage of memblock_phys_mem_size(), in pages
  const percent =
    Math.floor((pfnDown(mb.physMemSize()) * k.int("CONFIG_CMA_SIZE_PERCENTAGE", 10)) / 100) * PAGE_SIZE;
  if (k.bool("CONFIG_CMA_SIZE_SEL_PERCENTAGE", false)) return percent;
  if (k.bool("CONFIG_CMA_SIZE_SEL_MIN", false)) return Math.min(mbytes, percent);
  if (k.bool("CONFIG_CMA_SIZE_SEL_MAX", false)) return Math.max(mbytes, percent);
  return mbytes;
}

/**
 * dma_contiguous_reserve(): the default area from `cma=` (size_cmdline, base, limit; "fixed" when
 * limit == base + size) or from CONFIG_CMA_SIZE_SEL_*, below the arch limit.
 */
export function dmaContiguousReserve(
  archLimit: number,
  cmaCmd: { size: number; base: number; limit: number } | undefined,
  kconfig: Kconfig,
  ctx: CmaContext,
): CmaArea | null {
  const req = cmaCmd
    ? {
        size: cmaCmd.size,
        base: cmaCmd.base,
        limit: cmaCmd.limit ? Math.min(cmaCmd.limit, archLimit) : archLimit,
        fixed: cmaCmd.limit !== 0 && cmaCmd.base + cmaCmd.size === cmaCmd.limit,
      }
    : { size: kconfigCmaSize(kconfig, ctx.memblock), base: 0, limit: archLimit, fixed: false };
  return req.size ? cmaDeclareContiguous({ ...req, name: "reserved" }, ctx) : null;
}
