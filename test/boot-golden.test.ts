/**
 * SPEC §7 worked examples that are observed ([O] oracle, [B] boot log), the classic lowmem answer,
 * and the "CMA region and highmem" thread scenario for both eras. [C]/[unverified] values are
 * checked as rules (where the area lands relative to the boundary), never as literal addresses.
 */
import { describe, expect, it } from "vitest";
import type { BootConfig } from "../src/boot/config.js";
import { boot } from "../src/boot/index.js";
import { resolveProfile } from "../src/kernel/profile.js";

const G = 1n << 30n;
const M = 1n << 20n;
const lines = (c: BootConfig) => boot(c).dmesg.map((d) => d.text);
const debian = (mem: bigint, extra = "", lpae = false): BootConfig => ({
  kernel: lpae ? "debian-6.1-armmp-lpae" : "debian-6.1-armmp",
  ram: [{ base: 0x40000000n, size: mem }],
  cmdline: `console=ttyAMA0 quiet panic=1 ${extra}`.trim(),
});

describe("SPEC §7 golden examples", () => {
  it("G1: armmp 2G cma=512M [O]", () => {
    const m = boot(debian(2n * G, "cma=512M"));
    const t = m.dmesg.map((d) => d.text);
    const g1 = [
      "cma: Reserved 512 MiB at 0xa0000000",
      "Zone ranges:",
      "  DMA      [mem 0x0000000040000000-0x000000006fffffff]",
      "  Normal   empty",
      "  HighMem  [mem 0x0000000070000000-0x00000000bfffffff]",
      "Movable zone start for each node",
      "Early memory node ranges",
      "  node   0: [mem 0x0000000040000000-0x00000000bfffffff]",
      "Initmem setup node 0 [mem 0x0000000040000000-0x00000000bfffffff]",
      "DMA: preallocated 256 KiB pool for atomic coherent allocations",
    ];
    for (const l of g1) expect(t).toContain(l);
    // the zone block is printed in this order
    const i = t.indexOf("Zone ranges:");
    expect(t.slice(i, i + 8)).toEqual(g1.slice(1, 9));
    expect(m.meminfo).toMatchObject({
      VmallocTotal: 245760,
      CmaTotal: 524288,
      CmaFree: 524032,
      HighTotal: 1310720,
    });
  });

  it("G2: armmp-lpae 3G default [O]", () => {
    const t = lines(debian(3n * G, "", true));
    expect(t).toContain("cma: Reserved 16 MiB at 0x00000000fee00000");
    expect(t).toContain("  HighMem  [mem 0x0000000070000000-0x00000000ffffffff]");
    expect(t.some((l) => /^software IO TLB: mapped \[mem 0x0000000\w+-0x\w+\] \(64MB\)$/.test(l))).toBe(true);
    const mem = t.find((l) => l.startsWith("Memory:"))!;
    expect(mem).toMatch(
      /^Memory: \d+K\/3145728K available \(12288K kernel code, 1716K rwdata, 3752K rodata, 2048K init, 384K bss, \d+K reserved, 16384K cma-reserved, 2342912K highmem\)$/,
    );
  });

  it("G3: armmp 3G default: the 32-bit cap loses the last page [O]", () => {
    const t = lines(debian(3n * G));
    expect(t).toContain("cma: Reserved 16 MiB at 0xfe800000");
    expect(t).toContain("  HighMem  [mem 0x0000000070000000-0x00000000ffffefff]");
    expect(t).toContain("  node   0: [mem 0x0000000040000000-0x00000000ffffefff]");
    expect(t.find((l) => l.startsWith("Memory:"))).toMatch(/\/3145724K available .*, 2342908K highmem\)$/);
  });

  it("G4: armmp-lpae 4G default: the P2 leak puts CMA in lowmem [O]", () => {
    const m = boot(debian(4n * G, "loglevel=8", true));
    const t = m.dmesg.map((d) => d.text);
    expect(t).toContain("cma: Reserved 16 MiB at 0x000000006f000000");
    expect(t).toContain("  HighMem  [mem 0x0000000070000000-0x000000013fffffff]");
    expect(t.find((l) => l.startsWith("Memory:"))).toMatch(
      /\/4194304K available .*, 16384K cma-reserved, 3391488K highmem\)$/,
    );
    expect(m.leakedCma).toHaveLength(1);
    expect(m.cmaAreas[0].inHighmem).toBe(false);
  });

  it("G5: armmp 1G cma=512M falls back to lowmem [O]", () => {
    const m = boot(debian(G, "cma=512M"));
    expect(m.dmesg.map((d) => d.text)).toContain("cma: Reserved 512 MiB at 0x50000000");
    expect(m.dmesg.find((d) => d.text.startsWith("Memory:"))?.text).toMatch(
      /524288K cma-reserved, 262144K highmem\)$/,
    );
  });

  it("G6: armmp 512M cma=512M fails [O]", () => {
    const m = boot(debian(512n * M, "cma=512M"));
    const t = m.dmesg.map((d) => d.text);
    expect(t).toContain("cma: Failed to reserve 512 MiB");
    expect(t).toContain("  HighMem  empty");
    expect(m.cmaAreas).toEqual([]);
    expect(t.find((l) => l.startsWith("Memory:"))).toMatch(
      /\/524288K available .*, 0K cma-reserved, 0K highmem\)$/,
    );
  });

  it("G7: armmp 1G vmalloc=480M [O]", () => {
    const m = boot(debian(G, "vmalloc=480M"));
    const t = m.dmesg.map((d) => d.text);
    expect(t).toContain("  DMA      [mem 0x0000000040000000-0x0000000060ffffff]");
    expect(t).toContain("  HighMem  [mem 0x0000000061000000-0x000000007fffffff]");
    expect(m.meminfo.VmallocTotal).toBe(491520);
    expect(m.layout.vmalloc.start).toBe(0xe1800000);
  });

  it("G9: 4.x 3G/1G 1 GiB HIGHMEM [B: rpi3-vmsplit3g-issue1394]", () => {
    const t = lines({ kernel: "4.19", split: "3G", ram: [{ base: 0n, size: G }] });
    expect(t).toContain("    fixmap  : 0xffc00000 - 0xfff00000   (3072 kB)");
    expect(t).toContain("    vmalloc : 0xf0800000 - 0xff800000   ( 240 MB)");
    expect(t).toContain("    lowmem  : 0xc0000000 - 0xf0000000   ( 768 MB)");
  });

  it("G10: 4.4 !HIGHMEM truncation [B: rpi3-android-things-truncating]", () => {
    const t = lines({
      kernel: "4.4",
      split: "3G",
      highmem: false,
      ram: [{ base: 0n, size: 0x3b000000n }],
      kconfig: { CONFIG_CMA_SIZE_MBYTES: "8" },
    });
    const i = t.indexOf("Truncating RAM at 0x00000000-0x3b000000 to -0x30000000");
    expect(i).toBeGreaterThanOrEqual(0);
    expect(t[i + 1]).toBe("Consider using a HIGHMEM enabled kernel.");
    expect(t).toContain("cma: Reserved 8 MiB at 0x2f800000");
  });
});

