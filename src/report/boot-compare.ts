/**
 * `boot --kernel A,B,...`: the same board under several kernels, side by side: where lowmem ends,
 * how much vmalloc space there is, and where each CMA area lands.
 */
import type { BootedMachine } from "../boot/machine.js";
import { hexPad } from "../boot/units.js";
import { lowHighPages } from "./physmap.js";

const PAGE = 4096;
const MiB = 1 << 20;
const mibOf = (pages: number) => `${Math.round((pages * PAGE) / MiB)} MiB`;

function cmaCell(m: BootedMachine): string {
  if (m.cmaAreas.length === 0) return "none";
  return m.cmaAreas
    .map(
      (a) =>
        `${a.name} ${mibOf(a.countPages)} @${hexPad(a.basePfn * PAGE, 8)} ${a.inHighmem ? "highmem" : "lowmem"}`,
    )
    .join("; ");
}

/** One row per kernel, columns aligned. */
export function bootCompareText(machines: BootedMachine[]): string {
  const header = ["kernel", "era", "lowmem", "highmem", "vmalloc", "CMA"];
  const rows = machines.map((m) => {
    const { lowPages, highPages } = lowHighPages(m);
    return [
      m.profile.version,
      m.profile.era,
      mibOf(lowPages),
      m.highmem ? mibOf(highPages) : "off",
      `${(m.layout.vmalloc.end - m.layout.vmalloc.start) / MiB} MiB`,
      cmaCell(m),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return `${["Side by side:", line(header), ...rows.map(line)].join("\n  ")}\n`;
}
