import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseVmallocinfo } from "../src/input/vmallocinfo.js";
import { RateLimit } from "../src/runtime/ratelimit.js";
import { VM_IOREMAP, VM_NO_GUARD, VmapSpace, type VmapSpaceOptions, VmKind } from "../src/runtime/vmalloc.js";
import { bitmapFactories } from "./helpers/bitmaps.js";

const START = 0xf0800000;
const PAGE = 4096;

function options(over: Partial<VmapSpaceOptions> = {}): VmapSpaceOptions {
  return {
    lazyMaxPages: 8192,
    ioremapMaxOrder: 19,
    ioremapAlignFls: false,
    failureMessage: (size) => `vmap allocation for size ${size} failed: use vmalloc=<size> to increase size`,
    rateLimit: new RateLimit(),
    nowMs: () => 0,
    ...over,
  };
}

/**
 * Reference: a sorted list of busy [start, end) ranges, lowest-address first fit by a linear walk
 * of the gaps (the kernel's find_vmap_lowest_linear_match), lazy ranges busy until a purge.
 */
class ListSpace {
  busy: { start: number; end: number; lazy: boolean }[] = [];
  lazyPages = 0;
  constructor(
    readonly start: number,
    readonly end: number,
    readonly lazyMax: number,
  ) {}
  private find(size: number, align: number): number {
    let cursor = this.start;
    for (const b of [...this.busy, { start: this.end, end: this.end, lazy: false }]) {
      const a = Math.ceil(cursor / align) * align;
      if (a + size <= b.start) return a;
      cursor = Math.max(cursor, b.end);
    }
    return -1;
  }
  alloc(bytes: number, flags: number): number {
    let size = Math.ceil(bytes / PAGE) * PAGE;
    let align = PAGE;
    if (flags & VM_IOREMAP) align = 2 ** Math.min(Math.max(Math.ceil(Math.log2(size)), 12), 19);
    if (!(flags & VM_NO_GUARD)) size += PAGE;
    let a = this.find(size, align);
    if (a < 0) {
      this.purge();
      a = this.find(size, align);
    }
    if (a < 0) return -1;
    this.busy.push({ start: a, end: a + size, lazy: false });
    this.busy.sort((x, y) => x.start - y.start);
    return a;
  }
  free(va: number): void {
    const b = this.busy.find((x) => x.start === va && !x.lazy);
    if (!b) return;
    b.lazy = true;
    this.lazyPages += (b.end - b.start) / PAGE;
    if (this.lazyPages > this.lazyMax) this.purge();
  }
  purge(): void {
    this.busy = this.busy.filter((b) => !b.lazy);
    this.lazyPages = 0;
  }
}

