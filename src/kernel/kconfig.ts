/**
 * Kconfig symbols the models read, with the defaults of the kernel's own Kconfig files.
 * Keys are normalised to their `CONFIG_` form; values stay text as in a .config ("y", "16", "0xC0000000").
 */
import { ConfigError } from "../errors.js";
import { parseSizeStrict } from "./memparse.js";

export type KconfigMap = Record<string, string>;

export function kconfigKey(name: string): string {
  const n = name.trim().toUpperCase();
  return n.startsWith("CONFIG_") ? n : `CONFIG_${n}`;
}

/** Typed, read-only view of a Kconfig map. */
export class Kconfig {
  readonly map: KconfigMap;

  constructor(map: KconfigMap = {}) {
    this.map = {};
    for (const [k, v] of Object.entries(map)) this.map[kconfigKey(k)] = v;
  }

  has(name: string): boolean {
    return kconfigKey(name) in this.map;
  }

  /** A bool/tristate symbol: y or m is true, n (or "is not set") is false, absent is `dflt`. */
  bool(name: string, dflt: boolean): boolean {
    const v = this.map[kconfigKey(name)];
    if (v === undefined) return dflt;
    const t = v.trim().toLowerCase();
    if (t === "y" || t === "m") return true;
    if (t === "n" || t === "") return false;
    throw new ConfigError(`${kconfigKey(name)}=${v}: a bool symbol takes y or n`);
  }

  /** An int/hex symbol; absent is `dflt`. */
  int(name: string, dflt: number): number {
    const v = this.map[kconfigKey(name)];
    if (v === undefined) return dflt;
    const n = parseSizeStrict(v.replace(/^"(.*)"$/, "$1"));
    if (n === null || n > BigInt(Number.MAX_SAFE_INTEGER))
      throw new ConfigError(`${kconfigKey(name)}=${v}: not a number (decimal or 0x hex)`);
    return Number(n);
  }

  /** The first of several spellings that is set (symbols renamed across versions). */
  intAny(names: string[], dflt: number): number {
    for (const n of names) if (this.has(n)) return this.int(n, dflt);
    return dflt;
  }
}
