/**
 * boot(): one emulated boot of a 32-bit ARM kernel, in the order setup_arch() and mm_init() run:
 * DT memory and early parameters, the lowmem bounds, arm_memblock_init (image, initrd, page directory,
 * DT reserved-memory, the default CMA area), zones, mem_map, swiotlb and the `Memory:` line.
 * Pure: kernel messages go to the returned dmesg, bad input throws ConfigError/InputError.
 */
import { ConfigError } from "../errors.js";
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
import { type CmaArea, type CmaContext, cmaMinAlignBytes, dmaContiguousReserve, pageOrders } from "./cma.js";
import type { BootConfig, RamBank, VmSplit } from "./config.js";
import type { DroppedRam } from "./layout.js";
import {
  adjustLowmemBounds,
  type BoundsContext,
  layoutBlockLines,
  pageOffsetOf,
  sanityCheckMeminfo,
  virtualLayout,
  vmallocLimit,
} from "./layout.js";
import type { BootedMachine, PfnRange, ReservedRegion } from "./machine.js";
import { Memblock } from "./memblock.js";
import { bootMeminfo, countPages, earlyLowmemAllocations, memoryLines, swiotlbInit } from "./memory-line.js";
import { applyEarlyParams, checkBanks, dtAddMemory } from "./memory-nodes.js";
import { scanReservedMem } from "./reserved-mem.js";
import { alignDown, alignUp, hex, PAGE_SIZE, pfnDown, pfnUp, SZ_4G, toNum } from "./units.js";
import {
  printZoneRanges,
  printZonesF1,
  structPageBytes,
  type ZoneSpan,
  zoneSpans,
  zonesOf,
} from "./zones.js";

export type { BootConfig, RamBank, VmSplit } from "./config.js";

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
  const cmaEnabled = kconfig.bool("CONFIG_CMA", true) && kconfig.bool("CONFIG_DMA_CMA", true);
  const earlyMem = applyEarlyParams(early.params, {
    mb,
    rules,
    lpae,
    pageOffset,
    physOffset,
    cmaEnabled,
    version,
    dmesg,
    dropped,
    warnings,
  });
  const { vmallocBytes, cmaCmd } = earlyMem;
  let initrd = config.initrd ?? earlyMem.initrd ?? named?.initrd;
  if (!config.initrd && !earlyMem.initrd && dt?.initrd)
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

  // arm_memblock_init(): the image, the initrd, swapper_pg_dir, the DTB, then DT pools and CMA
  const { initrdKb, initrdEnd } = reserveBootImages(mb, {
    build,
    lpae,
    initrd,
    dtb: config.dtb ?? named?.dtb,
    dmesg,
  });

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

  if (cmaEnabled && !defaultFromDt) {
    // dma_contiguous_reserve(arm_dma_limit), or min(arm_dma_limit, arm_lowmem_limit) before 3.18
    const archLimit =
      rules.cmaPlacement === "P0" ? Math.min(armDmaLimit, bounds.armLowmemLimit) : armDmaLimit;
    const area = dmaContiguousReserve(archLimit, cmaCmd, kconfig, cmaCtx);
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
  const structPage = structPageBytes(rules, kconfig);
  let panic = mb.memory.length
    ? earlyLowmemAllocations(mb, build, maxOrder, structPage, dmesg)
    : "no RAM left below the lowmem limit: the kernel dies before printing anything";
  if (!panic) {
    if (rules.zoneFormat === "F1" || rules.f1Debug) printZonesF1(spans, mb, rules, structPage, dmesg);
    panic = setupBootConfig(rules, initrdEnd, { armLowmemLimit, physOffset, pageOffset }, dmesg);
  }
  if (!panic) {
    dmesg.notice(`Kernel command line: ${cmdline}`);
    const maxPfn = pfnDown(mb.endOfDram());
    if (lpae && rules.lpaeSwiotlb && maxPfn > armDmaPfnLimit) swiotlbInit(mb, rules, lpae, dmesg);
  }

  // mem_init() prints the Memory: line with every reserved area; cma_activate_area() (core_initcall,
  // later) gives up an area whose pages span two zones and frees its pages to the buddy allocator
  const atMemInit = countPages(mb, spans, armLowmemLimit, areas);
  const straddlers = areas.filter((x) => spansZones(x, spans));
  for (const a of straddlers) {
    activationFailures.push(`cma: CMA area ${a.name} could not be activated`);
    warnings.push(`cma: the area ${a.name} spans two zones, so the kernel cannot use it`);
    areas.splice(areas.indexOf(a), 1);
  }
  const pc = straddlers.length ? countPages(mb, spans, armLowmemLimit, areas) : atMemInit;
  const hasDefaultArea = areas.some((a) => a.isDefault);
  if (!panic) {
    for (const l of memoryLines(
      rules,
      build,
      atMemInit,
      { highmem, cma: kconfig.bool("CONFIG_CMA", true) },
      mb,
    ))
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
    droppedRam: droppedPfns(dropped),
    leakedCma: cmaCtx.leaked.map(toPfnRange),
    warnings,
  };
}

