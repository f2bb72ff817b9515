/**
 * The default SimTarget: the package's own Runtime on a booted machine.
 */
import { boot } from "../boot/index.js";
import type { BootedMachine } from "../boot/machine.js";
import { ConfigError } from "../errors.js";
import type { DmaAllocResult, DmaAttrs, DmaDevice, GfpFlags } from "../runtime/api.js";
import type { BitmapFactory } from "../runtime/bitmap.js";
import { Runtime } from "../runtime/index.js";
import { type VmapSpace, VmKind } from "../runtime/vmalloc.js";
import type { ResolvedConfiguration } from "./configurations.js";
import { bootConfigOf, type ReadFile, runtimeOptionsOf } from "./machine-config.js";
import type {
  DmaOutcome,
  PhysRun,
  SimTarget,
  TargetMaps,
  TargetSnapshot,
  VirtRun,
  VmAllocResult,
} from "./target.js";

const KIND_NAMES: Record<number, string> = {
  [VmKind.Vmalloc]: "boot",
  [VmKind.Ioremap]: "ioremap",
  [VmKind.DmaCoherent]: "dma",
  [VmKind.Vmap]: "boot",
  [VmKind.Lazy]: "lazy",
};

/** Adapts a Runtime to the calls of the event loop. */
export class RuntimeTarget implements SimTarget {
  readonly machine: Runtime["machine"];
  /** vaddrs of module_alloc areas, to tell them from boot-time vmalloc areas in the maps */
  private readonly ioremaps = new Set<number>();

  constructor(readonly runtime: Runtime) {
    this.machine = runtime.machine;
  }

  setClock(nowMs: number): void {
    this.runtime.nowMs = nowMs;
  }

  dmaAlloc(dev: DmaDevice, sizeBytes: number, attrs: DmaAttrs, gfp: GfpFlags): DmaAllocResult {
    return this.runtime.dmaAlloc(dev, sizeBytes, attrs, gfp);
  }

  dmaAllocInto(dev: DmaDevice, sizeBytes: number, attrs: DmaAttrs, gfp: GfpFlags, out: DmaOutcome): boolean {
    const dma = this.runtime.dma;
    const handle = dma.allocHandle(dev, sizeBytes, attrs, gfp);
    if (handle < 0) {
      out.ok = false;
      out.cause = dma.lastCause;
      out.messages = dma.lastMessages as string[];
      return false;
    }
    out.ok = true;
    out.handle = handle;
    out.source = dma.lastSource;
    out.inVmalloc = dma.lastInVmalloc;
    return true;
  }

  dmaFree(handle: number): void {
    this.runtime.dma.free(handle);
  }

  private vmResult(
    va: number,
    space: VmapSpace,
    cause: "vmalloc-exhausted" | "modules-exhausted",
  ): VmAllocResult {
    if (va >= 0) return { ok: true, handle: va };
    const m = space.lastFailure.message;
    return { ok: false, cause, messages: m ? [m] : [] };
  }

  ioremap(sizeBytes: number): VmAllocResult {
    const r = this.vmResult(this.runtime.ioremap(sizeBytes), this.runtime.vmallocSpace, "vmalloc-exhausted");
    if (r.ok) this.ioremaps.add(r.handle);
    return r;
  }

  iounmap(handle: number): void {
    this.ioremaps.delete(handle);
    this.runtime.iounmap(handle);
  }

  moduleAlloc(sizeBytes: number): VmAllocResult {
    return this.vmResult(this.runtime.moduleAlloc(sizeBytes), this.runtime.modulesSpace, "modules-exhausted");
  }

  moduleFree(handle: number): void {
    this.runtime.moduleFree(handle);
  }

  snapshot(): TargetSnapshot {
    const rt = this.runtime;
    // The simulation keeps its own record of failure messages; the runtime's log would grow without end.
    rt.dmesg.lines.length = 0;
    let low = 0;
    let high = 0;
    for (const z of rt.buddy.zones) {
      if (z.highmem) high += z.freePages;
      else low += z.freePages;
    }
    // the model's running total is exact for a single area; several areas need a (slower) scan each
    const movable =
      rt.cmaAreas.length === 1
        ? [rt.movable.occupiedPages]
        : rt.cmaAreas.map((a) => rt.movable.occupiedIn(a.basePfn, a.basePfn + a.countPages));
    return {
      cmaUsedPages: rt.cmaAreas.map((a) => a.usedPages),
      cmaLargestFreePages: rt.cmaAreas.map((a) => a.maxChunkPages()),
      cmaMovablePages: movable,
      cmaPinnedPages: rt.cmaAreas.map(() => 0),
      vmallocUsedBytes: rt.vmallocSpace.usedBytes() - rt.vmallocSpace.lazyPages * 4096,
      vmallocLargestFreeBytes: rt.vmallocSpace.largestGapBytes(),
      modulesUsedBytes: rt.modulesSpace.usedBytes() - rt.modulesSpace.lazyPages * 4096,
      lowmemFreePages: low,
      highmemFreePages: high,
    };
  }

