/**
 * Boot reservations: DT /reserved-memory (static, dynamic, no-map, CMA pools, per-device pools), the
 * default area's size selection, CONFIG_CMA_AREAS slots and the era differences of the messages.
 */
import { describe, expect, it } from "vitest";
import type { BootConfig } from "../src/boot/config.js";
import { boot } from "../src/boot/index.js";
import { parseDts } from "../src/input/dts.js";

const G = 1n << 30n;
const dts = (nodes: string, cells = 1) =>
  parseDts(
    `/dts-v1/;\n/ {\n #address-cells = <${cells}>;\n #size-cells = <${cells}>;\n reserved-memory {\n  #address-cells = <${cells}>;\n  #size-cells = <${cells}>;\n  ranges;\n${nodes}\n };\n};\n`,
    "t.dts",
  );
const run = (c: BootConfig) => {
  const m = boot(c);
  return { m, t: m.dmesg.map((d) => d.text) };
};

describe("device-tree reserved-memory", () => {
  const cmaNode = `linux,cma { compatible = "shared-dma-pool"; reusable; size = <0x4000000>; linux,cma-default; };`;

  it("a linux,cma-default pool becomes the default area (no Kconfig area then)", () => {
    const { m, t } = run({ kernel: "5.15", ram: [{ base: 0x40000000n, size: G }], dt: dts(cmaNode) });
    expect(t).toContain("Reserved memory: created CMA memory pool at 0x7c000000, size 64 MiB");
    expect(t).toContain("OF: reserved mem: initialized node linux,cma, compatible id shared-dma-pool");
    expect(t.some((l) => l.startsWith("cma: Reserved"))).toBe(false);
    expect(m.cmaAreas).toMatchObject([{ name: "linux,cma", isDefault: true, countPages: 16384 }]);
  });

  it("cma= wins over the DT default pool from 5.3 on (6.1 wording), not before", () => {
    const bypass = run({
      kernel: "6.1",
      ram: [{ base: 0x40000000n, size: G }],
      dt: dts(cmaNode),
      cmdline: "cma=32M",
    });
    expect(bypass.t).toContain("Reserved memory: bypass linux,cma node, using cmdline CMA params instead");
    expect(bypass.t).toContain("OF: reserved mem: node linux,cma compatible matching fail");
    expect(bypass.m.cmaAreas).toMatchObject([{ name: "reserved", countPages: 8192 }]);
    const old = run({
      kernel: "4.19",
      ram: [{ base: 0x40000000n, size: G }],
      dt: dts(cmaNode),
      cmdline: "cma=32M",
    });
    expect(old.m.cmaAreas.map((a) => a.name)).toEqual(["linux,cma"]);
  });

  it("a no-map shared-dma-pool is a per-device DMA pool, outside the CMA accounting", () => {
    const { m, t } = run({
      kernel: "5.15",
      ram: [{ base: 0x60000000n, size: G }],
      dt: dts(`vram@4c000000 { compatible = "shared-dma-pool"; reg = <0x4c000000 0x00800000>; no-map; };`),
    });
    expect(t).toContain("Reserved memory: created DMA memory pool at 0x4c000000, size 8 MiB");
    expect(t).toContain("OF: reserved mem: initialized node vram@4c000000, compatible id shared-dma-pool");
    expect(m.dmaPools).toEqual([{ name: "vram@4c000000", startPfn: 0x4c000, endPfn: 0x4c800 }]);
  });

  it("the CMA alignment check refuses a misaligned pool", () => {
    const { m, t } = run({
      kernel: "6.1",
      ram: [{ base: 0x40000000n, size: G }],
      dt: dts(`pool@50100000 { compatible = "shared-dma-pool"; reusable; reg = <0x50100000 0x1000000>; };`),
    });
    expect(t).toContain("Reserved memory: incorrect alignment of CMA region");
    expect(t).toContain("OF: reserved mem: node pool@50100000 compatible matching fail");
    expect(m.cmaAreas.map((a) => a.name)).toEqual(["reserved"]);
  });

  it("CONFIG_CMA_AREAS bounds the number of areas", () => {
    const pools = [0, 1, 2]
      .map((i) => `p${i} { compatible = "shared-dma-pool"; reusable; size = <0x400000>; };`)
      .join("\n");
    const { m, t } = run({
      kernel: "6.1",
      ram: [{ base: 0x40000000n, size: G }],
      dt: dts(pools),
      kconfig: { CONFIG_CMA_AREAS: "2" },
    });
    expect(m.cmaAreas.map((a) => a.name)).toEqual(["p0", "p1"]);
    expect(t).toContain("cma: Not enough slots for CMA reserved regions!");
    expect(t).toContain("Reserved memory: unable to setup CMA region");
  });

  it("dynamic nodes go top-down inside alloc-ranges; failures name the node", () => {
    const { t } = run({
      kernel: "6.1",
      ram: [{ base: 0x40000000n, size: G }],
      dt: dts(
        `a { compatible = "shared-dma-pool"; reusable; size = <0x2000000>; alloc-ranges = <0x40000000 0x10000000>; };
         b { size = <0x20000000>; alloc-ranges = <0x40000000 0x1000000>; };`,
      ),
    });
    expect(t).toContain("Reserved memory: created CMA memory pool at 0x4e000000, size 32 MiB");
    expect(t).toContain("OF: reserved mem: failed to allocate memory for node 'b': size 512 MiB");
  });

  it("overlapping static regions are reported", () => {
    const { t } = run({
      kernel: "6.1",
      ram: [{ base: 0x40000000n, size: G }],
      dt: dts("a@50000000 { reg = <0x50000000 0x200000>; };\n b@50100000 { reg = <0x50100000 0x200000>; };"),
    });
    expect(t).toContain("OF: reserved mem: OVERLAP DETECTED!");
    expect(t).toContain(
      "a@50000000 (0x50000000--0x50200000) overlaps with b@50100000 (0x50100000--0x50300000)",
    );
  });

  it("no-map at the top of RAM with !HIGHMEM: the second adjust_lowmem_bounds pass drops it (5.12+)", () => {
    const { m, t } = run({
      kernel: "5.15",
      highmem: false,
      ram: [{ base: 0x80000000n, size: 0x1c000000n }],
      dt: dts("flash@98000000 { reg = <0x98000000 0x04000000>; no-map; };"),
    });
    expect(t).toContain("Ignoring RAM at 0x98000000-0x9c000000");
    expect(m.armLowmemLimitPfn).toBe(0x98000);
  });
});

