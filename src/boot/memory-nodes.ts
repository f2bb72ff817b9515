/**
 * Where RAM comes from: the DT memory nodes (early_init_dt_add_memory_arch) and `mem=`
 * (arm_add_memory), with the 32-bit truncations of non-LPAE kernels, then the early parameters the
 * memory models read, in command-line order (parse_early_param).
 */
import { InputError } from "../errors.js";
import type { EarlyParam } from "../kernel/cmdline.js";
import type { Dmesg } from "../kernel/dmesg.js";
import type { BootRules } from "../kernel/profile.js";
import type { RamBank } from "./config.js";
import { type DroppedRam, earlyVmalloc } from "./layout.js";
import type { Memblock } from "./memblock.js";
import { hex, PAGE_SIZE, toNum } from "./units.js";

/** Above this the emulator refuses addresses (LPAE is 40-bit; numbers stay exact). */
export const PHYS_LIMIT = 2n ** 40n;
const NO_LPAE = "above the 32-bit physical address space (no LPAE)";

export function checkBanks(banks: RamBank[], physOffset: bigint | undefined): void {
  const sorted = [...banks].sort((a, b) => (a.base < b.base ? -1 : 1));
  for (const b of sorted) {
    if (b.size <= 0n) throw new InputError(`bank ${hex(toNum(b.base))}: size must be > 0`, "--ram");
    if (b.base + b.size > PHYS_LIMIT)
      throw new InputError(
        `bank ${hex(toNum(b.base))}: ends above the 40-bit physical address space`,
        "--ram",
      );
    if (physOffset !== undefined && b.base < physOffset)
      throw new InputError(
        `bank at ${hex(toNum(b.base))} lies below PHYS_OFFSET ${hex(toNum(physOffset))}; RAM must start at or above it`,
        "--ram",
      );
  }
  for (let i = 1; i < sorted.length; i++) {
    const p = sorted[i - 1];
    if (sorted[i].base < p.base + p.size)
      throw new InputError(
        `banks ${hex(toNum(p.base))}+${hex(toNum(p.size))} and ${hex(toNum(sorted[i].base))} overlap; banks must be disjoint`,
        "--ram",
      );
  }
}

/** early_init_dt_add_memory_arch() (drivers/of/fdt.c) for one DT bank. */
export function dtAddMemory(
  mb: Memblock,
  bank: RamBank,
  lpae: boolean,
  rules: BootRules,
  dmesg: Dmesg,
  dropped: DroppedRam[],
): void {
  const maxAddr = lpae ? PHYS_LIMIT - 1n : 0xffffffffn;
  let base = bank.base;
  let size = bank.size;
  const pageMask = BigInt(PAGE_SIZE - 1);
  const pre = rules.ofFdtPrefix;
  if (size < BigInt(PAGE_SIZE) - (base & pageMask)) {
    dmesg.warn(`${pre}Ignoring memory block 0x${base.toString(16)} - 0x${(base + size).toString(16)}`);
    return;
  }
  if (base & pageMask) {
    size -= BigInt(PAGE_SIZE) - (base & pageMask);
    base = (base + pageMask) & ~pageMask;
  }
  size &= ~pageMask;
  if (base > maxAddr) {
    dmesg.warn(`${pre}Ignoring memory block 0x${base.toString(16)} - 0x${(base + size).toString(16)}`);
    dropped.push({ base: toNum(base), end: toNum(base + size), why: NO_LPAE });
    return;
  }
  if (base + size - 1n > maxAddr) {
    dmesg.warn(
      `${pre}Ignoring memory range 0x${(maxAddr + 1n).toString(16)} - 0x${(base + size).toString(16)}`,
    );
    dropped.push({ base: toNum(maxAddr + 1n), end: toNum(base + size), why: NO_LPAE });
    size = maxAddr - base + 1n;
  }
  // memblock_cap_size(): without LPAE the region ends at 0xffffffff, losing the last (partial) page
  if (!lpae && base + size > maxAddr)
    dropped.push({
      base: toNum(maxAddr),
      end: toNum(maxAddr + 1n),
      why: "last page: phys_addr_t is 32 bits",
    });
  mb.add(toNum(base), toNum(size));
}

