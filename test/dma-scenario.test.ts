import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { VmSplit } from "../src/boot/config.js";
import { boot } from "../src/boot/index.js";
import { parseVmallocinfo } from "../src/input/vmallocinfo.js";
import { Runtime, type RuntimeOptions } from "../src/runtime/index.js";
import { type ProbeParams, runDmaProbe } from "../src/runtime/probe.js";
import { handMachine } from "./helpers/machine.js";
import { RefBitmap } from "./helpers/ref-bitmap.js";

const MiB = 1 << 20;
const VMAP_1M = "vmap allocation for size 1052672 failed: use vmalloc=<size> to increase size";
const fixture = (name: string) =>
  parseVmallocinfo(
    readFileSync(new URL(`./fixtures/runtime/vmallocinfo/${name}.txt`, import.meta.url), "utf8"),
  );

interface Board {
  kernel?: string;
  split?: VmSplit;
  ramMiB?: number;
  /** the kernel command line (default cma=512M) */
  cmdline?: string;
  lpae?: boolean;
}

/** Boots a Debian-6.1-like QEMU virt board (RAM at 0x40000000) and runs the oracle's probe on it. */
function probe(b: Board, p: Partial<ProbeParams>, opts: Partial<RuntimeOptions> = {}) {
  const machine = boot({
    kernel: b.kernel ?? "6.1",
    split: b.split ?? "3G",
    lpae: b.lpae ?? false,
    ram: [{ base: 0x40000000n, size: BigInt(b.ramMiB ?? 2048) << 20n }],
    cmdline: b.cmdline ?? "cma=512M",
    kconfig: { CONFIG_ZONE_DMA: "y", CONFIG_ARCH_FORCE_MAX_ORDER: "12", CONFIG_CMA_ALIGNMENT: "8" },
  });
  const rt = new Runtime(machine, { bitmapFactory: RefBitmap.create, ...opts });
  const r = runDmaProbe(rt, {
    chunkBytes: MiB,
    noKernelMapping: false,
    stopOutsideCma: false,
    coherent: false,
    ...p,
  });
  return { r, rt };
}

describe("the thread's scenario: 512 MiB CMA in highmem on a 3G/1G split", () => {
  it("6.1, kernel mapping: vmalloc runs out first at 233 buffers (oracle vmallocinfo)", () => {
    const { r, rt } = probe({}, {}, { vmallocinfo: fixture("armmp-2G-probe-cma512M-c1024-kmap") });
    expect(r.count).toBe(233);
    expect(r.failure).toEqual({ cause: "vmalloc-exhausted", message: VMAP_1M });
    expect(r.inVmalloc).toBe(233);
    expect(rt.stats().vmalloc.largestGapBytes).toBe(946176);
    expect(rt.stats().cma[0].usedPages).toBe(64 + 233 * 256);
    expect(rt.dmesg.texts()).toContain(VMAP_1M);
  });

  it("6.1 with the qemu-virt-6.1 occupant preset gives the same 233", () => {
    expect(probe({}, {}).r.count).toBe(233);
  });

  it("4 MiB and 16 MiB chunks: 57 and 14 (guard page per buffer)", () => {
    expect(probe({}, { chunkBytes: 4 * MiB }).r.count).toBe(57);
    const r16 = probe({}, { chunkBytes: 16 * MiB }).r;
    expect(r16.count).toBe(14);
    expect(r16.failure?.message).toBe(
      "vmap allocation for size 16781312 failed: use vmalloc=<size> to increase size",
    );
  });

  it("vmalloc=512M and VMSPLIT_2G move the limit", () => {
    expect(probe({ cmdline: "cma=512M vmalloc=512M" }, {}).r.count).toBe(503);
    const split2g = probe({ split: "2G" }, {}).r;
    // 1.75 GiB of lowmem: the 512 MiB area no longer fits in highmem, buffers use the linear map
    expect(split2g.inVmalloc).toBe(0);
    expect(split2g.count).toBe(511);
    expect(split2g.failure).toEqual({ cause: "cma-no-range", message: "" });
  });

  it("NO_KERNEL_MAPPING gets the whole area, then (dma-direct) the page allocator beyond it", () => {
    const stop = probe({}, { noKernelMapping: true, stopOutsideCma: true }).r;
    expect(stop).toMatchObject({ count: 511, stopped: "outside_cma", inVmalloc: 0 });
    const nostop = probe({}, { noKernelMapping: true }).r;
    expect(nostop.inCma).toBe(511);
    // oracle 1226 (715 order-8 blocks of lowmem); calibrated within 2 %
    expect(Math.abs(nostop.count - 1226) / 1226).toBeLessThan(0.02);
    expect(nostop.failure).toEqual({ cause: "buddy-exhausted", message: "" });
  });

  it("4.19 (arm_dma_ops): NO_KERNEL_MAPPING honoured, but no page-allocator fallback", () => {
    const r = probe({ kernel: "4.19" }, { noKernelMapping: true }).r;
    expect(r).toMatchObject({ count: 511, inVmalloc: 0, failure: { cause: "cma-no-range", message: "" } });
  });

  it("3.17: CMA in lowmem (P0) is remapped in place, no vmalloc used; NO_KERNEL_MAPPING is ignored", () => {
    const m = { kernel: "3.17", ramMiB: 1024, cmdline: "cma=256M" };
    const { r, rt } = probe(m, { noKernelMapping: true });
    expect(r.inVmalloc).toBe(0);
    expect(r.count).toBe(255);
    expect(r.failure).toEqual({ cause: "cma-no-range", message: "" });
    expect(rt.stats().vmalloc.lazyBytes + rt.stats().vmalloc.usedBytes).toBeLessThan(8 * MiB);
  });

  it("a coherent device on dma-direct (5.18+) gets highmem CMA pages remapped, not rejected", () => {
    const { r } = probe({}, { coherent: true });
    expect(r.count).toBe(233);
    expect(r.failure).toEqual({ cause: "vmalloc-exhausted", message: VMAP_1M });
  });

  it("frees: dma_free_attrs releases CMA and the (lazy) vmalloc area", () => {
    const rt = new Runtime(handMachine(), { bitmapFactory: RefBitmap.create });
    const dev = { name: "d", coherent: false, dmaMaskBits: 32 };
    const a = rt.dmaAlloc(dev, MiB);
    expect(a.ok && a.inVmalloc).toBe(true);
    if (!a.ok) return;
    const used = rt.stats().cma[0].usedPages;
    rt.dmaFree(a.handle);
    expect(rt.stats().cma[0].usedPages).toBe(used - 256);
    expect(rt.stats().vmalloc.lazyBytes).toBeGreaterThanOrEqual(MiB + 4096);
  });
});