/**
 * The first reservations of arm_memblock_init(): the kernel image, the initrd (arm_initrd_init, with
 * its "disabling initrd" checks), swapper_pg_dir (arm_mm_memblock_reserve) and the DTB
 * (early_init_fdt_reserve_self). The image and swapper_pg_dir sit at fixed offsets above the start of
 * RAM, where the boot loader or the decompressor put the kernel. Returns the kept initrd: KiB and end.
 */
function reserveBootImages(
  mb: Memblock,
  o: {
    build: BuildConstants;
    lpae: boolean;
    initrd?: { start: bigint; size: bigint };
    dtb?: { start: bigint; size: bigint };
    dmesg: Dmesg;
  },
): { initrdKb: number; initrdEnd?: number } {
  const ramStart = mb.startOfDram();
  const image = ramStart + o.build.imageOffsetBytes;
  mb.reserve(image, image + o.build.imageBytes, "kernel");
  let initrdKb = 0;
  let initrdEnd: number | undefined;
  if (o.initrd && o.initrd.size > 0n) {
    // rounded to pages as free_initrd_mem() frees them
    const start = alignDown(toNum(o.initrd.start), PAGE_SIZE);
    const size = alignUp(toNum(o.initrd.size) + (toNum(o.initrd.start) - start), PAGE_SIZE);
    const what = `INITRD: 0x${start.toString(16).padStart(8, "0")}+0x${size.toString(16).padStart(8, "0")}`;
    if (!mb.isRegionMemory(start, start + size))
      o.dmesg.err(`${what} is not a memory region - disabling initrd`);
    else if (mb.isRegionReserved(start, start + size))
      o.dmesg.err(`${what} overlaps in-use memory region - disabling initrd`);
    else {
      mb.reserve(start, start + size, "initrd");
      initrdKb = Math.floor(toNum(o.initrd.size) / 1024);
      initrdEnd = toNum(o.initrd.start + o.initrd.size);
    }
  }
  const pgdirBytes = o.lpae ? 0x5000 : 0x4000;
  const text = ramStart + o.build.textOffsetBytes;
  mb.reserve(text - pgdirBytes, text, "swapper_pg_dir");
  if (o.dtb) mb.reserve(toNum(o.dtb.start), toNum(o.dtb.start + o.dtb.size), "dtb");
  return { initrdKb, initrdEnd };
}

/** An area whose pages lie in two zones (alloc_contig_range() needs one zone). */
function spansZones(a: CmaArea, spans: ZoneSpan[]): boolean {
  const start = pfnDown(a.base);
  const end = pfnDown(a.base + a.size);
  return spans.some((z) => z.startPfn > start && z.startPfn < end);
}

/**
 * setup_boot_config() in start_kernel() (5.7+): get_boot_config_from_initrd() compares the initrd's
 * last 12 bytes with the bootconfig magic through __va(). arm_memblock_init() never checked that
 * the initrd is in lowmem, so an initrd above arm_lowmem_limit faults there [oracle-sweep:
 * vmalloc=880M on 2 GiB, the initrd at 0x48000000]. Returns the panic, if any.
 */
function setupBootConfig(
  rules: BootRules,
  initrdEnd: number | undefined,
  at: { armLowmemLimit: number; physOffset: number; pageOffset: number },
  dmesg: Dmesg,
): string | undefined {
  if (!rules.initrdTailReadAtBoot || initrdEnd === undefined || initrdEnd <= at.armLowmemLimit)
    return undefined;
  const fault = Math.max(initrdEnd - BOOTCONFIG_MAGIC_LEN, at.armLowmemLimit);
  const virt = (fault - at.physOffset + at.pageOffset) >>> 0;
  dmesg.log(
    "alert",
    `Unable to handle kernel paging request at virtual address ${virt.toString(16).padStart(8, "0")}`,
  );
  const panic = "Attempted to kill the idle task!";
  dmesg.log("emerg", `Kernel panic - not syncing: ${panic}`);
  return `the initrd ends above the lowmem limit, and start_kernel() reads it through the linear map: ${panic}`;
}

const BOOTCONFIG_MAGIC_LEN = 12;

/** Dropped RAM in page frames, sorted; a range inside a larger one (the lost last page) is left out. */
function droppedPfns(dropped: DroppedRam[]): (PfnRange & { reason: string })[] {
  const pfns = dropped
    .map((d) => ({ ...toPfnRange(d), reason: d.why }))
    .sort((a, b) => a.startPfn - b.startPfn);
  const covers = (e: PfnRange, d: PfnRange) => e.startPfn <= d.startPfn && e.endPfn >= d.endPfn;
  return pfns.filter((d, i) => !pfns.some((e, j) => j !== i && covers(e, d) && (!covers(d, e) || j < i)));
}

/** Free pages per zone once init memory and the initrd are freed into lowmem (first lowmem zone). */
function freePagesAfterBoot(byZone: Record<string, number>, freedKb: number): Record<string, number> {
  const out = { ...byZone };
  const low = "DMA" in out ? "DMA" : "Normal";
  if (low in out) out[low] += freedKb / 4;
  return out;
}
