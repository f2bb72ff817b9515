/**
 * A scenario's `machine` and `runtime` sections turned into the inputs of boot() and new Runtime():
 * the same meanings as the `cma-emu boot` / `dma-probe` options. Files named in a scenario (a .dts, a
 * .config, a /proc/vmallocinfo or /proc/meminfo dump) are read through the caller's `readFile`, so
 * that this stays free of I/O.
 */
import { type BootConfig, parseRamBanks } from "../boot/config.js";
import type { BootedMachine } from "../boot/machine.js";
import { ConfigError } from "../errors.js";
import { parseDts } from "../input/dts.js";
import { parseKconfigFile } from "../input/kconfig-file.js";
import { parseMeminfo } from "../input/meminfo.js";
import { parseVmallocinfo } from "../input/vmallocinfo.js";
import { Kconfig, type KconfigMap, kconfigKey } from "../kernel/kconfig.js";
import { parseSizeArg } from "../kernel/memparse.js";
import type { RuntimeOptions } from "../runtime/index.js";
import type { MachineSpec, RuntimeSpec } from "./scenario.js";

/** Reads a file named in a scenario (already resolved against the scenario's folder). */
export type ReadFile = (path: string) => string;

const noFiles: ReadFile = (path) => {
  throw new ConfigError(
    `the scenario names the file ${path}; pass options.readFile to simulate() to read it`,
  );
};

function kconfigOf(m: MachineSpec, readFile: ReadFile): KconfigMap {
  const fromFile = m.kconfigFile ? parseKconfigFile(readFile(m.kconfigFile), m.kconfigFile) : {};
  const inline = Object.fromEntries(
    Object.entries(m.kconfig ?? {}).map(([k, v]) => [
      kconfigKey(k),
      v === true ? "y" : v === false ? "n" : String(v),
    ]),
  );
  return { ...fromFile, ...inline };
}

const sizeOf = (text: string | undefined, path: string) =>
  text === undefined ? undefined : parseSizeArg(text, path);

/** boot() input of a scenario's machine section. */
export function bootConfigOf(m: MachineSpec, readFile: ReadFile = noFiles): BootConfig {
  return {
    physOffset: sizeOf(m.physOffset, "machine.physOffset"),
    dmaZoneSize: sizeOf(m.dmaZoneSize, "machine.dmaZoneSize"),
    kernel: m.kernel,
    split: m.split,
    lpae: m.lpae,
    highmem: m.highmem,
    thumb2: m.thumb2,
    ram: m.ram ? parseRamBanks(m.ram, "machine.ram") : undefined,
    cmdline: m.cmdline,
    kconfig: kconfigOf(m, readFile),
    dt: m.dts ? parseDts(readFile(m.dts), m.dts) : undefined,
  };
}

/** new Runtime() options of a configuration, less the bitmap implementation. */
export function runtimeOptionsOf(
  m: MachineSpec,
  r: RuntimeSpec,
  machine: BootedMachine,
  seed: number,
  readFile: ReadFile = noFiles,
): Omit<RuntimeOptions, "bitmapFactory"> {
  const k = new Kconfig(kconfigOf(m, readFile));
  const maxOrder = k.has("CONFIG_ARCH_FORCE_MAX_ORDER")
    ? k.int("CONFIG_ARCH_FORCE_MAX_ORDER", 11)
    : k.int("CONFIG_FORCE_MAX_ZONEORDER", 11);
  return {
    vmallocinfo: m.vmallocinfo ? parseVmallocinfo(readFile(m.vmallocinfo), m.vmallocinfo) : undefined,
    meminfo: m.meminfo ? parseMeminfo(readFile(m.meminfo), m.meminfo) : undefined,
    cmaAlignment: k.int("CONFIG_CMA_ALIGNMENT", 8),
    maxOrder,
    smp: k.bool("CONFIG_SMP", true),
    transparentHugepage: k.bool("CONFIG_TRANSPARENT_HUGEPAGE", machine.lpae),
    movable: { movableShare: r.movableShare ?? 0, pinProbability: r.pinProbability ?? 0, seed },
  };
}
