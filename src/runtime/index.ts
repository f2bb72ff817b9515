/**
 * The running kernel: the allocators a booted machine answers requests with (SPEC §4, §5, §6).
 * `new Runtime(machine)` activates the CMA areas, takes the atomic DMA pool, places the boot-time
 * vmalloc occupants and seeds the page allocator; then dmaAlloc/dmaFree, vmalloc/vfree,
 * ioremap/iounmap and moduleAlloc/moduleFree answer like the kernel of the machine's profile.
 */
import type { BootedMachine, PfnRange } from "../boot/machine.js";
import type { VmallocinfoEntry, VmallocinfoKind } from "../input/vmallocinfo.js";
import { Dmesg } from "../kernel/dmesg.js";
import { Kconfig } from "../kernel/kconfig.js";
import { PageBitmap } from "../wasm/page-bitmap.js";
import type { DmaAllocResult, DmaAttrs, DmaDevice, GfpFlags } from "./api.js";
import type { BitmapFactory } from "./bitmap.js";
import { Buddy, type BuddyZoneSpec } from "./buddy.js";
import { ALWAYS_MIGRATABLE, CmaArea } from "./cma.js";
import { DmaApi, getOrder } from "./dma.js";
import { MovablePages, type MovableParams, NO_MOVABLE } from "./movable.js";
import { type BuddyPreset, type OccupantPreset, QEMU_VIRT_6_1, QEMU_VIRT_6_1_BUDDY } from "./presets.js";
import { RateLimit } from "./ratelimit.js";
import { PAGE_SIZE, VM_IOREMAP, VmapSpace, VmKind } from "./vmalloc.js";

export interface RuntimeOptions {
  /** bitmap implementation (default: the WASM PageBitmap) */
  bitmapFactory?: BitmapFactory;
  /** boot-time vmalloc occupants: a parsed /proc/vmallocinfo (replaces the preset) */
  vmallocinfo?: VmallocinfoEntry[];
  /** occupant preset when no vmallocinfo is given */
  occupants?: OccupantPreset;
  /** a real /proc/meminfo to seed free memory (LowFree, HighFree in kB) */
  meminfo?: Record<string, number>;
  buddyPreset?: BuddyPreset;
  /** CONFIG_CMA_ALIGNMENT (default: the machine's kconfig, else 8) */
  cmaAlignment?: number;
  /** number of buddy orders (default: machine.maxOrder + 1; Debian 6.1 ARCH_FORCE_MAX_ORDER=12) */
  maxOrder?: number;
  /** CONFIG_TRANSPARENT_HUGEPAGE (raises min_free_kbytes; default: the kconfig, else LPAE kernels) */
  transparentHugepage?: boolean;
  /** pageblock_order (default: machine.pageblockOrder) */
  pageblockOrder?: number;
  /** online CPUs (lazy_max_pages) */
  cpus?: number;
  /** CONFIG_SMP (IOREMAP_MAX_ORDER) */
  smp?: boolean;
  movable?: MovableParams;
  /** DEFAULT_DMA_COHERENT_POOL_SIZE or coherent_pool= (bytes) */
  atomicPoolBytes?: number;
  /** CONFIG_ARM_MODULE_PLTS: module_alloc falls back to the vmalloc area (default: the kconfig) */
  modulePlts?: boolean;
  /**
   * false: no debug-level lines ("alloc_contig_range: ... PFNs busy") in dmesg, for a long
   * simulation that never reads them (default true)
   */
  debugLines?: boolean;
}

/** What the CLI and reports read after (or during) a run. */
export interface RuntimeStats {
  cma: {
    name: string;
    basePfn: number;
    countPages: number;
    usedPages: number;
    freePages: number;
    maxChunkPages: number;
    allocSuccess: number;
    allocFail: number;
  }[];
  vmalloc: SpaceStats;
  modules: SpaceStats;
  buddy: Record<string, { freePages: number; minPages: number; buddyinfo: number[] }>;
  /** /proc/meminfo-like figures, kB */
  meminfo: Record<string, number>;
}

/** A run of CMA pages in one state (see Runtime.cmaMaps). */
export interface CmaRun {
  startPfn: number;
  pages: number;
  state: "free" | "allocated" | "movable" | "pinned";
}

export interface SpaceStats {
  start: number;
  end: number;
  totalBytes: number;
  usedBytes: number;
  lazyBytes: number;
  freeBytes: number;
  largestGapBytes: number;
  areas: number;
}

const KIND: Record<VmallocinfoKind, VmKind> = {
  vmalloc: VmKind.Vmalloc,
  ioremap: VmKind.Ioremap,
  "dma-coherent": VmKind.DmaCoherent,
  vmap: VmKind.Vmap,
  unpurged: VmKind.Lazy,
};

