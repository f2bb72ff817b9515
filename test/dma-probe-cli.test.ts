import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { main } from "../src/cli/index.js";
import { captureIo } from "./helpers/io.js";

interface ProbeCase {
  id: string;
  argv: string[];
  expect_probe: { count: number; bytes: number; failure_message: string; tolerance?: number };
}

const fixtures = new URL("./fixtures/runtime/", import.meta.url);
const cases = JSON.parse(readFileSync(new URL("probe-cases.json", fixtures), "utf8")) as ProbeCase[];

async function run(argv: string[]) {
  const io = captureIo();
  const code = await main(argv, io);
  return { code, io };
}

describe("cma-emu dma-probe on the oracle's cases (real Debian 6.1 counts)", () => {
  it.each(cases.map((c) => [c.id, c] as const))("%s", async (_id, c) => {
    const argv = c.argv.map((a) => a.replace("{SHARED}/acceptance/", fixtures.pathname));
    const { code, io } = await run(argv);
    expect(code, io.stderr).toBe(0);
    const out = JSON.parse(io.stdout);
    const want = c.expect_probe;
    if (want.tolerance) {
      expect(Math.abs(out.count - want.count) / want.count).toBeLessThanOrEqual(want.tolerance);
    } else {
      expect(out.count).toBe(want.count);
      expect(out.bytes).toBe(want.bytes);
    }
    expect(out.failure.message).toBe(want.failure_message);
    if (want.failure_message !== "") expect(out.dmesg).toContain(want.failure_message);
  });
});

describe("cma-emu dma-probe, human output and errors", () => {
  const base = [
    "dma-probe",
    "--kernel",
    "6.1",
    "--ram",
    "0x40000000:2G",
    "--cmdline",
    "cma=512M",
    "--kconfig",
    "CONFIG_ARCH_FORCE_MAX_ORDER=12",
  ];
  it("explains a vmalloc exhaustion in one sentence with the ways out", async () => {
    const { code, io } = await run([...base, "--chunk", "1M"]);
    expect(code).toBe(0);
    expect(io.stdout).toMatch(
      /^vmalloc space exhausted: 233 buffers of 1 MiB .* filled the 240 MiB vmalloc area/,
    );
    expect(io.stdout).toMatch(/NO_KERNEL_MAPPING would allow 511, vmalloc=512M about 503 buffers/);
  });
  it("seeds free memory from a real /proc/meminfo (--meminfo)", async () => {
    const meminfo = new URL("meminfo/armmp-2G-probe-cma512M-c1024-nokmap-nostop.txt", fixtures).pathname;
    const { code, io } = await run([
      ...base,
      "--chunk",
      "1M",
      "--attrs",
      "NO_KERNEL_MAPPING",
      "--meminfo",
      meminfo,
      "--json",
    ]);
    expect(code, io.stderr).toBe(0);
    const out = JSON.parse(io.stdout);
    expect(out.inCma).toBe(511);
    expect(Math.abs(out.count - 1226) / 1226).toBeLessThan(0.02);
    expect(out.calibrated).toBe(true);
  });
  it("teaches with --help", async () => {
    const { code, io } = await run(["dma-probe", "--help"]);
    expect(code).toBe(0);
    expect(io.stdout).toMatch(/--stop-outside-cma/);
    expect(io.stdout).toMatch(/Examples:/);
  });
  it("rejects a bad chunk, an unknown attribute and a malformed vmallocinfo with one line", async () => {
    for (const extra of [
      ["--chunk", "lots"],
      ["--chunk", "1M", "--attrs", "WRITE_COMBINE"],
      ["--chunk", "1M", "--vmallocinfo", new URL("probe-cases.json", fixtures).pathname],
    ]) {
      const { code, io } = await run([...base, ...extra]);
      expect(code).toBe(2);
      expect(io.stderr.trim().split("\n")).toHaveLength(1);
    }
  });
});
