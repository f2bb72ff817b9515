import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { instantiateSync } from "@assemblyscript/loader";
import { CmaEmuError } from "../errors.js";

/**
 * The raw exports of dist/wasm/bitmap.wasm (assembly/index.ts). These are the bare WebAssembly
 * functions, not the loader's wrappers (about 10 ns less per call). A `u32` result arrives as a signed
 * number: callers apply `>>> 0`. Handles are pointers into `memory`.
 */
export interface BitmapCore {
  readonly memory: { readonly buffer: ArrayBuffer };
  create(nbits: number): number;
  dispose(handle: number): void;
  alloc(bytes: number): number;
  free(ptr: number): void;
  setRange(handle: number, start: number, count: number): void;
  clearRange(handle: number, start: number, count: number): void;
  isSet(handle: number, bit: number): number;
  isRangeClear(handle: number, start: number, count: number): number;
  weight(handle: number): number;
  nextZeroBit(handle: number, off: number): number;
  nextSetBit(handle: number, off: number): number;
  maxChunk(handle: number): number;
  findNaive(handle: number, start: number, nr: number, mask: number, offset: number): number;
  findIndexed(handle: number, start: number, nr: number, mask: number, offset: number): number;
  replay(handle: number, ops: number, nops: number, starts: number, sizes: number, naive: number): void;
  getResultFails(): number;
  getResultHash(): number;
  getResultSum(): number;
}

/** Where the .wasm may be: beside the compiled JS (dist/wasm), or in dist/ when running src/ (vitest). */
const CANDIDATES = ["./bitmap.wasm", "../../dist/wasm/bitmap.wasm"];

let core: BitmapCore | null = null;

/** The process's (or worker's) one instance of the WASM core, loaded synchronously on first use. */
export function bitmapCore(): BitmapCore {
  if (core) return core;
  const urls = CANDIDATES.map((c) => new URL(c, import.meta.url));
  const url = urls.find((u) => existsSync(fileURLToPath(u)));
  if (!url) {
    throw new CmaEmuError(
      `the WebAssembly core is not built (looked for ${urls.map((u) => fileURLToPath(u)).join(", ")}): run npm run build`,
    );
  }
  const { instance } = instantiateSync(readFileSync(url), {});
  core = instance.exports as unknown as BitmapCore;
  return core;
}