describe("the classic answer: 3G/1G split, 1 GiB and 2 GiB boards", () => {
  for (const size of [G, 2n * G]) {
    it(`6.1, ${size / G} GiB: 768 MiB lowmem, 240 MiB vmalloc [O]`, () => {
      const m = boot({ kernel: "6.1", split: "3G", ram: [{ base: 0x40000000n, size }] });
      expect(m.layout.lowmem.end - m.layout.lowmem.start).toBe(768 * 2 ** 20);
      expect(m.layout.vmalloc.end - m.layout.vmalloc.start).toBe(240 * 2 ** 20);
      expect(m.meminfo.VmallocTotal).toBe(245760);
    });
    it(`3.x, ${size / G} GiB: lowmem ends 240 + 8 MiB below VMALLOC_END (rule V1)`, () => {
      const m = boot({ kernel: "3.17", split: "3G", ram: [{ base: 0x80000000n, size }] });
      const vmallocEnd = m.profile.boot.vmallocEnd;
      expect(m.layout.lowmem.end).toBe(vmallocEnd - 248 * 2 ** 20);
      expect(m.layout.vmalloc.end - m.layout.vmalloc.start).toBe(240 * 2 ** 20);
      expect(m.dmesg.map((d) => d.text)).toContain(
        `    lowmem  : 0xc0000000 - 0x${m.layout.lowmem.end.toString(16)}   ( ${(m.layout.lowmem.end - 0xc0000000) / 2 ** 20} MB)`,
      );
    });
  }
});