export class Runtime {
  readonly machine: BootedMachine;
  readonly dmesg = new Dmesg();
  readonly vmallocSpace: VmapSpace;
  readonly modulesSpace: VmapSpace;
  readonly consistentSpace: VmapSpace | null;
  readonly cmaAreas: CmaArea[];
  readonly defaultCma: CmaArea | null;
  readonly buddy: Buddy;
  readonly movable: MovablePages;
  readonly dma: DmaApi;
  /** the emulated clock (ms) for rate limits; the simulation advances it */
  nowMs = 0;
  private readonly rateLimit = new RateLimit();
  private readonly lowTotalKb: number;
  private readonly makeBitmap: BitmapFactory;
  private readonly modulePlts: boolean;
  /** the page blocks behind each vmalloc() area */
  private readonly vmallocBacking = new Map<number, number[]>();

  constructor(machine: BootedMachine, options: RuntimeOptions = {}) {
    this.machine = machine;
    const rules = machine.profile.runtime;
    const make = options.bitmapFactory ?? ((n: number) => PageBitmap.create(n));
    this.makeBitmap = make;
    const kconfig = new Kconfig(machine.kconfig ?? {});
    this.modulePlts = options.modulePlts ?? kconfig.bool("CONFIG_ARM_MODULE_PLTS", false);
    const now = () => this.nowMs;
    const cpus = options.cpus ?? 1;
    const spaceOpts = {
      lazyMaxPages: (32 - Math.clz32(cpus)) * ((32 << 20) / PAGE_SIZE),
      ioremapMaxOrder: options.smp === false && !machine.lpae ? 24 : 19,
      ioremapAlignFls: rules.ioremapAlignFls,
      failureMessage: (size: number) =>
        `vmap allocation for size ${size} failed: use vmalloc=<size> to increase size${rules.vmapFailureTrailingDot ? "." : ""}`,
      rateLimit: this.rateLimit,
      nowMs: now,
      log: (text: string) => this.dmesg.warn(text),
    };
    const space = (name: string, start: number, end: number) =>
      new VmapSpace(name, start, end, make((end - start) / PAGE_SIZE), spaceOpts);
    const { layout } = machine;
    this.vmallocSpace = space("vmalloc", layout.vmalloc.start, layout.vmalloc.end);
    this.modulesSpace = space("modules", layout.modules.start, layout.modules.end);
    // ≤ 3.4: CONSISTENT_BASE..CONSISTENT_END, 2 MiB below 0xffe00000 by default
    this.consistentSpace = rules.dmaPath === "D0" ? space("consistent", 0xffc00000, 0xffe00000) : null;

    const buddyPreset = options.buddyPreset ?? QEMU_VIRT_6_1_BUDDY;
    this.buddy = this.seedBuddy(options, buddyPreset);
    this.lowTotalKb = this.lowTotal(options);

    this.movable = new MovablePages(
      machine.cmaAreas,
      options.movable ?? NO_MOVABLE,
      // the migrated movable pages now live in the page allocator (highmem allowed)
      (pages) => this.buddy.allocChunks(pages, true) !== null,
      options.debugLines === false
        ? undefined
        : (s, e) => this.dmesg.debug(`alloc_contig_range: [${s.toString(16)}, ${e.toString(16)}) PFNs busy`),
    );
    const contig = (options.movable ?? NO_MOVABLE).movableShare > 0 ? this.movable : ALWAYS_MIGRATABLE;
    const sink = { log: (level: "err" | "info" | "debug", text: string) => this.dmesg.log(level, text) };
    this.cmaAreas = machine.cmaAreas.map(
      (info) =>
        new CmaArea(
          info,
          make(info.countPages >> info.orderPerBit),
          rules,
          contig,
          sink,
          this.rateLimit,
          now,
          kconfig.bool("CONFIG_CMA_DEBUG", false),
        ),
    );
    this.defaultCma = this.cmaAreas.find((_, i) => machine.cmaAreas[i].isDefault) ?? null;

    this.placeOccupants(options);
    const cmaAlignment = options.cmaAlignment ?? kconfig.int("CONFIG_CMA_ALIGNMENT", 8);
    const atomicPool =
      rules.dmaPath === "D0" ? null : this.takeAtomicPool(options.atomicPoolBytes ?? 256 << 10, cmaAlignment);
    this.dma = new DmaApi({
      rules,
      buddy: this.buddy,
      vmalloc: this.vmallocSpace,
      consistent: this.consistentSpace,
      cmaAreas: this.cmaAreas,
      defaultCma: this.defaultCma,
      cmaAlignment,
      atomicPool,
      armLowmemLimitPfn: machine.armLowmemLimitPfn,
      lpae: machine.lpae,
      log: (level, text) => this.dmesg.log(level, text),
      lowmemVaddr: (pfn) => (layout.pageOffset + (pfn - machine.physOffsetPfn) * PAGE_SIZE) >>> 0,
    });
  }

