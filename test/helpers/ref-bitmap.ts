import type { BitmapLike } from "../../src/runtime/bitmap.js";

/**
 * Reference bitmap: one byte per bit and the kernel's own loop of lib/bitmap.c
 * bitmap_find_next_zero_area_off (v3.6+). Slow and obviously right.
 */
export class RefBitmap implements BitmapLike {
  private readonly bits: Uint8Array;
  constructor(readonly size: number) {
    this.bits = new Uint8Array(size);
  }
  static create(nbits: number): RefBitmap {
    return new RefBitmap(nbits);
  }
  setRange(start: number, count: number): void {
    this.bits.fill(1, start, start + count);
  }
  clearRange(start: number, count: number): void {
    this.bits.fill(0, start, start + count);
  }
  isSet(bit: number): boolean {
    return this.bits[bit] === 1;
  }
  isRangeClear(start: number, count: number): boolean {
    for (let i = start; i < start + count; i++) if (this.bits[i]) return false;
    return true;
  }
  weight(): number {
    let n = 0;
    for (const b of this.bits) n += b;
    return n;
  }
  private nextZero(from: number): number {
    let i = from;
    while (i < this.size && this.bits[i]) i++;
    return i;
  }
  private nextSet(from: number, end: number): number {
    let i = from;
    while (i < end && !this.bits[i]) i++;
    return i;
  }
  findNextZeroAreaOff(start: number, nr: number, alignMask: number, alignOffset: number): number {
    for (;;) {
      let index = this.nextZero(start);
      index = Math.floor((index + alignOffset + alignMask) / (alignMask + 1)) * (alignMask + 1) - alignOffset;
      const end = index + nr;
      if (end > this.size) return end;
      const i = this.nextSet(index, end);
      if (i < end) {
        start = i + 1;
        continue;
      }
      return index;
    }
  }
  maxChunk(): number {
    let best = 0;
    for (const r of this.freeRuns()) best = Math.max(best, r.count);
    return best;
  }
  freeRuns(): { start: number; count: number }[] {
    const runs: { start: number; count: number }[] = [];
    let i = 0;
    while (i < this.size) {
      if (this.bits[i]) {
        i++;
        continue;
      }
      const s = i;
      while (i < this.size && !this.bits[i]) i++;
      runs.push({ start: s, count: i - s });
    }
    return runs;
  }
  dispose(): void {}
}
