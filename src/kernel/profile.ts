/**
 * Kernel profiles: the era table of SPEC.md §1.1 as data. Every version-dependent rule in the
 * models reads a field here by name; no model compares version numbers itself.
 *
 * Sections of this file are owned by the stage that reads them (boot, runtime); add fields to
 * the matching interface and fill them in ERAS. Keep each field's doc comment naming the rule.
 */
import { ConfigError } from "../errors.js";

export interface KernelVersion {
  major: number;
  minor: number;
}

/** Rules decided at boot (address space, reservations, boot messages). */
export interface BootRules {
  /** VMALLOC_END */
  vmallocEnd: number;
  /** `vmalloc=` parsing and lowmem cap variant (SPEC §2.2/§2.3) */
  vmallocVariant: "V1" | "V2";
  /** message when RAM above the lowmem limit is dropped with !HIGHMEM (SPEC §2.4) */
  lowmemCapMessage: "M0" | "M1" | "M2";
  /**
   * "Consider using a HIGHMEM enabled kernel." after RAM was dropped for !HIGHMEM. Absent from a 4.0.y
   * sanity_check_meminfo(), present in 4.4 logs and 4.5+ trees; 4.1 is [unverified] within 4.1-4.4
   */
  highmemHint: boolean;
  /** sanity_check_meminfo() (≤4.10, one pass) or adjust_lowmem_bounds() run twice around arm_memblock_init (4.11+) */
  lowmemBounds: "sanity_check_meminfo" | "adjust_lowmem_bounds";
  /** memblock_limit rounding: SECTION_SIZE (1 MiB, 2 MiB with LPAE; ≤4.0) or PMD_SIZE (2 MiB; 4.1+) */
  memblockLimitAlign: "section" | "pmd";
  /** fixmap range printed in the layout block, or null when the block is not printed */
  fixmap: { start: number; end: number };
  /** whether "Virtual kernel memory layout:" is printed, and with a DMA line (≤3.4) */
  layoutBlock: "none" | "with-dma" | "plain" | "ptrval";
  /**
   * zone sizing: ARM's own zone_sizes_init() with arm_adjust_dma_zone() (DMA = dma_zone_size pages from
   * the first pfn; ≤5.7), or the generic free_area_init() with max_zone_pfn (DMA ends at
   * arm_dma_pfn_limit = arm_dma_limit >> PAGE_SHIFT, one page short of dma_zone_size; 5.8+)
   */
  zoneSizing: "arm_zone_sizes" | "free_area_init";
  /** zone messages: F1 per-zone lines, F2 "Zone ranges:" (+F1 at debug level when f1Debug) */
  zoneFormat: "F1" | "F2";
  f1Debug: boolean;
  /** zone_batchsize() cap in KiB (the LIFO batch of F1): 512 KiB, doubled to 1 MiB in 4.19 (SPEC U13) */
  zoneBatchCapKb: number;
  /**
   * free_area_init_core() stores realsize minus memmap and dma_reserve as zone->present_pages, so the F1
   * "pages, LIFO batch" line prints that (<=3.7); from 3.8 present_pages is the real size and the
   * remainder goes to managed_pages (Jiang Liu, 9feedc9d831e "mm: introduce new field managed_pages")
   */
  zonePresentLessMemmap: boolean;
  /**
   * free_area_init_core() also charges and prints the memmap of ZONE_HIGHMEM ("HighMem zone: N pages used
   * for memmap"; <=3.18, read in a 3.18 tree); by 4.0 only lowmem zones are charged (Jetson TK1 4.0 log:
   * no HighMem memmap line). The change lies in 3.19-4.0; 3.19 assumed [unverified]
   */
  highmemMemmapCharged: boolean;
  /** default-CMA placement policy (SPEC §3.4) */
  cmaPlacement: "P0" | "P1" | "P2" | "P3";
  /** CMA_MIN_ALIGN rule: max(MAX_ORDER-1, pageblock_order) before 5.18, pageblock from 5.18 */
  cmaAlignRule: "max-order" | "pageblock";
  /** CONFIG_ARCH_FORCE_MAX_ORDER is the highest order itself (6.4+), not one past it */
  maxOrderInclusive: boolean;
  /**
   * cma_declare_contiguous() refuses what it cannot honour, with "Region at %pa must be aligned to %pa
   * bytes" and "Size (%pa) of region at %pa exceeds limit (%pa)" (Doug Berger, c633324e3112, v5.3;
   * also backported to 4.4+ stable); before, base/size were silently aligned and a too-big area just failed
   */
  cmaFixedChecks: boolean;
  /** `cma=size@base[-limit]` placement specifier (Akinobu Mita, 3.16); before it only the size is read */
  cmaCmdlinePlacement: boolean;
  /** a DT linux,cma-default pool yields to `cma=` ("bypass ... using cmdline CMA params instead"), 5.3+ */
  dtCmaDefaultYieldsToCmdline: boolean;
  /** DT `no-map`: memblock_remove() (≤5.11) or memblock_mark_nomap() (5.12+, the region stays in memory) */
  dtNoMap: "remove" | "nomap";
  /** `cma: Reserved` message format (SPEC §3.6) */
  cmaReservedFormat: "C0" | "C1" | "C2";
  /** struct page carries a memcg pointer with CONFIG_MEMCG (3.19+; before, page_cgroup was separate) */
  memcgInStructPage: boolean;
  /**
   * start_kernel() reads the initrd's last 12 bytes (the bootconfig magic, even without
   * CONFIG_BOOT_CONFIG: "bootconfig: Fix to remove bootconfig data from initrd while boot", 5.7)
   * through __va(), which faults when the initrd lies above arm_lowmem_limit [oracle-sweep]
   */
  initrdTailReadAtBoot: boolean;
  /** `Memory:` line format (SPEC §3.7) */
  memoryLine: "L0" | "L1" | "L2";
  /** CmaTotal/CmaFree exist in /proc/meminfo */
  meminfoCma: boolean;
  /** LPAE: swiotlb 64 MiB at boot when RAM ends above arm_dma_limit */
  lpaeSwiotlb: boolean;
  /** "software IO TLB: area num N." before the mapped line (swiotlb areas, 6.0+) */
  swiotlbAreaLine: boolean;
  /** "Reserved memory: initialized node" vs "OF: reserved mem: initialized node" */
  ofReservedMemPrefix: "Reserved memory: " | "OF: reserved mem: ";
  /** pr_fmt of drivers/of/fdt.c ("OF: fdt: Ignoring memory range"), changed with the same OF rework */
  ofFdtPrefix: "" | "OF: fdt: ";
}

