import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { resolveProfile } from "../src/kernel/profile.js";
import { CmaArea, type ContigRangeModel, EBUSY } from "../src/runtime/cma.js";
import { MovablePages } from "../src/runtime/movable.js";
import { RateLimit } from "../src/runtime/ratelimit.js";
import { bitmapFactories } from "./helpers/bitmaps.js";

const info = (basePfn: number, countPages: number, orderPerBit = 0) => ({
  name: "reserved",
  basePfn,
  countPages,
  orderPerBit,
  isDefault: true,
  inHighmem: true,
});

/** Pages listed as pinned make alloc_contig_range fail with -EBUSY. */
const pinnedModel = (pinned: Set<number>): ContigRangeModel => ({
  allocContigRange: (s, e) => {
    for (let p = s; p < e; p++) if (pinned.has(p)) return EBUSY;
    return 0;
  },
  freeContigRange: () => {},
});

/**
 * Reference cma_alloc on a plain array: candidates are the aligned, free windows in increasing
 * order; a busy one moves the search to its next alignment slot (start = bitmap_no + mask + 1).
 */
function refAlloc(used: boolean[], base: number, count: number, align: number, pinned: Set<number>): number {
  const mask = (1 << align) - 1;
  const offset = base & mask;
  let start = 0;
  for (;;) {
    let p = -1;
    for (let i = start; i + count <= used.length; i++) {
      if ((i + offset) & mask) continue;
      if (used.slice(i, i + count).every((u) => !u)) {
        p = i;
        break;
      }
    }
    if (p < 0) return -1;
    let busy = false;
    for (let q = p; q < p + count; q++) if (pinned.has(base + q)) busy = true;
    if (!busy) {
      used.fill(true, p, p + count);
      return base + p;
    }
    start = p + mask + 1;
  }
}

const rules = resolveProfile("6.1").runtime;

describe.each(bitmapFactories())("CmaArea on %s", (_name, make) => {
  const area = (
    base: number,
    count: number,
    contig: ContigRangeModel,
    lines: string[] = [],
    cmaDebug = false,
  ) =>
    new CmaArea(
      info(base, count),
      make(count),
      rules,
      contig,
      { log: (_l, t) => lines.push(t) },
      new RateLimit(),
      () => 0,
      cmaDebug,
    );
  const free: ContigRangeModel = { allocContigRange: () => 0, freeContigRange: () => {} };

  it("aligns to min(order, CONFIG_CMA_ALIGNMENT) slots after the atomic pool (SPEC §6.3 a)", () => {
    const a = area(0xa0000, 131072, free);
    expect(a.alloc(64, 6, true)).toBe(0xa0000);
    expect(a.alloc(256, 8, true)).toBe(0xa0100);
    expect(a.alloc(256, 8, true)).toBe(0xa0200);
    expect(a.usedPages).toBe(64 + 512);
  });

  it("prints the 6.1 failure line unless __GFP_NOWARN, the free-area listing only with CONFIG_CMA_DEBUG", () => {
    for (const cmaDebug of [false, true]) {
      const lines: string[] = [];
      const a = area(0xa0000, 1024, free, lines, cmaDebug);
      expect(a.alloc(64, 6, true)).toBe(0xa0000);
      expect(a.alloc(1024, 8, true)).toBe(-1);
      expect(a.lastMessages).toEqual([]);
      expect(a.alloc(1024, 8, false)).toBe(-1);
      expect(lines).toEqual([
        "cma: cma_alloc: reserved: alloc failed, req-size: 1024 pages, ret: -12",
        ...(cmaDebug ? ["cma: number of available pages: 960@64=> 960 free of 1024 total pages"] : []),
      ]);
    }
  });

  it("returns before its warning for a request larger than the whole area (oracle-extra, 32 MiB)", () => {
    const lines: string[] = [];
    const a = area(0xa0000, 1024, free, lines, true);
    expect(a.alloc(1025, 8, false)).toBe(-1);
    expect(lines).toEqual([]);
    expect(a.allocFail).toBe(1);
  });

  it("prints nothing on a 3.17 kernel and the name-less line on 4.19", () => {
    for (const [version, want] of [
      ["3.17", []],
      ["4.19", ["cma: cma_alloc: alloc failed, req-size: 8 pages, ret: -12"]],
    ] as const) {
      const a = new CmaArea(
        info(0x1000, 8),
        make(8),
        resolveProfile(version).runtime,
        free,
        { log: () => {} },
        new RateLimit(),
        () => 0,
      );
      expect(a.alloc(1, 0, true)).toBe(0x1000);
      expect(a.alloc(8, 3, false)).toBe(-1);
      expect(a.lastMessages).toEqual(want);
    }
  });

  it("retries past a pinned candidate and reports -EBUSY when every slot is busy", () => {
    const a = area(0x1000, 64, pinnedModel(new Set([0x1005, 0x1012])));
    expect(a.alloc(16, 4, true)).toBe(0x1020);
    const b = area(0x1000, 32, pinnedModel(new Set([0x1000, 0x1010])));
    expect(b.alloc(16, 4, true)).toBe(-1);
    expect(b.lastError).toBe(EBUSY);
  });

  it("matches the reference loop over random alloc/release sequences with pinned pages", () => {
    const op = fc.oneof(
      fc.record({
        t: fc.constant("alloc" as const),
        count: fc.integer({ min: 1, max: 48 }),
        align: fc.integer({ min: 0, max: 5 }),
      }),
      fc.record({ t: fc.constant("free" as const), pick: fc.nat() }),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0x1000, max: 0x1100 }),
        fc.integer({ min: 8, max: 300 }),
        fc.uniqueArray(fc.nat(300), { maxLength: 6 }),
        fc.array(op, { maxLength: 80 }),
        (base, count, pinOffsets, ops) => {
          const pinned = new Set(pinOffsets.map((o) => base + o));
          const a = area(base, count, pinnedModel(pinned));
          const used: boolean[] = new Array(count).fill(false);
          const live: [number, number][] = [];
          for (const o of ops) {
            if (o.t === "alloc") {
              const got = a.alloc(o.count, o.align, true);
              expect(got).toBe(refAlloc(used, base, o.count, o.align, pinned));
              if (got >= 0) live.push([got, o.count]);
            } else if (live.length > 0) {
              const [pfn, n] = live.splice(o.pick % live.length, 1)[0];
              expect(a.release(pfn, n)).toBe(true);
              used.fill(false, pfn - base, pfn - base + n);
            }
          }
          expect(a.usedPages).toBe(used.filter(Boolean).length);
          expect(a.release(base + count, 1)).toBe(false);
          a.dispose();
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("MovablePages", () => {
  it("is deterministic from its seed and makes pinned ranges -EBUSY", () => {
    const mk = (seed: number) =>
      new MovablePages(
        [{ basePfn: 0x1000, countPages: 4096 }],
        { movableShare: 0.3, pinProbability: 0.002, seed },
        () => true,
      );
    const a = mk(7);
    const b = mk(7);
    expect(a.occupiedPages).toBe(b.occupiedPages);
    expect(a.pinnedPages).toBeGreaterThan(0);
    const results = Array.from({ length: 16 }, (_, i) =>
      a.allocContigRange(0x1000 + i * 256, 0x1100 + i * 256),
    );
    expect(results).toEqual(
      Array.from({ length: 16 }, (_, i) => b.allocContigRange(0x1000 + i * 256, 0x1100 + i * 256)),
    );
    expect(results).toContain(EBUSY);
    expect(results).toContain(0);
  });
});
