// Page-frame bitmaps with the kernel's contiguous search (lib/bitmap.c bitmap_find_next_zero_area_off)
// and an exact O(log n) index over it (SPEC.md §4.2).
//
// Every bitmap lives in linear memory behind a handle (a pointer to its `Bitmap` header). Only numbers
// cross the boundary. Memory comes from the runtime's TLSF allocator (`heap.alloc` / `heap.free`), so
// disposed bitmaps give their memory back and many bitmaps coexist.
//
// Layout of one bitmap of `nbits` bits:
//
//   words   u64[W]      W = next power of two >= ceil(nbits / 64); bit b is bit (b & 63) of words[b >> 6].
//                       Bits >= nbits are kept SET, so they never look free and need no bounds tests.
// and, from the first indexed query on (a bitmap only searched with the kernel loop pays nothing):
//   nodes   record[2W]  segment tree in heap order (root 1, children 2i and 2i+1, leaf of word w at
//                       W + w); a 16-byte record per node: pre, suf (the zero runs at the node's start and
//                       end), maxrun (its longest zero run) and dirty (stale lane bits), all exact but dirty
//   best_k  u32[2W]     per alignment class k ("lane", created on its first query): an upper bound of the
//                       longest zero run that starts at an aligned position inside the node, cut at the
//                       node's end (exact when built; see "The tree" below for how it is kept)
//
// An alignment class is (A, r): positions p with p ≡ r (mod A), A = align_mask + 1 (a power of two),
// r = (-align_offset) mod A. For the class, alignUp(x) = x + ((r - x) & mask) is the lowest aligned
// position >= x.
//
// Merging two children L, R (each `half` bits long, L ending at m) is O(1):
//   pre    = L.pre == half ? half + R.pre : L.pre
//   suf    = R.suf == half ? half + L.suf : R.suf
//   maxrun = max(L.maxrun, R.maxrun, L.suf + R.pre)
//   best   = max(L.best, R.best, cross)    q = alignUp(m - L.suf), cross = q < m ? (m - q) + R.pre : 0
// because the only run that neither child sees whole is L's zero suffix continued by R's zero prefix,
// and of its aligned starting points the lowest gives the longest run.

/** Most lanes one bitmap keeps; the least recently used one is dropped (and rebuilt on demand) beyond. */
// @ts-ignore: decorator
@inline const MAX_LANES: i32 = 16;
/** Largest bitmap: 2^28 bits (1 TiB of 4 KiB pages, the 40-bit LPAE physical space). */
// @ts-ignore: decorator
@inline const MAX_BITS: u32 = 1 << 28;
// One node record: u32 fields at these offsets. Both children of a node share a 32-byte span.
/** Length of the zero run at the node's start. */
// @ts-ignore: decorator
@inline const PRE: usize = 0;
/** Length of the zero run at the node's end. */
// @ts-ignore: decorator
@inline const SUF: usize = 4;
/** Longest zero run inside the node (exact: the best of the class A = 1). */
// @ts-ignore: decorator
@inline const MAXRUN: usize = 8;
/** Bit k set: lane k's bound at this node is stale, read MAXRUN instead. */
// @ts-ignore: decorator
@inline const DIRTY: usize = 12;
// @ts-ignore: decorator
@inline const NODE_SHIFT: usize = 4;
/** Marks "no open zero run" in the query's carry. */
// @ts-ignore: decorator
@inline const NO_RUN: u32 = 0xffffffff;

/** Header of one bitmap, at its handle. Lane arrays are indexed by lane number 0..nlanes-1. */
@unmanaged
class Bitmap {
  /** Size in bits, as created. */
  nbits: u32;
  /** Number of 64-bit words in the tree, a power of two. */
  nwords: u32;
  /** log2(nwords): height of the root. */
  height: u32;
  /** u64[nwords] */
  words: usize;
  /** Node records [2 * nwords] of NODE_BYTES (see PRE..DIRTY), allocated with the index. */
  nodes: usize;
  /** Whether pre/suf (and lanes) are maintained: from the first indexed query on. */
  indexed: bool;
  /** Lanes in use. */
  nlanes: i32;
  /** Use counter for the least-recently-used choice. */
  clock: u32;
  /** u32[MAX_LANES]: align_mask of each lane. */
  laneMask: usize;
  /** u32[MAX_LANES]: residue r of each lane. */
  laneRes: usize;
  /** usize[MAX_LANES]: the lane's best array, u32[2 * nwords]. */
  laneBest: usize;
  /** u32[MAX_LANES]: clock value of the lane's last query. */
  laneUsed: usize;
  /** u8[32]: 1 + the lane of class (2^order - 1, 0) by order, 0 if none: the common case, looked up directly. */
  laneOfOrder: usize;
}