/** Rules of the runtime allocators and the DMA API. */
export interface RuntimeRules {
  /** cma_alloc failure message (SPEC §4.5) */
  cmaAllocFailure: "none" | "noname" | "named" | "dunder";
  /** cma_alloc alignment offset: relative to the area start (≤3.18) or physical (3.19+) */
  cmaAlignOffset: "area" | "physical";
  /** DMA allocation path (SPEC §6) */
  dmaPath: "D0" | "D1" | "D2";
  /** NO_KERNEL_MAPPING on non-IOMMU ARM: ignored, honoured, or honoured with buddy fallback */
  noKernelMapping: "ignored" | "honoured" | "honoured-fallback";
  /** vmap failure message has a trailing '.' (3.x, SPEC U14) */
  vmapFailureTrailingDot: boolean;
  /**
   * cma_debug_show_areas() follows the cma_alloc failure line (4.12+); it is compiled in only with
   * CONFIG_CMA_DEBUG (the Debian 6.1 oracle prints no listing; test/fixtures/oracle-extra)
   */
  cmaShowAreas: boolean;
  /** arm __dma_alloc tries CMA first for every blocking request, coherent devices too (4.2+, "Fix allocation from CMA for coherent DMA") */
  dmaCmaFirst: boolean;
  /** LPAE kernels use dma-direct (get_arch_dma_ops() NULL) with arch_dma_alloc for non-coherent devices (5.3+, ad3c7b18c5b3) */
  lpaeDmaDirect: boolean;
  /** dma-direct remaps a highmem page of a coherent device into vmalloc instead of "Rejecting highmem page from CMA." (5.18+, f5ff79fddf0e) */
  dmaDirectHighmemRemap: boolean;
  /** VM_IOREMAP alignment from fls(size) (≤4.8) instead of get_count_order_long(size) (4.9+, 34fe653716b0) */
  ioremapAlignFls: boolean;
}

export interface KernelProfile {
  /** the version asked for, e.g. "6.1" */
  version: string;
  kernel: KernelVersion;
  /** the versions of the era row used, e.g. "5.19-6.2" */
  era: string;
  boot: BootRules;
  runtime: RuntimeRules;
}

interface Era {
  /** first version of the row (inclusive) */
  from: KernelVersion;
  boot: Partial<BootRules>;
  runtime: Partial<RuntimeRules>;
}

const v = (major: number, minor: number): KernelVersion => ({ major, minor });

