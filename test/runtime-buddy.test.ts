import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseMeminfo } from "../src/input/meminfo.js";
import { Buddy } from "../src/runtime/buddy.js";

const zone = (startPfn: number, endPfn: number, minPages = 0, highmem = false) => ({
  name: highmem ? "HighMem" : "DMA",
  startPfn,
  endPfn,
  highmem,
  free: [{ startPfn, endPfn }],
  minPages,
});

describe("Buddy", () => {
  it("splits on allocation and merges buddies back on free", () => {
    const b = new Buddy([zone(0x40000, 0x40400)], 11);
    expect(b.buddyinfo("DMA")[10]).toBe(1);
    const p = b.allocPages(0, false);
    expect(p).toBe(0x40000);
    expect(b.buddyinfo("DMA").slice(0, 10)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    expect(b.freePages(p, 0)).toBe(true);
    expect(b.buddyinfo("DMA")[10]).toBe(1);
    expect(b.zones[0].freePages).toBe(1024);
    expect(b.freePages(p, 0)).toBe(false);
  });

  it("stops at the min watermark: free - (2^order - 1) must stay above min", () => {
    const b = new Buddy([zone(0, 4096, 1000)], 11);
    let n = 0;
    while (b.allocPages(8, false) >= 0) n++;
    expect(n).toBe(Math.floor((4096 - 1000 - 1) / 256));
  });

  it("never serves a lowmem-only request from highmem", () => {
    const b = new Buddy([zone(0, 1024), zone(1024, 8192, 0, true)], 11);
    let n = 0;
    while (b.allocPages(0, false) >= 0) n++;
    expect(n).toBe(1024);
    expect(b.allocPages(0, true)).toBeGreaterThanOrEqual(1024);
  });

  it("conserves pages and coalesces fully over random alloc/free sequences", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            order: fc.integer({ min: 0, max: 6 }),
            exact: fc.integer({ min: 1, max: 70 }),
            free: fc.nat(),
          }),
          { maxLength: 60 },
        ),
        (ops) => {
          const b = new Buddy([zone(0x100, 0x100 + 3000)], 8);
          const live: { pfn: number; order: number; count: number }[] = [];
          for (const o of ops) {
            if (o.free % 3 === 0 && live.length) {
              const x = live.splice(o.free % live.length, 1)[0];
              expect(x.order >= 0 ? b.freePages(x.pfn, x.order) : b.freePagesExact(x.pfn, x.count)).toBe(
                true,
              );
            } else if (o.free % 2 === 0) {
              const pfn = b.allocPagesExact(o.exact, false);
              if (pfn >= 0) live.push({ pfn, order: -1, count: o.exact });
            } else {
              const pfn = b.allocPages(o.order, false);
              if (pfn >= 0) live.push({ pfn, order: o.order, count: 2 ** o.order });
            }
            expect(b.zones[0].freePages + live.reduce((n, x) => n + x.count, 0)).toBe(3000);
          }
          for (const x of live) x.order >= 0 ? b.freePages(x.pfn, x.order) : b.freePagesExact(x.pfn, x.count);
          const fresh = new Buddy([zone(0x100, 0x100 + 3000)], 8);
          expect(b.buddyinfo("DMA")).toEqual(fresh.buddyinfo("DMA"));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("parseMeminfo", () => {
  it("reads kB values and names the line of a malformed one", () => {
    const m = parseMeminfo(
      "MemTotal:        2059348 kB\nLowFree:          733956 kB\nHugePages_Total:       0\n",
    );
    expect(m).toMatchObject({ MemTotal: 2059348, LowFree: 733956, HugePages_Total: 0 });
    expect(() => parseMeminfo("MemTotal: 1 kB\nbad line here\n", "m.txt")).toThrow(/m\.txt:2/);
  });
});

describe("Buddy.allocChunks", () => {
  it("serves requests larger than the biggest block and gives everything back on a shortfall", () => {
    const b = new Buddy([zone(0, 8192)], 11);
    const chunks = b.allocChunks(5000, false);
    expect(chunks).toHaveLength(5);
    expect(b.zones[0].freePages).toBe(8192 - 5000);
    expect(b.allocChunks(4000, false)).toBeNull();
    expect(b.zones[0].freePages).toBe(8192 - 5000);
    b.freeChunks(chunks as number[], 5000);
    expect(b.buddyinfo("DMA")[10]).toBe(8);
  });
});