describe("thread scenario 'CMA region and highmem': 3G/1G, 2 GiB, cma=512M", () => {
  const scenario = (kernel: string) =>
    boot({ kernel, split: "3G", ram: [{ base: 0x80000000n, size: 2n * G }], cmdline: "cma=512M" });

  it("3.17 (P0): the area is the top of lowmem", () => {
    const m = scenario("3.17");
    const a = m.cmaAreas[0];
    expect(m.profile.boot.cmaPlacement).toBe("P0");
    expect(a.countPages * 4096).toBe(512 * 2 ** 20);
    expect(a.inHighmem).toBe(false);
    expect(a.basePfn + a.countPages).toBe(m.armLowmemLimitPfn);
  });

  for (const kernel of ["3.18", "4.4", "4.19", "5.10", "6.1", "6.6"]) {
    it(`${kernel}: the area is in highmem and does not straddle the boundary`, () => {
      const m = scenario(kernel);
      const a = m.cmaAreas[0];
      expect(a.inHighmem).toBe(true);
      expect(a.basePfn).toBeGreaterThanOrEqual(m.armLowmemLimitPfn);
      expect((a.basePfn + a.countPages) * 4096).toBeLessThanOrEqual(2 ** 32);
      expect(m.dmesg.map((d) => d.text).some((t) => t.startsWith("cma: Reserved 512 MiB at 0x"))).toBe(true);
    });
  }
});

describe("more real boot logs (public, found while checking the kernel source)", () => {
  it("Cubieboard4 5.6.11, !HIGHMEM, 2 GiB at 0x20000000: M2 'Ignoring RAM' and CMA below it [B]", () => {
    const t = lines({
      kernel: "5.6",
      highmem: false,
      ram: [{ base: 0x20000000n, size: 2n * G }],
      kconfig: { CONFIG_CMA_SIZE_MBYTES: "64" },
    });
    expect(t.slice(0, 3)).toEqual([
      "Ignoring RAM at 0x50000000-0xa0000000",
      "Consider using a HIGHMEM enabled kernel.",
      "cma: Reserved 64 MiB at 0x4c000000",
    ]);
    expect(t.find((l) => l.startsWith("Memory:"))).toMatch(
      /^Memory: \d+K\/786432K available .*, 65536K cma-reserved\)$/,
    );
  });

  it("Terasic DE-0 4.4.75, !HIGHMEM, 1 GiB at 0: M1 truncation and the layout [B]", () => {
    const t = lines({
      kernel: "4.4",
      highmem: false,
      ram: [{ base: 0n, size: G }],
      kconfig: { CONFIG_CMA_SIZE_MBYTES: "0" },
    });
    expect(t).toContain("Truncating RAM at 0x00000000-0x40000000 to -0x30000000");
    expect(t).toContain("    fixmap  : 0xffc00000 - 0xfff00000   (3072 kB)");
    expect(t.find((l) => l.startsWith("Memory:"))).toMatch(
      /^Memory: \d+K\/786432K available .*, 0K cma-reserved\)$/,
    );
  });
});

// Era boundaries of the printed boot lines (SPEC §8 U1-U5), each checked on both sides of the boundary.
// The expected lines are copied from real boot logs of the era (named per constant); the evidence for
// each boundary is in the comment of its row in src/kernel/profile.ts.
const eraLines = (kernel: string, extra: Partial<BootConfig> = {}) =>
  boot({ kernel, split: "3G", ram: [{ base: 0n, size: G }], ...extra }).dmesg.map((d) => d.text);

// Raspberry Pi 3.6 (raspberrypi/linux#626), BeagleBone Black 3.8 (Mastering Embedded Linux Programming)
const FIXMAP_896K = "    fixmap  : 0xfff00000 - 0xfffe0000   ( 896 kB)";
// Zynq 3.18 (pulp-platform/pulpino#324)
const FIXMAP_2M = "    fixmap  : 0xffc00000 - 0xffe00000   (2048 kB)";
// vexpress 4.10 (offspot/kiwix-hotspot#147), Raspberry Pi 3 4.19 (G9)
const FIXMAP_3M = "    fixmap  : 0xffc00000 - 0xfff00000   (3072 kB)";

