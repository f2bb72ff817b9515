/**
 * Units and the kernel's printf formats for physical addresses. Inside the boot models physical
 * addresses are byte numbers (exact up to 2^53, enough for LPAE's 40 bits); BootedMachine carries pfns.
 */

export const PAGE_SIZE = 4096;
export const SZ_1M = 1 << 20;
export const SZ_4G = 2 ** 32;

/** ALIGN_DOWN for a power-of-two `a` (no 32-bit bitwise operators: addresses exceed 2^31). */
export const alignDown = (x: number, a: number): number => x - (((x % a) + a) % a);
export const alignUp = (x: number, a: number): number => alignDown(x + a - 1, a);
export const isAligned = (x: number, a: number): boolean => x % a === 0;

export const pfnDown = (bytes: number): number => Math.floor(bytes / PAGE_SIZE);
export const pfnUp = (bytes: number): number => Math.ceil(bytes / PAGE_SIZE);

/** `0x%x` without padding (`%llx` after a literal 0x). */
export const hex = (n: number): string => `0x${n.toString(16)}`;

/** `0x%0Nx`. */
export const hexPad = (n: number, digits: number): string => `0x${n.toString(16).padStart(digits, "0")}`;

/** `%pa`: a phys_addr_t, 8 hex digits without LPAE, 16 with it. */
export const fmtPa = (n: number, lpae: boolean): string => hexPad(n, lpae ? 16 : 8);

/** `%#018Lx` of the zone and node lines (64-bit casts in every configuration). */
export const fmtMem = (n: number): string => hexPad(n, 16);

/** `%08lx` with no 0x prefix (the C0/C1 `cma:` lines). */
export const fmt08 = (n: number): string => n.toString(16).padStart(8, "0");

/** A bigint from the edge to a byte number; callers have checked it is below 2^53. */
export const toNum = (b: bigint): number => Number(b);