describe("boot-time figures against the oracle's /proc/meminfo (armmp 2G cma=512M)", () => {
  const oracle = Object.fromEntries(
    readFileSync(
      new URL("./fixtures/runtime/meminfo/armmp-2G-probe-cma512M-c1024-nokmap-nostop.txt", import.meta.url),
      "utf8",
    )
      .trim()
      .split("\n")
      .map((l) => [l.split(":")[0], Number.parseInt(l.split(":")[1], 10)]),
  );
  it.each([
    ["imported vmallocinfo", { vmallocinfo: fixture("armmp-2G-probe-cma512M-c1024-kmap") }],
    ["qemu-virt-6.1 preset", {}],
  ])("%s: VmallocUsed, CmaFree exact; MemFree within 0.1 %%", (_n, opts) => {
    const m = new Runtime(handMachine(), { bitmapFactory: RefBitmap.create, ...opts }).stats().meminfo;
    expect(m.VmallocUsed).toBe(oracle.VmallocUsed);
    expect(m.CmaFree).toBe(oracle.CmaFree);
    expect(m.CmaTotal).toBe(oracle.CmaTotal);
    expect(Math.abs(m.MemFree - oracle.MemFree) / oracle.MemFree).toBeLessThan(0.001);
  });
});

describe("other users of the virtual areas", () => {
  const rt = (modulePlts: boolean) =>
    new Runtime(handMachine(), { bitmapFactory: RefBitmap.create, modulePlts });

  it("module_alloc fills the 14 MiB modules area, then falls back to vmalloc only with ARM_MODULE_PLTS", () => {
    const plain = rt(false);
    let n = 0;
    while (plain.moduleAlloc(MiB - 4096) >= 0) n++;
    expect(n).toBe(14);
    expect(plain.modulesSpace.lastFailure.message).toBe(
      "vmap allocation for size 1048576 failed: use vmalloc=<size> to increase size",
    );
    const plts = rt(true);
    for (let i = 0; i < 14; i++) plts.moduleAlloc(MiB - 4096);
    const va = plts.moduleAlloc(MiB - 4096);
    expect(va).toBeGreaterThanOrEqual(plts.vmallocSpace.startVa);
    expect(plts.moduleFree(va)).toBe(true);
  });

  it("ioremap aligns to the size's order and vmalloc counts its pages in VmallocUsed", () => {
    const r = rt(false);
    const before = r.stats().meminfo.VmallocUsed;
    expect(r.ioremap(3 * MiB) % (512 * 1024)).toBe(0);
    const va = r.vmalloc(10 * 4096);
    expect(r.stats().meminfo.VmallocUsed).toBe(before + 40);
    expect(r.vfree(va)).toBe(true);
    expect(r.stats().meminfo.VmallocUsed).toBe(before);
  });
});
