import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { mulberry32 } from "../src/runtime/movable.js";
import { formatFreeRuns, PageBitmap } from "../src/wasm/page-bitmap.js";
import { KernelBitmap } from "./helpers/kernel-bitmap.js";

// Differential tests of the WASM PageBitmap (index and kernel loop) against the TypeScript
// transliteration of lib/bitmap.c. Operation counts are tallied so the suite states how many it ran.
let operations = 0;
afterAll(() => {
  expect(operations).toBeGreaterThanOrEqual(1_000_000);
});

/** One search compared three ways: the index, the WASM kernel loop, and the TypeScript kernel loop. */
function checkFind(
  bm: PageBitmap,
  ref: KernelBitmap,
  start: number,
  nr: number,
  mask: number,
  offset: number,
): number {
  const want = ref.findNextZeroAreaOff(start, nr, mask, offset);
  const naive = bm.findNextZeroAreaOffNaive(start, nr, mask, offset);
  const indexed = bm.findNextZeroAreaOff(start, nr, mask, offset);
  const args = `size=${ref.size} start=${start} nr=${nr} mask=${mask} offset=${offset}`;
  if (naive !== want) throw new Error(`naive ${naive} != kernel ${want} (${args})`);
  // nr = 0 returns the aligned first zero even past the end: the index keeps that value too.
  if (want < ref.size || nr === 0) {
    if (indexed !== want) throw new Error(`indexed ${indexed} != kernel ${want} (${args})`);
  } else if (indexed < ref.size) {
    throw new Error(`indexed ${indexed} succeeds where the kernel fails (${args})`);
  }
  operations += 3;
  return want;
}

function checkState(bm: PageBitmap, ref: KernelBitmap): void {
  expect(bm.weight()).toBe(ref.weight());
  const runs = ref.freeRuns();
  expect(bm.freeRuns()).toEqual(runs);
  expect(bm.maxChunk()).toBe(runs.reduce((m, r) => Math.max(m, r.count), 0));
  operations += 3;
}

