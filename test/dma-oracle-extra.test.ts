/**
 * The variant-probe runs of a real Debian 6.1 armmp kernel (test/fixtures/oracle-extra/README.md):
 * a dma-coherent device (SPEC U16) and allocations without __GFP_NOWARN (SPEC U9).
 */
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { boot } from "../src/boot/index.js";
import { parseVmallocinfo } from "../src/input/vmallocinfo.js";
import { Runtime } from "../src/runtime/index.js";
import { runDmaProbe } from "../src/runtime/probe.js";

const dir = new URL("./fixtures/oracle-extra/", import.meta.url);
const TS = /^\[\s*\d+\.\d+\]\s?/;

interface OracleRun {
  flavour: string;
  mem: string;
  tag: string;
  extra_cmdline: string;
  log_file: string;
  dmaprobe: { result: { count: number; in_cma: number; outside_cma: number; cpu_in_vmalloc: number } };
}

const runs = readdirSync(new URL("results/", dir))
  .filter((f) => f.endsWith(".json"))
  .map((f) => JSON.parse(readFileSync(new URL(`results/${f}`, dir), "utf8")) as OracleRun);

function param(cmdline: string, name: string): string | undefined {
  return new RegExp(`(?:^|\\s)${name}=(\\S+)`).exec(cmdline)?.[1];
}

const logLines = (run: OracleRun) =>
  readFileSync(new URL(`logs/${run.flavour}-${run.mem}-${run.tag}.log`, dir), "utf8").split(/\r?\n/);

/** The kernel's `cma: cma_alloc` lines of a raw serial log (which holds the console and a dmesg dump). */
function cmaAllocLines(run: OracleRun): string[] {
  const once = [...new Set(logLines(run).filter((l) => TS.test(l)))];
  return once.map((l) => l.replace(TS, "").trimEnd()).filter((l) => l.startsWith("cma: cma_alloc"));
}

/** The /proc/vmallocinfo the harness dumped before loading the probe. */
function bootVmallocinfo(run: OracleRun): string {
  const lines = logLines(run);
  const start = lines.indexOf("==== BEGIN vmallocinfo ====") + 1;
  return lines.slice(start, lines.indexOf("==== END ====", start)).join("\n");
}

function emulate(run: OracleRun) {
  const cmdline = run.extra_cmdline.split(/\s+/).filter((t) => !t.startsWith("dmaprobe."));
  const machine = boot({
    kernel: run.flavour === "armmp-lpae" ? "debian-6.1-armmp-lpae" : "debian-6.1-armmp",
    split: "3G",
    ram: [{ base: 0x40000000n, size: BigInt(Number.parseInt(run.mem, 10)) << 30n }],
    cmdline: cmdline.join(" "),
  });
  const rt = new Runtime(machine, { vmallocinfo: parseVmallocinfo(bootVmallocinfo(run), run.log_file) });
  const p = (name: string) => param(run.extra_cmdline, `dmaprobe.${name}`);
  const result = runDmaProbe(rt, {
    chunkBytes: Number(p("chunk_kb") ?? 1024) * 1024,
    noKernelMapping: p("nokmap") === "1",
    coherent: p("coherent") === "1",
    warn: p("nowarn") === "0",
    stopOutsideCma: p("stop_outside_cma") !== "0",
  });
  return { result, lines: rt.dmesg.texts().filter((l) => l.startsWith("cma: cma_alloc")) };
}

describe("real 6.1 kernel, variant probe runs", () => {
  it("has the recorded runs", () => expect(runs.length).toBeGreaterThanOrEqual(10));

  for (const run of runs) {
    const real = run.dmaprobe.result;
    it(`${run.flavour} ${run.mem} ${run.extra_cmdline}`, () => {
      const { result, lines } = emulate(run);
      // counts decided by CMA or vmalloc are exact; the page allocator's share is calibrated (±2 %)
      expect(result.inCma).toBe(real.in_cma);
      expect(result.inVmalloc).toBe(real.cpu_in_vmalloc);
      expect(Math.abs(result.outsideCma - real.outside_cma)).toBeLessThanOrEqual(
        Math.ceil(real.outside_cma * 0.02),
      );
      // the cma_alloc failure lines, their text and how many the rate limit lets through
      expect(lines).toEqual(cmaAllocLines(run));
    });
  }
});
