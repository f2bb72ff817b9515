/**
 * The boot options of the CLI contract, shared by `boot`, `dma-probe` and `simulate`:
 * addBootOptions() declares them, bootConfigFromOptions() turns them into a BootConfig (reading
 * the --kconfig-file and --dts files; errors name the file and line).
 */
import type { Command } from "commander";
import { type BootConfig, parseRamBanks, type VmSplit } from "../boot/config.js";
import { ConfigError, InputError } from "../errors.js";
import { parseDts } from "../input/dts.js";
import { parseKconfigFile } from "../input/kconfig-file.js";
import { kconfigKey } from "../kernel/kconfig.js";
import { parseSizeArg } from "../kernel/memparse.js";
import { readInputFile } from "./read-file.js";

export interface BootOptions {
  kernel?: string;
  split?: string;
  lpae?: boolean;
  highmem?: boolean;
  thumb2?: boolean;
  ram?: string;
  physOffset?: string;
  cmdline?: string;
  kconfig?: string[];
  kconfigFile?: string;
  dts?: string;
  dmaZoneSize?: string;
}

const collect = (v: string, acc: string[]) => [...acc, v];

/** Adds every boot option of the CLI contract to `cmd`. */
export function addBootOptions(cmd: Command): Command {
  return cmd
    .option(
      "--kernel <version>",
      "kernel version (3.4 ... 6.x) or a named profile, e.g. 4.19 or debian-6.1-armmp; boot compares a list: 3.17,3.18",
      "6.1",
    )
    .option("--split <split>", "CONFIG_VMSPLIT_*: 3G, 3G_OPT, 2G or 1G (default: the .config's, else 3G)")
    .option("--lpae", "CONFIG_ARM_LPAE=y (64-bit phys_addr_t, %pa with 16 digits)")
    .option("--highmem", "CONFIG_HIGHMEM=y (the default)")
    .option("--no-highmem", "CONFIG_HIGHMEM off: RAM above the lowmem limit is dropped")
    .option("--thumb2", "CONFIG_THUMB2_KERNEL=y (8 MiB modules area)")
    .option("--ram <banks>", "RAM banks base:size[,base:size...], e.g. 0x40000000:2G (default 0x40000000:1G)")
    .option("--phys-offset <addr>", "PHYS_OFFSET (default: lowest bank rounded down to 16 MiB)")
    .option("--cmdline <text>", 'kernel command line, e.g. "cma=256M vmalloc=480M mem=1G"')
    .option(
      "--kconfig <KEY=VALUE>",
      "set a CONFIG_ symbol, repeatable, e.g. CONFIG_CMA_SIZE_MBYTES=64",
      collect,
      [],
    )
    .option("--kconfig-file <file>", "read CONFIG_ symbols from a kernel .config")
    .option("--dts <file>", "device-tree source: /memory, /reserved-memory, /chosen")
    .option(
      "--dma-zone-size <size>",
      "the board's dma_zone_size (ZONE_DMA limit above PHYS_OFFSET), e.g. 256M",
    );
}

const SPLITS = ["3G", "3G_OPT", "2G", "1G"];

/** Builds the BootConfig the options describe. */
export function bootConfigFromOptions(opts: BootOptions): BootConfig {
  const kconfig: Record<string, string> = {};
  if (opts.kconfigFile)
    Object.assign(kconfig, parseKconfigFile(readInputFile(opts.kconfigFile, ".config"), opts.kconfigFile));
  for (const kv of opts.kconfig ?? []) {
    const m = /^([A-Za-z0-9_]+)=(.*)$/.exec(kv.trim());
    if (!m) throw new InputError(`'${kv}' is not KEY=VALUE, e.g. CONFIG_CMA_SIZE_MBYTES=64`, "--kconfig");
    kconfig[kconfigKey(m[1])] = m[2];
  }
  let split: VmSplit | undefined;
  if (opts.split !== undefined) {
    const s = opts.split.toUpperCase().replace(/^VMSPLIT_/, "");
    if (s === "2G_OPT")
      throw new ConfigError(
        "--split 2G_OPT: there is no VMSPLIT_2G_OPT on 32-bit ARM; accepted: 3G, 3G_OPT, 2G, 1G",
      );
    if (!SPLITS.includes(s))
      throw new ConfigError(`--split ${opts.split}: unknown split; accepted: 3G, 3G_OPT, 2G, 1G`);
    split = s as VmSplit;
  }
  const config: BootConfig = { kernel: opts.kernel, kconfig };
  if (split) config.split = split;
  if (opts.lpae !== undefined) config.lpae = opts.lpae;
  if (opts.highmem !== undefined) config.highmem = opts.highmem;
  if (opts.thumb2 !== undefined) config.thumb2 = opts.thumb2;
  if (opts.ram !== undefined) config.ram = parseRamBanks(opts.ram, "--ram");
  if (opts.physOffset !== undefined) config.physOffset = parseSizeArg(opts.physOffset, "--phys-offset");
  if (opts.cmdline !== undefined) config.cmdline = opts.cmdline;
  if (opts.dmaZoneSize !== undefined) config.dmaZoneSize = parseSizeArg(opts.dmaZoneSize, "--dma-zone-size");
  if (opts.dts) config.dt = parseDts(readInputFile(opts.dts, "device tree source"), opts.dts);
  return config;
}