/** Rows in version order; each row changes only what changed in it (SPEC §1.1). */
const ERAS: Era[] = [
  {
    from: v(2, 6),
    boot: {
      vmallocEnd: 0xff000000,
      vmallocVariant: "V1",
      lowmemCapMessage: "M0",
      highmemHint: false,
      lowmemBounds: "sanity_check_meminfo",
      memblockLimitAlign: "section",
      fixmap: { start: 0xfff00000, end: 0xfffe0000 },
      layoutBlock: "with-dma",
      zoneSizing: "arm_zone_sizes",
      zoneFormat: "F1",
      f1Debug: false,
      zoneBatchCapKb: 512,
      zonePresentLessMemmap: true,
      highmemMemmapCharged: true,
      cmaPlacement: "P0",
      cmaAlignRule: "max-order",
      maxOrderInclusive: false,
      cmaCmdlinePlacement: false,
      cmaFixedChecks: false,
      dtCmaDefaultYieldsToCmdline: false,
      dtNoMap: "remove",
      cmaReservedFormat: "C0",
      memoryLine: "L0",
      memcgInStructPage: false,
      initrdTailReadAtBoot: false,
      meminfoCma: false,
      lpaeSwiotlb: false,
      swiotlbAreaLine: false,
      ofReservedMemPrefix: "Reserved memory: ",
      ofFdtPrefix: "",
    },
    runtime: {
      cmaAllocFailure: "none",
      cmaAlignOffset: "area",
      dmaPath: "D0",
      noKernelMapping: "ignored",
      vmapFailureTrailingDot: true,
      cmaShowAreas: false,
      dmaCmaFirst: false,
      lpaeDmaDirect: false,
      dmaDirectHighmemRemap: false,
      ioremapAlignFls: true,
    },
  },
  { from: v(3, 5), boot: { layoutBlock: "plain" }, runtime: { dmaPath: "D1" } },
  { from: v(3, 8), boot: { zonePresentLessMemmap: false }, runtime: {} },
  { from: v(3, 13), boot: { memoryLine: "L1" }, runtime: {} },
  // FIXADDR 0xffc00000-0xffe00000 ("ARM: 8031/2: change fixmap mapping region to support 32 CPUs", 3.15);
  // a stable 3.14.4 tree still has 0xfff00000-0xfffe0000
  { from: v(3, 15), boot: { fixmap: { start: 0xffc00000, end: 0xffe00000 } }, runtime: {} },
  { from: v(3, 16), boot: { lowmemCapMessage: "M1", cmaCmdlinePlacement: true }, runtime: {} },
  { from: v(3, 17), boot: { cmaReservedFormat: "C1" }, runtime: {} },
  {
    from: v(3, 18),
    boot: { cmaPlacement: "P1", cmaReservedFormat: "C2" },
    runtime: {},
  },
  // "mm: embed the memcg pointer directly into struct page" (Johannes Weiner, 3.19)
  // + FIXADDR_END 0xfff00000 ("ARM: expand fixmap region to 3MB", Kees Cook, 3.19): a 3.18 log still
  // prints 0xffe00000, a <=4.0 tree has 0xfff00000 next to VMALLOC_END 0xff000000
  {
    from: v(3, 19),
    boot: {
      memcgInStructPage: true,
      highmemMemmapCharged: false,
      fixmap: { start: 0xffc00000, end: 0xfff00000 },
    },
    runtime: { cmaAlignOffset: "physical" },
  },
  // memblock_limit rounded to PMD_SIZE inside sanity_check_meminfo() ("ARM: 8356/1: mm: handle
  // non-pmd-aligned end of RAM", 4.1; already in a 4.0.y-based tree)
  {
    from: v(4, 1),
    boot: { memoryLine: "L2", meminfoCma: true, memblockLimitAlign: "pmd", highmemHint: true },
    runtime: { noKernelMapping: "honoured" },
  },
  { from: v(4, 2), boot: {}, runtime: { dmaCmaFirst: true } },
  // VMALLOC_END 0xff800000 ("ARM: 8415/1: early fixmap support for earlycon", 4.3): 4.0.0 and 4.2.0 logs
  // still cap lowmem at 760 MiB (VMALLOC_END 0xff000000), 4.4 logs print "- 0xff800000"
  { from: v(4, 3), boot: { vmallocEnd: 0xff800000 }, runtime: {} },
  {
    from: v(4, 8),
    boot: { ofReservedMemPrefix: "OF: reserved mem: ", ofFdtPrefix: "OF: fdt: " },
    runtime: {},
  },
  { from: v(4, 9), boot: {}, runtime: { ioremapAlignFls: false } },
  {
    from: v(4, 11),
    boot: { lowmemCapMessage: "M2", lowmemBounds: "adjust_lowmem_bounds" },
    runtime: {},
  },
  // mm/cma.c "print allocation failure reason and bitmap status" (v4.12)
  // + mm/vmalloc.c: the vmap failure line honours __GFP_NOWARN and loses its trailing '.' (kvmalloc series)
  {
    from: v(4, 12),
    boot: {},
    runtime: { cmaAllocFailure: "noname", cmaShowAreas: true, vmapFailureTrailingDot: false },
  },
  { from: v(4, 15), boot: { layoutBlock: "ptrval" }, runtime: {} },
  { from: v(4, 19), boot: { zoneBatchCapKb: 1024 }, runtime: {} },
  { from: v(5, 1), boot: { layoutBlock: "none" }, runtime: {} },
  {
    from: v(5, 3),
    boot: { dtCmaDefaultYieldsToCmdline: true, cmaFixedChecks: true },
    runtime: { lpaeDmaDirect: true },
  },
  { from: v(5, 7), boot: { initrdTailReadAtBoot: true }, runtime: {} },
  {
    from: v(5, 8),
    boot: { zoneSizing: "free_area_init", zoneFormat: "F2", f1Debug: true, lpaeSwiotlb: true },
    runtime: {},
  },
  { from: v(5, 11), boot: { cmaPlacement: "P2" }, runtime: {} },
  { from: v(5, 12), boot: { dtNoMap: "nomap" }, runtime: {} },
  // mm/cma.c: area name in the failure line (Georgi Djakov, Feb 2021 -> v5.12)
  { from: v(5, 12), boot: {}, runtime: { cmaAllocFailure: "named" } },
  { from: v(5, 14), boot: { vmallocVariant: "V2" }, runtime: {} },
  { from: v(5, 18), boot: { cmaAlignRule: "pageblock" }, runtime: { dmaDirectHighmemRemap: true } },
  {
    from: v(5, 19),
    boot: { f1Debug: false },
    runtime: { dmaPath: "D2", noKernelMapping: "honoured-fallback" },
  },
  { from: v(6, 0), boot: { swiotlbAreaLine: true }, runtime: {} },
  { from: v(6, 3), boot: { cmaPlacement: "P3" }, runtime: { cmaAllocFailure: "dunder" } },
  { from: v(6, 4), boot: { maxOrderInclusive: true }, runtime: {} },
];