/** arm_add_memory() (arch/arm/kernel/setup.c): the `mem=` path, with its 32-bit truncation. */
export function armAddMemory(
  mb: Memblock,
  start: bigint,
  size: bigint,
  physOffset: number,
  lpae: boolean,
  dmesg: Dmesg,
  dropped: DroppedRam[],
): void {
  const page = BigInt(PAGE_SIZE);
  let aligned = (start + page - 1n) & ~(page - 1n);
  size = aligned > start + size ? 0n : size - (aligned - start);
  const h = (n: bigint) => `0x${n.toString(16).padStart(8, "0")}`;
  if (!lpae) {
    if (aligned > 0xffffffffn) {
      dmesg.log("crit", `Ignoring memory at ${h(start)} outside 32-bit physical address space`);
      return;
    }
    if (aligned + size > 0xffffffffn) {
      dmesg.log("crit", `Truncating memory at ${h(start)} to fit in 32-bit physical address space`);
      dropped.push({ base: 0xffffffff, end: toNum(aligned + size), why: NO_LPAE });
      size = 0xffffffffn - aligned;
    }
  }
  const po = BigInt(physOffset);
  if (aligned < po) {
    if (aligned + size <= po) {
      dmesg.info(`Ignoring memory below PHYS_OFFSET: ${h(aligned)}-${h(aligned + size)}`);
      return;
    }
    dmesg.info(`Ignoring memory below PHYS_OFFSET: ${h(aligned)}-${h(po)}`);
    size -= po - aligned;
    aligned = po;
  }
  size &= ~(page - 1n);
  if (size === 0n || aligned + size > PHYS_LIMIT) return;
  mb.add(toNum(aligned), toNum(size));
}

/** What parse_early_param() leaves for the memory models. */
export interface EarlyMemoryParams {
  /** `vmalloc=` after early_vmalloc()'s clamping */
  vmallocBytes?: number;
  /** `cma=` as phys_addr_t values (size_cmdline, base_cmdline, limit_cmdline) */
  cmaCmd?: { size: number; base: number; limit: number };
  /** `initrd=start,size` */
  initrd?: { start: bigint; size: bigint };
}

export interface EarlyContext {
  mb: Memblock;
  rules: BootRules;
  lpae: boolean;
  pageOffset: number;
  physOffset: number;
  /** CONFIG_CMA and CONFIG_DMA_CMA: `cma=` exists */
  cmaEnabled: boolean;
  version: string;
  dmesg: Dmesg;
  dropped: DroppedRam[];
  warnings: string[];
}

/** The early parameters in command-line order: each prints, as the kernel does, when it is parsed. */
export function applyEarlyParams(params: EarlyParam[], ctx: EarlyContext): EarlyMemoryParams {
  const { mb, lpae, dmesg, warnings } = ctx;
  const out: EarlyMemoryParams = {};
  let memSeen = false;
  for (const p of params) {
    if (p.kind === "mem") {
      // early_mem(): the first mem= drops every bank the DT gave
      if (!memSeen) {
        memSeen = true;
        mb.remove(mb.startOfDram(), mb.endOfDram());
      }
      const start = p.mem.startBytes ?? BigInt(ctx.physOffset);
      armAddMemory(mb, start, p.mem.sizeBytes, ctx.physOffset, lpae, dmesg, ctx.dropped);
    } else if (p.kind === "vmalloc")
      out.vmallocBytes = earlyVmalloc(Number(p.sizeBytes % 2n ** 32n), ctx.rules, ctx.pageOffset, dmesg);
    else if (p.kind === "cma") {
      if (!ctx.cmaEnabled) {
        warnings.push(`cmdline: '${p.cma.token}': CONFIG_DMA_CMA is off, the kernel ignores it`);
        continue;
      }
      // size_cmdline, base_cmdline and limit_cmdline are phys_addr_t: 32 bits without LPAE
      const physT = (v: bigint) => toNum(lpae ? v % PHYS_LIMIT : v % 2n ** 32n);
      const size = physT(p.cma.sizeBytes);
      if (!lpae && p.cma.sizeBytes >= 2n ** 32n)
        warnings.push(`cmdline: '${p.cma.token}': the size wraps in a 32-bit phys_addr_t to ${hex(size)}`);
      if (ctx.rules.cmaCmdlinePlacement)
        out.cmaCmd = { size, base: physT(p.cma.baseBytes), limit: physT(p.cma.limitBytes) };
      else {
        if (p.cma.baseBytes)
          warnings.push(`cmdline: '${p.cma.token}': kernel ${ctx.version} reads only the size of cma=`);
        out.cmaCmd = { size, base: 0, limit: 0 };
      }
    } else if (p.kind === "initrd") out.initrd = { start: p.startBytes, size: p.sizeBytes };
  }
  return out;
}
