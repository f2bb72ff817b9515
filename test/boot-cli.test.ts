/** `cma-emu boot` from the command line: help, output forms, bad input (exit 2), kernel failures (exit 0). */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../src/cli/index.js";
import { captureIo } from "./helpers/io.js";

const tmp = mkdtempSync(join(tmpdir(), "cma-emu-boot-"));
const run = async (...argv: string[]) => {
  const io = captureIo();
  const code = await main(["boot", ...argv], io);
  return { code, out: io.stdout, err: io.stderr };
};
const json = async (...argv: string[]) => {
  const r = await run(...argv, "--json");
  expect(r.code).toBe(0);
  return JSON.parse(r.out);
};

describe("boot --help", () => {
  it("explains every option, with examples", async () => {
    const r = await run("--help");
    expect(r.code).toBe(0);
    for (const o of [
      "--kernel",
      "--split",
      "--lpae",
      "--no-highmem",
      "--thumb2",
      "--ram",
      "--cmdline",
      "--kconfig ",
      "--kconfig-file",
      "--dts",
      "--json",
      "--svg",
    ])
      expect(r.out).toContain(o);
    expect(r.out).toContain("Examples:");
    expect(r.out).toMatch(/cma-emu boot --kernel 3\.17,3\.18 .*cma=512M/);
  });
});

describe("boot output", () => {
  it("--json carries the contract fields", async () => {
    const o = await json("--kernel", "6.1", "--ram", "0x40000000:2G", "--cmdline", "cma=256M");
    expect(o.era).toBe("6.0-6.2");
    expect(o.layout.vmalloc).toEqual({ start: "0xf0800000", end: "0xff800000" });
    expect(o.layout.lowmem).toEqual({ start: "0xc0000000", end: "0xf0000000" });
    expect(o.layout.pkmap).toEqual({ start: "0xbfe00000", end: "0xc0000000" });
    expect(o.zones.map((z: { name: string }) => z.name)).toEqual(["Normal", "HighMem"]);
    expect(o.zones[0]).toMatchObject({ start: "0x40000000", end: "0x6fffffff" });
    expect(o.cma[0]).toMatchObject({ name: "reserved", base: "0xb0000000", size: 256 << 20 });
    expect(o.meminfo).toMatchObject({ VmallocTotal: 245760, CmaTotal: 262144 });
  });

  it("text output: kernel lines, summary, physical map with the boundary", async () => {
    const r = await run("--kernel", "3.18", "--ram", "0x80000000:2G", "--cmdline", "cma=512M");
    expect(r.code).toBe(0);
    expect(r.out).toContain("Kernel log:");
    expect(r.out).toContain("    lowmem  : 0xc0000000 - 0xef800000   ( 760 MB)");
    expect(r.out).toMatch(/Summary:\n {2}Kernel 3\.18 /);
    expect(r.out).toMatch(/CMA area 'reserved': 512 MiB at 0x\w+-0x\w+, in highmem/);
    expect(r.out).toContain("lowmem/highmem boundary at 0xaf800000");
    expect(r.out).toMatch(/0x\w+-0x\w+ +512 MiB +highmem +cma:reserved/);
  });

  it("--svg writes the physical map", async () => {
    const file = join(tmp, "map.svg");
    expect((await run("--kernel", "3.18", "--ram", "0x80000000:2G", "--svg", file)).code).toBe(0);
    const svg = readFileSync(file, "utf8");
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("lowmem | highmem");
    expect(svg).toContain("cma:reserved");
  });

  it("reads a .config for the split, LPAE and CMA symbols", async () => {
    const cfg = join(tmp, "config");
    writeFileSync(
      cfg,
      "# comment\nCONFIG_VMSPLIT_2G=y\n# CONFIG_VMSPLIT_3G is not set\nCONFIG_ARM_LPAE=y\nCONFIG_CMA_SIZE_MBYTES=32\n",
    );
    const o = await json("--kconfig-file", cfg, "--ram", "0x80000000:1G");
    expect(o.lpae).toBe(true);
    expect(o.layout.pageOffset).toBe("0x80000000");
    expect(o.cma[0].size).toBe(32 << 20);
    // --kconfig wins over the file
    const o2 = await json(
      "--kconfig-file",
      cfg,
      "--kconfig",
      "CONFIG_CMA_SIZE_MBYTES=8",
      "--ram",
      "0x80000000:1G",
    );
    expect(o2.cma[0].size).toBe(8 << 20);
  });
});

