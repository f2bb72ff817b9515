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
  /** memblock_limit alignment in bytes (SECTION 1 MiB or PMD 2 MiB) */
  memblockLimitAlignBytes: number;
  /** fixmap range printed in the layout block, or null when the block is not printed */
  fixmap: { start: number; end: number };
  /** whether "Virtual kernel memory layout:" is printed, and with a DMA line (≤3.4) */
  layoutBlock: "none" | "with-dma" | "plain" | "ptrval";
  /** zone messages: F1 per-zone lines, F2 "Zone ranges:" (+F1 at debug level when f1Debug) */
  zoneFormat: "F1" | "F2";
  f1Debug: boolean;
  /** default-CMA placement policy (SPEC §3.4) */
  cmaPlacement: "P0" | "P1" | "P2" | "P3";
  /** CMA_MIN_ALIGN rule: max(MAX_ORDER-1, pageblock_order) before 5.18, pageblock from 5.18 */
  cmaAlignRule: "max-order" | "pageblock";
  /** `cma: Reserved` message format (SPEC §3.6) */
  cmaReservedFormat: "C0" | "C1" | "C2";
  /** `Memory:` line format (SPEC §3.7) */
  memoryLine: "L0" | "L1" | "L2";
  /** CmaTotal/CmaFree exist in /proc/meminfo */
  meminfoCma: boolean;
  /** LPAE: swiotlb 64 MiB at boot when RAM ends above arm_dma_limit */
  lpaeSwiotlb: boolean;
  /** "Reserved memory: initialized node" vs "OF: reserved mem: initialized node" */
  ofReservedMemPrefix: "Reserved memory: " | "OF: reserved mem: ";
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
}

export interface KernelProfile {
  /** the version asked for, e.g. "6.1" */
  version: string;
  kernel: KernelVersion;
  /** first version of the era row used, e.g. "5.19" */
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
    from: v(3, 0),
    boot: {
      vmallocEnd: 0xff000000,
      vmallocVariant: "V1",
      lowmemCapMessage: "M0",
      memblockLimitAlignBytes: 1 << 20,
      fixmap: { start: 0xfff00000, end: 0xfffe0000 },
      layoutBlock: "with-dma",
      zoneFormat: "F1",
      f1Debug: false,
      cmaPlacement: "P0",
      cmaAlignRule: "max-order",
      cmaReservedFormat: "C0",
      memoryLine: "L0",
      meminfoCma: false,
      lpaeSwiotlb: false,
      ofReservedMemPrefix: "Reserved memory: ",
    },
    runtime: {
      cmaAllocFailure: "none",
      cmaAlignOffset: "area",
      dmaPath: "D0",
      noKernelMapping: "ignored",
      vmapFailureTrailingDot: true,
    },
  },
  { from: v(3, 5), boot: { layoutBlock: "plain" }, runtime: { dmaPath: "D1" } },
  { from: v(3, 13), boot: { memoryLine: "L1" }, runtime: {} },
  { from: v(3, 14), boot: { fixmap: { start: 0xffc00000, end: 0xffe00000 } }, runtime: {} },
  { from: v(3, 16), boot: { lowmemCapMessage: "M1" }, runtime: {} },
  { from: v(3, 17), boot: { cmaReservedFormat: "C1" }, runtime: {} },
  {
    from: v(3, 18),
    boot: { cmaPlacement: "P1", cmaReservedFormat: "C2" },
    runtime: { cmaAllocFailure: "noname" },
  },
  { from: v(3, 19), boot: {}, runtime: { cmaAlignOffset: "physical" } },
  {
    from: v(4, 1),
    boot: {
      memoryLine: "L2",
      meminfoCma: true,
      vmallocEnd: 0xff800000,
      fixmap: { start: 0xffc00000, end: 0xfff00000 },
    },
    runtime: { noKernelMapping: "honoured", vmapFailureTrailingDot: false },
  },
  { from: v(4, 8), boot: { ofReservedMemPrefix: "OF: reserved mem: " }, runtime: {} },
  { from: v(4, 11), boot: { lowmemCapMessage: "M2", memblockLimitAlignBytes: 2 << 20 }, runtime: {} },
  { from: v(4, 15), boot: { layoutBlock: "ptrval" }, runtime: {} },
  { from: v(5, 1), boot: { layoutBlock: "none" }, runtime: {} },
  { from: v(5, 8), boot: { zoneFormat: "F2", f1Debug: true }, runtime: {} },
  { from: v(5, 10), boot: {}, runtime: { cmaAllocFailure: "named" } },
  { from: v(5, 11), boot: { cmaPlacement: "P2" }, runtime: {} },
  { from: v(5, 14), boot: { vmallocVariant: "V2" }, runtime: {} },
  { from: v(5, 18), boot: { cmaAlignRule: "pageblock" }, runtime: {} },
  {
    from: v(5, 19),
    boot: { f1Debug: false, lpaeSwiotlb: true },
    runtime: { dmaPath: "D2", noKernelMapping: "honoured-fallback" },
  },
  { from: v(6, 3), boot: { cmaPlacement: "P3" }, runtime: { cmaAllocFailure: "dunder" } },
];

export const SUPPORTED_VERSIONS = "3.0 ... 6.x (for example 3.4, 3.17, 3.18, 4.4, 4.19, 5.10, 5.15, 6.1)";

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
  let era = ERAS[0].from;
  for (const row of ERAS) {
    if (cmp(row.from, kernel) > 0) break;
    boot = { ...boot, ...row.boot };
    runtime = { ...runtime, ...row.runtime };
    era = row.from;
  }
  return { version, kernel, era: `${era.major}.${era.minor}`, boot, runtime };
}
