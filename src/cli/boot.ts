import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { boot } from "../boot/index.js";
import type { BootedMachine } from "../boot/machine.js";
import { InputError } from "../errors.js";
import { bootCompareText } from "../report/boot-compare.js";
import { bootJson } from "../report/boot-json.js";
import { bootText } from "../report/boot-text.js";
import { physmapSvg } from "../report/physmap-svg.js";
import { addBootOptions, type BootOptions, bootConfigFromOptions } from "./boot-options.js";
import type { CliIo } from "./io.js";

const EXAMPLES = `
Examples:
  # the classic answer: 3G/1G split, 2 GiB board, Debian 6.1 rules (768 MiB lowmem, 240 MiB vmalloc)
  cma-emu boot --kernel 6.1 --split 3G --ram 0x40000000:2G
  # the same board on a 3.x kernel (760 MiB lowmem), with the "Virtual kernel memory layout" block
  cma-emu boot --kernel 3.17 --split 3G --ram 0x80000000:2G
  # "CMA region and highmem": cma=512M lands in lowmem on 3.17, in highmem from 3.18, side by side
  cma-emu boot --kernel 3.17,3.18 --ram 0x80000000:2G --cmdline "cma=512M" --svg map.svg
  # what vmalloc=480M costs in lowmem, on the oracle's Debian build
  cma-emu boot --kernel debian-6.1-armmp --ram 0x40000000:1G --cmdline "vmalloc=480M" --json
  # LPAE with 4 GiB: the Debian 6.1 CMA leak (P2), and 64 MiB of swiotlb in lowmem
  cma-emu boot --kernel 6.1 --lpae --ram 0x40000000:4G --kconfig CONFIG_ZONE_DMA=y
  # a Raspberry Pi 3 without HIGHMEM on a 2G split: "Truncating RAM", then an 8 MiB CMA area
  cma-emu boot --kernel 4.4 --split 2G --no-highmem --ram 0:0x3b000000 --kconfig CONFIG_CMA_SIZE_MBYTES=8
  # a Thumb-2 kernel (8 MiB modules area) on 128 MiB
  cma-emu boot --kernel 4.9 --thumb2 --no-highmem --ram 0x40000000:128M --cmdline cma=4M
  # a board with a 256 MiB DMA zone (mdesc->dma_zone_size) and an explicit PHYS_OFFSET
  cma-emu boot --kernel 4.19 --ram 0x80000000:1G --phys-offset 0x80000000 --dma-zone-size 256M --kconfig CONFIG_ZONE_DMA=y
  # a board's own files
  cma-emu boot --kernel 5.15 --kconfig-file .config --dts board.dts --ram 0x60000000:1G

Sizes use kernel syntax: 1G, 512M, 0x20000000. --kconfig overrides --kconfig-file, which overrides
the named profile's symbols; --split/--lpae/--highmem/--thumb2 override the .config. Exit status:
0 when the kernel boots or fails the way the kernel does (its own messages are printed), 2 for bad input.`;

export function registerBoot(program: Command, io: CliIo): void {
  const cmd = program
    .command("boot")
    .description(
      "Boot a 32-bit ARM kernel on a board: print the kernel's memory lines (layout, zones, CMA, " +
        "Memory:), a plain-language summary and the physical memory map.",
    );
  addBootOptions(cmd)
    .option("--json", "print one JSON object (dmesg, layout, zones, cma, meminfo, ...)")
    .option("--svg <file>", "write the physical memory map as an SVG picture")
    .addHelpText("after", EXAMPLES)
    .action((opts: BootOptions & { json?: boolean; svg?: string }) => {
      // --kernel 3.17,3.18: the same board under each kernel, then side by side
      const kernels = (opts.kernel ?? "6.1").split(",").map((k) => k.trim());
      const machines = kernels.map((kernel) => boot(bootConfigFromOptions({ ...opts, kernel })));
      if (opts.svg)
        machines.forEach((m, i) => {
          writeSvg(kernels.length > 1 ? svgNameFor(opts.svg!, kernels[i]) : opts.svg!, m);
        });
      if (opts.json) {
        const json = machines.length > 1 ? { runs: machines.map(bootJson) } : bootJson(machines[0]);
        io.out(`${JSON.stringify(json, null, 2)}\n`);
      } else if (machines.length === 1) io.out(bootText(machines[0]));
      else {
        machines.forEach((m, i) => {
          io.out(`=== kernel ${kernels[i]} ===\n${bootText(m)}\n`);
        });
        io.out(bootCompareText(machines));
      }
      for (const m of machines) for (const w of m.warnings ?? []) io.err(`cma-emu: warning: ${w}\n`);
    });
}

/** map.svg -> map-3.17.svg */
const svgNameFor = (file: string, kernel: string) =>
  /\.svg$/i.test(file) ? file.replace(/\.svg$/i, `-${kernel}.svg`) : `${file}-${kernel}`;

function writeSvg(file: string, machine: BootedMachine): void {
  try {
    writeFileSync(file, physmapSvg(machine));
  } catch (e) {
    throw new InputError(`cannot write the SVG (${(e as NodeJS.ErrnoException).code ?? "error"})`, file);
  }
}
