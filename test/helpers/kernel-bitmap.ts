/**
 * The reference model of the bitmap tests: a plain TypeScript transliteration of lib/bitmap.c
 * (bitmap_set, bitmap_clear, bitmap_find_next_zero_area_off, v3.6+) and lib/find_bit.c on 32-bit words.
 * Deliberately the kernel's loop and nothing cleverer; arithmetic is exact (no 32-bit wrap-around).
 */
export class KernelBitmap {
  private readonly map: Uint32Array;

  constructor(readonly size: number) {
    this.map = new Uint32Array(Math.ceil(size / 32));
  }

  /** find_next_bit / find_next_zero_bit: first bit >= off (set if `want`, else clear) below size, or size. */
  private findNext(size: number, off: number, want: boolean): number {
    if (off >= size) return size;
    let i = off >>> 5;
    const flip = want ? 0 : 0xffffffff;
    let w = ((this.map[i] ^ flip) & (0xffffffff << (off & 31))) >>> 0;
    while (w === 0) {
      if (++i * 32 >= size) return size;
      w = (this.map[i] ^ flip) >>> 0;
    }
    return Math.min(i * 32 + (31 - Math.clz32(w & -w)), size);
  }

  findNextBit(off: number): number {
    return this.findNext(this.size, off, true);
  }

  findNextZeroBit(off: number): number {
    return this.findNext(this.size, off, false);
  }

  /** bitmap_find_next_zero_area_off, with the kernel's failure value (index + nr of the last candidate). */
  findNextZeroAreaOff(start: number, nr: number, alignMask: number, alignOffset: number): number {
    const align = alignMask + 1;
    for (;;) {
      const first = this.findNextZeroBit(start);
      // ((index + align_offset + align_mask) & ~align_mask) - align_offset, in exact arithmetic
      const index = Math.floor((first + alignOffset + alignMask) / align) * align - alignOffset;
      const end = index + nr;
      if (end > this.size) return end;
      const i = this.findNext(end, index, true);
      if (i < end) {
        start = i + 1;
        continue;
      }
      return index;
    }
  }

  /** bitmap_set / bitmap_clear: a head word, whole words, a tail word. */
  private write(start: number, count: number, value: boolean): void {
    const end = start + count;
    for (let b = start; b < end; ) {
      const lo = b & 31;
      const n = Math.min(32 - lo, end - b);
      const m = n === 32 ? 0xffffffff : ((1 << n) - 1) << lo;
      if (value) this.map[b >>> 5] |= m;
      else this.map[b >>> 5] &= ~m;
      b += n;
    }
  }

  setRange(start: number, count: number): void {
    this.write(start, count, true);
  }

  clearRange(start: number, count: number): void {
    this.write(start, count, false);
  }

  isSet(bit: number): boolean {
    return ((this.map[bit >>> 5] >>> (bit & 31)) & 1) === 1;
  }

  isRangeClear(start: number, count: number): boolean {
    return this.findNext(start + count, start, true) >= start + count;
  }

  weight(): number {
    let n = 0;
    for (let w of this.map) {
      for (; w !== 0; n++) w &= w - 1;
    }
    return n;
  }

  /** Clear runs in order, as cma_debug_show_areas walks them. */
  freeRuns(): { start: number; count: number }[] {
    const runs: { start: number; count: number }[] = [];
    let from = 0;
    for (;;) {
      const s = this.findNextZeroBit(from);
      if (s >= this.size) return runs;
      const e = this.findNextBit(s);
      runs.push({ start: s, count: e - s });
      from = e;
    }
  }
}