// ---------------------------------------------------------------------------------------------------
// Small helpers

// @ts-ignore: decorator
@inline function ld32(base: usize, i: u32): u32 {
  return load<u32>(base + ((<usize>i) << 2));
}
// @ts-ignore: decorator
@inline function st32(base: usize, i: u32, v: u32): void {
  store<u32>(base + ((<usize>i) << 2), v);
}
/** Address of node i's record. */
// @ts-ignore: decorator
@inline function nodeAt(bm: Bitmap, i: u32): usize {
  return bm.nodes + ((<usize>i) << NODE_SHIFT);
}
// @ts-ignore: decorator
@inline function word(bm: Bitmap, w: u32): u64 {
  return load<u64>(bm.words + ((<usize>w) << 3));
}
// @ts-ignore: decorator
@inline function maxU32(a: u32, b: u32): u32 {
  return a > b ? a : b;
}

/** Words that hold real bits (the rest of the tree's words are padding, all set). */
// @ts-ignore: decorator
@inline function usedWords(bm: Bitmap): u32 {
  return (bm.nbits + 63) >> 6;
}

// ---------------------------------------------------------------------------------------------------
// Leaves: one 64-bit word at bit position `base`.

/** Longest zero run of `w` that starts at a position p ≡ r (mod mask + 1), cut at the word's end. */
function leafBest(w: u64, base: u32, mask: u32, r: u32): u32 {
  const first: u32 = (r - base) & mask; // offset of the first aligned position in this word
  if (w == 0) return first < 64 ? 64 - first : 0;
  if (w == u64.MAX_VALUE || first >= 64) return 0;
  if (mask >= 63) {
    // At most one aligned position in the word.
    const run = <u32>ctz(w >> first);
    const room: u32 = 64 - first;
    return run < room ? run : room;
  }
  // Several aligned positions: walk the zero runs [s, e) of the word.
  let z = ~w;
  let best: u32 = 0;
  while (z != 0) {
    const s = <u32>ctz(z);
    const e = s + <u32>ctz(~(z >> s));
    const q = s + ((first - s) & mask);
    if (q < e && e - q > best) best = e - q;
    z = e >= 64 ? 0 : z & (u64.MAX_VALUE << e);
  }
  return best;
}

/** Lowest aligned p in the word with a zero run of >= nr bits from p (cut at the word's end), or NO_RUN. */
function leafFind(w: u64, base: u32, nr: u32, mask: u32, r: u32): u32 {
  const first: u32 = (r - base) & mask;
  let z = ~w;
  while (z != 0) {
    const s = <u32>ctz(z);
    const e = s + <u32>ctz(~(z >> s));
    const q = s + ((first - s) & mask);
    if (q < e && e - q >= nr) return base + q;
    z = e >= 64 ? 0 : z & (u64.MAX_VALUE << e);
  }
  return NO_RUN;
}

// ---------------------------------------------------------------------------------------------------
// The tree
//
// pre/suf/maxrun are exact at all times once the index exists. The lane values are UPPER BOUNDS of
// `best`: setting bits can only shorten runs, so a set leaves them alone; a clear marks the lane values
// of the changed path stale (one `dirty` word per node for all lanes). A stale bound reads as maxrun,
// the longest unaligned run, which bounds every class from above. Stale nodes are upward-closed (a
// node is stale whenever a child is), so the marking stops at the first node that already was. A query
// that finds no answer inside a node whose children are not stale tightens the node's bound below nr
// on the way back (findIn), so a stale bound costs once, and only for the lanes queried there. A query
// misled by many nodes it cannot tighten (a child stale) refreshes those children first (refreshStale).
// Answers are always checked against exact data (pre/suf and the words), never against a bound.

/** First bit of the right child of node i (height h >= 1). */
// @ts-ignore: decorator
@inline function midBit(n: u32, i: u32, h: u32): u32 {
  return ((((i << 1) + 1) << (h - 1)) - n) << 6;
}

/** best bound of a merge: max(L, R, run across the middle from its lowest aligned start). */
// @ts-ignore: decorator
@inline function mergeBest(lb: u32, rb: u32, m: u32, lsuf: u32, rpre: u32, mask: u32, res: u32): u32 {
  const runStart = m - lsuf;
  const q = runStart + ((res - runStart) & mask);
  const cross: u32 = q < m ? m - q + rpre : 0;
  return maxU32(maxU32(lb, rb), cross);
}

/**
 * Longest zero run of a word, without branching on its bits: with R(L) = the positions where L ones
 * of z = ~w start, R(a + b) = R(a) & (R(b) >> a); a binary search over L with R(32)..R(1) at hand.
 */
