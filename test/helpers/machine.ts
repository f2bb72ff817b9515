import type { BootedMachine } from "../../src/boot/machine.js";
import { resolveProfile } from "../../src/kernel/profile.js";

const MiB = 1 << 20;
const pfn = (addr: number) => Math.floor(addr / 4096);

export interface HandMachine {
  kernel?: string;
  ramMiB?: number;
  cmaMiB?: number;
  /** vmalloc= in MiB (default 240) */
  vmallocMiB?: number;
  lpae?: boolean;
  /** PAGE_OFFSET (default 0xc0000000, VMSPLIT_3G) */
  pageOffset?: number;
}

/**
 * A BootedMachine for QEMU virt (RAM at 0x40000000) built from the SPEC §2.2 / §3.4 rules and the
 * oracle's numbers, for runtime tests that must not depend on the boot model.
 */
export function handMachine(o: HandMachine = {}): BootedMachine {
  const kernel = o.kernel ?? "6.1";
  const ramMiB = o.ramMiB ?? 2048;
  const cmaMiB = o.cmaMiB ?? 512;
  const vmallocMiB = o.vmallocMiB ?? 240;
  const pageOffset = o.pageOffset ?? 0xc0000000;
  const profile = resolveProfile(kernel);
  const vmallocEnd = profile.boot.vmallocEnd;
  const ramStart = 0x40000000;
  const ramEnd = ramStart + ramMiB * MiB;
  // V2: lowmem ends VMALLOC_OFFSET (8 MiB) below VMALLOC_START = VMALLOC_END - vmalloc size
  const lowmemCapVirt = vmallocEnd - vmallocMiB * MiB - 8 * MiB;
  const lowmemEnd = Math.min(ramEnd, ramStart + (lowmemCapVirt - pageOffset));
  const vmallocStart = Math.max(lowmemEnd - ramStart + pageOffset + 8 * MiB, vmallocEnd - vmallocMiB * MiB);
  const highmem = ramEnd > lowmemEnd;
  // P1/P2 placement: top of highmem when it fits, else top of lowmem
  // P0 (≤ 3.17): top of lowmem; P1+: top of highmem when it fits, else top of lowmem
  const inHigh = profile.boot.cmaPlacement !== "P0" && highmem && ramEnd - cmaMiB * MiB >= lowmemEnd;
  const cmaBase = inHigh ? ramEnd - cmaMiB * MiB : lowmemEnd - cmaMiB * MiB;
  const zones: BootedMachine["zones"] = [
    { name: "DMA", startPfn: pfn(ramStart), endPfn: pfn(lowmemEnd), presentPages: pfn(lowmemEnd - ramStart) },
  ];
  if (highmem)
    zones.push({
      name: "HighMem",
      startPfn: pfn(lowmemEnd),
      endPfn: pfn(ramEnd),
      presentPages: pfn(ramEnd - lowmemEnd),
    });
  const lowTotalKb = (lowmemEnd - ramStart) / 1024 - 40796 + 2992;
  return {
    profile,
    lpae: o.lpae ?? false,
    highmem,
    layout: {
      pageOffset,
      taskSize: pageOffset - 16 * MiB,
      vector: { start: 0xffff0000, end: 0xffff1000 },
      fixmap: { start: 0xffc00000, end: 0xfff00000 },
      vmalloc: { start: vmallocStart, end: vmallocEnd },
      lowmem: { start: pageOffset, end: pageOffset + (lowmemEnd - ramStart) },
      pkmap: { start: pageOffset - 2 * MiB, end: pageOffset },
      modules: { start: pageOffset - 16 * MiB, end: pageOffset - 2 * MiB },
    },
    physOffsetPfn: pfn(ramStart),
    memory: [{ startPfn: pfn(ramStart), endPfn: pfn(ramEnd) }],
    reserved: [
      { startPfn: pfn(0x40204000), endPfn: pfn(0x40208000), owner: "swapper_pg_dir" },
      { startPfn: pfn(0x40300000), endPfn: pfn(0x41608000), owner: "kernel" },
      { startPfn: pfn(0x48000000), endPfn: pfn(0x481ec000), owner: "initrd" },
    ],
    armLowmemLimitPfn: pfn(lowmemEnd),
    maxPfn: pfn(ramEnd),
    zones,
    cmaAreas:
      cmaMiB > 0
        ? [
            {
              name: "reserved",
              basePfn: pfn(cmaBase),
              countPages: (cmaMiB * MiB) / 4096,
              orderPerBit: 0,
              isDefault: true,
              inHighmem: cmaBase >= lowmemEnd,
            },
          ]
        : [],
    dmaPools: [],
    freePagesByZone: {},
    meminfo: { LowTotal: lowTotalKb, VmallocTotal: (vmallocEnd - vmallocStart) / 1024 },
    dmesg: [],
    nomap: [],
    profileName: "hand",
    evidence: "computed",
    kconfig: { CONFIG_CMA_ALIGNMENT: "8" },
    // Debian 6.1: ARCH_FORCE_MAX_ORDER=12 (orders 0..11); pageblock 2 MiB with LPAE + HUGETLB, else 8 MiB
    maxOrder: 11,
    pageblockOrder: o.lpae ? 9 : 11,
    cmaMinAlignBytes: (o.lpae ? 2 : 8) * MiB,
    armDmaPfnLimit: pfn(lowmemEnd),
    memblockLimitPfn: pfn(lowmemEnd),
    droppedRam: [],
    leakedCma: [],
    warnings: [],
  };
}