  private isLowZone(name: string): boolean {
    return name !== "HighMem";
  }

  /** LowTotal in kB: from --meminfo, the boot's meminfo, or the lowmem free pages. */
  private lowTotal(options: RuntimeOptions): number {
    const m = options.meminfo?.LowTotal ?? this.machine.meminfo.LowTotal;
    if (m !== undefined) return m;
    return this.machine.zones
      .filter((z) => this.isLowZone(z.name))
      .reduce((n, z) => n + z.presentPages * 4, 0);
  }

  /**
   * The page allocator at the moment userspace runs: each zone's free ranges (memory minus
   * reservations and CMA areas), minus what boot-time consumers hold (preset or --meminfo),
   * with min watermarks from init_per_zone_wmark_min / THP's recommended min_free_kbytes.
   */
  private seedBuddy(options: RuntimeOptions, preset: BuddyPreset): Buddy {
    const m = this.machine;
    const kconfig = new Kconfig(m.kconfig ?? {});
    // machine.maxOrder is the highest order; the buddy keeps orders 0 .. maxOrder
    const maxOrder = options.maxOrder ?? (m.maxOrder !== undefined ? m.maxOrder + 1 : 11);
    const holes: PfnRange[] = [
      ...m.reserved,
      ...(m.nomap ?? []),
      ...m.cmaAreas.map((a) => ({ startPfn: a.basePfn, endPfn: a.basePfn + a.countPages })),
    ].sort((a, b) => a.startPfn - b.startPfn);
    const lowZones = m.zones.filter((z) => this.isLowZone(z.name) && z.presentPages > 0);
    const lowKb =
      options.meminfo?.LowTotal ?? m.meminfo.LowTotal ?? lowZones.reduce((n, z) => n + z.presentPages * 4, 0);
    // init_per_zone_wmark_min: int_sqrt(lowmem_kbytes * 16), clamped to [128, 262144] kB
    let minFreeKb = Math.min(262144, Math.max(128, Math.floor(Math.sqrt(lowKb * 16))));
    if (options.transparentHugepage ?? kconfig.bool("CONFIG_TRANSPARENT_HUGEPAGE", m.lpae)) {
      // set_recommended_min_free_kbytes: pageblock * zones * 2 + pageblock * MIGRATE_PCPTYPES^2 * zones
      const pb = 2 ** (options.pageblockOrder ?? m.pageblockOrder ?? maxOrder - 1);
      minFreeKb = Math.max(minFreeKb, (pb * lowZones.length * 2 + pb * 9 * lowZones.length) * 4);
    }
    const lowPresent = lowZones.reduce((n, z) => n + z.presentPages, 0);
    const specs: BuddyZoneSpec[] = m.zones.map((z) => {
      const free: PfnRange[] = [];
      for (const mem of m.memory) {
        let s = Math.max(mem.startPfn, z.startPfn);
        const e = Math.min(mem.endPfn, z.endPfn);
        for (const h of holes) {
          if (h.endPfn <= s || h.startPfn >= e) continue;
          if (h.startPfn > s) free.push({ startPfn: s, endPfn: h.startPfn });
          s = Math.max(s, h.endPfn);
        }
        if (s < e) free.push({ startPfn: s, endPfn: e });
      }
      const high = !this.isLowZone(z.name);
      const minPages = high
        ? Math.min(128, Math.max(32, Math.floor(z.presentPages / 1024)))
        : Math.floor(((minFreeKb / 4) * z.presentPages) / Math.max(1, lowPresent));
      return { name: z.name, startPfn: z.startPfn, endPfn: z.endPfn, highmem: high, free, minPages };
    });
    const buddy = new Buddy(specs, maxOrder);
    for (const zone of buddy.zones) {
      const low = this.isLowZone(zone.name);
      const share = low ? zone.endPfn - zone.startPfn : 0;
      const lowSpan = lowZones.reduce((n, z) => n + z.endPfn - z.startPfn, 0) || 1;
      // target free pages: --meminfo LowFree/HighFree, else the preset's boot-time usage
      const seedKb = low ? options.meminfo?.LowFree : options.meminfo?.HighFree;
      const usedKb = low ? (preset.lowmemUsedKb * share) / lowSpan : preset.highmemUsedKb;
      const totalKb = low ? (lowKb * share) / lowSpan : zone.freePages * 4;
      const target = (seedKb !== undefined ? seedKb * (low ? share / lowSpan : 1) : totalKb - usedKb) / 4;
      const reclaim = low ? (preset.lowmemReclaimableKb * share) / lowSpan / 4 : 0;
      buddy.consumeAtBoot(
        zone.name,
        Math.round(zone.freePages - target),
        Math.round(reclaim),
        low ? preset.fragmentOrders : [],
      );
    }
    return buddy;
  }

