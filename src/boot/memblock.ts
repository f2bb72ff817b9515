/**
 * memblock (mm/memblock.c): the memory and reserved region lists of early boot and their allocator.
 * Addresses are byte numbers. `memory` regions merge when adjacent with equal flags, as the kernel's
 * do; `reserved` keeps one entry per reservation with its owner (for the physical map) and is used
 * as a union when finding free space.
 */
import { alignDown, alignUp, PAGE_SIZE } from "./units.js";

export interface MemRegion {
  base: number;
  end: number;
  /** MEMBLOCK_NOMAP: present RAM the kernel never maps (DT no-map, 5.12+) */
  nomap: boolean;
}

export interface ResRegion {
  base: number;
  end: number;
  owner: string;
}

/** MEMBLOCK_ALLOC_ANYWHERE: no upper bound. */
export const ALLOC_ANYWHERE = Number.POSITIVE_INFINITY;

export class Memblock {
  memory: MemRegion[] = [];
  reserved: ResRegion[] = [];
  /** memblock.current_limit (memblock_set_current_limit) */
  currentLimit = ALLOC_ANYWHERE;

  /** @param physAddrMax PHYS_ADDR_MAX: 2^32−1 without LPAE (memblock_cap_size), 2^64−1 with it */
  constructor(private readonly physAddrMax: number) {}

  /** memblock_add(): the size is capped so that base + size fits in phys_addr_t. */
  add(base: number, size: number): void {
    const end = Math.min(base + size, this.physAddrMax);
    if (end <= base) return;
    this.memory.push({ base, end, nomap: false });
    this.normalize();
  }

  /** memblock_remove() */
  remove(base: number, end: number): void {
    this.memory = this.memory.flatMap((r) => cut(r, base, end));
    this.normalize();
  }

  /** memblock_mark_nomap() / memblock_clear_nomap() */
  setNomap(base: number, end: number, nomap: boolean): void {
    this.memory = this.memory.flatMap((r) => {
      if (r.end <= base || r.base >= end) return [r];
      const inner = { base: Math.max(r.base, base), end: Math.min(r.end, end), nomap };
      return [...cut(r, base, end), inner];
    });
    this.normalize();
  }

  private normalize(): void {
    this.memory.sort((a, b) => a.base - b.base);
    const out: MemRegion[] = [];
    for (const r of this.memory) {
      const last = out[out.length - 1];
      if (last && last.end === r.base && last.nomap === r.nomap) last.end = r.end;
      else out.push({ ...r });
    }
    this.memory = out;
  }

  /** memblock_reserve() */
  reserve(base: number, end: number, owner: string): void {
    if (end <= base) return;
    this.reserved.push({ base, end, owner });
    this.reserved.sort((a, b) => a.base - b.base);
  }

  /** memblock_phys_free(): drops reservations inside [base, end). */
  free(base: number, end: number): void {
    this.reserved = this.reserved.flatMap((r) =>
      cut({ ...r, nomap: false }, base, end).map((c) => ({ base: c.base, end: c.end, owner: r.owner })),
    );
  }

  /** memblock_is_region_reserved(): any overlap with a reservation. */
  isRegionReserved(base: number, end: number): boolean {
    return this.reserved.some((r) => r.base < end && r.end > base);
  }

  overlapsMemory(base: number, end: number): boolean {
    return this.memory.some((r) => r.base < end && r.end > base);
  }

  /** memblock_is_region_memory(): [base, end) lies inside one memory region. */
  isRegionMemory(base: number, end: number): boolean {
    return this.memory.some((r) => r.base <= base && r.end >= end);
  }

  startOfDram(): number {
    return this.memory[0]?.base ?? 0;
  }
  /** memblock_end_of_DRAM() (NOMAP regions included) */
  endOfDram(): number {
    return this.memory[this.memory.length - 1]?.end ?? 0;
  }
  /** memblock_phys_mem_size() */
  physMemSize(): number {
    return this.memory.reduce((s, r) => s + r.end - r.base, 0);
  }

  /** Free ranges (mapped memory minus reservations), ascending: for_each_free_mem_range. */
  freeRanges(): { base: number; end: number }[] {
    const res = mergedRanges(this.reserved);
    const out: { base: number; end: number }[] = [];
    for (const m of this.memory) {
      if (m.nomap) continue;
      let cur = m.base;
      for (const r of res) {
        if (r.end <= cur || r.base >= m.end) continue;
        if (r.base > cur) out.push({ base: cur, end: r.base });
        cur = Math.max(cur, r.end);
      }
      if (cur < m.end) out.push({ base: cur, end: m.end });
    }
    return out;
  }

  /**
   * memblock_find_in_range_node(): the highest (top-down, the default) or lowest (bottom-up) aligned
   * [cand, cand + size) inside a free range and [start, end). 0 means failure, as in the kernel.
   */
  findInRange(size: number, align: number, start: number, end: number, bottomUp = false): number {
    if (end === ALLOC_ANYWHERE) end = Number.MAX_SAFE_INTEGER;
    start = Math.max(start, PAGE_SIZE);
    end = Math.max(start, end);
    const free = this.freeRanges();
    if (bottomUp) {
      for (const f of free) {
        const fs = Math.min(Math.max(f.base, start), end);
        const fe = Math.min(Math.max(f.end, start), end);
        const cand = alignUp(fs, align);
        if (cand < fe && fe - cand >= size) return cand;
      }
      return 0;
    }
    for (let i = free.length - 1; i >= 0; i--) {
      const fs = Math.min(Math.max(free[i].base, start), end);
      const fe = Math.min(Math.max(free[i].end, start), end);
      if (fe < size) continue;
      const cand = alignDown(fe - size, align);
      if (cand >= fs) return cand;
    }
    return 0;
  }

  /** memblock_alloc_range_nid(): find + reserve; 0 on failure. */
  allocRange(
    size: number,
    align: number,
    start: number,
    end: number,
    owner: string,
    bottomUp = false,
  ): number {
    const base = this.findInRange(size, align, start, end, bottomUp);
    if (base) this.reserve(base, base + size, owner);
    return base;
  }

  /** memblock_alloc(): below the current limit. */
  alloc(size: number, align: number, owner: string): number {
    return this.allocRange(size, align, 0, this.currentLimit, owner);
  }
}

/** The parts of `r` outside [base, end). */
function cut(r: MemRegion, base: number, end: number): MemRegion[] {
  if (r.end <= base || r.base >= end) return [r];
  const out: MemRegion[] = [];
  if (r.base < base) out.push({ ...r, end: base });
  if (r.end > end) out.push({ ...r, base: end });
  return out;
}

/** Union of possibly overlapping ranges, ascending. */
export function mergedRanges(rs: { base: number; end: number }[]): { base: number; end: number }[] {
  const sorted = [...rs].sort((a, b) => a.base - b.base);
  const out: { base: number; end: number }[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.base <= last.end) last.end = Math.max(last.end, r.end);
    else out.push({ base: r.base, end: r.end });
  }
  return out;
}