/** Random workload on one size: CMA-like allocs and frees, raw ranges, and odd searches. */
function randomWorkload(size: number, steps: number, seed: number): void {
  const rnd = mulberry32(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const bm = PageBitmap.create(size);
  const ref = new KernelBitmap(size);
  const live: [number, number][] = [];
  const maxNr = Math.max(1, Math.floor(size / (2 + int(30))));
  try {
    for (let k = 0; k < steps; k++) {
      const u = rnd();
      if (u < 0.4) {
        // an allocation: order from the size, as cma_alloc; sometimes a forced larger alignment
        const nr = 1 + int(maxNr);
        const order = rnd() < 0.2 ? int(13) : Math.min(Math.ceil(Math.log2(nr)), 12);
        const p = checkFind(bm, ref, 0, nr, 2 ** order - 1, 0);
        if (p < size) {
          bm.setRange(p, nr);
          ref.setRange(p, nr);
          live.push([p, nr]);
          operations++;
        }
      } else if (u < 0.75 && live.length > 0) {
        const j = int(live.length);
        const [p, nr] = live[j];
        live[j] = live[live.length - 1];
        live.pop();
        bm.clearRange(p, nr);
        ref.clearRange(p, nr);
        operations++;
      } else if (u < 0.8) {
        const a = int(size + 1);
        const c = int(size - a + 1);
        if (rnd() < 0.5) {
          bm.setRange(a, c);
          ref.setRange(a, c);
        } else {
          bm.clearRange(a, c);
          ref.clearRange(a, c);
        }
        operations++;
      } else {
        // odd searches: start past the first zero or past the end, nr = 0, offsets above the mask
        const start = rnd() < 0.15 ? size + int(100) : int(size);
        const nr = rnd() < 0.1 ? 0 : 1 + int(maxNr);
        const mask = 2 ** int(13) - 1;
        const offset = rnd() < 0.5 ? int(3 * (mask + 1) + 5) : 0;
        checkFind(bm, ref, start, nr, mask, offset);
      }
      if (k % 97 === 0) {
        const b = int(size);
        expect(bm.isSet(b)).toBe(ref.isSet(b));
        const a = int(size + 1);
        const c = int(size - a + 1);
        expect(bm.isRangeClear(a, c)).toBe(ref.isRangeClear(a, c));
        operations += 2;
      }
      if (k % 1000 === 0) checkState(bm, ref);
    }
    checkState(bm, ref);
  } finally {
    bm.dispose();
  }
}

describe("PageBitmap against the kernel loop (seeded bulk runs)", () => {
  // Sizes around word boundaries and not multiples of 32 or 64; a few long ones.
  const cases: [number, number][] = [
    [1, 2000],
    [31, 10_000],
    [63, 20_000],
    [64, 20_000],
    [65, 20_000],
    [100, 30_000],
    [257, 40_000],
    [1000, 60_000],
    [4097, 60_000],
    [12_345, 40_000],
    [65_537, 12_000],
    [300_001, 3_000],
  ];
  for (const [size, steps] of cases) {
    it(`${size} bits, ${steps} steps`, () => {
      for (let seed = 1; seed <= 2; seed++) randomWorkload(size, steps, seed * 7919 + size);
    });
  }
});

describe("PageBitmap against the kernel loop (fast-check)", () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constantFrom("set", "clear"), a: fc.nat(), b: fc.nat() }),
    fc.record({
      kind: fc.constant("find"),
      start: fc.oneof(fc.constant(0), fc.nat()),
      nr: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 80 }), fc.nat()),
      order: fc.integer({ min: 0, max: 12 }),
      offset: fc.oneof(fc.constant(0), fc.nat()),
    }),
  );
  it("every search equals the kernel's, over random op sequences", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 600 }), fc.array(op, { maxLength: 250 }), (size, ops) => {
        const bm = PageBitmap.create(size);
        const ref = new KernelBitmap(size);
        try {
          for (const o of ops) {
            if (o.kind === "find") {
              checkFind(bm, ref, o.start % (size + 70), o.nr % (size + 3), 2 ** o.order - 1, o.offset % 9000);
            } else {
              const a = o.a % (size + 1);
              const c = o.b % (size - a + 1);
              if (o.kind === "set") {
                bm.setRange(a, c);
                ref.setRange(a, c);
              } else {
                bm.clearRange(a, c);
                ref.clearRange(a, c);
              }
              operations++;
            }
          }
          checkState(bm, ref);
        } finally {
          bm.dispose();
        }
      }),
      { numRuns: 600, seed: 20261130 },
    );
  });
});