describe.each(bitmapFactories())("VmapSpace on %s", (_name, make) => {
  it("places areas lowest-first with a guard page, like the kernel", () => {
    const s = new VmapSpace("vmalloc", START, START + (16 << 20), make(4096), options());
    expect(s.getVmArea(1 << 20, 0, VmKind.DmaCoherent)).toBe(START);
    expect(s.getVmArea(1 << 20, 0, VmKind.DmaCoherent)).toBe(START + (1 << 20) + PAGE);
    expect(s.getVmArea(4096, VM_NO_GUARD, VmKind.Vmap)).toBe(START + 2 * ((1 << 20) + PAGE));
    // VM_IOREMAP: aligned to the size's order (64 KiB here)
    expect(s.getVmArea(0x10000, VM_IOREMAP, VmKind.Ioremap) % 0x10000).toBe(0);
  });

  it("keeps freed areas busy until a failure purges them, then retries once", () => {
    const s = new VmapSpace("vmalloc", START, START + 3 * ((1 << 20) + PAGE), make(771), options());
    const a = s.getVmArea(1 << 20, 0, VmKind.DmaCoherent);
    s.getVmArea(1 << 20, 0, VmKind.DmaCoherent);
    s.getVmArea(1 << 20, 0, VmKind.DmaCoherent);
    s.free(a);
    expect(s.lazyPages).toBe(257);
    expect(s.getVmArea(1 << 20, 0, VmKind.DmaCoherent)).toBe(a);
    expect(s.purges).toBe(1);
    expect(s.getVmArea(1 << 20, 0, VmKind.DmaCoherent)).toBe(-1);
    expect(s.lastFailure.message).toBe(
      "vmap allocation for size 1052672 failed: use vmalloc=<size> to increase size",
    );
  });

  it("rate limits the failure line to 10 per 5 s and honours __GFP_NOWARN", () => {
    let now = 0;
    const s = new VmapSpace("vmalloc", START, START + 8 * PAGE, make(8), options({ nowMs: () => now }));
    expect(s.getVmArea(4 * PAGE, 0, VmKind.Vmap, true)).toBeGreaterThan(0);
    expect(s.getVmArea(8 * PAGE, 0, VmKind.Vmap, true)).toBe(-1);
    expect(s.lastFailure.message).toBe("");
    const printed = Array.from({ length: 12 }, () => {
      s.getVmArea(8 * PAGE, 0, VmKind.Vmap);
      return s.lastFailure.message;
    });
    expect(printed.filter((m) => m !== "").length).toBe(10);
    now = 5000;
    s.getVmArea(8 * PAGE, 0, VmKind.Vmap);
    expect(s.lastFailure.message).not.toBe("");
  });

  it("matches the sorted-list reference over random map/unmap sequences", () => {
    const op = fc.oneof(
      fc.record({
        t: fc.constant("map" as const),
        pages: fc.integer({ min: 1, max: 40 }),
        io: fc.boolean(),
        ng: fc.boolean(),
      }),
      fc.record({ t: fc.constant("unmap" as const), pick: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), fc.integer({ min: 16, max: 600 }), (ops, nrPages) => {
        const s = new VmapSpace(
          "vmalloc",
          START,
          START + nrPages * PAGE,
          make(nrPages),
          options({ lazyMaxPages: 64 }),
        );
        const ref = new ListSpace(START, START + nrPages * PAGE, 64);
        const live: number[] = [];
        for (const o of ops) {
          if (o.t === "map") {
            const flags = (o.io ? VM_IOREMAP : 0) | (o.ng ? VM_NO_GUARD : 0);
            const got = s.getVmArea(o.pages * PAGE - 100, flags, VmKind.Vmap);
            expect(got).toBe(ref.alloc(o.pages * PAGE - 100, flags));
            if (got >= 0) live.push(got);
          } else if (live.length > 0) {
            const [va] = live.splice(o.pick % live.length, 1);
            s.free(va);
            ref.free(va);
          }
          expect(s.lazyPages).toBe(ref.lazyPages);
        }
        s.dispose();
      }),
      { numRuns: 300 },
    );
  });

  it("imports /proc/vmallocinfo occupants, unpurged ones as lazy", () => {
    const text = [
      "0xf0800000-0xf0803000   12288 start_kernel+0x550/0x748 pages=2 vmalloc",
      "0xf0803000-0xf0805000    8192 gicv2m_init+0x198/0x4c4 phys=0x08020000 ioremap",
      "0xf0805000-0xf0809000   16384 unpurged vm_area",
    ].join("\n");
    const s = new VmapSpace("vmalloc", START, START + 64 * PAGE, make(64), options());
    for (const e of parseVmallocinfo(text)) {
      const kind =
        e.kind === "unpurged" ? VmKind.Lazy : e.kind === "ioremap" ? VmKind.Ioremap : VmKind.Vmalloc;
      expect(s.occupy(e.start, e.sizeBytes, kind, e.caller, e.pages)).toBe(true);
    }
    expect(s.vmallocPages).toBe(2);
    expect(s.lazyPages).toBe(4);
    expect(s.getVmArea(PAGE, 0, VmKind.Vmap)).toBe(0xf0809000);
    expect(s.areas().map((a) => a.caller)).toEqual([
      "start_kernel+0x550/0x748",
      "gicv2m_init+0x198/0x4c4",
      "unpurged vm_area",
      "",
    ]);
  });
});

describe("parseVmallocinfo", () => {
  it("names the file and line of a malformed entry", () => {
    expect(() => parseVmallocinfo("0xf0800000-0xf0803000   12288 a vmalloc\nbogus\n", "x.txt")).toThrow(
      /x\.txt:2/,
    );
    expect(() => parseVmallocinfo("0xf0800000-0xf0803000   4096 a vmalloc", "y.txt")).toThrow(
      /y\.txt:1: range/,
    );
  });
});
