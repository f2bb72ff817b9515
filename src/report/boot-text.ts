/**
 * Human output of `boot`: the kernel's lines, then a plain-language summary (lowmem, highmem,
 * vmalloc, dropped RAM, CMA placement and why) and the physical memory map, one line per range.
 */
import type { BootedMachine } from "../boot/machine.js";
import { hexPad } from "../boot/units.js";
import { lowHighPages, physicalMap } from "./physmap.js";

const PAGE = 4096;
const MiB = 1 << 20;
const hex8 = (n: number) => hexPad(n, 8);
const mib = (pages: number) => {
  const v = (pages * PAGE) / MiB;
  if (v < 1) return `${pages * 4} KiB`;
  if (Number.isInteger(v)) return `${v} MiB`;
  // a few pages short of a whole MiB (the 32-bit cap loses the last page): say so, not "1288.0"
  return Math.abs(v - Math.round(v)) < 1 / 16 ? `~${Math.round(v)} MiB` : `${v.toFixed(1)} MiB`;
};

/** Why the default CMA area sits where it does, per placement policy (SPEC §3.4). */
const POLICY: Record<string, string> = {
  P0: "kernels before 3.18 keep the default CMA area in lowmem: one top-down attempt below min(arm_dma_limit, arm_lowmem_limit)",
  P1: "since 3.18 the default area is tried in highmem first (top-down below arm_dma_limit), then in lowmem; it never straddles the lowmem/highmem boundary",
  P2: "as since 3.18 (highmem first, then lowmem); on LPAE with RAM reaching 4 GiB + size, a bottom-up attempt above 4 GiB overwrites a highmem success, which then leaks, and the area lands in lowmem (fixed in 6.3)",
  P3: "6.3+: bottom-up above 4 GiB first (never succeeds on 32-bit ARM), then highmem top-down, then lowmem",
};

/** A size for the map: whole MiB, else KiB up to 100 MiB, else MiB with one decimal. */
function exactSize(pages: number): string {
  const kib = pages * 4;
  if (kib % 1024 === 0) return `${kib / 1024} MiB`;
  const mibText = (kib / 1024).toFixed(1);
  return kib < 100 * 1024 || mibText.endsWith(".0") ? `${kib} KiB` : `${mibText} MiB`;
}

function rangeText(startPfn: number, endPfn: number): string {
  return `${hex8(startPfn * PAGE)}-${hex8(endPfn * PAGE - 1)}`;
}

export function bootSummary(m: BootedMachine): string[] {
  const l = m.layout;
  const { lowPages, highPages } = lowHighPages(m);
  const vmallocMiB = (l.vmalloc.end - l.vmalloc.start) / MiB;
  const splitName = `${l.pageOffset / (1 << 30)}G/${(0x100000000 - l.pageOffset) / (1 << 30)}G`;
  const out = [
    `Kernel ${m.profile.version} (rules of the era ${m.profile.era}; profile ${m.profileName}, ${m.evidence === "oracle" ? "checked against a real boot" : "computed from the era table"})`,
    `Split: user/kernel ${splitName}, PAGE_OFFSET ${hex8(l.pageOffset)}; HIGHMEM ${m.highmem ? "on" : "off"}; LPAE ${m.lpae ? "on" : "off"}`,
    `Lowmem: ${mib(lowPages)} (phys ${rangeText(m.physOffsetPfn, m.armLowmemLimitPfn)} mapped at ${hex8(l.lowmem.start)}-${hex8(l.lowmem.end - 1)})`,
    `Highmem: ${m.highmem ? (highPages ? `${mib(highPages)} above phys ${hex8(m.armLowmemLimitPfn * PAGE)}` : "none (all RAM fits in lowmem)") : "off (CONFIG_HIGHMEM is not set)"}`,
    `vmalloc: ${vmallocMiB} MiB (${hex8(l.vmalloc.start)}-${hex8(l.vmalloc.end)}); vmalloc=N moves the lowmem end 1:1, modules use their own ${(l.modules.end - l.modules.start) / MiB} MiB area`,
  ];
  if ((m.droppedRam ?? []).length)
    out.push(
      `Dropped RAM: ${(m.droppedRam ?? []).map((r) => `${rangeText(r.startPfn, r.endPfn)} (${mib(r.endPfn - r.startPfn)}, ${r.reason})`).join(", ")}`,
    );
  else out.push("Dropped RAM: none");
  for (const a of m.cmaAreas) {
    const where = a.inHighmem ? "in highmem: DMA buffers from it need a vmalloc mapping" : "in lowmem";
    out.push(
      `CMA area '${a.name}': ${mib(a.countPages)} at ${rangeText(a.basePfn, a.basePfn + a.countPages)}, ${where}${a.isDefault ? `; ${POLICY[m.profile.boot.cmaPlacement]}` : " (device-tree pool)"}`,
    );
  }
  const failed = m.dmesg.find((d) => /^cma: (CMA: )?[Ff]ailed to reserve/.test(d.text));
  if (failed)
    out.push(
      `CMA: ${failed.text.replace(/^cma: (CMA: )?/, "")}: no free range of that size and alignment fits`,
    );
  if (!m.cmaAreas.length && !failed) out.push("CMA: no area (size 0 or CONFIG_CMA off)");
  for (const r of m.leakedCma ?? [])
    out.push(`Leaked: ${rangeText(r.startPfn, r.endPfn)} stays reserved but unused (P2 bug)`);
  const mi = m.meminfo;
  const parts = ["MemTotal", "LowTotal", "HighTotal", "CmaTotal", "VmallocTotal"]
    .filter((k) => k in mi)
    .map((k) => `${k} ${mi[k]} kB`);
  out.push(`/proc/meminfo after boot: ${parts.join(", ")}`);
  if (m.panic) out.push(`PANIC: this configuration does not boot: ${m.panic}`);
  for (const w of m.warnings ?? []) out.push(`warning: ${w}`);
  return out;
}

export function physicalMapLines(m: BootedMachine): string[] {
  const out: string[] = [];
  let boundaryShown = false;
  for (const r of physicalMap(m)) {
    if (!boundaryShown && m.highmem && r.startPfn >= m.armLowmemLimitPfn) {
      out.push(`  ---------------------  lowmem/highmem boundary at ${hex8(m.armLowmemLimitPfn * PAGE)}`);
      boundaryShown = true;
    }
    const zone = r.kind === "dropped" ? "" : r.highmem ? "highmem" : "lowmem";
    out.push(
      `  ${rangeText(r.startPfn, r.endPfn)}  ${exactSize(r.endPfn - r.startPfn).padStart(11)}  ${zone.padEnd(7)}  ${r.label}`,
    );
  }
  return out;
}

export function bootText(m: BootedMachine): string {
  const lines = [
    "Kernel log:",
    ...m.dmesg.map((d) => `  ${d.text}`),
    "",
    "Summary:",
    ...bootSummary(m).map((s) => `  ${s}`),
    "",
    "Physical memory map:",
    ...physicalMapLines(m),
  ];
  return `${lines.join("\n")}\n`;
}