describe("PageBitmap known answers", () => {
  it("SPEC §4.2: bits 7 and 9 set, size 10, start 6, nr 3 fails with the kernel's value 11", () => {
    const bm = PageBitmap.create(10);
    bm.setRange(7, 1);
    bm.setRange(9, 1);
    expect(bm.findNextZeroAreaOffNaive(6, 3, 0, 0)).toBe(11);
    expect(bm.findNextZeroAreaOff(6, 3, 0, 0)).toBeGreaterThanOrEqual(10);
    expect(bm.findNextZeroAreaOff(0, 3, 0, 0)).toBe(0);
    bm.dispose();
  });
  it("nr = 0 returns the aligned first zero, even when that bit is set", () => {
    const bm = PageBitmap.create(16);
    bm.setRange(0, 1);
    bm.setRange(2, 1);
    expect(bm.findNextZeroAreaOff(0, 0, 1, 0)).toBe(2);
    expect(bm.findNextZeroAreaOffNaive(0, 0, 1, 0)).toBe(2);
    bm.dispose();
  });
  it("an offset larger than the mask selects the same class as offset mod (mask + 1)", () => {
    const bm = PageBitmap.create(1000);
    bm.setRange(0, 5);
    // positions p with (p + 11) & 7 == 0: 5, 13, ...
    expect(bm.findNextZeroAreaOff(0, 4, 7, 11)).toBe(5);
    expect(bm.findNextZeroAreaOffNaive(0, 4, 7, 11)).toBe(5);
    bm.dispose();
  });
  it("independent bitmaps coexist, up to 2^24 bits, and disposed memory is reused", () => {
    const big = PageBitmap.create(2 ** 24);
    const small = PageBitmap.create(100);
    big.setRange(2 ** 24 - 10, 10);
    small.setRange(0, 100);
    expect(big.findNextZeroAreaOff(0, 2 ** 24 - 10, 0, 0)).toBe(0);
    expect(big.findNextZeroAreaOff(1, 2 ** 24 - 11, 0, 0)).toBe(1);
    expect(big.findNextZeroAreaOff(2, 2 ** 24 - 11, 0, 0)).toBeGreaterThanOrEqual(2 ** 24);
    expect(big.weight()).toBe(10);
    expect(small.weight()).toBe(100);
    expect(small.findNextZeroAreaOff(0, 1, 0, 0)).toBeGreaterThanOrEqual(100);
    big.dispose();
    small.dispose();
    for (let k = 0; k < 20; k++) PageBitmap.create(2 ** 24).dispose();
  });
  it("formats free runs as cma_debug_show_areas does", () => {
    const bm = PageBitmap.create(64);
    bm.setRange(0, 4);
    bm.setRange(10, 50);
    expect(bm.freeRuns()).toEqual([
      { start: 4, count: 6 },
      { start: 60, count: 4 },
    ]);
    expect(formatFreeRuns(bm.freeRuns())).toBe("6@4+4@60");
    // order_per_bit scales the count only; the start stays a bit index, as in the kernel
    expect(formatFreeRuns(bm.freeRuns(), 2)).toBe("24@4+16@60");
    expect(bm.maxChunk()).toBe(6);
    bm.dispose();
  });
});

describe("PageBitmap on the stale-lane worst case (bench/adversarial.mjs)", () => {
  it("searches misled by stale nodes, then refreshed ones, still equal the kernel's", () => {
    // Blocks of 512 bits: runs of 5 free bits at 8k + 4 (never 8-aligned), and full blocks that had one
    // bit freed and set again after the lane existed (stale). Enough blocks that a failing search
    // passes the refresh threshold, so both the misled and the refreshed paths are compared.
    const size = 1 << 18;
    const bm = PageBitmap.create(size);
    const ref = new KernelBitmap(size);
    const both = (f: (b: PageBitmap | KernelBitmap) => void) => {
      f(bm);
      f(ref);
    };
    try {
      both((b) => b.setRange(0, size));
      checkFind(bm, ref, 0, 5, 7, 0);
      for (let base = 0; base < size; base += 512) {
        if ((base / 512) % 2 === 0) {
          // 8k + 4 .. 8k + 8: 8-aligned runs of 1 bit only, for the shorter searches below.
          for (let k = 0; k < 504; k += 8) both((b) => b.clearRange(base + k + 4, 5));
        } else {
          both((b) => b.clearRange(base + 200, 1));
          both((b) => b.setRange(base + 200, 1));
        }
      }
      const rnd = mulberry32(7);
      for (let round = 0; round < 40; round++) {
        for (let s = 0; s < 4; s++) {
          const start = s === 0 ? 0 : Math.floor(rnd() * size);
          const found = checkFind(bm, ref, start, 5, 7, 0);
          if (round === 0) expect(found).toBeGreaterThanOrEqual(size); // the pattern holds no such run
          checkFind(bm, ref, start, 1 + Math.floor(rnd() * 6), 7, Math.floor(rnd() * 8));
          checkFind(bm, ref, start, 1 + (round % 2), 7, 0);
          checkFind(bm, ref, start, 4, 3, 0);
        }
        // Frees in refreshed regions mark them stale again; some make an aligned run appear.
        const at = Math.floor(rnd() * (size - 16));
        const count = 1 + Math.floor(rnd() * 12);
        both((b) => b.clearRange(at, count));
        if (round % 3 === 0) both((b) => b.setRange(at, 16));
      }
      checkState(bm, ref);
    } finally {
      bm.dispose();
    }
  });
});