// @ts-ignore: decorator
@inline function wordMaxRun(w: u64): u32 {
  if (w == u64.MAX_VALUE) return 0;
  const r1 = ~w;
  if (w == 0) return 64;
  const r2 = r1 & (r1 >> 1);
  const r4 = r2 & (r2 >> 2);
  const r8 = r4 & (r4 >> 4);
  const r16 = r8 & (r8 >> 8);
  const r32 = r16 & (r16 >> 16);
  let cur = u64.MAX_VALUE; // R(len)
  let len: u64 = 0;
  let next = cur & (r32 >> len);
  let ok = next != 0;
  cur = ok ? next : cur;
  len += ok ? 32 : 0;
  next = cur & (r16 >> len);
  ok = next != 0;
  cur = ok ? next : cur;
  len += ok ? 16 : 0;
  next = cur & (r8 >> len);
  ok = next != 0;
  cur = ok ? next : cur;
  len += ok ? 8 : 0;
  next = cur & (r4 >> len);
  ok = next != 0;
  cur = ok ? next : cur;
  len += ok ? 4 : 0;
  next = cur & (r2 >> len);
  ok = next != 0;
  cur = ok ? next : cur;
  len += ok ? 2 : 0;
  next = cur & (r1 >> len);
  len += next != 0 ? 1 : 0;
  return <u32>len;
}

/**
 * Stores (pre, suf, maxrun) into the record at `at`; returns true if they differ from its old ones.
 * Always stores and compares without branching: whether a record changes is hard to predict.
 */
// @ts-ignore: decorator
@inline function putRecord(at: usize, p: u32, s: u32, x: u32): bool {
  const ps = (<u64>s << 32) | <u64>p;
  const changed = (load<u64>(at, PRE) != ps) | (load<u32>(at, MAXRUN) != x);
  store<u64>(at, ps, PRE);
  store<u32>(at, x, MAXRUN);
  return changed;
}

/** Recomputes the leaf record of word w from the word; returns true if it changed. */
// @ts-ignore: decorator
@inline function recomputeLeaf(nodes: usize, words: usize, n: u32, w: u32): bool {
  const v = load<u64>(words + ((<usize>w) << 3));
  const at = nodes + ((<usize>(n + w)) << NODE_SHIFT);
  return putRecord(at, <u32>ctz(v), <u32>clz(v), wordMaxRun(v));
}

/** Recomputes the record of node i (height h >= 1) from its children; returns true if it changed. */
// @ts-ignore: decorator
@inline function recomputeNode(nodes: usize, i: u32, h: u32): bool {
  const half: u32 = 32 << h; // bits per child
  const at = nodes + ((<usize>i) << NODE_SHIFT);
  const la = nodes + ((<usize>(i << 1)) << NODE_SHIFT); // the children's records are adjacent
  const lv = load<u64>(la, PRE);
  const rv = load<u64>(la, PRE + (1 << NODE_SHIFT));
  const lpre = <u32>lv;
  const lsuf = <u32>(lv >> 32);
  const rpre = <u32>rv;
  const rsuf = <u32>(rv >> 32);
  const p = lpre == half ? half + rpre : lpre;
  const s = rsuf == half ? half + lsuf : rsuf;
  const x = maxU32(maxU32(load<u32>(la, MAXRUN), load<u32>(la, MAXRUN + (1 << NODE_SHIFT))), lsuf + rpre);
  return putRecord(at, p, s, x);
}

/**
 * After bits [start, end) were all set (`cleared` false) or all cleared: recomputes the records of the
 * changed leaves and their ancestors, level by level, until a level where nothing changed. A node the
 * range covers whole gets its record without looking at its children (empty, or all free). After a
 * clear, the lane bounds of the ancestors are marked stale, up to the first node that already was.
 */
function rebuild(bm: Bitmap, start: u32, end: u32, cleared: bool): void {
  const nodes = bm.nodes;
  const words = bm.words;
  const n = bm.nwords;
  let mark = cleared && bm.nlanes != 0;
  const w0 = start >> 6;
  const w1 = (end - 1) >> 6;
  // Leaves: the two end words from their bits; the words between are wholly set or clear.
  let changed = recomputeLeaf(nodes, words, n, w0);
  if (w1 != w0) {
    changed = changed | recomputeLeaf(nodes, words, n, w1);
    const full: u32 = cleared ? 64 : 0;
    for (let w = w0 + 1; w < w1; w++) {
      changed = changed | putRecord(nodes + ((<usize>(n + w)) << NODE_SHIFT), full, full, full);
    }
  }
  if (mark) {
    for (let w = w0; w <= w1; w++) store<u32>(nodes + ((<usize>(n + w)) << NODE_SHIFT), 0xffffffff, DIRTY);
  }
  // Ancestors, level by level: again the two end nodes from their children, whole ones between.
  let lo = (n + w0) >> 1;
  let hi = (n + w1) >> 1;
  for (let h: u32 = 1; lo >= 1 && (changed || mark); h++) {
    if (changed) {
      let again = recomputeNode(nodes, lo, h);
      if (hi != lo) {
        again = again | recomputeNode(nodes, hi, h);
        const full: u32 = cleared ? 64 << h : 0;
        for (let i = lo + 1; i < hi; i++) {
          again = again | putRecord(nodes + ((<usize>i) << NODE_SHIFT), full, full, full);
        }
      }
      changed = again;
    }
    if (mark) {
      // Stale nodes are upward-closed: above nodes that all were already stale, all are.
      let fresh = false;
      for (let i = lo; i <= hi; i++) {
        const at = nodes + ((<usize>i) << NODE_SHIFT);
        fresh = fresh | (load<u32>(at, DIRTY) != 0xffffffff);
        store<u32>(at, 0xffffffff, DIRTY);
      }
      mark = fresh;
    }
    lo >>= 1;
    hi >>= 1;
  }
}

