/**
 * The bitmap operations the runtime allocators use. `PageBitmap` (src/wasm/page-bitmap.ts) provides
 * them on the WebAssembly core; test/helpers/ref-bitmap.ts provides them as the kernel's own loops,
 * which is the reference model of the differential tests.
 */
export interface BitmapLike {
  readonly size: number;
  setRange(start: number, count: number): void;
  clearRange(start: number, count: number): void;
  isSet(bit: number): boolean;
  isRangeClear(start: number, count: number): boolean;
  weight(): number;
  /** bitmap_find_next_zero_area_off: kernel-exact success index, a value >= size on failure */
  findNextZeroAreaOff(start: number, nr: number, alignMask: number, alignOffset: number): number;
  /** longest run of clear bits */
  maxChunk(): number;
  freeRuns(): { start: number; count: number }[];
  dispose(): void;
}

/** Creates a cleared bitmap of `nbits` bits. */
export type BitmapFactory = (nbits: number) => BitmapLike;