export const SUPPORTED_VERSIONS =
  "2.6, 3.0 ... 6.x (for example 3.4, 3.17, 3.18, 4.4, 4.19, 5.10, 5.15, 6.1)";

const cmp = (a: KernelVersion, b: KernelVersion) => a.major - b.major || a.minor - b.minor;

/** Parses "6.1", "6.1.176", "v4.19.0-rpi" into major.minor. */
export function parseKernelVersion(text: string): KernelVersion {
  const m = /^v?(\d+)\.(\d+)(?:\.\d+)?(?:[-+~].*)?$/.exec(text.trim());
  if (!m)
    throw new ConfigError(`--kernel: '${text}' is not a kernel version; accepted: ${SUPPORTED_VERSIONS}`);
  const kv = v(Number(m[1]), Number(m[2]));
  if (cmp(kv, ERAS[0].from) < 0 || kv.major > 6) {
    throw new ConfigError(`--kernel: version ${text} is outside the modelled range ${SUPPORTED_VERSIONS}`);
  }
  return kv;
}

/** The profile for a kernel version: the era rows up to it, applied in order. */
export function resolveProfile(version: string): KernelProfile {
  const kernel = parseKernelVersion(version);
  let boot = {} as BootRules;
  let runtime = {} as RuntimeRules;
  let row = 0;
  for (; row < ERAS.length && cmp(ERAS[row].from, kernel) <= 0; row++) {
    boot = { ...boot, ...ERAS[row].boot };
    runtime = { ...runtime, ...ERAS[row].runtime };
  }
  return { version, kernel, era: eraName(row - 1), boot, runtime };
}

/** "5.19-6.2": the versions an era row covers (the last row is open: "6.3+"). */
function eraName(row: number): string {
  const from = ERAS[Math.max(row, 0)].from;
  const next = ERAS[row + 1]?.from;
  const first = `${from.major}.${from.minor}`;
  if (!next) return `${first}+`;
  const last = next.minor > 0 ? `${next.major}.${next.minor - 1}` : `${next.major - 1}.x`;
  return last === first ? first : `${first}-${last}`;
}

/**
 * Build constants of a kernel image: what the `Memory:` line prints about the image and what the
 * early boot reserves for it. Defaults are the Debian 6.1 armmp / armmp-lpae images (SPEC §1.3);
 * other builds differ by a few MiB, which moves only the calibrated `reserved` figure.
 */