describe("default area size selection", () => {
  const ram = [{ base: 0x40000000n, size: 2n * G }];
  it("CMA_SIZE_SEL_PERCENTAGE / MIN / MAX", () => {
    const pct = boot({
      kernel: "6.1",
      ram,
      kconfig: { CONFIG_CMA_SIZE_SEL_PERCENTAGE: "y", CONFIG_CMA_SIZE_PERCENTAGE: "10" },
    });
    expect(pct.cmaAreas[0].countPages * 4096).toBe(208 << 20); // 204.8 MiB rounded up to 4 MiB
    const min = boot({
      kernel: "6.1",
      ram,
      kconfig: { CONFIG_CMA_SIZE_SEL_MIN: "y", CONFIG_CMA_SIZE_MBYTES: "64" },
    });
    expect(min.cmaAreas[0].countPages * 4096).toBe(64 << 20);
    const max = boot({
      kernel: "6.1",
      ram,
      kconfig: { CONFIG_CMA_SIZE_SEL_MAX: "y", CONFIG_CMA_SIZE_MBYTES: "64" },
    });
    expect(max.cmaAreas[0].countPages * 4096).toBe(208 << 20);
  });
  it("CONFIG_CMA off: no area, cma= ignored with a warning", () => {
    const m = boot({ kernel: "6.1", ram, cmdline: "cma=64M", kconfig: { CONFIG_CMA: "n" } });
    expect(m.cmaAreas).toEqual([]);
    expect((m.warnings ?? []).join()).toMatch(/cma=64M/);
  });
  it("the era's message formats: C0 (3.16), C1 (3.17), C2 (3.18+)", () => {
    const line = (kernel: string) =>
      boot({ kernel, ram: [{ base: 0x80000000n, size: G }] }).dmesg.find((d) => d.text.startsWith("cma:"))
        ?.text;
    expect(line("3.16")).toMatch(/^cma: CMA: reserved 16 MiB at [0-9a-f]{8}$/);
    expect(line("3.17")).toMatch(/^cma: Reserved 16 MiB at [0-9a-f]{8}$/);
    expect(line("3.18")).toMatch(/^cma: Reserved 16 MiB at 0x[0-9a-f]{8}$/);
  });
});

describe("mem= (arm_add_memory)", () => {
  const texts = (c: BootConfig) => boot(c).dmesg.map((d) => d.text);
  it("replaces the DT banks; repeatable with @start", () => {
    const m = boot({
      kernel: "6.1",
      ram: [{ base: 0x40000000n, size: 2n * G }],
      cmdline: "mem=256M@0x40000000 mem=256M@0x60000000",
    });
    expect(m.memory).toEqual([
      { startPfn: 0x40000, endPfn: 0x50000 },
      { startPfn: 0x60000, endPfn: 0x70000 },
    ]);
  });
  it("truncates to the 32-bit physical address space without LPAE", () => {
    const t = texts({ kernel: "6.1", ram: [{ base: 0x80000000n, size: G }], cmdline: "mem=3G@0x80000000" });
    expect(t).toContain("Truncating memory at 0x80000000 to fit in 32-bit physical address space");
  });
  it("memory below PHYS_OFFSET is ignored", () => {
    const t = texts({
      kernel: "6.1",
      ram: [{ base: 0x40000000n, size: G }],
      cmdline: "mem=512M@0x30000000",
    });
    expect(t).toContain("Ignoring memory below PHYS_OFFSET: 0x30000000-0x40000000");
  });
});
