import { CmaEmuError, RangeArgumentError } from "../errors.js";
import { type BitmapCore, bitmapCore } from "./loader.js";

/** Largest bitmap: 2^28 bits, 1 TiB of 4 KiB pages (the whole 40-bit LPAE physical space). */
export const MAX_BITMAP_BITS = 2 ** 28;
/** Largest align_mask accepted: alignments up to 2^31 bits. */
const MAX_ALIGN_MASK = 2 ** 31 - 1;
const MAX_U32 = 2 ** 32 - 1;

/** A clear run of a bitmap: bits [start, start + count). */
export interface FreeRun {
  start: number;
  count: number;
}

function checkInt(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeArgumentError(`${name} must be an integer in [0, ${max}], got ${value}`);
  }
}

/**
 * A page-frame bitmap on the WebAssembly core: bit set = page in use. Several coexist in one module
 * instance; each has the kernel's bitmap operations (lib/bitmap.c) and an exact O(log n) index for
 * bitmap_find_next_zero_area_off. Arguments are checked here, before the WASM call: a bad one throws
 * RangeArgumentError and leaves the bitmap usable.
 */
export class PageBitmap {
  private handle: number;
  private readonly core: BitmapCore;

  private constructor(
    core: BitmapCore,
    handle: number,
    readonly size: number,
  ) {
    this.core = core;
    this.handle = handle;
  }

  /** A cleared bitmap of `nbits` bits (1 <= nbits <= 2^28). */
  static create(nbits: number): PageBitmap {
    if (!Number.isInteger(nbits) || nbits < 1 || nbits > MAX_BITMAP_BITS) {
      throw new RangeArgumentError(
        `bitmap size must be an integer in [1, ${MAX_BITMAP_BITS}] bits, got ${nbits}`,
      );
    }
    const core = bitmapCore();
    let handle: number;
    try {
      handle = core.create(nbits) >>> 0;
    } catch {
      // the core aborts when its linear memory cannot grow any more (4 GiB at most)
      throw new CmaEmuError(`out of WebAssembly memory for a ${nbits}-bit bitmap: dispose() unused ones`);
    }
    return new PageBitmap(core, handle, nbits);
  }

  private live(): number {
    if (this.handle === 0) throw new CmaEmuError("this PageBitmap was disposed");
    return this.handle;
  }

  private checkRange(start: number, count: number): void {
    // the common case in one inlinable test: (x >>> 0) === x is an integer in [0, 2^32)
    if (start >>> 0 === start && count >>> 0 === count && start + count <= this.size) return;
    checkInt("start", start, this.size);
    checkInt("count", count, this.size);
    if (start + count > this.size) {
      throw new RangeArgumentError(
        `range [${start}, ${start + count}) is past the end of a ${this.size}-bit bitmap`,
      );
    }
  }

  /** bitmap_set: sets bits [start, start + count). */
  setRange(start: number, count: number): void {
    const h = this.live();
    this.checkRange(start, count);
    this.core.setRange(h, start, count);
  }

  /** bitmap_clear: clears bits [start, start + count). */
  clearRange(start: number, count: number): void {
    const h = this.live();
    this.checkRange(start, count);
    this.core.clearRange(h, start, count);
  }

  isSet(bit: number): boolean {
    const h = this.live();
    checkInt("bit", bit, this.size - 1);
    return this.core.isSet(h, bit) !== 0;
  }

  isRangeClear(start: number, count: number): boolean {
    const h = this.live();
    this.checkRange(start, count);
    return this.core.isRangeClear(h, start, count) !== 0;
  }

  /** bitmap_weight: the number of set bits. */
  weight(): number {
    return this.core.weight(this.live()) >>> 0;
  }

  private checkSearch(start: number, nr: number, alignMask: number, alignOffset: number): void {
    if (
      start >>> 0 === start &&
      nr >>> 0 === nr &&
      alignOffset >>> 0 === alignOffset &&
      alignMask >>> 0 === alignMask &&
      alignMask <= MAX_ALIGN_MASK &&
      (alignMask & (alignMask + 1)) === 0
    )
      return;
    checkInt("start", start, MAX_U32);
    checkInt("nr", nr, MAX_U32);
    checkInt("alignMask", alignMask, MAX_ALIGN_MASK);
    checkInt("alignOffset", alignOffset, MAX_U32);
    if ((alignMask & (alignMask + 1)) !== 0) {
      throw new RangeArgumentError(`alignMask must be a power of two minus one, got ${alignMask}`);
    }
  }

  /**
   * bitmap_find_next_zero_area_off from the index, in O(log n): the lowest p >= start with
   * (p + alignOffset) & alignMask == 0, [p, p + nr) clear and p + nr <= size, exactly the kernel's
   * success index; on failure a value >= size (size + nr, not the kernel's own failure value).
   */
  findNextZeroAreaOff(start: number, nr: number, alignMask: number, alignOffset: number): number {
    const h = this.live();
    this.checkSearch(start, nr, alignMask, alignOffset);
    return this.core.findIndexed(h, start, nr, alignMask, alignOffset);
  }

  /** The kernel loop of bitmap_find_next_zero_area_off itself, with its exact failure value. */
  findNextZeroAreaOffNaive(start: number, nr: number, alignMask: number, alignOffset: number): number {
    const h = this.live();
    this.checkSearch(start, nr, alignMask, alignOffset);
    return this.core.findNaive(h, start, nr, alignMask, alignOffset);
  }

  /** The longest clear run, in bits (cma_debug `maxchunk`). */
  maxChunk(): number {
    return this.core.maxChunk(this.live()) >>> 0;
  }

  /** The clear runs in address order, as cma_debug_show_areas walks them. */
  freeRuns(): FreeRun[] {
    const h = this.live();
    const runs: FreeRun[] = [];
    let from = 0;
    for (;;) {
      const start = this.core.nextZeroBit(h, from) >>> 0;
      if (start >= this.size) return runs;
      const end = this.core.nextSetBit(h, start) >>> 0;
      runs.push({ start, count: end - start });
      from = end;
    }
  }

  /** Returns the bitmap's memory to the core for reuse; the object is unusable afterwards. */
  dispose(): void {
    if (this.handle === 0) return;
    this.core.dispose(this.handle);
    this.handle = 0;
  }
}

/**
 * Free runs the way cma_debug_show_areas prints them (mm/cma.c, v5.x-6.x): `count@start` joined by
 * `+`, where count is in pages (bits << orderPerBit) and start stays a bit index, as in the kernel.
 */
export function formatFreeRuns(runs: readonly FreeRun[], orderPerBit = 0): string {
  return runs.map((r) => `${r.count * 2 ** orderPerBit}@${r.start}`).join("+");
}
