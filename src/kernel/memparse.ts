/**
 * memparse() and simple_strtoull() of lib/cmdline.c and lib/kstrtox.c: the number syntax of every
 * size on the kernel command line. Values are 64-bit (bigint), as `unsigned long long` in the kernel.
 */
import { InputError } from "../errors.js";

const U64 = (1n << 64n) - 1n;

const SHIFT: Record<string, bigint> = { k: 10n, m: 20n, g: 30n, t: 40n, p: 50n, e: 60n };

export interface Parsed {
  value: bigint;
  /** the text after the number (and its suffix), where the kernel's parser stopped */
  rest: string;
  /** false when not a single digit was read (the kernel then returns 0) */
  ok: boolean;
}

/** simple_strtoull(s, &end, 0): "0x" hex (only when a hex digit follows), leading "0" octal, else decimal. */
export function simpleStrtoull(text: string): Parsed {
  let i = 0;
  let base = 10n;
  if (text[0] === "0" && (text[1] === "x" || text[1] === "X") && /[0-9a-fA-F]/.test(text[2] ?? "")) {
    base = 16n;
    i = 2;
  } else if (text[0] === "0") {
    base = 8n;
  }
  let value = 0n;
  const start = i;
  for (; i < text.length; i++) {
    const d = Number.parseInt(text[i], 16);
    if (Number.isNaN(d) || BigInt(d) >= base) break;
    value = (value * base + BigInt(d)) & U64;
  }
  return { value, rest: text.slice(i), ok: i > start };
}

/** memparse(): a number with an optional K/M/G/T/P/E suffix (either case). */
export function memparse(text: string): Parsed {
  const n = simpleStrtoull(text);
  const shift = SHIFT[(n.rest[0] ?? "").toLowerCase()];
  if (shift === undefined) return n;
  return { value: (n.value << shift) & U64, rest: n.rest.slice(1), ok: n.ok };
}

/**
 * A size or address given to the emulator itself (--ram, --kconfig values): memparse syntax, but the
 * whole text must be consumed. Returns null when it is not a size.
 */
export function parseSizeStrict(text: string): bigint | null {
  const t = text.trim();
  if (t === "") return null;
  const p = memparse(t);
  return p.ok && p.rest === "" ? p.value : null;
}

/** "1GB", "512MiB" -> "1G", "512M": people write sizes with a B; the kernel's syntax has none. */
const withoutUnitB = (text: string) => text.trim().replace(/([KMGTPEkmgtpe])i?B$/, "$1");

/**
 * A size or address argument of the emulator (an option, a scenario field): parseSizeStrict that
 * also accepts a trailing B/iB, or an InputError naming `where` and the accepted syntax.
 */
export function parseSizeArg(text: string, where: string): bigint {
  const v = parseSizeStrict(withoutUnitB(text));
  if (v === null)
    throw new InputError(
      `'${text}' is not a size; accepted: decimal or 0x hex with an optional K/M/G suffix, e.g. 0x40000000 or 256M`,
      where,
    );
  return v;
}
