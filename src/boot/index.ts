/**
 * boot(): one emulated boot of a 32-bit ARM kernel, in the order setup_arch() and mm_init() run:
 * DT memory and early parameters, the lowmem bounds, arm_memblock_init (image, initrd, page directory,
 * DT reserved-memory, the default CMA area), zones, mem_map, swiotlb and the `Memory:` line.
 * Pure: kernel messages go to the returned dmesg, bad input throws ConfigError/InputError.
 */
import { ConfigError, InputError } from "../errors.js";
import { parseEarlyParams } from "../kernel/cmdline.js";
import { Dmesg } from "../kernel/dmesg.js";
import { Kconfig } from "../kernel/kconfig.js";
import {
  type BootRules,
  type BuildConstants,
  defaultBuild,
  NAMED_PROFILES,
  type NamedProfile,
  resolveProfile,
} from "../kernel/profile.js";
import { type CmaArea, type CmaContext, cmaDeclareContiguous, cmaMinAlignBytes, pageOrders } from "./cma.js";
import type { BootConfig, RamBank, VmSplit } from "./config.js";
import type { DroppedRam } from "./layout.js";
import {
  adjustLowmemBounds,
  type BoundsContext,
  earlyVmalloc,
  layoutBlockLines,
  pageOffsetOf,
  sanityCheckMeminfo,
  virtualLayout,
  vmallocLimit,
} from "./layout.js";
import type { BootedMachine, PfnRange, ReservedRegion } from "./machine.js";
import { Memblock, mergedRanges } from "./memblock.js";
import { bootMeminfo, countPages, earlyLowmemAllocations, memoryLines, swiotlbInit } from "./memory-line.js";
import { scanReservedMem } from "./reserved-mem.js";
import { alignDown, alignUp, hex, PAGE_SIZE, pfnDown, pfnUp, SZ_1M, SZ_4G, toNum } from "./units.js";
import { printZoneRanges, printZonesF1, zoneSpans, zonesOf } from "./zones.js";

export type { BootConfig, RamBank, VmSplit } from "./config.js";

/** Above this the emulator refuses addresses (LPAE is 40-bit; numbers stay exact). */
const PHYS_LIMIT = 2n ** 40n;
const NO_LPAE = "above the 32-bit physical address space (no LPAE)";
const DEFAULT_RAM: RamBank[] = [{ base: 0x40000000n, size: 1n << 30n }];

/** Resolves `kernel` (a version or a named profile) into the era rules and the named defaults. */
export function resolveBootProfile(kernel = "6.1"): { named?: NamedProfile; version: string } {
  const named = NAMED_PROFILES.find((p) => p.id === kernel);
  if (named) return { named, version: named.version };
  // a branch or package name that carries a version ("rpi-4.19.y", "linux-6.1"): its major.minor
  const embedded = /^[a-z][a-z_-]*-v?(\d+\.\d+)(?:[.-]|$)/i.exec(kernel);
  if (embedded) return { version: embedded[1] };
  if (/^[a-z]/i.test(kernel) && !/^v\d/.test(kernel))
    throw new ConfigError(
      `--kernel ${kernel}: unknown profile; accepted: a version (2.6, 3.0 ... 6.x) or ${NAMED_PROFILES.map((p) => p.id).join(", ")}`,
    );
  return { version: kernel };
}

function splitFromKconfig(k: Kconfig): VmSplit | undefined {
  for (const s of ["1G", "2G", "3G_OPT", "3G"] as const) if (k.bool(`CONFIG_VMSPLIT_${s}`, false)) return s;
  if (k.has("CONFIG_PAGE_OFFSET")) {
    const po = k.int("CONFIG_PAGE_OFFSET", 0xc0000000);
    const found = (["3G", "3G_OPT", "2G", "1G"] as const).find((s) => pageOffsetOf(s, false) === po);
    if (!found) throw new ConfigError(`CONFIG_PAGE_OFFSET=${hex(po)}: not one of the VMSPLIT choices`);
    return found;
  }
  return undefined;
}

