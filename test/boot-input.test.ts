/** The readers the boot models rely on: memparse, the command line, .config and .dts. */
import { describe, expect, it } from "vitest";
import { InputError } from "../src/errors.js";
import { parseDts } from "../src/input/dts.js";
import { parseKconfigFile } from "../src/input/kconfig-file.js";
import { parseEarlyParams, splitCmdline } from "../src/kernel/cmdline.js";
import { memparse } from "../src/kernel/memparse.js";

describe("memparse (lib/cmdline.c)", () => {
  const cases: [string, bigint, string][] = [
    ["64M", 64n << 20n, ""],
    ["0x20000000", 0x20000000n, ""],
    ["010", 8n, ""],
    ["1g", 1n << 30n, ""],
    ["2T", 2n << 40n, ""],
    ["45M@0x10", 45n << 20n, "@0x10"],
    ["0xZ", 0n, "xZ"],
    ["12Q", 12n, "Q"],
  ];
  for (const [text, value, rest] of cases)
    it(text, () => {
      expect(memparse(text)).toMatchObject({ value, rest });
    });
  it("no digits: 0, not ok", () =>
    expect(memparse("abc")).toMatchObject({ value: 0n, ok: false, rest: "abc" }));
});

describe("command line", () => {
  it("splits on spaces, keeps quoted values", () => {
    const { tokens } = splitCmdline('console=ttyS0 root="/dev/mmc blk0p2"  quiet');
    expect(tokens.map((t) => [t.param, t.value])).toEqual([
      ["console", "ttyS0"],
      ["root", "/dev/mmc blk0p2"],
      ["quiet", undefined],
    ]);
  });
  it("early params in order, cma= forms", () => {
    const p = parseEarlyParams(
      "mem=512M cma=64M@0x30000000 vmalloc=480M cma=32M@0x20000000-0x40000000 mem=256M@0x80000000",
    );
    expect(p.params.map((x) => x.kind)).toEqual(["mem", "cma", "vmalloc", "cma", "mem"]);
    expect(p.params[1]).toMatchObject({
      cma: { sizeBytes: 64n << 20n, baseBytes: 0x30000000n, limitBytes: 0x34000000n },
    });
    expect(p.params[3]).toMatchObject({ cma: { baseBytes: 0x20000000n, limitBytes: 0x40000000n } });
    expect(p.params[4]).toMatchObject({ mem: { sizeBytes: 256n << 20n, startBytes: 0x80000000n } });
    expect(p.warnings).toEqual([]);
  });
  it("warns about syntax the kernel ignores", () => {
    const p = parseEarlyParams("cma=abc vmalloc=12X initrd=5 cma");
    expect(p.warnings).toHaveLength(4);
    expect(p.warnings.join("\n")).toMatch(/'cma=abc'.*reads it as 0/);
    expect(p.warnings.join("\n")).toMatch(/'vmalloc=12X'.*trailing 'X'/);
  });
});

describe(".config reader", () => {
  it("reads set and unset symbols", () => {
    expect(
      parseKconfigFile('CONFIG_A=y\n# CONFIG_B is not set\n\nCONFIG_C=0xC0000000\nCONFIG_D="x y"\n', "f"),
    ).toEqual({
      CONFIG_A: "y",
      CONFIG_B: "n",
      CONFIG_C: "0xC0000000",
      CONFIG_D: '"x y"',
    });
  });
  it("names file and line of a bad line", () => {
    expect(() => parseKconfigFile("CONFIG_A=y\nCONFIG_B=what ever\n", "my.config")).toThrow(
      /^my\.config:2: /,
    );
    expect(() => parseKconfigFile("x\n", "c")).toThrow(InputError);
  });
});

describe(".dts reader", () => {
  it("skips preprocessor lines with a warning; macros elsewhere read as 0", () => {
    const d = parseDts(
      "#include <dt-bindings/gpio.h>\n/ {\n  leds { gpios = <&gpio 5 GPIO_ACTIVE_HIGH>; };\n};\n",
      "p.dts",
    );
    expect(d.warnings).toEqual(["p.dts:1: '#include <dt-bindings/gpio.h>' skipped (no C preprocessor)"]);
  });
  const dts = `/dts-v1/;
/memreserve/ 0x48000000 0x100000;
/ {
	#address-cells = <2>;
	#size-cells = <2>;
	memory@80000000 { device_type = "memory"; reg = <0x0 0x80000000 0x0 (0x40000000 + 0x40000000)>; };
	chosen { bootargs = "console=ttyS0 cma=64M"; linux,initrd-start = <0x88000000>; linux,initrd-end = <0x88100000>; };
	reserved-memory {
		#address-cells = <2>;
		#size-cells = <2>;
		ranges;
		/* comment */
		linux,cma { compatible = "shared-dma-pool"; reusable; size = <0x0 0x10000000>; alignment = <0x0 0x400000>;
			alloc-ranges = <0x0 0x80000000 0x0 0x30000000>; linux,cma-default; };
		fw: firmware@9f000000 { reg = <0x0 0x9f000000 0x0 0x01000000>; no-map; };
	};
};
&fw { status = "disabled"; };
`;
  it("reads memory, chosen, reserved-memory and overlays", () => {
    const d = parseDts(dts, "b.dts");
    expect(d.memory).toEqual([{ base: 0x80000000n, size: 0x80000000n }]);
    expect(d.memreserve).toEqual([{ base: 0x48000000n, size: 0x100000n }]);
    expect(d.bootargs).toBe("console=ttyS0 cma=64M");
    expect(d.initrd).toEqual({ start: 0x88000000n, end: 0x88100000n });
    expect(d.reservedMemoryUsable).toBe(true);
    const [cma, fw] = d.reserved;
    expect(cma).toMatchObject({
      name: "linux,cma",
      size: 0x10000000n,
      alignment: 0x400000n,
      reusable: true,
      cmaDefault: true,
    });
    expect(cma.allocRanges).toEqual([{ base: 0x80000000n, size: 0x30000000n }]);
    expect(fw).toMatchObject({ name: "firmware@9f000000", noMap: true, available: false });
  });
  it("errors name file and line", () => {
    expect(() => parseDts("/dts-v1/;\n/ {\n  a = <1 2;\n};\n", "x.dts")).toThrow(/^x\.dts:3: /);
    expect(() =>
      parseDts('/ {\n memory@0 { device_type = "memory";\n reg = <0 SZ_1G>; };\n};\n', "y.dts"),
    ).toThrow(/^y\.dts:3: node 'memory@0': property 'reg' uses the macro SZ_1G/);
    expect(() => parseDts("/ { a { }; \n", "z.dts")).toThrow(/^z\.dts:\d+: /);
  });
});