/** The u32[2 * nwords] bound array of lane k. */
// @ts-ignore: decorator
@inline function laneArray(bm: Bitmap, k: i32): usize {
  return load<usize>(bm.laneBest + ((<usize>k) << alignof<usize>()));
}

/** Computes exact node records for the whole tree (the index is built on the first indexed query). */
function buildIndex(bm: Bitmap): void {
  const n = bm.nwords;
  const bytes = (<usize>n) << (NODE_SHIFT + 1);
  bm.nodes = heap.alloc(bytes);
  memory.fill(bm.nodes, 0, bytes);
  // Impossible pre values, so that recompute writes every node below.
  for (let i: u32 = 1; i < n << 1; i++) store<u32>(nodeAt(bm, i), 0xffffffff, PRE);
  for (let w: u32 = 0; w < n; w++) recomputeLeaf(bm.nodes, bm.words, n, w);
  for (let h: u32 = 1, lo: u32 = n >> 1; lo >= 1; h++, lo >>= 1) {
    for (let i = lo; i < lo << 1; i++) recomputeNode(bm.nodes, i, h);
  }
  bm.indexed = true;
}

/** Computes one lane's exact values for the whole tree. */
function buildLane(bm: Bitmap, k: i32): void {
  const best = laneArray(bm, k);
  const mask = ld32(bm.laneMask, k);
  const res = ld32(bm.laneRes, k);
  const n = bm.nwords;
  const known = ~(<u32>1 << k);
  for (let i: u32 = 1; i < n << 1; i++) store<u32>(nodeAt(bm, i), load<u32>(nodeAt(bm, i), DIRTY) & known, DIRTY);
  for (let w: u32 = 0; w < n; w++) st32(best, n + w, leafBest(word(bm, w), w << 6, mask, res));
  for (let h: u32 = 1, lo: u32 = n >> 1; lo >= 1; h++, lo >>= 1) {
    for (let i = lo; i < lo << 1; i++) {
      const l = i << 1;
      const v = mergeBest(
        ld32(best, l),
        ld32(best, l + 1),
        midBit(n, i, h),
        load<u32>(nodeAt(bm, l), SUF),
        load<u32>(nodeAt(bm, l + 1), PRE),
        mask,
        res,
      );
      st32(best, i, v);
    }
  }
}

/** Index of the lane of class (mask, r), creating it (and evicting the least recently used) if needed. */
function laneFor(bm: Bitmap, mask: u32, r: u32): i32 {
  const nl = bm.nlanes;
  const clock = ++bm.clock;
  const order = <usize>popcnt(mask);
  if (r == 0) {
    const hit = <i32>load<u8>(bm.laneOfOrder + order);
    if (hit != 0) {
      st32(bm.laneUsed, hit - 1, clock);
      return hit - 1;
    }
  } else {
    for (let k = 0; k < nl; k++) {
      if (ld32(bm.laneMask, k) == mask && ld32(bm.laneRes, k) == r) {
        st32(bm.laneUsed, k, clock);
        return k;
      }
    }
  }
  let k = nl;
  if (nl < MAX_LANES) {
    const bytes = (<usize>bm.nwords) << 3;
    store<usize>(bm.laneBest + ((<usize>k) << alignof<usize>()), heap.alloc(bytes));
    bm.nlanes = nl + 1;
  } else {
    k = 0;
    for (let j = 1; j < nl; j++) if (ld32(bm.laneUsed, j) < ld32(bm.laneUsed, k)) k = j;
    if (ld32(bm.laneRes, k) == 0) store<u8>(bm.laneOfOrder + <usize>popcnt(ld32(bm.laneMask, k)), 0);
  }
  st32(bm.laneMask, k, mask);
  st32(bm.laneRes, k, r);
  st32(bm.laneUsed, k, clock);
  if (r == 0) store<u8>(bm.laneOfOrder + order, <u8>(k + 1));
  buildLane(bm, k);
  return k;
}

