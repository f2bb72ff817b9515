import { describe, expect, it } from "vitest";
import { Runtime } from "../src/runtime/index.js";
import { type HandMachine, handMachine } from "./helpers/machine.js";
import { RefBitmap } from "./helpers/ref-bitmap.js";

const KiB = 1024;
const MiB = 1 << 20;
const dev = (coherent = false) => ({ name: "d", coherent, dmaMaskBits: 32 });
const runtime = (m: HandMachine = {}) => new Runtime(handMachine(m), { bitmapFactory: RefBitmap.create });

describe("dma_alloc_attrs paths per era (SPEC §6)", () => {
  it("GFP_ATOMIC on a non-coherent device uses the 256 KiB atomic pool (first 64 pages of CMA)", () => {
    const rt = runtime();
    const pool = rt.defaultCma?.basePfn ?? -1;
    const a = rt.dmaAlloc(dev(), 64 * KiB, {}, { atomic: true });
    expect(a).toMatchObject({ ok: true, source: "atomic-pool", pfn: pool, inVmalloc: false });
    const b = rt.dmaAlloc(dev(), 4 * KiB, {}, { atomic: true });
    expect(b).toMatchObject({ ok: true, pfn: pool + 16 });
    expect(rt.dmaAlloc(dev(), 256 * KiB, {}, { atomic: true })).toMatchObject({
      ok: false,
      cause: "atomic-pool-exhausted",
    });
    if (a.ok) rt.dmaFree(a.handle);
    expect(rt.dmaAlloc(dev(), 64 * KiB, {}, { atomic: true })).toMatchObject({ ok: true, pfn: pool });
  });

  it("3.x (D1, coherent first): a coherent device gets lowmem buddy pages, never CMA", () => {
    const rt = runtime({ kernel: "3.17", ramMiB: 1024, cmaMiB: 256 });
    const r = rt.dmaAlloc(dev(true), MiB);
    expect(r).toMatchObject({ ok: true, source: "buddy", inVmalloc: false });
    if (r.ok) expect(r.pfn).toBeLessThan(rt.machine.armLowmemLimitPfn);
  });

  it("4.2+ (D1, CMA first): a coherent device also takes CMA, remapped when in highmem", () => {
    const rt = runtime({ kernel: "4.19" });
    expect(rt.dmaAlloc(dev(true), MiB)).toMatchObject({ ok: true, source: "cma", inVmalloc: true });
  });

  it("without a CMA area the remap allocator takes buddy pages and maps them into vmalloc", () => {
    const rt = runtime({ kernel: "4.19", cmaMiB: 0 });
    const r = rt.dmaAlloc(dev(), 3 * 4096);
    expect(r).toMatchObject({ ok: true, source: "buddy", inVmalloc: true });
    const free = rt.stats().buddy.DMA.freePages;
    if (r.ok) rt.dmaFree(r.handle);
    // split_page: only the 3 pages were kept, the order-2 block's tail went back at once
    expect(rt.stats().buddy.DMA.freePages).toBe(free + 3);
  });

  it("≤ 3.4 (D0): buffers are remapped into the 2 MiB consistent window", () => {
    const rt = runtime({ kernel: "3.4", cmaMiB: 0 });
    const a = rt.dmaAlloc(dev(), MiB);
    expect(a).toMatchObject({ ok: true, inVmalloc: true });
    if (a.ok) expect(a.vaddr).toBe(0xffc00000);
    expect(rt.dmaAlloc(dev(), MiB)).toMatchObject({ ok: false, cause: "vmalloc-exhausted" });
  });

  it("a lowmem CMA buffer is addressed through the linear map", () => {
    const rt = runtime({ ramMiB: 512, cmaMiB: 256 });
    const r = rt.dmaAlloc(dev(), MiB);
    expect(r.ok && r.vaddr).toBe(0xd0100000);
  });
});

describe("maps for reports", () => {
  it("cmaMaps lists allocated, free and lent pages as runs covering the area", () => {
    const rt = new Runtime(handMachine({ cmaMiB: 16 }), {
      bitmapFactory: RefBitmap.create,
      movable: { movableShare: 0.2, pinProbability: 0.005, seed: 3 },
    });
    rt.dmaAlloc(dev(), MiB);
    const [area] = rt.cmaMaps();
    expect(area.runs.reduce((n, r) => n + r.pages, 0)).toBe(4096);
    expect(area.runs[0].startPfn).toBe(area.basePfn);
    // the pool and the buffer went where no pinned page was (alloc_contig_range -EBUSY retries)
    expect(area.runs.filter((r) => r.state === "allocated").reduce((n, r) => n + r.pages, 0)).toBe(64 + 256);
    const states = new Set(area.runs.map((r) => r.state));
    expect([...states].sort()).toEqual(["allocated", "free", "movable", "pinned"]);
  });
});

describe("dma-direct on LPAE before 5.19 (U20) and the coherent highmem rule", () => {
  it("5.10 LPAE: NO_KERNEL_MAPPING falls back to the page allocator; 5.10 non-LPAE does not", () => {
    const lpae = runtime({ kernel: "5.10", lpae: true, cmaMiB: 16 });
    const plain = runtime({ kernel: "5.10", cmaMiB: 16 });
    const run = (rt: Runtime) => {
      let n = 0;
      while (rt.dmaAlloc(dev(), MiB, { noKernelMapping: true }, { nowarn: true }).ok && n < 40) n++;
      return n;
    };
    expect(run(plain)).toBe(15);
    expect(run(lpae)).toBe(40);
  });

  it("5.10 LPAE, coherent device: highmem CMA pages are rejected with the kernel's dev_info line", () => {
    const rt = runtime({ kernel: "5.10", lpae: true });
    const r = rt.dmaAlloc({ name: "dmaprobe", coherent: true, dmaMaskBits: 32 }, MiB);
    expect(r).toEqual({
      ok: false,
      cause: "highmem-rejected",
      messages: ["platform dmaprobe: Rejecting highmem page from CMA."],
    });
    expect(rt.dmesg.texts()).toContain("platform dmaprobe: Rejecting highmem page from CMA.");
  });
});

describe("device specifics", () => {
  it("a per-device CMA area (DT pool) serves its device; others use the default area", () => {
    const m = handMachine({ cmaMiB: 64 });
    m.cmaAreas.push({
      name: "vpu",
      basePfn: 0x60000,
      countPages: 4096,
      orderPerBit: 0,
      isDefault: false,
      inHighmem: false,
    });
    const rt = new Runtime(m, { bitmapFactory: RefBitmap.create });
    expect(rt.dmaAlloc({ ...dev(), cmaArea: "vpu" }, MiB)).toMatchObject({
      ok: true,
      source: "cma",
      pfn: 0x60000,
    });
    const d = rt.dmaAlloc(dev(), MiB);
    expect(d.ok && rt.defaultCma?.contains(d.pfn)).toBe(true);
  });

  it("dma-direct: a CMA page beyond a 31-bit mask is given back; the buffer comes from ZONE_DMA", () => {
    const rt = runtime({ cmaMiB: 64 });
    const r = rt.dmaAlloc({ name: "d", coherent: false, dmaMaskBits: 31 }, MiB, { noKernelMapping: true });
    expect(r).toMatchObject({ ok: true, source: "buddy" });
    if (r.ok) expect(r.pfn + 256).toBeLessThanOrEqual(0x80000);
    expect(rt.stats().cma[0].usedPages).toBe(64);
  });
});
