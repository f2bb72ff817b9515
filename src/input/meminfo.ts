/**
 * Reader of a real /proc/meminfo (fs/proc/meminfo.c): `Name:   value kB` lines, values in kB
 * (HugePages_* counts have no unit).
 */
import { InputError } from "../errors.js";

const LINE = /^([A-Za-z0-9_()]+):\s+(\d+)(?:\s+kB)?$/;

export function parseMeminfo(text: string, source = "meminfo"): Record<string, number> {
  const out: Record<string, number> = {};
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "") return;
    const m = LINE.exec(line);
    if (!m) throw new InputError(`not a /proc/meminfo line: '${line.slice(0, 60)}'`, source, i + 1);
    out[m[1]] = Number(m[2]);
  });
  if (out.MemTotal === undefined) throw new InputError("no MemTotal line: not a /proc/meminfo dump", source);
  return out;
}