// ---------------------------------------------------------------------------------------------------
// Word-level scans, as lib/find_bit.c does them (64-bit words)

/** First set bit at or after `off` below `size`, or `size` (find_next_bit). */
function findNextBit(bm: Bitmap, size: u32, off: u32): u32 {
  if (off >= size) return size;
  let i = off >> 6;
  let w = word(bm, i) & (u64.MAX_VALUE << (off & 63));
  while (w == 0) {
    if (++i << 6 >= size) return size;
    w = word(bm, i);
  }
  const b = (i << 6) + <u32>ctz(w);
  return b < size ? b : size;
}

/** First clear bit at or after `off` below `size`, or `size` (find_next_zero_bit). */
function findNextZeroBit(bm: Bitmap, size: u32, off: u32): u32 {
  if (off >= size) return size;
  let i = off >> 6;
  let w = ~word(bm, i) & (u64.MAX_VALUE << (off & 63));
  while (w == 0) {
    if (++i << 6 >= size) return size;
    w = ~word(bm, i);
  }
  const b = (i << 6) + <u32>ctz(w);
  return b < size ? b : size;
}

// ---------------------------------------------------------------------------------------------------
// Exports: lifecycle

/** Creates a cleared bitmap of nbits bits (1 <= nbits <= 2^28); returns its handle. */
export function create(nbits: u32): usize {
  if (nbits == 0 || nbits > MAX_BITS) unreachable();
  const used = (nbits + 63) >> 6;
  const n: u32 = used <= 1 ? 1 : 1 << (32 - <u32>clz(used - 1));
  const bm = changetype<Bitmap>(heap.alloc(offsetof<Bitmap>()));
  bm.nbits = nbits;
  bm.nwords = n;
  bm.height = 31 - <u32>clz(n);
  bm.words = heap.alloc((<usize>n) << 3);
  bm.nlanes = 0;
  bm.clock = 0;
  bm.laneMask = heap.alloc(MAX_LANES << 2);
  bm.laneRes = heap.alloc(MAX_LANES << 2);
  bm.laneBest = heap.alloc(MAX_LANES << alignof<usize>());
  bm.laneUsed = heap.alloc(MAX_LANES << 2);
  bm.laneOfOrder = heap.alloc(32);
  memory.fill(bm.laneOfOrder, 0, 32);
  bm.indexed = false;
  memory.fill(bm.words, 0, (<usize>used) << 3);
  memory.fill(bm.words + ((<usize>used) << 3), 0xff, (<usize>(n - used)) << 3);
  if (nbits & 63) store<u64>(bm.words + ((<usize>(used - 1)) << 3), u64.MAX_VALUE << (nbits & 63));
  return changetype<usize>(bm);
}

/** Frees a bitmap and its lanes. */
export function dispose(handle: usize): void {
  const bm = changetype<Bitmap>(handle);
  for (let k = 0; k < bm.nlanes; k++) heap.free(load<usize>(bm.laneBest + ((<usize>k) << alignof<usize>())));
  heap.free(bm.words);
  if (bm.indexed) {
    heap.free(bm.nodes);
  }
  heap.free(bm.laneMask);
  heap.free(bm.laneRes);
  heap.free(bm.laneBest);
  heap.free(bm.laneUsed);
  heap.free(bm.laneOfOrder);
  heap.free(handle);
}

/** Allocates a scratch buffer (for the host to fill, e.g. with a trace); free it with `free`. */
export function alloc(bytes: usize): usize {
  return heap.alloc(bytes);
}

export function free(ptr: usize): void {
  heap.free(ptr);
}

// ---------------------------------------------------------------------------------------------------
// Exports: bit operations (the host has checked every range)

/** Sets or clears bits [start, start + count) word by word (bitmap_set / bitmap_clear). */
function writeRange(bm: Bitmap, start: u32, count: u32, set: bool): void {
  if (count == 0) return;
  const end = start + count;
  const w0 = start >> 6;
  const w1 = (end - 1) >> 6;
  const head = u64.MAX_VALUE << (start & 63);
  const tail = u64.MAX_VALUE >> ((64 - (end & 63)) & 63);
  const words = bm.words;
  if (w0 == w1) {
    writeWord(words + ((<usize>w0) << 3), head & tail, set);
  } else {
    writeWord(words + ((<usize>w0) << 3), head, set);
    for (let w = w0 + 1; w < w1; w++) store<u64>(words + ((<usize>w) << 3), set ? u64.MAX_VALUE : 0);
    writeWord(words + ((<usize>w1) << 3), tail, set);
  }
  if (bm.indexed) rebuild(bm, start, end, !set);
}

