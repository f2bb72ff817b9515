/**
 * Properties of every boot over random valid configurations (fast-check): the address space is
 * consistent, the zones tile the kept RAM, the Memory: line and meminfo add up, CMA areas sit in RAM.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { BootConfig, VmSplit } from "../src/boot/config.js";
import { boot } from "../src/boot/index.js";
import { bootJson } from "../src/report/boot-json.js";
import { bootText } from "../src/report/boot-text.js";
import { physmapSvg } from "../src/report/physmap-svg.js";

const MiB = 1n << 20n;
const alignUp2M = (x: bigint) => ((x + 2n * MiB - 1n) / (2n * MiB)) * 2n * MiB;
const VERSIONS = [
  "3.4",
  "3.10",
  "3.14",
  "3.17",
  "3.18",
  "4.0",
  "4.4",
  "4.9",
  "4.14",
  "4.19",
  "5.4",
  "5.10",
  "5.15",
  "6.1",
  "6.6",
];

const configArb: fc.Arbitrary<BootConfig> = fc
  .record({
    kernel: fc.constantFrom(...VERSIONS),
    lpae: fc.boolean(),
    split: fc.constantFrom<VmSplit>("3G", "2G", "1G", "3G_OPT"),
    highmem: fc.boolean(),
    thumb2: fc.boolean(),
    firstBase16M: fc.integer({ min: 0, max: 0xc0 }),
    banks: fc.array(
      fc.record({ gap2MiB: fc.integer({ min: 0, max: 256 }), sizeMiB: fc.integer({ min: 32, max: 2048 }) }),
      {
        minLength: 1,
        maxLength: 3,
      },
    ),
    vmallocMiB: fc.option(fc.integer({ min: 0, max: 1200 })),
    cmaMiB: fc.option(fc.integer({ min: 0, max: 1024 })),
    maxOrder: fc.constantFrom(undefined, "11", "12"),
  })
  .filter((c) => !(c.lpae && c.split === "3G_OPT"))
  .map((c) => {
    let base = BigInt(c.firstBase16M) * 16n * MiB;
    const ram = c.banks.map((b) => {
      // bank starts are PMD aligned, as on real boards (ends need not be)
      const bank = { base: alignUp2M(base) + BigInt(b.gap2MiB) * 2n * MiB, size: BigInt(b.sizeMiB) * MiB };
      base = bank.base + bank.size;
      return bank;
    });
    const cmdline = [
      c.vmallocMiB !== null ? `vmalloc=${c.vmallocMiB}M` : "",
      c.cmaMiB !== null ? `cma=${c.cmaMiB}M` : "",
    ].join(" ");
    const config: BootConfig = {
      kernel: c.kernel,
      lpae: c.lpae,
      split: c.split,
      highmem: c.highmem,
      thumb2: c.thumb2,
      ram,
      cmdline,
      kconfig: c.maxOrder ? { CONFIG_ARCH_FORCE_MAX_ORDER: c.maxOrder } : {},
    };
    return config;
  });

const memoryFields = (line: string) => {
  const m = /^Memory: (\d+)K\/(\d+)K available \(.*?(\d+)K reserved(?:, (\d+)K cma-reserved)?/.exec(line);
  return m && { available: +m[1], total: +m[2], reserved: +m[3], cma: +(m[4] ?? 0) };
};

describe("boot properties over random configurations", () => {
  it("address space, zones, Memory: line, meminfo and CMA areas are consistent", () => {
    fc.assert(
      fc.property(configArb, (config) => {
        const m = boot(config);
        const l = m.layout;
        // every report renders
        expect(bootText(m)).toContain("Physical memory map:");
        expect(physmapSvg(m)).toMatch(/^<svg /);
        expect(JSON.parse(JSON.stringify(bootJson(m))).dmesg.length).toBe(m.dmesg.length);
        if (!m.memory.length) return void expect(m.panic).toBeDefined();
        // lowmem and vmalloc are disjoint; VMALLOC_START - high_memory in (0, 8 MiB]
        const gap = l.vmalloc.start - l.lowmem.end;
        expect(gap).toBeGreaterThan(0);
        expect(gap).toBeLessThanOrEqual(8 << 20);
        expect(l.lowmem.start).toBe(l.pageOffset);
        expect(l.modules.end).toBeLessThanOrEqual(l.pageOffset);
        expect(l.vmalloc.end).toBeLessThanOrEqual(l.fixmap.start);
        // zones tile the kept RAM: contiguous, from the first to the last page frame
        const z = m.zones;
        expect(z.length).toBeGreaterThan(0);
        for (let i = 1; i < z.length; i++) expect(z[i].startPfn).toBe(z[i - 1].endPfn);
        expect(z[0].startPfn).toBe(
          Math.min(m.memory[0].startPfn, m.nomap?.[0]?.startPfn ?? Number.POSITIVE_INFINITY),
        );
        expect(z[z.length - 1].endPfn).toBe(m.highmem ? m.maxPfn : m.armLowmemLimitPfn);
        const memPages = [...m.memory, ...(m.nomap ?? [])].reduce((n, r) => n + r.endPfn - r.startPfn, 0);
        expect(z.reduce((n, x) => n + x.presentPages, 0)).toBe(memPages);
        if (!m.highmem) expect(m.maxPfn).toBeLessThanOrEqual(m.armLowmemLimitPfn);
        // lowmem in the linear map: high_memory - PAGE_OFFSET == arm_lowmem_limit - PHYS_OFFSET
        expect(Math.floor((l.lowmem.end - l.pageOffset) / 4096)).toBe(m.armLowmemLimitPfn - m.physOffsetPfn);
        // CMA areas lie in RAM; the default area never straddles the boundary
        for (const a of m.cmaAreas) {
          const end = a.basePfn + a.countPages;
          expect(m.memory.some((r) => r.startPfn <= a.basePfn && end <= r.endPfn)).toBe(true);
          expect(a.basePfn < m.armLowmemLimitPfn && end > m.armLowmemLimitPfn).toBe(false);
          if (m.profile.boot.cmaPlacement === "P0") expect(a.inHighmem).toBe(false);
        }
        if (m.panic) return;
        // the Memory: line adds up
        const line = m.dmesg.find((d) => /^Memory: \d+K\//.test(d.text));
        if (line) {
          const f = memoryFields(line.text)!;
          expect(f.total).toBe(memPages * 4);
          expect(f.available + f.reserved + f.cma).toBe(f.total);
        }
        if (m.highmem) expect(m.meminfo.LowTotal + m.meminfo.HighTotal).toBe(m.meminfo.MemTotal);
        expect(m.meminfo.VmallocTotal * 1024).toBe(l.vmalloc.end - l.vmalloc.start);
      }),
      { numRuns: 400 },
    );
  });
});
