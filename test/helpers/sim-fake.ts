/**
 * A small, obviously right stand-in for boot + Runtime, to test the simulation engine alone:
 * a first-fit page array for one CMA area, a byte budget for the vmalloc and modules areas.
 */
import type { BootedMachine } from "../../src/boot/machine.js";
import { resolveProfile } from "../../src/kernel/profile.js";
import type { DmaAllocResult, DmaAttrs, DmaDevice } from "../../src/runtime/api.js";
import type { ResolvedConfiguration } from "../../src/sim/configurations.js";
import type { SimTarget, TargetMaps, TargetSnapshot, VmAllocResult } from "../../src/sim/target.js";

export interface FakeOptions {
  cmaPages: number;
  highmem: boolean;
  vmallocBytes: number;
  modulesBytes?: number;
}

export function fakeMachine(o: FakeOptions, kernel = "6.1"): BootedMachine {
  const vmallocStart = 0xf0000000;
  return {
    profile: resolveProfile(kernel),
    lpae: false,
    highmem: true,
    layout: {
      pageOffset: 0xc0000000,
      taskSize: 0xbf000000,
      vector: { start: 0xffff0000, end: 0xffff1000 },
      fixmap: { start: 0xffc00000, end: 0xfff00000 },
      vmalloc: { start: vmallocStart, end: vmallocStart + o.vmallocBytes },
      lowmem: { start: 0xc0000000, end: 0xef800000 },
      modules: { start: 0xbf000000, end: 0xbf000000 + (o.modulesBytes ?? 16 << 20) },
    },
    physOffsetPfn: 0x40000,
    memory: [{ startPfn: 0x40000, endPfn: 0xc0000 }],
    reserved: [],
    armLowmemLimitPfn: 0x6f800,
    maxPfn: 0xc0000,
    zones: [
      { name: "Normal", startPfn: 0x40000, endPfn: 0x6f800, presentPages: 0x2f800 },
      { name: "HighMem", startPfn: 0x6f800, endPfn: 0xc0000, presentPages: 0x50800 },
    ],
    cmaAreas: [
      {
        name: "reserved",
        basePfn: o.highmem ? 0xa0000 : 0x50000,
        countPages: o.cmaPages,
        orderPerBit: 0,
        isDefault: true,
        inHighmem: o.highmem,
      },
    ],
    dmaPools: [],
    freePagesByZone: { Normal: 150000, HighMem: 200000 },
    meminfo: {},
    dmesg: [],
  };
}

export class FakeTarget implements SimTarget {
  readonly machine: BootedMachine;
  private readonly pages: Uint8Array;
  private vmallocUsed = 0;
  private modulesUsed = 0;
  private readonly bufs = new Map<number, { pfn: number; pages: number; vm: number }>();
  private readonly vms = new Map<number, { bytes: number; module: boolean }>();
  private nextHandle = 1;
  calls = 0;

  constructor(
    private readonly o: FakeOptions,
    kernel = "6.1",
  ) {
    this.machine = fakeMachine(o, kernel);
    this.pages = new Uint8Array(o.cmaPages);
  }

  private firstFit(n: number): number {
    let run = 0;
    for (let i = 0; i < this.pages.length; i++) {
      run = this.pages[i] ? 0 : run + 1;
      if (run === n) return i - n + 1;
    }
    return -1;
  }

  dmaAlloc(_dev: DmaDevice, sizeBytes: number, attrs: DmaAttrs): DmaAllocResult {
    this.calls++;
    const n = Math.ceil(sizeBytes / 4096);
    const at = this.firstFit(n);
    if (at < 0) return { ok: false, cause: "cma-no-range", messages: [] };
    const vm = this.o.highmem && !attrs.noKernelMapping ? n * 4096 + 4096 : 0;
    if (this.vmallocUsed + vm > this.o.vmallocBytes) {
      return { ok: false, cause: "vmalloc-exhausted", messages: [`vmap allocation for size ${vm} failed`] };
    }
    this.vmallocUsed += vm;
    this.pages.fill(1, at, at + n);
    const handle = this.nextHandle++;
    this.bufs.set(handle, { pfn: at, pages: n, vm });
    return { ok: true, handle, source: "cma", pfn: this.machine.cmaAreas[0].basePfn + at, inVmalloc: vm > 0 };
  }

