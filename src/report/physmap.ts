/**
 * The physical memory map of a booted machine as one list of ranges: RAM split by reservations,
 * the lowmem/highmem boundary, CMA areas, pools and dropped RAM. Shared by the text and SVG reports.
 */
import type { BootedMachine } from "../boot/machine.js";

export type RangeKind = "free" | "reserved" | "cma" | "pool" | "no-map" | "dropped" | "leak";

export interface MapRange {
  startPfn: number;
  endPfn: number;
  kind: RangeKind;
  /** what occupies it: "kernel", "cma:reserved", "free", "dropped (above lowmem, !HIGHMEM)"... */
  label: string;
  highmem: boolean;
}

/** Pages of kept RAM below and above arm_lowmem_limit. */
export function lowHighPages(m: BootedMachine): { lowPages: number; highPages: number } {
  let lowPages = 0;
  let highPages = 0;
  for (const r of m.memory) {
    lowPages += Math.max(0, Math.min(r.endPfn, m.armLowmemLimitPfn) - r.startPfn);
    highPages += Math.max(0, r.endPfn - Math.max(r.startPfn, m.armLowmemLimitPfn));
  }
  return { lowPages, highPages };
}

function kindOf(owner: string): RangeKind {
  if (owner === "cma-leak") return "leak";
  if (owner.startsWith("cma:")) return "cma";
  return "reserved";
}

export function physicalMap(m: BootedMachine): MapRange[] {
  const points = new Set<number>([m.armLowmemLimitPfn]);
  const memAll = [...m.memory];
  const add = (r: { startPfn: number; endPfn: number }) => {
    points.add(r.startPfn);
    points.add(r.endPfn);
  };
  for (const r of [...memAll, ...m.reserved, ...(m.droppedRam ?? []), ...m.dmaPools]) add(r);
  const sorted = [...points].sort((a, b) => a - b);
  const out: MapRange[] = [];
  const inside = (p: number, r: { startPfn: number; endPfn: number }) => p >= r.startPfn && p < r.endPfn;
  for (let i = 0; i + 1 < sorted.length; i++) {
    const s = sorted[i];
    const e = sorted[i + 1];
    let kind: RangeKind | undefined;
    let label = "";
    const pool = m.dmaPools.find((p) => inside(s, p));
    const res = m.reserved.find((r) => inside(s, r));
    if (m.memory.some((r) => inside(s, r))) {
      if (res) {
        kind = kindOf(res.owner);
        label = res.owner;
      } else {
        kind = "free";
        label = "free";
      }
    } else if ((m.droppedRam ?? []).some((r) => inside(s, r))) {
      kind = "dropped";
      label = `dropped: ${(m.droppedRam ?? []).find((r) => inside(s, r))?.reason}`;
    } else if (pool) {
      kind = "pool";
      label = `dma pool ${pool.name} (no-map)`;
    } else if (res?.owner.endsWith("(no-map)")) {
      kind = "no-map";
      label = res.owner;
    }
    if (!kind) continue;
    const highmem = s >= m.armLowmemLimitPfn;
    const last = out[out.length - 1];
    if (last && last.endPfn === s && last.label === label && last.highmem === highmem) last.endPfn = e;
    else out.push({ startPfn: s, endPfn: e, kind, label, highmem });
  }
  return out;
}