  /** Boot-time areas: the imported /proc/vmallocinfo, or the preset replayed for this layout. */
  private placeOccupants(options: RuntimeOptions): void {
    const vm = this.vmallocSpace;
    const mod = this.modulesSpace;
    if (options.vmallocinfo) {
      for (const e of options.vmallocinfo) {
        const target =
          e.start >= vm.startVa && e.end <= vm.endVa
            ? vm
            : e.start >= mod.startVa && e.end <= mod.endVa
              ? mod
              : null;
        // outside both (iotable_init static mappings of lowmem): no vmalloc space used
        target?.occupy(e.start, e.sizeBytes, KIND[e.kind], e.caller, e.pages);
      }
      return;
    }
    const preset = options.occupants ?? QEMU_VIRT_6_1;
    const rows = [...preset.fromStart];
    // the atomic pool is remapped into vmalloc unless it sits in lowmem CMA (remapped in place)
    if (!this.defaultCma || this.defaultCma.basePfn >= this.machine.armLowmemLimitPfn)
      rows.push(preset.atomicPoolRemap);
    for (const [offset, size, caller, kind, pages] of rows)
      vm.occupy(vm.startVa + offset, size, KIND[kind], caller, pages);
    for (const f of preset.fixed) vm.occupy(f.start, f.sizeBytes, KIND[f.kind], f.caller);
    for (const f of preset.fromEnd)
      vm.occupy(vm.endVa - f.sizeBytes, f.sizeBytes, KIND[f.kind], f.caller, f.pages);
  }

  /**
   * atomic_pool_init (arch/arm/mm/dma-mapping.c): the pool comes from the default CMA area
   * (vmalloc remap of highmem pages is part of the occupants), else from the buddy allocator.
   */
  private takeAtomicPool(bytes: number, cmaAlignment: number) {
    const count = bytes / PAGE_SIZE;
    const lowmem = (pfn: number) =>
      (this.machine.layout.pageOffset + (pfn - this.machine.physOffsetPfn) * PAGE_SIZE) >>> 0;
    let pfn = -1;
    if (this.defaultCma) pfn = this.defaultCma.alloc(count, Math.min(getOrder(bytes), cmaAlignment), true);
    if (pfn < 0) pfn = this.buddy.allocPagesExact(count, false);
    if (pfn < 0) return null;
    return { bitmap: this.makeBitmap(count), basePfn: pfn, vaddr: lowmem(pfn) };
  }

  // ---- the kernel's runtime API ----

  /** dma_alloc_attrs */
  dmaAlloc(dev: DmaDevice, sizeBytes: number, attrs?: DmaAttrs, gfp?: GfpFlags): DmaAllocResult {
    return this.dma.alloc(dev, sizeBytes, attrs, gfp);
  }

  /** dma_free_attrs */
  dmaFree(handle: number): void {
    this.dma.free(handle);
  }

  /** vmalloc(size): a vmalloc area backed by pages of the page allocator (highmem allowed); -1 on failure. */
  vmalloc(sizeBytes: number): number {
    const pages = Math.ceil(sizeBytes / PAGE_SIZE);
    const chunks = this.buddy.allocChunks(pages, true);
    if (!chunks) return -1;
    const va = this.vmallocSpace.getVmArea(sizeBytes, 0, VmKind.Vmalloc);
    if (va < 0) this.buddy.freeChunks(chunks, pages);
    else this.vmallocBacking.set(va, chunks);
    return va;
  }

  /** vfree */
  vfree(va: number): boolean {
    const chunks = this.vmallocBacking.get(va);
    const pages = this.vmallocSpace.areaSize(va) / PAGE_SIZE - 1;
    if (chunks === undefined || !this.vmallocSpace.free(va)) return false;
    this.vmallocBacking.delete(va);
    this.buddy.freeChunks(chunks, pages);
    return true;
  }

  /** ioremap(phys, size): VM_IOREMAP alignment, no pages; -1 on failure. */
  ioremap(sizeBytes: number): number {
    return this.vmallocSpace.getVmArea(sizeBytes, VM_IOREMAP, VmKind.Ioremap);
  }

