/**
 * Reader of device-tree source (.dts), the subset board files use for memory: nodes, labels, `&label`
 * overlays, `<cells>` (numbers, `&refs`, parenthesised arithmetic), strings, `[bytes]`, `/memreserve/`.
 * It extracts what the boot reads: /memory banks, /reserved-memory children, /chosen (initrd, bootargs).
 * Preprocessor input (`#include`, `/include/`) is refused: pass the output of `cpp -P`.
 * Errors name the file and line.
 */
import { InputError } from "../errors.js";

export interface DtRange {
  base: bigint;
  size: bigint;
}

/** A child of /reserved-memory as drivers/of/of_reserved_mem.c reads it. */
export interface DtReservedNode {
  /** node name with unit address, e.g. `vram@4c000000` (what the kernel prints) */
  name: string;
  line: number;
  /** static regions (`reg`), empty for a dynamic node */
  reg: DtRange[];
  /** dynamic node: `size`, `alignment`, `alloc-ranges` */
  size?: bigint;
  alignment?: bigint;
  allocRanges: DtRange[];
  compatible: string[];
  reusable: boolean;
  noMap: boolean;
  cmaDefault: boolean;
  /** status = "okay" (or absent) */
  available: boolean;
  /** the cell counts of the property values did not match the root's #address-cells/#size-cells */
  malformed?: string;
}

export interface DtInfo {
  fileName: string;
  rootAddressCells: number;
  rootSizeCells: number;
  memory: DtRange[];
  /** false when /reserved-memory's own cells or `ranges` do not match the root (kernel ignores it) */
  reservedMemoryUsable: boolean;
  reserved: DtReservedNode[];
  memreserve: DtRange[];
  initrd?: { start: bigint; end: bigint };
  bootargs?: string;
  /** lines the reader skipped (#include, /include/) */
  warnings: string[];
}

/** `symbols`: macro names found in the cells (read as 0; an error if a memory property uses them) */
type Value =
  | { kind: "cells"; cells: bigint[]; symbols?: string[] }
  | { kind: "string"; text: string }
  | { kind: "bytes" };

interface DtNode {
  name: string;
  line: number;
  labels: string[];
  props: Map<string, { values: Value[]; line: number }>;
  children: DtNode[];
}

interface Tok {
  t: string;
  line: number;
}

const PUNCT = new Set(["{", "}", ";", "=", ",", "<", ">", "(", ")", "[", "]", ":"]);

