/**
 * Reader of a real /proc/vmallocinfo dump (mm/vmalloc.c s_show): one area per line,
 * `0x<start>-0x<end> <size> <caller> [pages=N] [phys=..] [ioremap|vmalloc|vmap|user|dma-coherent|...]`,
 * and `0x<start>-0x<end> <size> unpurged vm_area` for lazily freed areas. Sizes include the guard page.
 */
import { InputError } from "../errors.js";

export type VmallocinfoKind = "vmalloc" | "ioremap" | "dma-coherent" | "vmap" | "unpurged";

export interface VmallocinfoEntry {
  start: number;
  end: number;
  sizeBytes: number;
  caller: string;
  kind: VmallocinfoKind;
  /** pages=N: pages backing a vmalloc() area */
  pages: number;
  line: number;
}

const LINE = /^0x([0-9a-fA-F]+)-0x([0-9a-fA-F]+)\s+(\d+)\s*(.*)$/;

export function parseVmallocinfo(text: string, source = "vmallocinfo"): VmallocinfoEntry[] {
  const out: VmallocinfoEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "") return;
    const m = LINE.exec(line);
    if (!m) throw new InputError(`not a /proc/vmallocinfo line: '${line.slice(0, 60)}'`, source, i + 1);
    const start = Number.parseInt(m[1], 16);
    const end = Number.parseInt(m[2], 16);
    const sizeBytes = Number(m[3]);
    if (end <= start || end - start !== sizeBytes || start % 4096 !== 0 || end > 2 ** 32) {
      throw new InputError(
        `range 0x${m[1]}-0x${m[2]} does not match size ${sizeBytes} (or is not page aligned)`,
        source,
        i + 1,
      );
    }
    const rest = m[4];
    const words = rest.split(/\s+/);
    const pagesWord = words.find((w) => w.startsWith("pages="));
    let kind: VmallocinfoKind = "vmap";
    if (rest === "unpurged vm_area") kind = "unpurged";
    else if (words.includes("ioremap")) kind = "ioremap";
    else if (words.includes("dma-coherent")) kind = "dma-coherent";
    else if (words.includes("vmalloc")) kind = "vmalloc";
    out.push({
      start,
      end,
      sizeBytes,
      caller: kind === "unpurged" ? "unpurged vm_area" : (words[0] ?? ""),
      kind,
      pages: pagesWord ? Number(pagesWord.slice(6)) : 0,
      line: i + 1,
    });
  });
  return out;
}
