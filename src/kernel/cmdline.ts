/**
 * The kernel command line as parse_early_param() sees it: tokens split by next_arg() of
 * kernel/params.c (whitespace, double quotes), then the early parameters the memory models read.
 * Syntax the kernel silently ignores or misreads becomes an emulator warning naming the token.
 */
import { memparse, type Parsed } from "./memparse.js";

export interface CmdlineToken {
  /** the whole token as written, e.g. `cma=64M@0x30000000` */
  raw: string;
  param: string;
  /** undefined for a bare word (`quiet`) */
  value?: string;
}

/** next_arg() of kernel/params.c: splits on whitespace; a double quote protects spaces. */
export function splitCmdline(cmdline: string): { tokens: CmdlineToken[]; warnings: string[] } {
  const tokens: CmdlineToken[] = [];
  const warnings: string[] = [];
  let i = 0;
  while (i < cmdline.length) {
    while (i < cmdline.length && /\s/.test(cmdline[i])) i++;
    if (i >= cmdline.length) break;
    let inQuote = false;
    let raw = "";
    for (; i < cmdline.length; i++) {
      const c = cmdline[i];
      if (c === '"') inQuote = !inQuote;
      else if (!inQuote && /\s/.test(c)) break;
      raw += c;
    }
    if (inQuote) warnings.push(`cmdline: token '${raw}' has an unterminated double quote`);
    const eq = raw.indexOf("=");
    const unquote = (s: string) => s.replace(/^"(.*)"$/, "$1");
    if (eq < 0) tokens.push({ raw, param: unquote(raw) });
    else tokens.push({ raw, param: unquote(raw.slice(0, eq)), value: unquote(raw.slice(eq + 1)) });
  }
  return { tokens, warnings };
}

/** `cma=` as early_cma() (kernel/dma/contiguous.c) stores it: size[@base[-limit]], bytes. */
export interface CmaCmdline {
  sizeBytes: bigint;
  baseBytes: bigint;
  /** 0 when not given */
  limitBytes: bigint;
  token: string;
}

/** `mem=size[@start]` (early_mem, arch/arm/kernel/setup.c). */
export interface MemCmdline {
  sizeBytes: bigint;
  /** undefined: PHYS_OFFSET */
  startBytes?: bigint;
  token: string;
}

export type EarlyParam =
  | { kind: "mem"; mem: MemCmdline }
  | { kind: "vmalloc"; sizeBytes: bigint; token: string }
  | { kind: "cma"; cma: CmaCmdline }
  | { kind: "initrd"; startBytes: bigint; sizeBytes: bigint; token: string };

export interface EarlyParams {
  /** in command-line order: the kernel handles (and prints about) them in this order */
  params: EarlyParam[];
  warnings: string[];
}

function trailingWarning(token: string, p: Parsed, what: string): string | undefined {
  if (!p.ok) return `cmdline: '${token}': ${what} is not a number; the kernel reads it as 0`;
  if (p.rest !== "") return `cmdline: '${token}': the kernel ignores the trailing '${p.rest}'`;
  return undefined;
}

/** Parses the early parameters the boot models read: mem=, vmalloc=, cma=, initrd=. */
export function parseEarlyParams(cmdline: string): EarlyParams {
  const { tokens, warnings } = splitCmdline(cmdline);
  const params: EarlyParam[] = [];
  const warn = (w: string | undefined) => {
    if (w) warnings.push(w);
  };
  for (const t of tokens) {
    if (t.value === undefined) {
      if (["mem", "vmalloc", "cma", "initrd"].includes(t.param))
        warnings.push(`cmdline: '${t.raw}' has no value; the kernel ignores it`);
      continue;
    }
    switch (t.param) {
      case "mem": {
        // early_mem(): size via memparse, then "@start"
        const size = memparse(t.value);
        let startBytes: bigint | undefined;
        if (size.rest.startsWith("@")) {
          const start = memparse(size.rest.slice(1));
          warn(trailingWarning(t.raw, start, "the start address"));
          startBytes = start.value;
        } else warn(trailingWarning(t.raw, size, "the size"));
        params.push({ kind: "mem", mem: { sizeBytes: size.value, startBytes, token: t.raw } });
        break;
      }
      case "vmalloc": {
        const size = memparse(t.value);
        warn(trailingWarning(t.raw, size, "the size"));
        params.push({ kind: "vmalloc", sizeBytes: size.value, token: t.raw });
        break;
      }
      case "cma": {
        // early_cma(): size[@base[-limit]]; "fixed" when limit == base + size
        const size = memparse(t.value);
        let baseBytes = 0n;
        let limitBytes = 0n;
        if (size.rest.startsWith("@")) {
          const base = memparse(size.rest.slice(1));
          baseBytes = base.value;
          if (base.rest.startsWith("-")) {
            const limit = memparse(base.rest.slice(1));
            warn(trailingWarning(t.raw, limit, "the limit"));
            limitBytes = limit.value;
          } else {
            warn(trailingWarning(t.raw, base, "the base"));
            limitBytes = baseBytes + size.value;
          }
        } else warn(trailingWarning(t.raw, size, "the size"));
        params.push({ kind: "cma", cma: { sizeBytes: size.value, baseBytes, limitBytes, token: t.raw } });
        break;
      }
      case "initrd": {
        // early_initrd(): "start,size"; without the comma the kernel ignores it
        const start = memparse(t.value);
        if (!start.rest.startsWith(",")) {
          warnings.push(`cmdline: '${t.raw}' is not initrd=start,size; the kernel ignores it`);
          break;
        }
        const size = memparse(start.rest.slice(1));
        warn(trailingWarning(t.raw, size, "the size"));
        params.push({ kind: "initrd", startBytes: start.value, sizeBytes: size.value, token: t.raw });
        break;
      }
    }
  }
  return { params, warnings };
}