function checkBanks(banks: RamBank[], physOffset: bigint | undefined): void {
  const sorted = [...banks].sort((a, b) => (a.base < b.base ? -1 : 1));
  for (const b of sorted) {
    if (b.size <= 0n) throw new InputError(`bank ${hex(toNum(b.base))}: size must be > 0`, "--ram");
    if (b.base + b.size > PHYS_LIMIT)
      throw new InputError(
        `bank ${hex(toNum(b.base))}: ends above the 40-bit physical address space`,
        "--ram",
      );
    if (physOffset !== undefined && b.base < physOffset)
      throw new InputError(
        `bank at ${hex(toNum(b.base))} lies below PHYS_OFFSET ${hex(toNum(physOffset))}; RAM must start at or above it`,
        "--ram",
      );
  }
  for (let i = 1; i < sorted.length; i++) {
    const p = sorted[i - 1];
    if (sorted[i].base < p.base + p.size)
      throw new InputError(
        `banks ${hex(toNum(p.base))}+${hex(toNum(p.size))} and ${hex(toNum(sorted[i].base))} overlap; banks must be disjoint`,
        "--ram",
      );
  }
}

/** early_init_dt_add_memory_arch() (drivers/of/fdt.c) for one DT bank. */
function dtAddMemory(
  mb: Memblock,
  bank: RamBank,
  lpae: boolean,
  rules: BootRules,
  dmesg: Dmesg,
  dropped: DroppedRam[],
): void {
  const maxAddr = lpae ? PHYS_LIMIT - 1n : 0xffffffffn;
  let base = bank.base;
  let size = bank.size;
  const pageMask = BigInt(PAGE_SIZE - 1);
  const pre = rules.ofFdtPrefix;
  if (size < BigInt(PAGE_SIZE) - (base & pageMask)) {
    dmesg.warn(`${pre}Ignoring memory block 0x${base.toString(16)} - 0x${(base + size).toString(16)}`);
    return;
  }
  if (base & pageMask) {
    size -= BigInt(PAGE_SIZE) - (base & pageMask);
    base = (base + pageMask) & ~pageMask;
  }
  size &= ~pageMask;
  if (base > maxAddr) {
    dmesg.warn(`${pre}Ignoring memory block 0x${base.toString(16)} - 0x${(base + size).toString(16)}`);
    dropped.push({ base: toNum(base), end: toNum(base + size), why: NO_LPAE });
    return;
  }
  if (base + size - 1n > maxAddr) {
    dmesg.warn(
      `${pre}Ignoring memory range 0x${(maxAddr + 1n).toString(16)} - 0x${(base + size).toString(16)}`,
    );
    dropped.push({ base: toNum(maxAddr + 1n), end: toNum(base + size), why: NO_LPAE });
    size = maxAddr - base + 1n;
  }
  // memblock_cap_size(): without LPAE the region ends at 0xffffffff, losing the last (partial) page
  if (!lpae && base + size > maxAddr)
    dropped.push({
      base: toNum(maxAddr),
      end: toNum(maxAddr + 1n),
      why: "last page: phys_addr_t is 32 bits",
    });
  mb.add(toNum(base), toNum(size));
}

/** arm_add_memory() (arch/arm/kernel/setup.c): the `mem=` path, with its 32-bit truncation. */
function armAddMemory(
  mb: Memblock,
  start: bigint,
  size: bigint,
  physOffset: number,
  lpae: boolean,
  dmesg: Dmesg,
  dropped: DroppedRam[],
): void {
  const page = BigInt(PAGE_SIZE);
  let aligned = (start + page - 1n) & ~(page - 1n);
  size = aligned > start + size ? 0n : size - (aligned - start);
  const h = (n: bigint) => `0x${n.toString(16).padStart(8, "0")}`;
  if (!lpae) {
    if (aligned > 0xffffffffn) {
      dmesg.log("crit", `Ignoring memory at ${h(start)} outside 32-bit physical address space`);
      return;
    }
    if (aligned + size > 0xffffffffn) {
      dmesg.log("crit", `Truncating memory at ${h(start)} to fit in 32-bit physical address space`);
      dropped.push({ base: 0xffffffff, end: toNum(aligned + size), why: NO_LPAE });
      size = 0xffffffffn - aligned;
    }
  }
  const po = BigInt(physOffset);
  if (aligned < po) {
    if (aligned + size <= po) {
      dmesg.info(`Ignoring memory below PHYS_OFFSET: ${h(aligned)}-${h(aligned + size)}`);
      return;
    }
    dmesg.info(`Ignoring memory below PHYS_OFFSET: ${h(aligned)}-${h(po)}`);
    size -= po - aligned;
    aligned = po;
  }
  size &= ~(page - 1n);
  if (size === 0n || aligned + size > PHYS_LIMIT) return;
  mb.add(toNum(aligned), toNum(size));
}

