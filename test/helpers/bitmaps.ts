import { existsSync } from "node:fs";
import type { BitmapFactory } from "../../src/runtime/bitmap.js";
import { RefBitmap } from "./ref-bitmap.js";

/** The bitmap implementations to run the runtime tests on: the reference, and the WASM one when built. */
export function bitmapFactories(): [string, BitmapFactory][] {
  const list: [string, BitmapFactory][] = [["RefBitmap", RefBitmap.create]];
  if (wasmFactory) list.push(["PageBitmap", wasmFactory]);
  return list;
}

let wasmFactory: BitmapFactory | null = null;
const wasmModule = new URL("../../src/wasm/page-bitmap.ts", import.meta.url);
if (existsSync(wasmModule)) {
  const mod = (await import(/* @vite-ignore */ wasmModule.href)) as { PageBitmap: { create: BitmapFactory } };
  wasmFactory = (n) => mod.PageBitmap.create(n);
}
