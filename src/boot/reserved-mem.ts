/**
 * Device-tree /reserved-memory (drivers/of/of_reserved_mem.c, kernel/dma/contiguous.c rmem_cma_setup,
 * kernel/dma/coherent.c rmem_dma_setup): static and dynamic nodes, no-map, CMA pools, per-device
 * coherent pools, and the era's messages (SPEC §3.5).
 */
import type { DtInfo, DtReservedNode } from "../input/dts.js";
import type { Dmesg } from "../kernel/dmesg.js";
import type { BootRules } from "../kernel/profile.js";
import type { CmaContext } from "./cma.js";
import { ALLOC_ANYWHERE, type Memblock } from "./memblock.js";
import { fmtPa, isAligned, SZ_1M, toNum } from "./units.js";

export interface DmaPool {
  name: string;
  base: number;
  size: number;
}

export interface ReservedMemResult {
  pools: DmaPool[];
  /** a DT pool became the default CMA area (the Kconfig/cmdline area is then not created) */
  defaultCmaFromDt: boolean;
  /** static no-map regions: removed or NOMAP in memblock, listed here for the physical map */
  noMap: { base: number; end: number; owner: string }[];
}

interface Rmem {
  node: DtReservedNode;
  base: number;
  size: number;
}

const SMP_CACHE_BYTES = 64;

/** early_init_dt_reserve_memory(): no-map removes (or marks NOMAP), else reserves. */
function reserveRegion(
  mb: Memblock,
  rules: BootRules,
  base: number,
  size: number,
  nomap: boolean,
  owner: string,
  result: ReservedMemResult,
): boolean {
  if (nomap) {
    if (mb.overlapsMemory(base, base + size) && mb.isRegionReserved(base, base + size)) return false;
    if (rules.dtNoMap === "nomap") mb.setNomap(base, base + size, true);
    else mb.remove(base, base + size);
    result.noMap.push({ base, end: base + size, owner });
    return true;
  }
  mb.reserve(base, base + size, owner);
  return true;
}

export interface ReservedMemContext {
  memblock: Memblock;
  rules: BootRules;
  lpae: boolean;
  dmesg: Dmesg;
  cma: CmaContext;
  /** `cma=` was given (size_cmdline != -1) */
  cmaCmdlineGiven: boolean;
  kconfigCma: boolean;
  minAlignBytes: number;
}

/** fdt_scan_reserved_mem() + fdt_init_reserved_mem() */
export function scanReservedMem(dt: DtInfo, ctx: ReservedMemContext): ReservedMemResult {
  const { memblock: mb, rules, lpae, dmesg } = ctx;
  const pre = rules.ofReservedMemPrefix;
  const result: ReservedMemResult = { pools: [], defaultCmaFromDt: false, noMap: [] };
  for (const r of dt.memreserve) mb.reserve(toNum(r.base), toNum(r.base + r.size), "memreserve");
  if (!dt.reserved.length) return result;
  if (!dt.reservedMemoryUsable) {
    dmesg.err("Reserved memory: unsupported node format, ignoring");
    return result;
  }
  const rmems: Rmem[] = [];
  for (const node of dt.reserved) {
    if (!node.available) continue;
    if (node.reg.length) {
      let first: Rmem | undefined;
      for (const r of node.reg) {
        const base = toNum(r.base);
        const size = toNum(r.size);
        if (!(size && reserveRegion(mb, rules, base, size, node.noMap, `dt:${node.name}`, result)))
          dmesg.err(
            `${pre}failed to reserve memory for node '${node.name}': base ${fmtPa(base, lpae)}, size ${Math.floor(size / SZ_1M)} MiB`,
          );
        first ??= { node, base, size };
      }
      if (first) rmems.push(first);
    } else if (node.size !== undefined) rmems.push({ node, base: 0, size: 0 });
  }
  checkForOverlap(rmems, ctx);
  for (const rmem of rmems) {
    const { node } = rmem;
    if (rmem.size === 0 && !allocSize(rmem, ctx)) continue;
    const err = initNode(rmem, ctx, result);
    if (err) {
      dmesg.info(`${pre}node ${node.name} compatible matching fail`);
      if (node.noMap) {
        if (rules.dtNoMap === "nomap") mb.setNomap(rmem.base, rmem.base + rmem.size, false);
      }
      mb.free(rmem.base, rmem.base + rmem.size);
    }
  }
  return result;
}

/** __rmem_check_for_overlap(): static regions sorted by base; dynamic ones (size 0 yet) never overlap. */
function checkForOverlap(rmems: Rmem[], ctx: ReservedMemContext): void {
  const sorted = [...rmems].sort((a, b) => a.base - b.base || a.size - b.size);
  for (let i = 0; i + 1 < sorted.length; i++) {
    const a = sorted[i];
    const b = sorted[i + 1];
    if (a.base + a.size > b.base) {
      const pa = (n: number) => fmtPa(n, ctx.lpae);
      ctx.dmesg.err(`${ctx.rules.ofReservedMemPrefix}OVERLAP DETECTED!`);
      ctx.dmesg.err(
        `${a.node.name} (${pa(a.base)}--${pa(a.base + a.size)}) overlaps with ${b.node.name} (${pa(b.base)}--${pa(b.base + b.size)})`,
      );
    }
  }
}

