/**
 * Presets as data: the boot-time occupants of the vmalloc area on Debian 6.1 under QEMU virt
 * (SPEC §5.3), the footprint of loading the oracle's dmaprobe module (SPEC §6.3), and the page
 * allocator's state when userspace starts (calibrated on the oracle's /proc/meminfo and zoneinfo).
 */
import type { VmallocinfoKind } from "../input/vmallocinfo.js";

/** One area: offset from VMALLOC_START, size with guard page, caller, kind, backing pages. */
export type OccupantRow = [
  offset: number,
  sizeBytes: number,
  caller: string,
  kind: VmallocinfoKind,
  pages: number,
];

export interface OccupantPreset {
  name: string;
  description: string;
  /** areas at VMALLOC_START + offset, in the order the kernel created them (unpurged ones last) */
  fromStart: OccupantRow[];
  /** the atomic DMA pool remap; present only when the default CMA area is in highmem */
  atomicPoolRemap: OccupantRow;
  /** areas at a fixed virtual address (pci_reserve_io), kept only when inside the range */
  fixed: { start: number; sizeBytes: number; caller: string; kind: VmallocinfoKind }[];
  /** areas allocated top-down: at VMALLOC_END - size (the first percpu chunk) */
  fromEnd: { sizeBytes: number; caller: string; kind: VmallocinfoKind; pages: number }[];
}

/** Debian 6.1 armmp, QEMU virt, 1 CPU: /proc/vmallocinfo at /init [oracle: armmp-2G-probe-cma512M-c1024-kmap]. */
export const QEMU_VIRT_6_1: OccupantPreset = {
  name: "qemu-virt-6.1",
  description:
    "Debian 6.1 armmp on qemu-system-arm -M virt: GIC, PCI ECAM, kernel stacks, percpu, crypto (about 4.9 MiB)",
  fromStart: [
    [0x0, 12288, "start_kernel", "vmalloc", 2],
    [0x3000, 8192, "gicv2m_init", "ioremap", 0],
    [0x9000, 8192, "bpf_prog_alloc_no_stats", "vmalloc", 1],
    [0xc000, 12288, "kernel_clone", "vmalloc", 2],
    [0x10000, 69632, "gic_of_setup", "ioremap", 0],
    [0x21000, 8192, "gen_pool_add_owner", "vmalloc", 1],
    [0x24000, 12288, "kernel_clone", "vmalloc", 2],
    [0x28000, 12288, "kernel_clone", "vmalloc", 2],
    [0x30000, 69632, "gic_of_setup", "ioremap", 0],
    [0x44000, 12288, "kernel_clone", "vmalloc", 2],
    [0x48000, 12288, "kernel_clone", "vmalloc", 2],
    [0x4c000, 12288, "kernel_clone", "vmalloc", 2],
    [0x50000, 12288, "kernel_clone", "vmalloc", 2],
    [0x54000, 12288, "kernel_clone", "vmalloc", 2],
    [0x58000, 12288, "kernel_clone", "vmalloc", 2],
    [0x5c000, 12288, "kernel_clone", "vmalloc", 2],
    [0x60000, 12288, "kernel_clone", "vmalloc", 2],
    [0x64000, 12288, "kernel_clone", "vmalloc", 2],
    [0x68000, 12288, "kernel_clone", "vmalloc", 2],
    [0x6c000, 12288, "kernel_clone", "vmalloc", 2],
    [0x70000, 12288, "kernel_clone", "vmalloc", 2],
    [0x74000, 12288, "kernel_clone", "vmalloc", 2],
    [0x78000, 12288, "kernel_clone", "vmalloc", 2],
    [0x7c000, 12288, "kernel_clone", "vmalloc", 2],
    [0x80000, 12288, "kernel_clone", "vmalloc", 2],
    [0xc4000, 12288, "kernel_clone", "vmalloc", 2],
    [0xc7000, 8192, "__devm_ioremap_resource", "ioremap", 0],
    [0xc9000, 8192, "__devm_ioremap_resource", "ioremap", 0],
    [0xcc000, 12288, "kernel_clone", "vmalloc", 2],
    [0xd0000, 12288, "kernel_clone", "vmalloc", 2],
    [0xd4000, 12288, "kernel_clone", "vmalloc", 2],
    [0xd8000, 12288, "kernel_clone", "vmalloc", 2],
    [0xdc000, 12288, "kernel_clone", "vmalloc", 2],
    [0xe0000, 12288, "kernel_clone", "vmalloc", 2],
    [0xe4000, 12288, "kernel_clone", "vmalloc", 2],
    [0xe8000, 12288, "kernel_clone", "vmalloc", 2],
    [0xec000, 12288, "kernel_clone", "vmalloc", 2],
    [0xf0000, 12288, "kernel_clone", "vmalloc", 2],
    [0xf4000, 12288, "kernel_clone", "vmalloc", 2],
    [0xf8000, 12288, "kernel_clone", "vmalloc", 2],
    [0xfb000, 77824, "pcpu_create_chunk", "vmalloc", 18],
    [0x10e000, 8192, "devm_ioremap", "ioremap", 0],
    [0x110000, 12288, "kernel_clone", "vmalloc", 2],
    [0x114000, 12288, "kernel_clone", "vmalloc", 2],
    [0x118000, 12288, "kernel_clone", "vmalloc", 2],
    [0x11c000, 12288, "kernel_clone", "vmalloc", 2],
    [0x120000, 12288, "kernel_clone", "vmalloc", 2],
    [0x124000, 12288, "kernel_clone", "vmalloc", 2],
    [0x128000, 12288, "kernel_clone", "vmalloc", 2],
    [0x12c000, 12288, "kernel_clone", "vmalloc", 2],
    [0x130000, 12288, "kernel_clone", "vmalloc", 2],
    [0x134000, 12288, "kernel_clone", "vmalloc", 2],
    [0x138000, 12288, "kernel_clone", "vmalloc", 2],
    [0x180000, 1052672, "pci_ecam_add_bus", "ioremap", 0],
    [0x281000, 135168, "crypto_scomp_init_tfm", "vmalloc", 32],
    [0x2a2000, 135168, "crypto_scomp_init_tfm", "vmalloc", 32],
    [0x2c4000, 12288, "kernel_clone", "vmalloc", 2],
    [0x2cb000, 16384, "n_tty_open", "vmalloc", 3],
    [0x5000, 16384, "unpurged vm_area", "unpurged", 0],
    [0x2b000, 16384, "unpurged vm_area", "unpurged", 0],
    [0x41000, 8192, "unpurged vm_area", "unpurged", 0],
    [0x13b000, 270336, "unpurged vm_area", "unpurged", 0],
    [0x2c8000, 12288, "unpurged vm_area", "unpurged", 0],
  ],
  atomicPoolRemap: [0x83000, 266240, "dma_common_contiguous_remap", "dma-coherent", 0],
  fixed: [{ start: 0xfee00000, sizeBytes: 2 << 20, caller: "pci_reserve_io", kind: "ioremap" }],
  fromEnd: [{ sizeBytes: 73728, caller: "pcpu_get_vm_areas", kind: "vmalloc", pages: 0 }],
};