function tokenize(text: string, file: string, warnings: string[]): Tok[] {
  const toks: Tok[] = [];
  let line = 1;
  let i = 0;
  const err = (m: string): never => {
    throw new InputError(m, file, line);
  };
  while (i < text.length) {
    const c = text[i];
    if (c === "\n") {
      line++;
      i++;
    } else if (/\s/.test(c)) i++;
    else if (text.startsWith("//", i)) {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (text.startsWith("/*", i)) {
      const end = text.indexOf("*/", i + 2);
      if (end < 0) err("unterminated /* comment");
      for (let k = i; k < end; k++) if (text[k] === "\n") line++;
      i = end + 2;
    } else if (
      c === "#" &&
      /^#(include|define|if|ifdef|ifndef|else|endif|undef)\b/.test(text.slice(i, i + 10))
    ) {
      // a preprocessor line: skipped (its macros, if used in a memory property, are reported there)
      const end = text.indexOf("\n", i);
      warnings.push(
        `${file}:${line}: '${text.slice(i, end < 0 ? undefined : end).trim()}' skipped (no C preprocessor)`,
      );
      i = end < 0 ? text.length : end;
    } else if (c === '"') {
      let j = i + 1;
      let s = "";
      while (j < text.length && text[j] !== '"') {
        if (text[j] === "\\") j++;
        if (text[j] === "\n") err("unterminated string");
        s += text[j];
        j++;
      }
      if (j >= text.length) err("unterminated string");
      toks.push({ t: `"${s}`, line });
      i = j + 1;
    } else if (c === "/" && /^\/[a-z-]+\//.test(text.slice(i, i + 24))) {
      const m = /^\/[a-z-]+\//.exec(text.slice(i, i + 24))!;
      if (m[0] === "/include/") {
        const end = text.indexOf("\n", i);
        warnings.push(
          `${file}:${line}: '${text.slice(i, end < 0 ? undefined : end).trim()}' skipped (not read)`,
        );
        i = end < 0 ? text.length : end;
      } else {
        toks.push({ t: m[0], line });
        i += m[0].length;
      }
    } else if (PUNCT.has(c)) {
      toks.push({ t: c, line });
      i++;
    } else if (c === "&") {
      const m = /^&\{?[A-Za-z0-9_/@,.-]+\}?/.exec(text.slice(i));
      if (!m) err("'&' not followed by a label");
      toks.push({ t: m![0], line });
      i += m![0].length;
    } else if (text.startsWith("<<", i) || text.startsWith(">>", i)) {
      toks.push({ t: text.slice(i, i + 2), line });
      i += 2;
    } else if ("+-*|^~!%".includes(c) && !/[A-Za-z0-9_#]/.test(text[i + 1] ?? "")) {
      toks.push({ t: c, line });
      i++;
    } else {
      const m = /^[A-Za-z0-9_,.+*#?@/-]+/.exec(text.slice(i));
      if (!m) err(`unexpected character '${c}'`);
      toks.push({ t: m![0], line });
      i += m![0].length;
    }
  }
  return toks;
}

class Parser {
  private pos = 0;
  readonly root: DtNode = { name: "/", line: 1, labels: [], props: new Map(), children: [] };
  readonly memreserve: DtRange[] = [];
  private readonly overlays: { label: string; node: DtNode; line: number }[] = [];

  constructor(
    private readonly toks: Tok[],
    private readonly file: string,
  ) {}

  private err(msg: string, tok = this.toks[Math.min(this.pos, this.toks.length - 1)]): never {
    throw new InputError(msg, this.file, tok?.line);
  }
  private peek(k = 0): string | undefined {
    return this.toks[this.pos + k]?.t;
  }
  private next(): Tok {
    const t = this.toks[this.pos++];
    if (!t) this.err("unexpected end of file");
    return t;
  }
  private expect(t: string): void {
    const got = this.next();
    if (got.t !== t) this.err(`expected '${t}' but found '${got.t}'`, got);
  }

  parseFile(): void {
    while (this.pos < this.toks.length) {
      const t = this.peek();
      if (t === "/dts-v1/" || t === "/plugin/") {
        this.next();
        this.expect(";");
      } else if (t === "/memreserve/") {
        this.next();
        const base = this.number(this.next());
        const size = this.number(this.next());
        this.expect(";");
        this.memreserve.push({ base, size });
      } else if (t === "/") {
        this.next();
        this.body(this.root);
        this.expect(";");
      } else if (t?.startsWith("&")) {
        const tok = this.next();
        const node: DtNode = { name: tok.t, line: tok.line, labels: [], props: new Map(), children: [] };
        this.body(node);
        this.expect(";");
        this.overlays.push({ label: tok.t.replace(/^&\{?|\}$/g, ""), node, line: tok.line });
      } else if (t === "/delete-node/") {
        this.next();
        this.next();
        this.expect(";");
      } else this.err(`unexpected '${t}' at top level`);
    }
    for (const o of this.overlays) {
      const target = o.label.startsWith("/") ? this.byPath(o.label) : this.byLabel(this.root, o.label);
      if (!target) throw new InputError(`&${o.label}: no node has this label`, this.file, o.line);
      merge(target, o.node);
    }
  }

  private byLabel(n: DtNode, label: string): DtNode | undefined {
    if (n.labels.includes(label)) return n;
    for (const c of n.children) {
      const f = this.byLabel(c, label);
      if (f) return f;
    }
    return undefined;
  }
  private byPath(path: string): DtNode | undefined {
    let n: DtNode | undefined = this.root;
    for (const part of path.split("/").filter(Boolean)) n = n?.children.find((c) => c.name === part);
    return n;
  }

  private body(node: DtNode): void {
    this.expect("{");
    while (this.peek() !== "}") {
      if (this.peek() === undefined) this.err(`node '${node.name}' is not closed with '}'`);
      if (this.peek() === "/delete-property/" || this.peek() === "/delete-node/") {
        const kind = this.next().t;
        const name = this.next().t;
        this.expect(";");
        if (kind === "/delete-property/") node.props.delete(name);
        else node.children = node.children.filter((c) => c.name !== name);
        continue;
      }
      const labels: string[] = [];
      while (this.peek(1) === ":") {
        labels.push(this.next().t);
        this.next();
      }
      const nameTok = this.next();
      if (PUNCT.has(nameTok.t)) this.err(`expected a property or node name, found '${nameTok.t}'`, nameTok);
      const after = this.peek();
      if (after === "{") {
        const child: DtNode = { name: nameTok.t, line: nameTok.line, labels, props: new Map(), children: [] };
        this.body(child);
        this.expect(";");
        const existing = node.children.find((c) => c.name === child.name);
        if (existing) merge(existing, child);
        else node.children.push(child);
      } else if (after === ";") {
        this.next();
        node.props.set(nameTok.t, { values: [], line: nameTok.line });
      } else if (after === "=") {
        this.next();
        const values: Value[] = [this.value()];
        while (this.peek() === ",") {
          this.next();
          values.push(this.value());
        }
        this.expect(";");
        node.props.set(nameTok.t, { values, line: nameTok.line });
      } else this.err(`expected '=', ';' or '{' after '${nameTok.t}'`);
    }
    this.next();
  }

  private value(): Value {
    const t = this.peek();
    if (t?.startsWith('"')) return { kind: "string", text: this.next().t.slice(1) };
    if (t === "/bits/") {
      this.next();
      const bits = this.number(this.next());
      if (bits !== 32n && bits !== 64n) this.err("/bits/ other than 32 or 64 is not supported");
      const v = this.cells();
      if (bits === 64n) return { kind: "cells", cells: v.cells.flatMap((c) => [c >> 32n, c & 0xffffffffn]) };
      return v;
    }
    if (t === "<") return this.cells();
    if (t === "[") {
      while (this.next().t !== "]") {
        if (this.peek() === undefined) this.err("unterminated [bytes]");
      }
      return { kind: "bytes" };
    }
    if (t?.startsWith("&")) {
      this.next();
      return { kind: "string", text: t };
    }
    return this.err(`unsupported property value '${t}'`);
  }

  private cells(): { kind: "cells"; cells: bigint[]; symbols?: string[] } {
    this.expect("<");
    const cells: bigint[] = [];
    const symbols: string[] = [];
    while (this.peek() !== ">") {
      const t = this.peek();
      if (t === undefined) this.err("unterminated <cells>");
      if (t?.startsWith("&")) {
        this.next();
        cells.push(0n); // a phandle: its value does not matter to memory layout
      } else if (t === "(") cells.push(this.expr());
      else if (this.peek(1) === ":") {
        this.next();
        this.next();
      } else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(t ?? "")) {
        symbols.push(this.next().t);
        cells.push(0n);
      } else cells.push(this.number(this.next()) & 0xffffffffn);
    }
    this.next();
    return symbols.length ? { kind: "cells", cells, symbols } : { kind: "cells", cells };
  }

  /** A parenthesised integer expression (dtc supports C operators inside cells). */
  private expr(): bigint {
    this.expect("(");
    const v = this.binary(0);
    this.expect(")");
    return v & 0xffffffffn;
  }
  private static PREC: Record<string, number> = {
    "|": 1,
    "^": 2,
    "&": 3,
    "<<": 4,
    ">>": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "/": 6,
    "%": 6,
  };
  private binary(minPrec: number): bigint {
    let lhs = this.unary();
    for (;;) {
      const op = this.peek() ?? "";
      const prec = Parser.PREC[op];
      if (prec === undefined || prec < minPrec) return lhs;
      this.next();
      const rhs = this.binary(prec + 1);
      if ((op === "/" || op === "%") && rhs === 0n) this.err("division by zero in a cell expression");
      lhs =
        op === "|"
          ? lhs | rhs
          : op === "^"
            ? lhs ^ rhs
            : op === "&"
              ? lhs & rhs
              : op === "<<"
                ? lhs << rhs
                : op === ">>"
                  ? lhs >> rhs
                  : op === "+"
                    ? lhs + rhs
                    : op === "-"
                      ? lhs - rhs
                      : op === "*"
                        ? lhs * rhs
                        : op === "/"
                          ? lhs / rhs
                          : lhs % rhs;
    }
  }
  private unary(): bigint {
    const t = this.peek();
    if (t === "(") {
      this.next();
      const v = this.binary(0);
      this.expect(")");
      return v;
    }
    if (t === "-") {
      this.next();
      return -this.unary();
    }
    if (t === "~") {
      this.next();
      return ~this.unary() & 0xffffffffffffffffn;
    }
    return this.number(this.next());
  }

  private number(tok: Tok): bigint {
    const m = /^(0[xX][0-9a-fA-F]+|\d+)(U|UL|ULL|L|LL)?$/i.exec(tok.t);
    if (!m) this.err(`'${tok.t}' is not a number`, tok);
    return BigInt(m![1]);
  }
}

function merge(into: DtNode, from: DtNode): void {
  for (const [k, v] of from.props) into.props.set(k, v);
  into.labels.push(...from.labels);
  for (const c of from.children) {
    const existing = into.children.find((x) => x.name === c.name);
    if (existing) merge(existing, c);
    else into.children.push(c);
  }
}

/** The cells of a property the memory layout reads; a macro there needs the preprocessor. */
function cellsOf(n: DtNode, prop: string, file = ""): bigint[] | undefined {
  const p = n.props.get(prop);
  if (!p) return undefined;
  const sym = p.values.flatMap((v) => (v.kind === "cells" ? (v.symbols ?? []) : []))[0];
  if (sym)
    throw new InputError(
      `node '${n.name}': property '${prop}' uses the macro ${sym}; pass the preprocessed source (cpp -P -x assembler-with-cpp)`,
      file,
      p.line,
    );
  return p.values.flatMap((v) => (v.kind === "cells" ? v.cells : []));
}
function stringsOf(n: DtNode, prop: string): string[] {
  return (n.props.get(prop)?.values ?? []).flatMap((v) => (v.kind === "string" ? [v.text] : []));
}
function readNum(cells: bigint[], at: number, count: number): bigint {
  let v = 0n;
  for (let i = 0; i < count; i++) v = (v << 32n) | cells[at + i];
  return v;
}
/** (address, size) pairs of a `reg`-like property, in the given cell counts. */
function ranges(cells: bigint[], ac: number, sc: number): DtRange[] | undefined {
  const w = ac + sc;
  if (w === 0 || cells.length % w !== 0) return undefined;
  const out: DtRange[] = [];
  for (let i = 0; i < cells.length; i += w)
    out.push({ base: readNum(cells, i, ac), size: readNum(cells, i + ac, sc) });
  return out;
}

/** Parses device-tree source text. */
export function parseDts(text: string, fileName: string): DtInfo {
  const warnings: string[] = [];
  const p = new Parser(tokenize(text, fileName, warnings), fileName);
  p.parseFile();
  const root = p.root;
  // Defaults of the DT specification when the root does not say (the kernel's dt_root_*_cells too).
  const ac = Number(cellsOf(root, "#address-cells", fileName)?.[0] ?? 1n);
  const sc = Number(cellsOf(root, "#size-cells", fileName)?.[0] ?? 1n);
  const bad = (n: DtNode, prop: string, what: string): never => {
    throw new InputError(
      `node '${n.name}': property '${prop}' ${what} (root #address-cells=${ac}, #size-cells=${sc})`,
      fileName,
      n.props.get(prop)?.line ?? n.line,
    );
  };
  const info: DtInfo = {
    fileName,
    rootAddressCells: ac,
    rootSizeCells: sc,
    memory: [],
    reservedMemoryUsable: true,
    reserved: [],
    memreserve: p.memreserve,
    warnings,
  };
  for (const n of root.children) {
    const isMemory =
      stringsOf(n, "device_type").includes("memory") || n.name === "memory" || n.name.startsWith("memory@");
    if (isMemory && !stringsOf(n, "status").some((s) => s !== "okay" && s !== "ok")) {
      const reg = cellsOf(n, "reg", fileName);
      if (reg)
        info.memory.push(...(ranges(reg, ac, sc) ?? bad(n, "reg", "is not a list of (address, size)")));
    }
    if (n.name === "chosen") {
      const s = cellsOf(n, "linux,initrd-start", fileName);
      const e = cellsOf(n, "linux,initrd-end", fileName);
      if (s && e) info.initrd = { start: readNum(s, 0, s.length), end: readNum(e, 0, e.length) };
      const args = stringsOf(n, "bootargs");
      if (args.length) info.bootargs = args[0];
    }
  }
  const rm = root.children.find((c) => c.name === "reserved-memory");
  if (rm) {
    const rac = Number(cellsOf(rm, "#address-cells", fileName)?.[0] ?? -1n);
    const rsc = Number(cellsOf(rm, "#size-cells", fileName)?.[0] ?? -1n);
    // __reserved_mem_check_root(): same cells as the root and an empty `ranges`
    info.reservedMemoryUsable = rac === ac && rsc === sc && rm.props.has("ranges");
    for (const n of rm.children) {
      const node: DtReservedNode = {
        name: n.name,
        line: n.line,
        reg: [],
        allocRanges: [],
        compatible: stringsOf(n, "compatible"),
        reusable: n.props.has("reusable"),
        noMap: n.props.has("no-map"),
        cmaDefault: n.props.has("linux,cma-default"),
        available: !stringsOf(n, "status").some((s) => s !== "okay" && s !== "ok"),
      };
      const reg = cellsOf(n, "reg", fileName);
      if (reg) {
        const r = ranges(reg, ac, sc);
        if (r) node.reg = r;
        else node.malformed = "reg";
      }
      const size = cellsOf(n, "size", fileName);
      if (size) {
        if (size.length === sc) node.size = readNum(size, 0, sc);
        else node.malformed = "size";
      }
      const align = cellsOf(n, "alignment", fileName);
      if (align) {
        if (align.length === ac) node.alignment = readNum(align, 0, ac);
        else node.malformed = "alignment";
      }
      const ar = cellsOf(n, "alloc-ranges", fileName);
      if (ar) {
        const r = ranges(ar, ac, sc);
        if (r) node.allocRanges = r;
        else node.malformed = "alloc-ranges";
      }
      info.reserved.push(node);
    }
  }
  return info;
}
