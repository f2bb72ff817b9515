import { InputError } from "../errors.js";

/**
 * A BMT1 trace (test/fixtures/anchors/gen_trace.mjs): a CMA-like sequence of bitmap allocations and frees.
 *
 * Layout, all little-endian uint32: an 8-word header
 *   [0] magic 0x31544D42 ("BMT1")  [1] version 1  [2] nbits  [3] nops  [4] nallocs  [5] seed
 *   [6] max align order  [7] reserved 0
 * then nops op words:
 *   alloc: bit31 = 0, bits 16..23 = align_order, bits 0..15 = nr (>= 1): search from 0 with
 *          align_mask (1 << align_order) - 1, offset 0; on success set the bits. Allocs are numbered
 *          0, 1, 2, ... in trace order, failed ones included.
 *   free:  bit31 = 1, bits 0..30 = id of an earlier alloc: clear its bits (skipped if it failed).
 */
export interface Bmt1Trace {
  nbits: number;
  nallocs: number;
  seed: number;
  maxAlignOrder: number;
  /** The op words (a view into the file's bytes when they are aligned). */
  ops: Uint32Array;
}

const MAGIC = 0x31544d42;
const HEADER_WORDS = 8;
/** The same bound as PageBitmap: 2^28 bits. */
const MAX_TRACE_BITS = 2 ** 28;

/** Parses and checks a BMT1 trace; `source` names the file in errors. */
export function parseBmt1(bytes: Uint8Array, source: string): Bmt1Trace {
  if (bytes.byteLength < HEADER_WORDS * 4 || bytes.byteLength % 4 !== 0) {
    throw new InputError(`not a BMT1 trace (${bytes.byteLength} bytes)`, source);
  }
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  const words = new Uint32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4);
  const [magic, version, nbits, nops, nallocs, seed, maxAlignOrder] = words;
  if (magic !== MAGIC) throw new InputError("not a BMT1 trace (bad magic)", source);
  if (version !== 1) throw new InputError(`unsupported BMT1 version ${version}`, source);
  if (nbits < 1 || nbits > MAX_TRACE_BITS) throw new InputError(`nbits ${nbits} out of range`, source);
  if (words.length !== HEADER_WORDS + nops) {
    throw new InputError(`header says ${nops} ops, file holds ${words.length - HEADER_WORDS}`, source);
  }
  const ops = words.subarray(HEADER_WORDS);
  let allocs = 0;
  for (let k = 0; k < ops.length; k++) {
    const op = ops[k];
    if (op & 0x80000000) {
      if ((op & 0x7fffffff) >= allocs)
        throw new InputError(`op ${k} frees alloc ${op & 0x7fffffff} before it exists`, source);
    } else {
      const order = (op >>> 16) & 0xff;
      if ((op & 0xffff) === 0 || order > 30 || op >>> 24 !== 0) {
        throw new InputError(`op ${k} is not a valid alloc (0x${op.toString(16)})`, source);
      }
      allocs++;
    }
  }
  if (allocs !== nallocs) throw new InputError(`header says ${nallocs} allocs, ops hold ${allocs}`, source);
  return { nbits, nallocs, seed, maxAlignOrder, ops };
}

/** What a replay produces; two implementations agree iff their checksum lines are equal. */
export interface TraceChecksum {
  nbits: number;
  ops: number;
  allocs: number;
  fails: number;
  /** Sum of the successful allocs' indices (exact below 2^53). */
  sum: number;
  /** FNV-1a-style hash over the per-alloc results (index, or 0xFFFFFFFF on failure). */
  hash: number;
  /** Set bits after the last op. */
  setbits: number;
}

/** The checksum line exactly as the native anchor (bitmap_native.c) prints it. */
export function formatChecksum(c: TraceChecksum): string {
  return (
    `checksum nbits=${c.nbits} ops=${c.ops} allocs=${c.allocs} fails=${c.fails} sum=${c.sum} ` +
    `hash=0x${(c.hash >>> 0).toString(16).padStart(8, "0")} setbits=${c.setbits}`
  );
}

/** The bitmap operations a replay needs (PageBitmap, or a plain TypeScript model). */
export interface TraceBitmap {
  setRange(start: number, count: number): void;
  clearRange(start: number, count: number): void;
  weight(): number;
}

/**
 * Replays a trace op by op from JavaScript on `bitmap` (fresh, trace.nbits bits), searching with
 * `find(nr, alignMask)`. The WASM core has its own loop (replayTraceInWasm) for the per-op cost alone.
 */
export function replayTrace(
  trace: Bmt1Trace,
  bitmap: TraceBitmap,
  find: (nr: number, alignMask: number) => number,
): TraceChecksum {
  const starts = new Int32Array(trace.nallocs);
  const sizes = new Uint16Array(trace.nallocs);
  const { ops, nbits } = trace;
  let nalloc = 0;
  let fails = 0;
  let sum = 0;
  let hash = 0x811c9dc5;
  for (let k = 0; k < ops.length; k++) {
    const op = ops[k];
    if ((op & 0x80000000) === 0) {
      const nr = op & 0xffff;
      const idx = find(nr, (1 << ((op >>> 16) & 0xff)) - 1);
      let r: number;
      if (idx < nbits) {
        bitmap.setRange(idx, nr);
        sum += idx;
        r = idx;
        starts[nalloc] = idx;
      } else {
        fails++;
        r = 0xffffffff;
        starts[nalloc] = -1;
      }
      sizes[nalloc] = nr;
      nalloc++;
      hash = Math.imul((hash ^ r) >>> 0, 0x01000193) >>> 0;
    } else {
      const id = op & 0x7fffffff;
      if (starts[id] >= 0) bitmap.clearRange(starts[id], sizes[id]);
    }
  }
  return { nbits, ops: ops.length, allocs: nalloc, fails, sum, hash, setbits: bitmap.weight() };
}