export const OCCUPANT_PRESETS: Record<string, OccupantPreset> = { [QEMU_VIRT_6_1.name]: QEMU_VIRT_6_1 };

/**
 * What `insmod dmaprobe.ko` puts into the vmalloc area before its first dma_alloc_attrs
 * [oracle: vmallocinfo_held of every *-kmap log]: vmap'ed kernel stacks of the insmod process,
 * the finit_module copy of the module file (vfree'd lazily before init runs), and the live vzalloc
 * chunk table of 16-byte entries.
 */
export interface ProbeFootprint {
  stacks: number;
  /** THREAD_SIZE + guard page */
  stackBytes: number;
  /** THREAD_ALIGN with VMAP_STACK */
  stackAlignBytes: number;
  /** size of dmaprobe.ko read by kernel_read_file, per flavour */
  moduleFileBytes: { armmp: number; lpae: number };
  /** the module's max_mb parameter (default 4096) */
  maxMb: number;
  /** sizeof(struct chunk) */
  chunkEntryBytes: number;
}

export const DMAPROBE_FOOTPRINT: ProbeFootprint = {
  stacks: 3,
  stackBytes: 8192,
  stackAlignBytes: 16384,
  moduleFileBytes: { armmp: 176 << 10, lpae: 184 << 10 },
  maxMb: 4096,
  chunkEntryBytes: 16,
};

/**
 * Page allocator state when userspace runs, beyond what the boot model frees: pages used by
 * slab, page tables and page cache (some reclaimable), and the free fragments they leave,
 * as orders. Calibrated on the oracle (LowTotal - LowFree at /init = 13.8-14.9 MiB; LowFree left
 * when order-8 / order-10 allocations stop: 5.2-6.0 / 16.2-17.0 MiB) [U15: calibrated, ±2 %].
 */
export interface BuddyPreset {
  lowmemUsedKb: number;
  lowmemReclaimableKb: number;
  highmemUsedKb: number;
  fragmentOrders: number[];
}

export const QEMU_VIRT_6_1_BUDDY: BuddyPreset = {
  lowmemUsedKb: 14400,
  lowmemReclaimableKb: 3500,
  highmemUsedKb: 2940,
  fragmentOrders: [
    9, 9, 9, 9, 9, 8, 7, 7, 7, 7, 7, 7, 6, 6, 6, 6, 5, 5, 5, 5, 4, 4, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0,
  ],
};