  /**
   * A CMA area's pages by state: allocated runs exactly; free stretches in chunks of 1/512 of the
   * area, marked "movable" when most of their pages are lent to movable allocations (a page-exact
   * map of a 512 MiB area with scattered movable pages would be a hundred thousand runs).
   */
  private cmaRuns(i: number): PhysRun[] {
    const a = this.runtime.cmaAreas[i];
    const movable = this.runtime.movable;
    const opb = a.orderPerBit;
    const chunk = Math.max(1, Math.ceil(a.countPages / 512));
    const runs: PhysRun[] = [];
    const push = (startPfn: number, pages: number, state: PhysRun["state"]) => {
      const last = runs.at(-1);
      if (last && last.state === state && last.startPfn + last.pages === startPfn) last.pages += pages;
      else if (pages > 0) runs.push({ startPfn, pages, state });
    };
    let next = 0;
    for (const f of a.freeRuns()) {
      const start = f.start << opb;
      const end = start + (f.count << opb);
      push(a.basePfn + next, start - next, "allocated");
      for (let p = start; p < end; p += chunk) {
        const n = Math.min(chunk, end - p);
        const lent = movable.occupiedIn(a.basePfn + p, a.basePfn + p + n);
        push(a.basePfn + p, n, lent * 2 >= n ? "movable" : "free");
      }
      next = end;
    }
    push(a.basePfn + next, a.countPages - next, "allocated");
    return runs;
  }

  private virtRuns(space: VmapSpace, isModules: boolean): VirtRun[] {
    return space.areas().map((area) => ({
      start: area.start,
      sizeBytes: area.sizeBytes,
      kind:
        area.kind === VmKind.Lazy
          ? "lazy"
          : isModules
            ? "module"
            : this.ioremaps.has(area.start)
              ? "ioremap"
              : area.kind === VmKind.DmaCoherent && area.caller === ""
                ? "dma"
                : (KIND_NAMES[area.kind] ?? "other"),
    }));
  }

  dispose(): void {
    this.runtime.dispose();
  }

  maps(): TargetMaps {
    const rt = this.runtime;
    return {
      cma: rt.cmaAreas.map((a, i) => ({
        name: a.name,
        basePfn: a.basePfn,
        countPages: a.countPages,
        runs: this.cmaRuns(i),
      })),
      vmalloc: {
        start: rt.vmallocSpace.startVa,
        end: rt.vmallocSpace.endVa,
        used: this.virtRuns(rt.vmallocSpace, false),
      },
      modules: {
        start: rt.modulesSpace.startVa,
        end: rt.modulesSpace.endVa,
        used: this.virtRuns(rt.modulesSpace, true),
      },
    };
  }
}

/** A machine that did not boot: no allocator is ever called, the counters stay empty. */
function deadTarget(machine: BootedMachine): SimTarget {
  const none = (): never => {
    throw new ConfigError(`this configuration does not boot: ${machine.panic}`);
  };
  return {
    machine,
    dmaAlloc: none,
    dmaFree: none,
    ioremap: none,
    iounmap: none,
    moduleAlloc: none,
    moduleFree: none,
    snapshot: () => ({
      cmaUsedPages: machine.cmaAreas.map(() => 0),
      cmaLargestFreePages: machine.cmaAreas.map(() => 0),
      cmaMovablePages: machine.cmaAreas.map(() => 0),
      cmaPinnedPages: machine.cmaAreas.map(() => 0),
      vmallocUsedBytes: 0,
      vmallocLargestFreeBytes: 0,
      modulesUsedBytes: 0,
      lowmemFreePages: 0,
      highmemFreePages: 0,
    }),
    maps: () => ({
      cma: [],
      vmalloc: { ...machine.layout.vmalloc, used: [] },
      modules: { ...machine.layout.modules, used: [] },
    }),
  };
}

/** Boots a configuration with the package's boot() and drives a new Runtime on it. */
export function runtimeTarget(
  c: ResolvedConfiguration,
  seed: number,
  readFile?: ReadFile,
  /** default: the Runtime's own (the WASM page bitmap and its index) */
  bitmapFactory?: BitmapFactory,
): SimTarget {
  const machine = boot(bootConfigOf(c.machine, readFile));
  if (machine.panic) return deadTarget(machine);
  return new RuntimeTarget(
    new Runtime(machine, {
      ...runtimeOptionsOf(c.machine, c.runtime, machine, seed, readFile),
      bitmapFactory,
      // snapshot() empties the runtime's dmesg unread: the simulation records failures itself
      debugLines: false,
    }),
  );
}
