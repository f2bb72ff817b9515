/**
 * The Debian 6.1 oracle boots (real kernel under qemu): the `Memory:` line and /proc/meminfo of the
 * named profiles. Exact where the boot decides the figure (total, cma-reserved, highmem, VmallocTotal,
 * HighTotal, CmaTotal, the cma: lines); the `reserved` figure is calibrated (SPEC §3.7), so it is
 * checked to within 1.1 MiB, and CmaFree depends on user pages that run in CMA after boot.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { boot } from "../src/boot/index.js";

const here = dirname(fileURLToPath(import.meta.url));

interface OracleBoot {
  name: string;
  flavour: "armmp" | "armmp-lpae";
  mem: string;
  extra_cmdline: string;
  memory_line: string;
  cma_lines: string[];
  meminfo: Record<string, number> | null;
}

const boots: OracleBoot[] = JSON.parse(readFileSync(join(here, "fixtures/boot/oracle-memory.json"), "utf8"));

const fields = (line: string) =>
  Object.fromEntries([...line.matchAll(/(\d+)K ([a-z -]+?)[,)]/g)].map((m) => [m[2], Number(m[1])]));
const totals = (line: string) => {
  const m = /^Memory: (\d+)K\/(\d+)K available/.exec(line);
  return m ? { available: Number(m[1]), total: Number(m[2]) } : undefined;
};
const bytes = (mem: string) => BigInt(Number.parseInt(mem, 10)) * (mem.endsWith("G") ? 1n << 30n : 1n << 20n);

describe("Debian 6.1 oracle: Memory: line and meminfo", () => {
  it("has the oracle boots", () => expect(boots.length).toBeGreaterThan(70));
  for (const o of boots) {
    it(o.name, () => {
      const m = boot({
        kernel: `debian-6.1-${o.flavour}`,
        ram: [{ base: 0x40000000n, size: bytes(o.mem) }],
        cmdline: `console=ttyAMA0 quiet panic=1 ${o.extra_cmdline}`,
      });
      const texts = m.dmesg.map((d) => d.text);
      expect(texts.filter((t) => t.startsWith("cma:"))).toEqual(
        o.cma_lines.filter((t) => t.startsWith("cma:")),
      );
      const line = texts.find((t) => t.startsWith("Memory:"));
      expect(line).toBeDefined();
      const got = fields(line!);
      const want = fields(o.memory_line);
      for (const k of ["kernel code", "rwdata", "rodata", "init", "bss", "cma-reserved", "highmem"])
        expect(got[k], k).toBe(want[k]);
      expect(totals(line!)?.total).toBe(totals(o.memory_line)?.total);
      expect(Math.abs(got.reserved - want.reserved)).toBeLessThanOrEqual(1126);
      if (o.meminfo?.MemTotal) {
        for (const k of ["VmallocTotal", "HighTotal", "CmaTotal"]) expect(m.meminfo[k], k).toBe(o.meminfo[k]);
        expect(Math.abs(m.meminfo.MemTotal - o.meminfo.MemTotal)).toBeLessThanOrEqual(1126);
        expect(m.meminfo.CmaFree - o.meminfo.CmaFree).toBeGreaterThanOrEqual(0);
        expect(m.meminfo.CmaFree - o.meminfo.CmaFree).toBeLessThanOrEqual(2048);
      }
    });
  }
});