// @ts-ignore: decorator
@inline function writeWord(p: usize, m: u64, set: bool): void {
  const v = load<u64>(p);
  store<u64>(p, set ? v | m : v & ~m);
}

export function setRange(handle: usize, start: u32, count: u32): void {
  writeRange(changetype<Bitmap>(handle), start, count, true);
}

export function clearRange(handle: usize, start: u32, count: u32): void {
  writeRange(changetype<Bitmap>(handle), start, count, false);
}

export function isSet(handle: usize, bit: u32): bool {
  return ((word(changetype<Bitmap>(handle), bit >> 6) >> (bit & 63)) & 1) != 0;
}

export function isRangeClear(handle: usize, start: u32, count: u32): bool {
  const end = start + count;
  return findNextBit(changetype<Bitmap>(handle), end, start) >= end;
}

/** Number of set bits (bitmap_weight). */
export function weight(handle: usize): u32 {
  const bm = changetype<Bitmap>(handle);
  const used = usedWords(bm);
  let n: u32 = 0;
  for (let w: u32 = 0; w < used; w++) n += <u32>popcnt(word(bm, w));
  const pad = (used << 6) - bm.nbits; // padding bits of the last real word are set
  return n - pad;
}

/** First clear bit at or after `off`, or nbits (find_next_zero_bit). */
export function nextZeroBit(handle: usize, off: u32): u32 {
  const bm = changetype<Bitmap>(handle);
  return findNextZeroBit(bm, bm.nbits, off);
}

/** First set bit at or after `off`, or nbits (find_next_bit). */
export function nextSetBit(handle: usize, off: u32): u32 {
  const bm = changetype<Bitmap>(handle);
  return findNextBit(bm, bm.nbits, off);
}

/** Longest run of clear bits (cma_debug maxchunk). */
export function maxChunk(handle: usize): u32 {
  const bm = changetype<Bitmap>(handle);
  if (bm.indexed) return load<u32>(nodeAt(bm, 1), MAXRUN);
  const size = bm.nbits;
  let best: u32 = 0;
  let from: u32 = 0;
  while (from < size) {
    const s = findNextZeroBit(bm, size, from);
    if (s >= size) break;
    const e = findNextBit(bm, size, s);
    if (e - s > best) best = e - s;
    from = e;
  }
  return best;
}

// ---------------------------------------------------------------------------------------------------
// Exports: the contiguous search

/**
 * The kernel loop of bitmap_find_next_zero_area_off (lib/bitmap.c, v3.6+), word for word, including
 * its failure value (index + nr of the last candidate). The rounding is done in 64 bits, so it equals
 * the 32-bit kernel whenever index + align_offset + align_mask < 2^32.
 */
export function findNaive(handle: usize, start: u32, nr: u32, mask: u32, offset: u32): f64 {
  const bm = changetype<Bitmap>(handle);
  const size = bm.nbits;
  for (;;) {
    const first = findNextZeroBit(bm, size, start);
    const index: u64 = ((<u64>first + offset + mask) & ~(<u64>mask)) - offset;
    const end: u64 = index + nr;
    if (end > <u64>size) return <f64>end;
    const i = findNextBit(bm, <u32>end, <u32>index);
    if (i < <u32>end) {
      start = i + 1;
      continue;
    }
    return <f64>index;
  }
}

/**
 * The same answer from the index: the lowest p >= start with (p + offset) & mask == 0 and
 * [p, p + nr) clear, in O(log n). On failure it returns nbits + nr (>= nbits, like the kernel, but not
 * the kernel's exact failure value). nr == 0 keeps the kernel's answer, the aligned first zero bit.
 */
export function findIndexed(handle: usize, start: u32, nr: u32, mask: u32, offset: u32): f64 {
  const bm = changetype<Bitmap>(handle);
  const size = bm.nbits;
  if (nr == 0 || start >= size) return findNaive(handle, start, nr, mask, offset);
  const p = query(bm, start, nr, mask, (0 - offset) & mask);
  return p == NO_RUN ? <f64>size + <f64>nr : <f64>p;
}

/** The indexed search for nr >= 1, start < nbits, class (mask, r): the position or NO_RUN. */
function query(bm: Bitmap, start: u32, nr: u32, mask: u32, r: u32): u32 {
  if (!bm.indexed) buildIndex(bm);
  qNr = nr;
  qMask = mask;
  qRes = r;
  const k = laneFor(bm, mask, r);
  qBest = laneArray(bm, k);
  qBit = <u32>1 << k;
  qMisled = 0;
  return search(bm, start);
}