export interface BuildConstants {
  codeKb: number;
  rwdataKb: number;
  rodataKb: number;
  initKb: number;
  bssKb: number;
  /** where the kernel text starts above PHYS_OFFSET (swapper_pg_dir sits just below it) */
  textOffsetBytes: number;
  /** memblock reservation of the image (KERNEL_START..KERNEL_END), relative to PHYS_OFFSET */
  imageOffsetBytes: number;
  imageBytes: number;
  /**
   * Early lowmem reservations after arm_memblock_init (page tables, mem_map, percpu, log buffer,
   * hash tables), modelled as one block of `earlyLowmemBaseKb + earlyLowmemKbPerMiB × RAM MiB`
   * (SPEC §3.7, calibrated on the oracle: mem_map is 8 KiB per MiB, the rest about 1 KiB per MiB).
   */
  earlyLowmemBaseKb: number;
  earlyLowmemKbPerMiB: number;
}

export const DEBIAN_ARMMP_BUILD: BuildConstants = {
  codeKb: 11264,
  rwdataKb: 1700,
  rodataKb: 3732,
  initKb: 2048,
  bssKb: 377,
  textOffsetBytes: 0x208000,
  imageOffsetBytes: 0x300000,
  imageBytes: 0x1307588,
  earlyLowmemBaseKb: 892,
  earlyLowmemKbPerMiB: 9,
};

export const DEBIAN_ARMMP_LPAE_BUILD: BuildConstants = {
  codeKb: 12288,
  rwdataKb: 1716,
  rodataKb: 3752,
  initKb: 2048,
  bssKb: 384,
  textOffsetBytes: 0x208000,
  imageOffsetBytes: 0x400000,
  imageBytes: 0x140d288,
  earlyLowmemBaseKb: 896,
  earlyLowmemKbPerMiB: 9,
};

/** A named profile: a kernel version plus the build and Kconfig of a known kernel package. */
export interface NamedProfile {
  id: string;
  version: string;
  lpae: boolean;
  /** "oracle": measured (SPEC §1.3); "computed": derived from the era table only */
  evidence: "oracle" | "computed";
  kconfig: Record<string, string>;
  /** the initrd the boot loader passes (QEMU puts the oracle's 944 KiB initramfs at 0x48000000) */
  initrd?: { start: bigint; size: bigint };
  /** the flattened device tree the boot loader passes (early_init_fdt_reserve_self; QEMU: 1 MiB after the initrd) */
  dtb?: { start: bigint; size: bigint };
  description: string;
}

const DEBIAN_KCONFIG = {
  CONFIG_ZONE_DMA: "y",
  CONFIG_MEMCG: "y",
  CONFIG_CMA_SIZE_MBYTES: "16",
  CONFIG_CMA_SIZE_SEL_MBYTES: "y",
  CONFIG_ARCH_FORCE_MAX_ORDER: "12",
  CONFIG_CMA_ALIGNMENT: "8",
  CONFIG_CMA_AREAS: "7",
};
const QEMU_INITRD = { start: 0x48000000n, size: 0xec000n };
const QEMU_DTB = { start: 0x480ec000n, size: 0x100000n };

export const NAMED_PROFILES: NamedProfile[] = [
  {
    id: "debian-6.1-armmp",
    version: "6.1.176",
    lpae: false,
    evidence: "oracle",
    kconfig: DEBIAN_KCONFIG,
    initrd: QEMU_INITRD,
    dtb: QEMU_DTB,
    description: "Debian 12 linux-image-6.1.0-50-armmp under qemu -M virt (the oracle)",
  },
  {
    id: "debian-6.1-armmp-lpae",
    version: "6.1.176",
    lpae: true,
    evidence: "oracle",
    kconfig: { ...DEBIAN_KCONFIG, CONFIG_HUGETLB_PAGE: "y" },
    initrd: QEMU_INITRD,
    dtb: QEMU_DTB,
    description: "Debian 12 linux-image-6.1.0-50-armmp-lpae under qemu -M virt (the oracle)",
  },
  ...["3.17", "3.18", "4.4", "4.19", "5.10", "5.15"].map(
    (version): NamedProfile => ({
      id: `generic-${version}`,
      version,
      lpae: false,
      evidence: "computed",
      kconfig: {},
      description: `mainline ${version} rules from the era table (computed, not observed)`,
    }),
  ),
];

/** The build constants a boot uses when none are given: the Debian image of the same flavour. */
export function defaultBuild(lpae: boolean): BuildConstants {
  return lpae ? DEBIAN_ARMMP_LPAE_BUILD : DEBIAN_ARMMP_BUILD;
}