  dmaFree(handle: number): void {
    this.calls++;
    const b = this.bufs.get(handle)!;
    this.pages.fill(0, b.pfn, b.pfn + b.pages);
    this.vmallocUsed -= b.vm;
    this.bufs.delete(handle);
  }

  private vmAlloc(bytes: number, module: boolean): VmAllocResult {
    const b = Math.ceil(bytes / 4096) * 4096 + 4096;
    if (
      module
        ? this.modulesUsed + b > (this.o.modulesBytes ?? 16 << 20)
        : this.vmallocUsed + b > this.o.vmallocBytes
    ) {
      return { ok: false, cause: module ? "modules-exhausted" : "vmalloc-exhausted", messages: [] };
    }
    if (module) this.modulesUsed += b;
    else this.vmallocUsed += b;
    const handle = this.nextHandle++;
    this.vms.set(handle, { bytes: b, module });
    return { ok: true, handle };
  }

  private vmFree(handle: number): void {
    const v = this.vms.get(handle)!;
    if (v.module) this.modulesUsed -= v.bytes;
    else this.vmallocUsed -= v.bytes;
    this.vms.delete(handle);
  }

  ioremap(sizeBytes: number): VmAllocResult {
    return this.vmAlloc(sizeBytes, false);
  }
  iounmap(handle: number): void {
    this.vmFree(handle);
  }
  moduleAlloc(sizeBytes: number): VmAllocResult {
    return this.vmAlloc(sizeBytes, true);
  }
  moduleFree(handle: number): void {
    this.vmFree(handle);
  }

  snapshot(): TargetSnapshot {
    let used = 0;
    let best = 0;
    let run = 0;
    for (const p of this.pages) {
      used += p;
      run = p ? 0 : run + 1;
      if (run > best) best = run;
    }
    return {
      cmaUsedPages: [used],
      cmaLargestFreePages: [best],
      cmaMovablePages: [0],
      cmaPinnedPages: [0],
      vmallocUsedBytes: this.vmallocUsed,
      vmallocLargestFreeBytes: this.o.vmallocBytes - this.vmallocUsed,
      modulesUsedBytes: this.modulesUsed,
      lowmemFreePages: 150000,
      highmemFreePages: 200000,
    };
  }

  maps(): TargetMaps {
    const runs: TargetMaps["cma"][number]["runs"] = [];
    const base = this.machine.cmaAreas[0].basePfn;
    for (let i = 0; i < this.pages.length; ) {
      let j = i;
      while (j < this.pages.length && this.pages[j] === this.pages[i]) j++;
      runs.push({ startPfn: base + i, pages: j - i, state: this.pages[i] ? "allocated" : "free" });
      i = j;
    }
    const { vmalloc, modules } = this.machine.layout;
    return {
      cma: [{ name: "reserved", basePfn: base, countPages: this.pages.length, runs }],
      vmalloc: {
        start: vmalloc.start,
        end: vmalloc.end,
        used: [{ start: vmalloc.start, sizeBytes: this.vmallocUsed, kind: "dma" }],
      },
      modules: { start: modules.start, end: modules.end, used: [] },
    };
  }
}

/** A createTarget for simulate(): highmem CMA unless the configuration's kernel is 3.17. */
export function fakeFactory(o: Partial<FakeOptions> = {}) {
  return (c: ResolvedConfiguration): SimTarget =>
    new FakeTarget(
      {
        cmaPages: o.cmaPages ?? 4096,
        highmem: o.highmem ?? c.machine.kernel !== "3.17",
        vmallocBytes: o.vmallocBytes ?? 8 << 20,
        modulesBytes: o.modulesBytes,
      },
      c.machine.kernel,
    );
}