// The query in progress (globals, to keep the recursion's frames small).
let qNr: u32 = 0;
let qMask: u32 = 0;
let qRes: u32 = 0;
/** The lane's bound array. */
let qBest: usize = 0;
/** The lane's bit in `dirty`. */
let qBit: u32 = 0;
/** Failed nodes the query could not tighten because a child was stale (findIn keeps it local). */
let qMisled: u32 = 0;

/** findIndexed for 1 <= nr, start < nbits. */
function search(bm: Bitmap, start: u32): u32 {
  const n = bm.nwords;
  const nr = qNr;
  const mask = qMask;
  const r = qRes;
  if (start == 0) return findIn(bm, 1, bm.height);
  // The word holding `start`, with the bits below start counted as set.
  const w0 = start >> 6;
  const base0 = w0 << 6;
  const first = word(bm, w0) | ~(u64.MAX_VALUE << (start & 63));
  const found = leafFind(first, base0, nr, mask, r);
  if (found != NO_RUN) return found;
  const s0 = <u32>clz(first);
  let run: u32 = s0 > 0 ? base0 + 64 - s0 : NO_RUN; // start of the zero run open at the current position
  // The canonical nodes covering words [w0 + 1, n), left to right, carrying the open run across them.
  let i = n + w0 + 1;
  let end = n << 1;
  let h: u32 = 0;
  while (i < end) {
    if (i & 1) {
      const len: u32 = 64 << h;
      const a: u32 = ((i << h) - n) << 6;
      const pre = load<u32>(nodeAt(bm, i), PRE);
      if (run != NO_RUN) {
        const q = run + ((r - run) & mask);
        if (q < a && a - q + pre >= nr) return q;
      }
      const p = findIn(bm, i, h);
      if (p != NO_RUN) return p;
      if (pre == len) {
        if (run == NO_RUN) run = a;
      } else {
        const suf = load<u32>(nodeAt(bm, i), SUF);
        run = suf > 0 ? a + len - suf : NO_RUN;
      }
      i++;
    }
    i >>= 1;
    end >>= 1;
    h++;
  }
  return NO_RUN;
}

/**
 * Failed nodes left untightened (a child stale) after which a query refreshes the stale nodes it was
 * misled by (bench/RESULTS.md, "Known limit"). Ordinary queries stay far below and never pay for it:
 * refreshed nodes are marked stale again by the next free under them, which costs more than it saves.
 */
// @ts-ignore: decorator
@inline const REFRESH_AFTER: u32 = 128;

/**
 * Gives node i (height h, stale in the query's lane) and its stale descendants a lane bound again:
 * exact at stale leaves, merged from the children above and capped by maxrun. Only stale nodes are
 * entered, and each leaves the stale set, so the work is paid for by the frees that marked them.
 */
function refreshStale(bm: Bitmap, i: u32, h: u32): void {
  const at = nodeAt(bm, i);
  const best = qBest;
  let v: u32;
  if (h == 0) {
    const w = i - bm.nwords;
    v = leafBest(word(bm, w), w << 6, qMask, qRes);
  } else {
    const l = i << 1;
    const la = nodeAt(bm, l);
    if ((load<u32>(la, DIRTY) & qBit) != 0) refreshStale(bm, l, h - 1);
    if ((load<u32>(la, DIRTY + (1 << NODE_SHIFT)) & qBit) != 0) refreshStale(bm, l + 1, h - 1);
    const m = midBit(bm.nwords, i, h);
    const lsuf = load<u32>(la, SUF);
    const rpre = load<u32>(la, PRE + (1 << NODE_SHIFT));
    v = mergeBest(ld32(best, l), ld32(best, l + 1), m, lsuf, rpre, qMask, qRes);
    const x = load<u32>(at, MAXRUN);
    if (x < v) v = x;
  }
  st32(best, i, v);
  store<u32>(at, load<u32>(at, DIRTY) & ~qBit, DIRTY);
}

/** Whether node i may hold a run for the query: its bound (maxrun while stale) >= qNr. */
// @ts-ignore: decorator
@inline function mayFit(at: usize, best: usize, i: u32): bool {
  // Stale is the common case: the lane array is read only when it holds the bound.
  if ((load<u32>(at, DIRTY) & qBit) != 0) return load<u32>(at, MAXRUN) >= qNr;
  return ld32(best, i) >= qNr;
}

/**
 * Lowest aligned p inside node `top` (height `htop`) with a zero run of >= qNr bits cut at the node's
 * end, or NO_RUN. A depth-first walk without a stack: left child first, then the run across the
 * middle, then the right child; every node that fails gets its bound tightened below qNr on the way up.
 */
