import { describe, expect, it } from "vitest";
import { CmaEmuError, RangeArgumentError } from "../src/errors.js";
import { PageBitmap } from "../src/wasm/page-bitmap.js";

describe("PageBitmap argument checks", () => {
  it("rejects bad sizes", () => {
    for (const n of [0, -1, 1.5, Number.NaN, 2 ** 28 + 1, Number.POSITIVE_INFINITY]) {
      expect(() => PageBitmap.create(n)).toThrow(RangeArgumentError);
    }
    const largest = PageBitmap.create(2 ** 28);
    expect(largest.size).toBe(2 ** 28);
    largest.dispose();
  });

  it("rejects bad ranges before they reach WASM, and the bitmap stays usable", () => {
    const bm = PageBitmap.create(100);
    bm.setRange(10, 5);
    const bad: [number, number][] = [
      [-1, 5],
      [0, -1],
      [0, 101],
      [99, 2],
      [100, 1],
      [0.5, 1],
      [0, 2.5],
      [Number.NaN, 1],
    ];
    for (const [a, c] of bad) {
      expect(() => bm.setRange(a, c)).toThrow(RangeArgumentError);
      expect(() => bm.clearRange(a, c)).toThrow(RangeArgumentError);
      expect(() => bm.isRangeClear(a, c)).toThrow(RangeArgumentError);
    }
    for (const b of [-1, 100, 0.5]) expect(() => bm.isSet(b)).toThrow(RangeArgumentError);
    expect(() => bm.setRange(101, 0)).toThrow(/past the end|\[0, 100\]/);
    // unchanged and working
    expect(bm.weight()).toBe(5);
    bm.setRange(95, 5);
    expect(bm.isRangeClear(15, 80)).toBe(true);
    expect(bm.findNextZeroAreaOff(0, 11, 0, 0)).toBe(15);
    bm.dispose();
  });

  it("rejects bad search arguments", () => {
    const bm = PageBitmap.create(64);
    const bad: [number, number, number, number][] = [
      [-1, 1, 0, 0],
      [0, -1, 0, 0],
      [0, 1.5, 0, 0],
      [0, 1, 5, 0],
      [0, 1, -1, 0],
      [0, 1, 2 ** 31, 0],
      [0, 1, 0, -3],
      [0, 2 ** 32, 0, 0],
    ];
    for (const [s, nr, m, o] of bad) {
      expect(() => bm.findNextZeroAreaOff(s, nr, m, o)).toThrow(RangeArgumentError);
      expect(() => bm.findNextZeroAreaOffNaive(s, nr, m, o)).toThrow(RangeArgumentError);
    }
    expect(bm.findNextZeroAreaOff(0, 64, 0, 0)).toBe(0);
    bm.dispose();
  });

  it("a disposed bitmap says so instead of touching freed memory", () => {
    const bm = PageBitmap.create(10);
    bm.dispose();
    bm.dispose();
    expect(() => bm.weight()).toThrow(CmaEmuError);
    expect(() => bm.setRange(0, 1)).toThrow(/disposed/);
  });
});
