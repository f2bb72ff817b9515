/**
 * What a user describes to boot: the kernel, its configuration, the board's RAM, the command line
 * and the device tree. A library user builds this directly; the CLI builds it from its options
 * (src/cli/boot-options.ts). Physical addresses and sizes are bigint here, at the edge.
 */

import { InputError } from "../errors.js";
import type { DtInfo } from "../input/dts.js";
import type { KconfigMap } from "../kernel/kconfig.js";
import { parseSizeArg } from "../kernel/memparse.js";
import type { BuildConstants } from "../kernel/profile.js";

export type VmSplit = "3G" | "3G_OPT" | "2G" | "1G";

export interface RamBank {
  base: bigint;
  size: bigint;
}

export interface BootConfig {
  /** kernel version ("6.1", "4.19.118") or a named profile ("debian-6.1-armmp"); default "6.1" */
  kernel?: string;
  /** CONFIG_VMSPLIT_*; default: the .config's, else 3G */
  split?: VmSplit;
  /** CONFIG_ARM_LPAE; default: the .config's, else false */
  lpae?: boolean;
  /** CONFIG_HIGHMEM; default: the .config's, else true */
  highmem?: boolean;
  /** CONFIG_THUMB2_KERNEL (8 MiB modules area); default: the .config's, else false */
  thumb2?: boolean;
  /** RAM banks (DT /memory); default: the DT's memory nodes, else 1 GiB at 0x40000000 (qemu virt) */
  ram?: RamBank[];
  /** PHYS_OFFSET; default: the lowest bank base rounded down to 16 MiB */
  physOffset?: bigint;
  /** the kernel command line; default: the DT's /chosen bootargs, else empty */
  cmdline?: string;
  /** CONFIG_* symbols (named profile defaults, then the .config, then these win) */
  kconfig?: KconfigMap;
  /** the parsed device tree (src/input/dts.ts) */
  dt?: DtInfo;
  /** the board's dma_zone_size (mdesc), bytes; absent: none (arm_dma_limit 0xffffffff with ZONE_DMA) */
  dmaZoneSize?: bigint;
  /** the initrd the boot loader passes (wins over `initrd=` and /chosen) */
  initrd?: { start: bigint; size: bigint };
  /** where the boot loader put the flattened device tree (reserved by early_init_fdt_reserve_self) */
  dtb?: { start: bigint; size: bigint };
  /** build constants of the image (Memory: line sizes, image reservation); default Debian's */
  build?: Partial<BuildConstants>;
}

/** RAM banks written as `base:size[,base:size...]` (the --ram option, a scenario's machine.ram). */
export function parseRamBanks(text: string, where: string): RamBank[] {
  return text.split(",").map((part) => {
    const m = /^([^:]+):(.+)$/.exec(part.trim());
    try {
      if (m) return { base: parseSizeArg(m[1], where), size: parseSizeArg(m[2], where) };
    } catch {
      // reported below, naming the whole bank
    }
    throw new InputError(
      `'${part}' is not base:size; accepted: base:size[,base:size...] with numbers in decimal or 0x hex and an optional K/M/G suffix, e.g. 0x40000000:1G`,
      where,
    );
  });
}