describe("bad input: one line naming the input, exit 2", () => {
  const cases: [string, string[], RegExp][] = [
    ["malformed size", ["--ram", "0x40000000:2Q"], /--ram: '0x40000000:2Q' is not base:size/],
    ["overlapping banks", ["--ram", "0x40000000:1G,0x60000000:1G"], /overlap/],
    ["RAM below PHYS_OFFSET", ["--ram", "0x40000000:1G", "--phys-offset", "0x80000000"], /below PHYS_OFFSET/],
    ["VMSPLIT_2G_OPT", ["--split", "2G_OPT"], /no VMSPLIT_2G_OPT/],
    ["3G_OPT with LPAE", ["--split", "3G_OPT", "--lpae"], /VMSPLIT_3G_OPT depends on !ARM_LPAE/],
    ["unknown split", ["--split", "4G"], /unknown split; accepted: 3G, 3G_OPT, 2G, 1G/],
    ["unknown version", ["--kernel", "2.4"], /outside the modelled range/],
    ["unknown profile", ["--kernel", "debian-9"], /unknown profile/],
    ["unreadable dts", ["--dts", join(tmp, "missing.dts")], /missing\.dts: cannot read/],
    ["unreadable .config", ["--kconfig-file", join(tmp, "missing")], /missing: cannot read/],
    ["malformed --kconfig", ["--kconfig", "FOO"], /'FOO' is not KEY=VALUE/],
    [
      "non-numeric int symbol",
      ["--kconfig", "CONFIG_CMA_SIZE_MBYTES=abc"],
      /CONFIG_CMA_SIZE_MBYTES=abc: not a number/,
    ],
  ];
  for (const [name, argv, re] of cases) {
    it(name, async () => {
      const r = await run(...argv);
      expect(r.code).toBe(2);
      expect(r.err.trim().split("\n")).toHaveLength(1);
      expect(r.err).toMatch(re);
    });
  }

  it("malformed .config names file and line", async () => {
    const cfg = join(tmp, "bad.config");
    writeFileSync(cfg, "CONFIG_A=y\nthis is not a config line\n");
    const r = await run("--kconfig-file", cfg);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${cfg}:2:`);
  });

  it("malformed .dts names file and line", async () => {
    const dts = join(tmp, "bad.dts");
    writeFileSync(dts, "/dts-v1/;\n/ {\n  reserved-memory {\n    foo = <0x1 ;\n  };\n};\n");
    const r = await run("--dts", dts);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(new RegExp(`${dts.replace(/[.]/g, "\\.")}:4: `));
  });
});

describe("kernel-level failures: the kernel's message, exit 0", () => {
  const lines = async (...argv: string[]) => (await json(...argv)).dmesg as string[];
  it("cma= larger than RAM", async () => {
    const t = await lines("--ram", "0x40000000:1G", "--cmdline", "cma=3G");
    expect(t).toContain("cma: Size (0xc0000000) of region at 0x00000000 exceeds limit (0x80000000)");
    expect(t).toContain("cma: Failed to reserve 3072 MiB");
  });
  it("fixed base straddling the lowmem/highmem boundary", async () => {
    const t = await lines("--ram", "0x40000000:1G", "--cmdline", "cma=64M@0x6e000000");
    expect(t).toContain("cma: Region at 0x6e000000 defined on low/high memory boundary (0x70000000)");
    expect(t).toContain("cma: Failed to reserve 64 MiB");
  });
  it("fixed base with bad alignment", async () => {
    const t = await lines("--ram", "0x40000000:1G", "--cmdline", "cma=64M@0x6c100000");
    expect(t).toContain("cma: Region at 0x6c100000 must be aligned to 0x00400000 bytes");
  });
  it("fixed base outside RAM", async () => {
    const r = await run("--ram", "0x40000000:1G", "--cmdline", "cma=64M@0x10000000", "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).dmesg).toContain("cma: CMA area reserved could not be activated");
  });
  it("vmalloc= clamped with the kernel's warnings", async () => {
    expect(await lines("--cmdline", "vmalloc=2M")).toContain("vmalloc area is too small, limiting to 16MiB");
    expect(await lines("--cmdline", "vmalloc=2000M")).toContain(
      "vmalloc area is too big, limiting to 976MiB",
    );
    expect(await lines("--kernel", "4.4", "--cmdline", "vmalloc=2000M")).toContain(
      "vmalloc area is too big, limiting to 984MB",
    );
  });
  it("vmalloc=976M on a 2 GiB board: the memory map no longer fits in lowmem (panic predicted)", async () => {
    const o = await json("--ram", "0x40000000:2G", "--cmdline", "vmalloc=976M");
    expect(o.panic).toMatch(/^Failed to allocate \d+ bytes for node 0 memory map$/);
    expect(o.dmesg.some((l: string) => l.startsWith("Kernel panic - not syncing: Failed to allocate"))).toBe(
      true,
    );
  });
  it("malformed cmdline syntax the kernel ignores: a warning naming the token", async () => {
    const r = await run("--cmdline", "cma=64Mfoo initrd=0x1000");
    expect(r.code).toBe(0);
    expect(r.err).toContain("'cma=64Mfoo'");
    expect(r.err).toContain("'initrd=0x1000'");
  });
});

describe("boot --kernel A,B: one command for both eras of the thread's scenario", () => {
  const argv = ["--kernel", "3.17,3.18", "--split", "3G", "--ram", "0x80000000:2G", "--cmdline", "cma=512M"];

  it("prints each kernel's boot and a side-by-side table: lowmem area on 3.17, highmem from 3.18", async () => {
    const r = await run(...argv, "--svg", join(tmp, "thread.svg"));
    expect(r.code).toBe(0);
    expect(r.out).toContain("=== kernel 3.17 ===");
    expect(r.out).toContain("=== kernel 3.18 ===");
    const table = r.out.slice(r.out.indexOf("Side by side:"));
    expect(table).toMatch(/3\.17 .* lowmem\n/);
    expect(table).toMatch(/3\.18 .* highmem\n/);
    for (const k of ["3.17", "3.18"])
      expect(readFileSync(join(tmp, `thread-${k}.svg`), "utf8")).toMatch(/^<svg/);
  });

  it("gives one JSON object per kernel under runs", async () => {
    const o = await json(...argv);
    expect(o.runs.map((x: { era: string }) => x.era)).toEqual(["3.17", "3.18"]);
    const cmaLine = (x: { dmesg: string[] }) => x.dmesg.find((l) => l.startsWith("cma:"));
    expect(cmaLine(o.runs[0])).toMatch(/^cma: Reserved 512 MiB at [0-9a-f]{8}$/);
    expect(cmaLine(o.runs[1])).toMatch(/^cma: Reserved 512 MiB at 0x[0-9a-f]{8}$/);
  });
});
