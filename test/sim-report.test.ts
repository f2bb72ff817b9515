import { beforeAll, describe, expect, it, vi } from "vitest";
import { simCsvFiles } from "../src/report/sim-csv.js";
import { simJson, simJsonText } from "../src/report/sim-json.js";
import { simSvgFiles } from "../src/report/sim-svg.js";
import { simText } from "../src/report/sim-text.js";
import type { SimResult } from "../src/sim/result.js";
import { simulate } from "../src/sim/simulate.js";
import { fakeFactory } from "./helpers/sim-fake.js";

let result: SimResult;

beforeAll(async () => {
  result = await simulate(
    {
      name: "report-test",
      ops: 5000,
      devices: [{ name: "cam" }],
      workloads: [
        {
          kind: "stream",
          device: "cam",
          size: { uniform: { min: "100K", max: "2M" } },
          ratePerSecond: 1000,
          lifetime: { exponential: { mean: 10 } },
        },
        { kind: "stream", api: "ioremap", size: "64K", initial: 3 },
      ],
      configurations: [{ name: "highmem" }, { name: "lowmem, 3.17", machine: { kernel: "3.17" } }],
    },
    { createTarget: fakeFactory({ vmallocBytes: 12 << 20, cmaPages: 16384 }) },
  );
});

describe("simulation reports", () => {
  it("text: configurations side by side, then why and what would avoid it", () => {
    const t = simText(result, ["out/summary.csv"]);
    const header = t.split("\n").find((l) => l.includes("highmem") && l.includes("lowmem, 3.17"));
    expect(header).toBeDefined();
    expect(t).toMatch(/^DMA-API ops\s+5,000\s+5,000$/m);
    expect(t).toMatch(/^first failure\s+op [\d,]+ at [\d.]+ ms\s+none$/m);
    expect(t).toContain("== highmem\n  vmalloc space exhausted");
    expect(t).toContain("Would avoid it:\n    - pass DMA_ATTR_NO_KERNEL_MAPPING for cam");
    expect(t).toContain('No failure with: "lowmem, 3.17"');
    expect(t).toContain("Wrote out/summary.csv");
  });

  it("json: ops, seconds, results; identical apart from timing for the same seed", async () => {
    const j = simJson(result);
    expect(j.ops).toBe(10_000);
    expect(typeof j.seconds).toBe("number");
    expect(j.results.configurations).toHaveLength(2);
    expect(j.results.configurations[0].firstFailure?.maps.cma[0].runs.length).toBeGreaterThan(0);
    const again = await simulate({ ...result, name: "x" } as never, {
      createTarget: fakeFactory({ vmallocBytes: 12 << 20 }),
    }).catch(() => null);
    expect(again).toBeNull(); // a result is not a scenario: validation refuses it
    const strip = (s: string) => s.replace(/"(seconds|opsPerSecond)": [\d.e+-]+/g, '"$1": 0');
    expect(JSON.parse(simJsonText(result))).toEqual(JSON.parse(JSON.stringify(j)));
    expect(strip(simJsonText(result))).toContain('"seconds": 0');
  });

  it("csv: a time series per configuration and summaries with matching columns", () => {
    const files = simCsvFiles(result);
    expect(Object.keys(files).sort()).toEqual([
      "devices.csv",
      "failure-rate-vs-load.csv",
      "summary.csv",
      "timeseries-highmem.csv",
      "timeseries-lowmem-3-17.csv",
    ]);
    const ts = files["timeseries-highmem.csv"].trim().split("\n");
    const cols = ts[0].split(",");
    expect(cols.slice(0, 3)).toEqual(["ops", "timeMs", "liveDmaBytes"]);
    expect(cols).toContain("cmaLargestFreePages:reserved");
    for (const line of ts.slice(1)) expect(line.split(",")).toHaveLength(cols.length);
    const summary = files["summary.csv"].trim().split("\n");
    expect(summary).toHaveLength(3);
    expect(summary[2]).toMatch(/^"lowmem, 3.17",3.17,lowmem,/);
    const rates = files["failure-rate-vs-load.csv"].trim().split("\n").slice(1);
    expect(rates.every((r) => Number(r.split(",").at(-1)) <= 1)).toBe(true);
  });

  it("svg: usage over time, failure rate vs load, maps at the first failure, printing nothing", async () => {
    const printed = (["log", "warn", "error", "info"] as const).map((m) => vi.spyOn(console, m));
    const files = await simSvgFiles(result);
    for (const spy of printed) expect(spy).not.toHaveBeenCalled();
    expect(Object.keys(files).sort()).toEqual([
      "failure-rate-vs-load.svg",
      "maps-highmem.svg",
      "usage-over-time.svg",
    ]);
    for (const svg of Object.values(files)) {
      expect(svg.startsWith("<svg")).toBe(true);
      expect(svg.trim().endsWith("</svg>")).toBe(true);
    }
    expect(files["usage-over-time.svg"]).toContain("Use over time per region");
    expect(files["usage-over-time.svg"]).toContain("vmalloc area in use");
    expect(files["maps-highmem.svg"]).toContain("physical: CMA area");
    expect(files["maps-highmem.svg"]).toContain("virtual: vmalloc area 0xf0000000-0xf0c00000");
  });
});