  iounmap(va: number): boolean {
    return this.vmallocSpace.free(va);
  }

  /**
   * module_alloc (arch/arm/kernel/module.c): the modules area; with CONFIG_ARM_MODULE_PLTS a
   * silent first try, then the whole vmalloc area. -1 on failure.
   */
  moduleAlloc(sizeBytes: number): number {
    const va = this.modulesSpace.getVmArea(sizeBytes, 0, VmKind.Vmalloc, this.modulePlts);
    if (va >= 0 || !this.modulePlts) return va;
    return this.vmallocSpace.getVmArea(sizeBytes, 0, VmKind.Vmalloc);
  }

  moduleFree(va: number): boolean {
    return this.modulesSpace.free(va) || this.vmallocSpace.free(va);
  }

  private static spaceStats(s: VmapSpace): SpaceStats {
    const total = s.endVa - s.startVa;
    const used = s.usedBytes();
    return {
      start: s.startVa,
      end: s.endVa,
      totalBytes: total,
      usedBytes: used - s.lazyPages * PAGE_SIZE,
      lazyBytes: s.lazyPages * PAGE_SIZE,
      freeBytes: total - used,
      largestGapBytes: s.largestGapBytes(),
      areas: s.liveAreas,
    };
  }

  stats(): RuntimeStats {
    const buddy: RuntimeStats["buddy"] = {};
    let low = 0;
    let high = 0;
    for (const z of this.buddy.zones) {
      buddy[z.name] = {
        freePages: z.freePages,
        minPages: z.minPages,
        buddyinfo: this.buddy.buddyinfo(z.name),
      };
      if (z.highmem) high += z.freePages;
      else low += z.freePages;
    }
    const limit = this.machine.armLowmemLimitPfn;
    let cmaTotal = 0;
    let cmaFree = 0;
    for (const a of this.cmaAreas) {
      const free = a.freePages() - this.movable.occupiedIn(a.basePfn, a.basePfn + a.countPages);
      cmaTotal += a.countPages;
      cmaFree += free;
      if (a.basePfn >= limit) high += free;
      else low += free;
    }
    const vm = this.vmallocSpace;
    return {
      cma: this.cmaAreas.map((a) => ({
        name: a.name,
        basePfn: a.basePfn,
        countPages: a.countPages,
        usedPages: a.usedPages,
        freePages: a.freePages(),
        maxChunkPages: a.maxChunkPages(),
        allocSuccess: a.allocSuccess,
        allocFail: a.allocFail,
      })),
      vmalloc: Runtime.spaceStats(vm),
      modules: Runtime.spaceStats(this.modulesSpace),
      buddy,
      meminfo: {
        MemFree: (low + high) * 4,
        LowTotal: this.lowTotalKb,
        LowFree: low * 4,
        HighFree: high * 4,
        CmaTotal: cmaTotal * 4,
        CmaFree: cmaFree * 4,
        VmallocTotal: (vm.endVa - vm.startVa) >>> 10,
        VmallocUsed: (vm.vmallocPages + this.modulesSpace.vmallocPages) * 4,
      },
    };
  }

  /**
   * Each CMA area's pages by state, as runs: bitmap bits set = "allocated"; clear pages are
   * "free", or "movable"/"pinned" when the page allocator has lent them out. For maps, not hot paths.
   */
  cmaMaps(): { name: string; basePfn: number; countPages: number; runs: CmaRun[] }[] {
    return this.cmaAreas.map((a) => {
      const runs: CmaRun[] = [];
      const push = (startPfn: number, pages: number, state: CmaRun["state"]) => {
        const last = runs[runs.length - 1];
        if (last && last.state === state && last.startPfn + last.pages === startPfn) last.pages += pages;
        else if (pages > 0) runs.push({ startPfn, pages, state });
      };
      let next = a.basePfn;
      const opb = 2 ** a.orderPerBit;
      for (const free of a.freeRuns()) {
        const from = a.basePfn + free.start * opb;
        push(next, from - next, "allocated");
        for (let pfn = from; pfn < from + free.count * opb; pfn++) push(pfn, 1, this.movable.stateAt(pfn));
        next = from + free.count * opb;
      }
      push(next, a.basePfn + a.countPages - next, "allocated");
      return { name: a.name, basePfn: a.basePfn, countPages: a.countPages, runs };
    });
  }

  /** Releases the WASM bitmaps. */
  dispose(): void {
    this.vmallocSpace.dispose();
    this.modulesSpace.dispose();
    this.consistentSpace?.dispose();
    for (const a of this.cmaAreas) a.dispose();
  }
}