function findIn(bm: Bitmap, top: u32, htop: u32): u32 {
  const nodes = bm.nodes;
  const n = bm.nwords;
  const best = qBest;
  const nr = qNr;
  const mask = qMask;
  const r = qRes;
  let misled = qMisled;
  let i = top;
  let h = htop;
  for (;;) {
    // Enter node i.
    const at = nodes + ((<usize>i) << NODE_SHIFT);
    if (mayFit(at, best, i)) {
      if (h > 0) {
        i <<= 1;
        h--;
        continue;
      }
      const w = load<u64>(bm.words + ((<usize>(i - n)) << 3));
      const base = (i - n) << 6;
      const p = leafFind(w, base, nr, mask, r);
      if (p != NO_RUN) return p;
      st32(best, i, leafBest(w, base, mask, r));
      store<u32>(at, load<u32>(at, DIRTY) & ~qBit, DIRTY);
    }
    // Node i holds no answer: climb until a right sibling is left to try.
    for (;;) {
      if (i == top) {
        qMisled = misled;
        return NO_RUN;
      }
      const parent = i >> 1;
      const m = midBit(n, parent, h + 1);
      const la = nodes + ((<usize>(parent << 1)) << NODE_SHIFT);
      const lsuf = load<u32>(la, SUF);
      const rpre = load<u32>(la, PRE + (1 << NODE_SHIFT));
      if ((i & 1) == 0) {
        const runStart = m - lsuf;
        const q = runStart + ((r - runStart) & mask);
        if (q < m && m - q + rpre >= nr) return q;
        i++;
        break;
      }
      i = parent;
      h++;
      // Tighten the parent only from exact-or-bounded children that are not stale themselves, so that
      // stale nodes stay upward-closed (rebuild's marking relies on it). Past REFRESH_AFTER parents
      // left stale the query is being misled: refresh the children (both hold no answer) and the parent,
      // so the region cannot mislead again.
      if (((load<u32>(la, DIRTY) | load<u32>(la, DIRTY + (1 << NODE_SHIFT))) & qBit) == 0) {
        st32(best, i, mergeBest(ld32(best, i << 1), ld32(best, (i << 1) + 1), m, lsuf, rpre, mask, r));
        const pa = nodes + ((<usize>i) << NODE_SHIFT);
        store<u32>(pa, load<u32>(pa, DIRTY) & ~qBit, DIRTY);
      } else if (++misled > REFRESH_AFTER) {
        refreshStale(bm, i, h);
      }
    }
  }
  return NO_RUN; // not reached: the walk returns from inside the loop
}

// ---------------------------------------------------------------------------------------------------
// Trace replay (BMT1, see test/fixtures/anchors/gen_trace.mjs), all inside WASM so that the per-operation cost
// is the bitmap's alone, as in the native anchor.

let resultFails: u32 = 0;
let resultHash: u32 = 0;
let resultSum: f64 = 0;

/**
 * Replays `nops` op words at `ops` on the bitmap `handle` (fresh, nbits of the trace), using
 * `starts` (i32[nallocs]) and `sizes` (u32[nallocs]) as scratch. Results: resultFails(), resultSum(),
 * resultHash(); the set bit count is weight(handle).
 */
export function replay(handle: usize, ops: usize, nops: u32, starts: usize, sizes: usize, naive: bool): void {
  const bm = changetype<Bitmap>(handle);
  const size = bm.nbits;
  let nalloc: u32 = 0;
  let fails: u32 = 0;
  let hash: u32 = 0x811c9dc5;
  let sum: u64 = 0;
  for (let j: u32 = 0; j < nops; j++) {
    const op = load<u32>(ops + ((<usize>j) << 2));
    if ((op & 0x80000000) == 0) {
      const nr = op & 0xffff;
      const mask: u32 = (1 << ((op >> 16) & 0xff)) - 1;
      // (nr >= 1: the index's answer is a position or NO_RUN, which is >= size)
      const found: f64 = naive ? findNaive(handle, 0, nr, mask, 0) : <f64>query(bm, 0, nr, mask, 0);
      let res: u32;
      if (found < <f64>size) {
        const idx = <u32>found;
        writeRange(bm, idx, nr, true);
        sum += idx;
        res = idx;
        st32(starts, nalloc, idx);
      } else {
        fails++;
        res = 0xffffffff;
        st32(starts, nalloc, NO_RUN);
      }
      st32(sizes, nalloc, nr);
      nalloc++;
      hash = (hash ^ res) * 0x01000193;
    } else {
      const id = op & 0x7fffffff;
      const s = ld32(starts, id);
      if (s != NO_RUN) writeRange(bm, s, ld32(sizes, id), false);
    }
  }
  resultFails = fails;
  resultHash = hash;
  resultSum = <f64>sum;
}

export function getResultFails(): u32 {
  return resultFails;
}
export function getResultHash(): u32 {
  return resultHash;
}
export function getResultSum(): f64 {
  return resultSum;
}
