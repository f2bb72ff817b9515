// Worst case of the index (bench/RESULTS.md, "Known limit"): 2^20 bits in 2048 blocks of 512,
// alternately runs of 5 free bits at 8k + 1 (never 8-aligned) and fully used blocks that each had one
// bit freed and set again (so their lane bounds are stale); then failing searches for 5 bits aligned
// to 8. Prints the time per search of the index and of the kernel loop. Run after `npm run build`.
import { PageBitmap } from "../dist/wasm/page-bitmap.js";

const NBITS = 1 << 20;
const BLOCK = 512;

/** The adversarial bitmap: the index is built first, so that the frees below mark lanes stale. */
export function adversarialBitmap() {
  const bm = PageBitmap.create(NBITS);
  bm.setRange(0, NBITS);
  bm.findNextZeroAreaOff(0, 5, 7, 0); // builds the index and the lane of the search below
  for (let b = 0; b < NBITS / BLOCK; b++) {
    const base = b * BLOCK;
    if (b % 2 === 0) {
      for (let k = 0; k < BLOCK; k += 8) bm.clearRange(base + k + 1, 5);
    } else {
      bm.clearRange(base + 200, 1);
      bm.setRange(base + 200, 1);
    }
  }
  return bm;
}

function perSearchUs(bm, naive, searches) {
  const find = naive
    ? (s) => bm.findNextZeroAreaOffNaive(s, 5, 7, 0)
    : (s) => bm.findNextZeroAreaOff(s, 5, 7, 0);
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < searches; i++) sink += find(0);
  const t1 = process.hrtime.bigint();
  if (sink < searches * NBITS) throw new Error("a search succeeded: the pattern is wrong");
  return Number(t1 - t0) / 1000 / searches;
}

const bm = adversarialBitmap();
const first = perSearchUs(bm, false, 1);
const indexed = perSearchUs(bm, false, 2000);
const naive = perSearchUs(bm, true, 50);
console.log(`adversarial (nbits=${NBITS}, 5 bits aligned to 8, all searches fail)`);
console.log(`  index, first search   ${first.toFixed(2)} us`);
console.log(`  index, per search     ${indexed.toFixed(3)} us`);
console.log(`  kernel loop           ${naive.toFixed(1)} us`);
bm.dispose();