/** __reserved_mem_alloc_size(): a dynamic node, top-down in each alloc-range in turn. */
function allocSize(rmem: Rmem, ctx: ReservedMemContext): boolean {
  const { node } = rmem;
  const { memblock: mb, rules, dmesg } = ctx;
  const size = toNum(node.size ?? 0n);
  let align = toNum(node.alignment ?? 0n);
  if (node.compatible.includes("shared-dma-pool") && node.reusable && !node.noMap && ctx.kconfigCma)
    align = Math.max(align, ctx.minAlignBytes);
  align ||= SMP_CACHE_BYTES;
  let base = 0;
  const owner = `dt:${node.name}`;
  const ranges = node.allocRanges.length ? node.allocRanges : [{ base: 0n, size: 0n }];
  for (const r of ranges) {
    const start = toNum(r.base);
    const end = r.size ? toNum(r.base + r.size) : ALLOC_ANYWHERE;
    base = mb.allocRange(size, align, start, end, owner);
    if (base) {
      if (node.noMap) reserveNomapAfterAlloc(mb, rules, base, size);
      break;
    }
  }
  if (!base) {
    dmesg.err(
      ctx.rules.ofReservedMemPrefix === "OF: reserved mem: "
        ? `OF: reserved mem: failed to allocate memory for node '${node.name}': size ${Math.floor(size / SZ_1M)} MiB`
        : `Reserved memory: failed to allocate memory for node '${node.name}'`,
    );
    return false;
  }
  rmem.base = base;
  rmem.size = size;
  return true;
}

function reserveNomapAfterAlloc(mb: Memblock, rules: BootRules, base: number, size: number): void {
  if (rules.dtNoMap === "nomap") mb.setNomap(base, base + size, true);
  else mb.remove(base, base + size);
}

/** __reserved_mem_init_node(): the first matching setup function that succeeds. Returns an error flag. */
function initNode(rmem: Rmem, ctx: ReservedMemContext, result: ReservedMemResult): boolean {
  const { node } = rmem;
  const { dmesg, rules, lpae } = ctx;
  if (!node.compatible.includes("shared-dma-pool")) return false; // -ENOENT: plain reservation
  const initialized = () =>
    dmesg.info(`${rules.ofReservedMemPrefix}initialized node ${node.name}, compatible id shared-dma-pool`);
  // rmem_cma_setup() comes first in link order (contiguous.o before coherent.o)
  if (ctx.kconfigCma && rmemCmaSetup(rmem, ctx, result)) {
    initialized();
    return false;
  }
  // rmem_dma_setup()
  if (!node.reusable && node.noMap) {
    dmesg.info(
      `Reserved memory: created DMA memory pool at ${fmtPa(rmem.base, lpae)}, size ${Math.floor(rmem.size / SZ_1M)} MiB`,
    );
    result.pools.push({ name: node.name, base: rmem.base, size: rmem.size });
    initialized();
    return false;
  }
  if (!node.reusable && !node.noMap)
    dmesg.err("Reserved memory: regions without no-map are not yet supported");
  return true;
}

function rmemCmaSetup(rmem: Rmem, ctx: ReservedMemContext, result: ReservedMemResult): boolean {
  const { node } = rmem;
  const { dmesg, rules, lpae } = ctx;
  if (rules.dtCmaDefaultYieldsToCmdline && ctx.cmaCmdlineGiven && node.cmaDefault) {
    dmesg.info(`Reserved memory: bypass ${node.name} node, using cmdline CMA params instead`);
    return false;
  }
  if (!node.reusable || node.noMap) return false;
  if (!isAligned(rmem.base, ctx.minAlignBytes) || !isAligned(rmem.size, ctx.minAlignBytes)) {
    dmesg.err("Reserved memory: incorrect alignment of CMA region");
    return false;
  }
  // cma_init_reserved_mem()
  if (ctx.cma.areas.length >= ctx.cma.maxAreas) {
    dmesg.err("cma: Not enough slots for CMA reserved regions!");
    dmesg.err("Reserved memory: unable to setup CMA region");
    return false;
  }
  const r = ctx.memblock.reserved.find((x) => x.base === rmem.base && x.owner === `dt:${node.name}`);
  if (r) r.owner = `cma:${node.name}`;
  ctx.cma.areas.push({ name: node.name, base: rmem.base, size: rmem.size, isDefault: node.cmaDefault });
  if (node.cmaDefault) result.defaultCmaFromDt = true;
  dmesg.info(
    `Reserved memory: created CMA memory pool at ${fmtPa(rmem.base, lpae)}, size ${Math.floor(rmem.size / SZ_1M)} MiB`,
  );
  return true;
}