describe("U4: the fixmap range of the layout block", () => {
  it.each([
    ["3.13", FIXMAP_896K],
    ["3.14", FIXMAP_896K],
    ["3.15", FIXMAP_2M],
    ["3.18", FIXMAP_2M],
    ["3.19", FIXMAP_3M],
    ["4.0", FIXMAP_3M],
    ["4.2", FIXMAP_3M],
    ["4.4", FIXMAP_3M],
  ])("%s prints %s", (kernel, fixmap) => {
    const t = eraLines(kernel);
    expect(t).toContain(fixmap);
    for (const other of [FIXMAP_896K, FIXMAP_2M, FIXMAP_3M].filter((f) => f !== fixmap)) {
      expect(t).not.toContain(other);
    }
  });
});

describe("U1: VMALLOC_END 0xff000000 until 4.2, 0xff800000 from 4.3", () => {
  it("4.2: 760 MiB of lowmem under a 3G split (Odroid XU4 4.2.0 and Jetson TK1 4.0.0 zone lines)", () => {
    const t = eraLines("4.2");
    expect(t).toContain("    vmalloc : 0xf0000000 - 0xff000000   ( 240 MB)");
    expect(t).toContain("    lowmem  : 0xc0000000 - 0xef800000   ( 760 MB)");
  });

  it("4.3: 768 MiB of lowmem, as every 4.4+ log prints (G9: Raspberry Pi 3 4.19)", () => {
    const t = eraLines("4.3");
    expect(t).toContain("    vmalloc : 0xf0800000 - 0xff800000   ( 240 MB)");
    expect(t).toContain("    lowmem  : 0xc0000000 - 0xf0000000   ( 768 MB)");
  });

  it("the vmalloc= ceiling follows VMALLOC_END - (PAGE_OFFSET + 32 MiB): 976 MB, then 984 MB", () => {
    expect(eraLines("4.2", { cmdline: "vmalloc=2G" })).toContain(
      "vmalloc area is too big, limiting to 976MB",
    );
    expect(eraLines("4.3", { cmdline: "vmalloc=2G" })).toContain(
      "vmalloc area is too big, limiting to 984MB",
    );
  });
});

describe("U2/U3: the !HIGHMEM lowmem cap and the memblock_limit rounding", () => {
  // vexpress-a15, 2 GiB at 0x80000000, VMSPLIT_2G, no HIGHMEM (offspot/kiwix-hotspot#147, 4.10)
  const vexpress = (kernel: string) =>
    eraLines(kernel, { split: "2G", highmem: false, ram: [{ base: 0x80000000n, size: 2n * G }] });

  it("4.10 truncates the bank (kiwix-hotspot#147)", () => {
    const t = vexpress("4.10");
    expect(t).toContain("Truncating RAM at 0x80000000-0xffffffff to -0xf0000000");
    expect(t.some((l) => l.startsWith("Ignoring RAM at"))).toBe(false);
  });

  it("4.11 (adjust_lowmem_bounds) drops the rest with the openbmc 5.15 form", () => {
    const t = vexpress("4.11");
    expect(t).toContain("Ignoring RAM at 0xf0000000-0xffffffff");
    expect(t.some((l) => l.startsWith("Truncating RAM"))).toBe(false);
  });

  it("the HIGHMEM hint follows the truncation from 4.1 (absent in a 4.0.y tree, printed by 4.4 and 4.10)", () => {
    const hint = "Consider using a HIGHMEM enabled kernel.";
    expect(vexpress("4.0")).not.toContain(hint);
    // (4.0 still has VMALLOC_END 0xff000000: the bank is cut 8 MiB lower)
    expect(vexpress("4.0")).toContain("Truncating RAM at 0x80000000-0xffffffff to -0xef800000");
    for (const k of ["4.4", "4.10", "4.11"]) expect(vexpress(k)).toContain(hint);
  });

  it("memblock_limit is rounded to PMD_SIZE from 4.1, still inside sanity_check_meminfo()", () => {
    expect(resolveProfile("4.0").boot.memblockLimitAlign).toBe("section");
    expect(resolveProfile("4.1").boot).toMatchObject({
      memblockLimitAlign: "pmd",
      lowmemBounds: "sanity_check_meminfo",
    });
    expect(resolveProfile("4.11").boot).toMatchObject({
      memblockLimitAlign: "pmd",
      lowmemBounds: "adjust_lowmem_bounds",
    });
  });
});

describe("U5: the layout block", () => {
  it("is printed with (ptrval) by 5.0 and gone in 5.1", () => {
    const t50 = eraLines("5.0");
    expect(t50).toContain("Virtual kernel memory layout:");
    expect(t50).toContain(FIXMAP_3M);
    expect(eraLines("5.1")).not.toContain("Virtual kernel memory layout:");
  });
});
