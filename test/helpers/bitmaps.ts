import type { BitmapFactory, BitmapLike } from "../../src/runtime/bitmap.js";
import { PageBitmap } from "../../src/wasm/page-bitmap.js";
import { RefBitmap } from "./ref-bitmap.js";

/** PageBitmap whose search is the kernel's own loop (findNextZeroAreaOffNaive) instead of the index. */
function naiveLoop(n: number): BitmapLike {
  const b = PageBitmap.create(n);
  return Object.assign(b, {
    findNextZeroAreaOff: (start: number, nr: number, mask: number, offset: number) =>
      b.findNextZeroAreaOffNaive(start, nr, mask, offset),
  });
}

/** The bitmap implementations the runtime tests run on: the TS reference, the WASM index, the WASM kernel loop. */
export function bitmapFactories(): [string, BitmapFactory][] {
  return [
    ["RefBitmap", RefBitmap.create],
    ["PageBitmap", (n) => PageBitmap.create(n)],
    ["PageBitmap kernel loop", naiveLoop],
  ];
}
