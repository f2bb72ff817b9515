/** The `boot --json` object: the CLI contract (dmesg, layout, zones, cma, meminfo) plus details. */
import type { BootedMachine, VirtRange } from "../boot/machine.js";
import { physicalMap } from "./physmap.js";

const PAGE = 4096;
const hex = (n: number) => `0x${n.toString(16).padStart(8, "0")}`;
const virt = (r: VirtRange) => ({ start: hex(r.start), end: hex(r.end) });
const phys = (pfn: number) => hex(pfn * PAGE);
const physEnd = (pfn: number) => hex(pfn * PAGE - 1);

export function bootJson(m: BootedMachine): Record<string, unknown> {
  const l = m.layout;
  return {
    kernel: m.profile.version,
    era: m.profile.era,
    profile: m.profileName,
    evidence: m.evidence,
    lpae: m.lpae,
    highmem: m.highmem,
    dmesg: m.dmesg.map((d) => d.text),
    dmesgLevels: m.dmesg.map((d) => d.level),
    layout: {
      pageOffset: hex(l.pageOffset),
      vector: virt(l.vector),
      fixmap: virt(l.fixmap),
      vmalloc: virt(l.vmalloc),
      lowmem: virt(l.lowmem),
      ...(l.pkmap ? { pkmap: virt(l.pkmap) } : {}),
      modules: virt(l.modules),
    },
    physOffset: phys(m.physOffsetPfn),
    armLowmemLimit: phys(m.armLowmemLimitPfn),
    memblockLimit: phys(m.memblockLimitPfn ?? m.armLowmemLimitPfn),
    zones: m.zones.map((z) => ({
      name: z.name,
      start: phys(z.startPfn),
      end: physEnd(z.endPfn),
      presentPages: z.presentPages,
    })),
    cma: m.cmaAreas.map((a) => ({
      name: a.name,
      base: phys(a.basePfn),
      size: a.countPages * PAGE,
      inHighmem: a.inHighmem,
      default: a.isDefault,
    })),
    dmaPools: m.dmaPools.map((p) => ({
      name: p.name,
      base: phys(p.startPfn),
      size: (p.endPfn - p.startPfn) * PAGE,
    })),
    meminfo: m.meminfo,
    freePagesByZone: m.freePagesByZone,
    droppedRam: (m.droppedRam ?? []).map((r) => ({
      start: phys(r.startPfn),
      end: physEnd(r.endPfn),
      reason: r.reason,
    })),
    leakedCma: (m.leakedCma ?? []).map((r) => ({ start: phys(r.startPfn), end: physEnd(r.endPfn) })),
    physicalMap: physicalMap(m).map((r) => ({
      start: phys(r.startPfn),
      end: physEnd(r.endPfn),
      kind: r.kind,
      label: r.label,
    })),
    cmaMinAlignBytes: m.cmaMinAlignBytes,
    warnings: m.warnings ?? [],
    ...(m.panic ? { panic: m.panic } : {}),
  };
}
