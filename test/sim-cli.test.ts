import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../src/cli/index.js";
import { parseScenario } from "../src/sim/scenario.js";
import { captureIo } from "./helpers/io.js";

const out = mkdtempSync(join(tmpdir(), "cma-emu-sim-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

async function run(...argv: string[]) {
  const io = captureIo();
  const code = await main(["simulate", ...argv], io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

describe("cma-emu simulate: options and bad input", () => {
  it("prints the embedded default scenario, which validates", async () => {
    const r = await run("--print-scenario");
    expect(r.code).toBe(0);
    expect(parseScenario(r.stdout).name).toBe("cma-highmem-thread");
  });

  it("explains every option in --help", async () => {
    const r = await run("--help");
    expect(r.code).toBe(0);
    for (const o of ["--seed", "--ops", "--out", "--json", "--compare", "--no-report", "--print-scenario"]) {
      expect(r.stdout).toContain(o);
    }
  });

  it("rejects a scenario with an unknown device in one line naming the file and the path", async () => {
    const r = await run("test/fixtures/sim/bad-device.yaml", "--no-report");
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'cma-emu: test/fixtures/sim/bad-device.yaml: workloads[0].device: got "gpu", expected one of the devices: vpu\n',
    );
  });

  it("rejects a missing file, a bad --ops and an unknown --compare name", async () => {
    expect((await run("nope.yaml")).stderr).toBe("cma-emu: nope.yaml: cannot read the scenario (ENOENT)\n");
    const ops = await run("--ops", "-3");
    expect(ops.code).toBe(2);
    expect(ops.stderr).toMatch(/--ops: got "-3", expected an integer >= 1/);
    const cmp = await run("--compare", "nonesuch", "--no-report", "--ops", "10");
    expect(cmp.code).toBe(2);
    expect(cmp.stderr).toMatch(/no configuration named "nonesuch".*expected one of: lowmem CMA \(3\.17\)/);
    const inline = await run("--compare", "{name: x, machine: {splt: 2G}}", "--no-report");
    expect(inline.code).toBe(2);
    expect(inline.stderr).toMatch(/machine\.splt: got "2G", unknown key/);
  });

  it("--json: ops, seconds, results; the same text twice for one seed (timing aside)", async () => {
    const argv = [
      "scenarios/thread-512m-highmem.yaml",
      "--ops",
      "3000",
      "--seed",
      "5",
      "--json",
      "--no-report",
    ];
    const a = await run(...argv);
    const b = await run(...argv);
    expect(a.code).toBe(0);
    const strip = (s: string) => s.replace(/"(seconds|opsPerSecond)": [\d.e+-]+/g, '"$1": 0');
    expect(strip(a.stdout)).toBe(strip(b.stdout));
    const j = JSON.parse(a.stdout);
    expect(j.ops).toBe(4 * 3000);
    expect(j.seconds).toBeGreaterThan(0);
    expect(j.results.seed).toBe(5);
    expect(j.results.configurations.map((c: { name: string }) => c.name)).toEqual([
      "highmem, kernel mapping",
      "NO_KERNEL_MAPPING",
      "vmalloc=512M",
      "VMSPLIT_2G",
    ]);
    expect(readdirSync(out)).toEqual([]);
  });

  it("writes the report files to --out and names them", async () => {
    const r = await run(
      "scenarios/thread-512m-highmem.yaml",
      "--ops",
      "2000",
      "--out",
      out,
      "--compare",
      "VMSPLIT_2G",
    );
    expect(r.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual([
      "devices.csv",
      "failure-rate-vs-load.csv",
      "failure-rate-vs-load.svg",
      "results.json",
      "summary.csv",
      "summary.txt",
      "timeseries-vmsplit-2g.csv",
      "usage-over-time.svg",
    ]);
    expect(r.stdout).toContain(`Wrote ${join(out, "results.json")}`);
    expect(r.stdout).toMatch(/^CMA\s+512 MiB @0x90000000 lowmem$/m);
  });

  it("reads a scenario's .dts relative to the scenario, and explains a full per-device pool", async () => {
    const r = await run("test/fixtures/sim/vpu-pool.yaml", "--no-report");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^CMA\s+64\.0 MiB @0x[0-9a-f]+ highmem, 32\.0 MiB @0x[0-9a-f]+ highmem$/m);
    expect(r.stdout).toMatch(/asked for more than the 0 MiB left free in the CMA area "vpu-pool" \(64 MiB\)/);
    expect(r.stdout).toContain("cma: cma_alloc: vpu-pool: alloc failed, req-size: 1024 pages, ret: -12");
    expect(r.stdout).toMatch(/the DT pool "vpu-pool" at \d+ MiB: size = <0x[0-9a-f]+>/);
  });
});