const toPfnRange = (r: { base: number; end: number }): PfnRange => ({
  startPfn: pfnDown(r.base),
  endPfn: pfnUp(r.end),
});

/** Emulates one boot. */
export function boot(config: BootConfig): BootedMachine {
  const { named, version } = resolveBootProfile(config.kernel);
  const profile = resolveProfile(version);
  const rules = profile.boot;
  const kconfig = new Kconfig({ ...named?.kconfig, ...config.kconfig });
  const lpae = config.lpae ?? kconfig.bool("CONFIG_ARM_LPAE", named?.lpae ?? false);
  const highmem = config.highmem ?? kconfig.bool("CONFIG_HIGHMEM", true);
  const thumb2 = config.thumb2 ?? kconfig.bool("CONFIG_THUMB2_KERNEL", false);
  const split = config.split ?? splitFromKconfig(kconfig) ?? "3G";
  const pageOffset = pageOffsetOf(split, lpae);
  const build: BuildConstants = { ...defaultBuild(lpae), ...config.build };
  const dmesg = new Dmesg();
  const dt = config.dt;

  const banks = config.ram ?? (dt?.memory.length ? dt.memory : DEFAULT_RAM);
  checkBanks(banks, config.physOffset);
  const sortedBanks = [...banks].sort((a, c) => (a.base < c.base ? -1 : 1));
  const lowestBase = sortedBanks[0].base;
  // PHYS_OFFSET: where the kernel runs, the start of RAM rounded down to 16 MiB (phys/virt patching)
  const physOffset = toNum(config.physOffset ?? lowestBase - (lowestBase % (16n << 20n)));
  if (physOffset + (SZ_4G - pageOffset) > 2 ** 40) throw new ConfigError("PHYS_OFFSET too high");

  const cmdline = config.cmdline ?? dt?.bootargs ?? "";
  const early = parseEarlyParams(cmdline);
  const warnings = [...(dt?.warnings ?? []), ...early.warnings];

  // setup_machine_fdt(): the DT memory nodes
  const mb = new Memblock(lpae ? Number.MAX_SAFE_INTEGER : 0xffffffff);
  const dropped: DroppedRam[] = [];
  for (const b of sortedBanks) dtAddMemory(mb, b, lpae, rules, dmesg, dropped);

  // parse_early_param(), in command-line order
  let vmallocBytes: number | undefined;
  let cmaCmd: { size: number; base: number; limit: number } | undefined;
  let initrd = config.initrd ?? named?.initrd;
  let memSeen = false;
  const cmaEnabled = kconfig.bool("CONFIG_CMA", true) && kconfig.bool("CONFIG_DMA_CMA", true);
  for (const p of early.params) {
    if (p.kind === "mem") {
      if (!memSeen) {
        memSeen = true;
        mb.remove(mb.startOfDram(), mb.endOfDram());
      }
      armAddMemory(
        mb,
        p.mem.startBytes ?? BigInt(physOffset),
        p.mem.sizeBytes,
        physOffset,
        lpae,
        dmesg,
        dropped,
      );
    } else if (p.kind === "vmalloc")
      vmallocBytes = earlyVmalloc(Number(p.sizeBytes % 2n ** 32n), rules, pageOffset, dmesg);
    else if (p.kind === "cma") {
      if (!cmaEnabled)
        warnings.push(`cmdline: '${p.cma.token}': CONFIG_DMA_CMA is off, the kernel ignores it`);
      else {
        // size_cmdline, base_cmdline and limit_cmdline are phys_addr_t: 32 bits without LPAE
        const physT = (v: bigint) => toNum(lpae ? v % PHYS_LIMIT : v % 2n ** 32n);
        const size = physT(p.cma.sizeBytes);
        if (!lpae && p.cma.sizeBytes >= 2n ** 32n)
          warnings.push(`cmdline: '${p.cma.token}': the size wraps in a 32-bit phys_addr_t to ${hex(size)}`);
        if (rules.cmaCmdlinePlacement)
          cmaCmd = { size, base: physT(p.cma.baseBytes), limit: physT(p.cma.limitBytes) };
        else {
          if (p.cma.baseBytes)
            warnings.push(`cmdline: '${p.cma.token}': kernel ${version} reads only the size of cma=`);
          cmaCmd = { size, base: 0, limit: 0 };
        }
      }
    } else if (p.kind === "initrd" && !config.initrd) initrd = { start: p.startBytes, size: p.sizeBytes };
  }
  if (!initrd && dt?.initrd && !config.initrd)
    initrd = { start: dt.initrd.start, size: dt.initrd.end - dt.initrd.start };
  if (!mb.memory.length) {
    const said = dmesg.texts().filter((t) => /memory|RAM/.test(t));
    throw new ConfigError(
      `no RAM left after the memory nodes and mem=, nothing to boot${said.length ? ` (the kernel said: ${said.join("; ")})` : ""}`,
    );
  }

  // setup_dma_zone(): arm_dma_limit (inclusive)
  const zoneDma = kconfig.bool("CONFIG_ZONE_DMA", false);
  const armDmaLimit = zoneDma
    ? config.dmaZoneSize
      ? physOffset + toNum(config.dmaZoneSize) - 1
      : 0xffffffff
    : lpae
      ? Number.MAX_SAFE_INTEGER
      : 0xffffffff;
  const armDmaPfnLimit = zoneDma ? Math.floor(armDmaLimit / PAGE_SIZE) : 0xfffff;

  const boundsCtx: BoundsContext = {
    memblock: mb,
    rules,
    lpae,
    highmem,
    vmallocLimit: vmallocLimit(rules, pageOffset, physOffset, vmallocBytes),
    dmesg,
    dropped,
  };
  const adjust = rules.lowmemBounds === "adjust_lowmem_bounds";
  let bounds = adjust ? adjustLowmemBounds(boundsCtx) : sanityCheckMeminfo(boundsCtx);

  // arm_memblock_init()
  // the image and swapper_pg_dir sit at fixed offsets above the start of RAM, where the boot loader
  // (or the decompressor) put the kernel; PHYS_OFFSET is that address rounded down to 16 MiB
  const ramStart = mb.startOfDram();
  const image = ramStart + build.imageOffsetBytes;
  mb.reserve(image, image + build.imageBytes, "kernel");
  let initrdKb = 0;
  if (initrd && initrd.size > 0n) {
    const start = alignDown(toNum(initrd.start), PAGE_SIZE);
    const size = alignUp(toNum(initrd.size) + (toNum(initrd.start) - start), PAGE_SIZE);
    const what = `INITRD: 0x${start.toString(16).padStart(8, "0")}+0x${size.toString(16).padStart(8, "0")}`;
    if (!mb.isRegionMemory(start, start + size))
      dmesg.err(`${what} is not a memory region - disabling initrd`);
    else if (mb.isRegionReserved(start, start + size))
      dmesg.err(`${what} overlaps in-use memory region - disabling initrd`);
    else {
      mb.reserve(start, start + size, "initrd");
      initrdKb = Math.floor(toNum(initrd.size) / 1024);
    }
  }
  const pgdirBytes = lpae ? 0x5000 : 0x4000;
  const text = ramStart + build.textOffsetBytes;
  mb.reserve(text - pgdirBytes, text, "swapper_pg_dir");
  const dtb = config.dtb ?? named?.dtb;
  if (dtb) mb.reserve(toNum(dtb.start), toNum(dtb.start + dtb.size), "dtb");

  const { maxOrder, pageblockOrder } = pageOrders(rules, kconfig, lpae);
  const alignBytes = cmaMinAlignBytes(rules, kconfig, lpae);
  const areas: CmaArea[] = [];
  const cmaCtx: CmaContext = {
    memblock: mb,
    rules,
    lpae,
    dmesg,
    highmemStart: bounds.armLowmemLimit,
    alignBytes,
    maxAreas: kconfig.int("CONFIG_CMA_AREAS", 7),
    areas,
    leaked: [],
  };
  let pools: { name: string; base: number; size: number }[] = [];
  let defaultFromDt = false;
  let noMapRegions: { base: number; end: number; owner: string }[] = [];
  const activationFailures: string[] = [];
  if (dt) {
    const r = scanReservedMem(dt, {
      memblock: mb,
      rules,
      lpae,
      dmesg,
      cma: cmaCtx,
      cmaCmdlineGiven: cmaCmd !== undefined,
      kconfigCma: kconfig.bool("CONFIG_CMA", true),
      minAlignBytes: alignBytes,
    });
    pools = r.pools;
    defaultFromDt = r.defaultCmaFromDt;
    noMapRegions = r.noMap.filter((n) => !pools.some((p) => p.base === n.base));
  }

  // dma_contiguous_reserve(): the default area
  if (cmaEnabled && !defaultFromDt) {
    const archLimit =
      rules.cmaPlacement === "P0" ? Math.min(armDmaLimit, bounds.armLowmemLimit) : armDmaLimit;
    let req: { size: number; base: number; limit: number; fixed: boolean };
    if (cmaCmd) {
      const limit = cmaCmd.limit ? Math.min(cmaCmd.limit, archLimit) : archLimit;
      req = {
        size: cmaCmd.size,
        base: cmaCmd.base,
        limit,
        fixed: cmaCmd.limit !== 0 && cmaCmd.base + cmaCmd.size === cmaCmd.limit,
      };
    } else req = { size: kconfigCmaSize(kconfig, mb), base: 0, limit: archLimit, fixed: false };
    const area = req.size ? cmaDeclareContiguous({ ...req, name: "reserved" }, cmaCtx) : null;
    // a fixed area outside RAM is reserved, then cma_activate_area() finds invalid pfns (core_initcall)
    if (area && !mb.isRegionMemory(area.base, area.base + area.size)) {
      activationFailures.push(`cma: CMA area ${area.name} could not be activated`);
      warnings.push(`cma=: the area at ${hex(area.base)} is not inside RAM; the kernel cannot use it`);
      areas.splice(areas.indexOf(area), 1);
    }
  }

  // setup_arch(): the second adjust_lowmem_bounds() once no-map regions are NOMAP
  if (adjust) bounds = adjustLowmemBounds(boundsCtx);
  const armLowmemLimit = bounds.armLowmemLimit;
  const highMemoryVirt = armLowmemLimit - physOffset + pageOffset;
  const layout = virtualLayout(rules, pageOffset, highMemoryVirt, highmem, thumb2);

  // paging_init(): early allocations below arm_lowmem_limit, then the zones
  mb.currentLimit = armLowmemLimit;
  const spans = zoneSpans({
    memblock: mb,
    armLowmemLimit,
    dmaPfnLimit: zoneDma ? armDmaPfnLimit : null,
    dmaZonePages: zoneDma && config.dmaZoneSize ? toNum(config.dmaZoneSize) / PAGE_SIZE : 0,
    rules,
    highmem,
  });
  if (rules.zoneFormat === "F2") printZoneRanges(spans, mb, dmesg);
  // with !HIGHMEM, an unaligned first bank can make adjust_lowmem_bounds() remove all RAM
  const panic = mb.memory.length
    ? earlyLowmemAllocations(mb, build, maxOrder, dmesg)
    : "no RAM left below the lowmem limit: the kernel dies before printing anything";
  if (!panic) {
    if (rules.zoneFormat === "F1" || rules.f1Debug) printZonesF1(spans, mb, rules, dmesg);
    dmesg.notice(`Kernel command line: ${cmdline}`);
    const maxPfn = pfnDown(mb.endOfDram());
    if (lpae && rules.lpaeSwiotlb && maxPfn > armDmaPfnLimit) swiotlbInit(mb, rules, lpae, dmesg);
  }

  const pc = countPages(mb, spans, armLowmemLimit, areas);
  const hasDefaultArea = areas.some((a) => a.isDefault);
  if (!panic) {
    for (const l of memoryLines(rules, build, pc, { highmem, cma: kconfig.bool("CONFIG_CMA", true) }, mb))
      dmesg.info(l);
    for (const l of layoutBlockLines(rules, layout, {
      modules: kconfig.bool("CONFIG_MODULES", true),
      cma: cmaEnabled,
    }))
      dmesg.notice(l);
    if (profile.runtime.dmaPath !== "D0")
      dmesg.info("DMA: preallocated 256 KiB pool for atomic coherent allocations");
    for (const f of activationFailures) dmesg.err(f);
  }

  // whole pages only, as the buddy allocator sees RAM
  const inward = (r: { base: number; end: number }): PfnRange => ({
    startPfn: pfnUp(r.base),
    endPfn: pfnDown(r.end),
  });
  const memory = mb.memory.filter((r) => !r.nomap).map(inward);
  const nomap = mb.memory.filter((r) => r.nomap).map(inward);
  const reserved: ReservedRegion[] = [
    ...mb.reserved,
    ...noMapRegions.map((r) => ({ ...r, owner: `${r.owner} (no-map)` })),
  ]
    .sort((a, b) => a.base - b.base)
    .map((r) => ({ ...toPfnRange(r), owner: r.owner }));
  return {
    profile,
    profileName: named?.id ?? "generic",
    evidence: named?.evidence ?? "computed",
    lpae,
    highmem,
    layout,
    physOffsetPfn: pfnDown(physOffset),
    memory,
    nomap,
    reserved,
    armLowmemLimitPfn: pfnDown(armLowmemLimit),
    maxPfn: pfnDown(mb.endOfDram()),
    zones: zonesOf(spans, mb),
    cmaAreas: areas.map((a) => ({
      name: a.name,
      basePfn: pfnDown(a.base),
      countPages: a.size / PAGE_SIZE,
      orderPerBit: 0,
      isDefault: a.isDefault,
      inHighmem: a.base >= armLowmemLimit,
    })),
    dmaPools: pools.map((p) => ({ name: p.name, ...toPfnRange({ base: p.base, end: p.base + p.size }) })),
    freePagesByZone: freePagesAfterBoot(pc.freeByZone, build.initKb + initrdKb),
    meminfo: bootMeminfo({
      rules,
      pc,
      highmem,
      build,
      initrdKb,
      vmallocTotalKb: (layout.vmalloc.end - layout.vmalloc.start) / 1024,
      atomicPoolKb: hasDefaultArea && profile.runtime.dmaPath !== "D0" ? 256 : 0,
    }),
    dmesg: dmesg.lines,
    ...(panic ? { panic } : {}),
    kconfig: kconfig.map,
    maxOrder,
    pageblockOrder,
    cmaMinAlignBytes: alignBytes,
    armDmaPfnLimit,
    memblockLimitPfn: pfnDown(bounds.memblockLimit),
    droppedRam: dropped.sort((a, b) => a.base - b.base).map((d) => ({ ...toPfnRange(d), reason: d.why })),
    leakedCma: cmaCtx.leaked.map(toPfnRange),
    warnings,
  };
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

/** Free pages per zone once init memory and the initrd are freed into lowmem (first lowmem zone). */
function freePagesAfterBoot(byZone: Record<string, number>, freedKb: number): Record<string, number> {
  const out = { ...byZone };
  const low = "DMA" in out ? "DMA" : "Normal";
  if (low in out) out[low] += freedKb / 4;
  return out;
}
