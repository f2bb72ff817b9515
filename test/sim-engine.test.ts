import { describe, expect, it } from "vitest";
import type { ScenarioInput } from "../src/sim/scenario.js";
import { simulate } from "../src/sim/simulate.js";
import { fakeFactory } from "./helpers/sim-fake.js";

/** 16 MiB CMA, 8 MiB vmalloc: a mapped highmem buffer set runs out of vmalloc long before CMA. */
const scenario: ScenarioInput = {
  name: "engine-test",
  seed: 3,
  ops: 20_000,
  devices: [{ name: "vpu" }, { name: "gpu" }],
  workloads: [
    {
      kind: "pipeline",
      device: "vpu",
      format: "NV12",
      resolutions: ["720p", "1080p"],
      buffers: 2,
      changeEvery: "50ms",
    },
    {
      kind: "stream",
      device: "gpu",
      size: { logNormal: { median: "64K", sigma: 1, max: "1M" } },
      ratePerSecond: 5000,
      lifetime: { exponential: { mean: 20 } },
      initial: 10,
    },
    { kind: "stream", api: "module", size: "200K", initial: 5 },
  ],
  configurations: [
    { name: "highmem" },
    { name: "highmem+nkm", devices: { vpu: { noKernelMapping: true }, gpu: { noKernelMapping: true } } },
    { name: "lowmem", machine: { kernel: "3.17" } },
  ],
};

const withoutTiming = (r: unknown) => JSON.stringify(r, (k, v) => (k === "seconds" ? undefined : v));

describe("simulate (engine over a fake runtime)", () => {
  it("runs exactly the requested DMA-API operations per configuration", async () => {
    const r = await simulate(scenario, { createTarget: fakeFactory() });
    expect(r.configurations.map((c) => c.name)).toEqual(["highmem", "highmem+nkm", "lowmem"]);
    for (const c of r.configurations) {
      expect(c.ops).toBe(20_000);
      expect(c.allocs + c.frees).toBe(c.ops);
      expect(c.ok + (c.allocs - c.ok)).toBe(c.allocs);
      expect(c.timeSeries.rows.length).toBeGreaterThan(100);
    }
    expect(r.ops).toBe(60_000);
  });

  it("is reproducible from the seed, and the seed matters", async () => {
    const a = await simulate(scenario, { createTarget: fakeFactory() });
    const b = await simulate(scenario, { createTarget: fakeFactory() });
    const c = await simulate(scenario, { createTarget: fakeFactory(), seed: 4 });
    expect(withoutTiming(a)).toBe(withoutTiming(b));
    expect(withoutTiming(a)).not.toBe(withoutTiming(c));
  });

  it("finds the vmalloc limit of mapped highmem buffers, and none without mappings or in lowmem", async () => {
    const r = await simulate(scenario, { createTarget: fakeFactory() });
    const [high, nkm, low] = r.configurations;
    expect(high.firstFailure?.cause).toBe("vmalloc-exhausted");
    expect(high.firstFailure?.messages[0]).toMatch(/^vmap allocation for size \d+ failed/);
    expect(high.explanation).toMatch(/vmalloc space exhausted/);
    expect(high.advice.join(" ")).toMatch(/NO_KERNEL_MAPPING/);
    expect(high.peaks.vmallocDmaBytes).toBeLessThanOrEqual(8 << 20);
    expect(high.peaks.demandBytes).toBeGreaterThan(high.peaks.liveDmaBytes);
    expect(nkm.failuresByCause["vmalloc-exhausted"] ?? 0).toBe(0);
    expect(low.peaks.vmallocDmaBytes).toBe(0);
    expect(r.verdict[0]).toMatch(/First to fail: "highmem"/);
  });

  it("counts failures per device and by cause consistently", async () => {
    const r = await simulate(scenario, { createTarget: fakeFactory() });
    for (const c of r.configurations) {
      const dmaFailures = c.devices.reduce((s, d) => s + d.failed, 0);
      expect(c.devices.reduce((s, d) => s + d.ok, 0)).toBe(c.ok);
      expect(dmaFailures).toBe(c.allocs - c.ok);
      const byCause = Object.values(c.failuresByCause).reduce((s, n) => s + (n ?? 0), 0);
      expect(byCause).toBe(c.failed);
      const requests = c.failureRateByLoad.reduce((s, b) => s + b.requests, 0);
      expect(requests).toBe(c.allocs);
    }
  });

  it("reallocates pipeline buffers on every resolution change", async () => {
    const r = await simulate(
      { ...scenario, workloads: [scenario.workloads[0]], configurations: undefined, ops: 400 },
      { createTarget: fakeFactory({ highmem: false }) },
    );
    const c = r.configurations[0];
    // 2 buffers at start, then 2 frees + 2 allocs per change; the run ends at the first event
    // boundary at or past the target: 2 + 4 x 100 = 402
    expect(c.allocs).toBe(202);
    expect(c.frees).toBe(200);
    expect(c.simulatedMs).toBe(100 * 50);
    expect(c.devices[0].peakLiveBytes).toBe(2 * Math.ceil((1920 * 1080 * 1.5) / 4096) * 4096);
  });

  it("stops early and says so when aborted", async () => {
    const ac = new AbortController();
    const r = await simulate(scenario, {
      createTarget: fakeFactory(),
      ops: 1_000_000,
      onProgress: (p) => {
        if (p.ops > 100_000) ac.abort();
      },
      signal: ac.signal,
    });
    expect(r.interrupted).toBe(true);
    expect(r.configurations).toHaveLength(1);
    expect(r.configurations[0].interrupted).toBe(true);
    expect(r.configurations[0].ops).toBeLessThan(1_000_000);
  });

  it("selects configurations by name and adds inline ones", async () => {
    const r = await simulate(scenario, {
      createTarget: fakeFactory(),
      ops: 1000,
      compare: ["lowmem"],
      configurations: [{ name: "extra", machine: { kernel: "3.17" } }],
    });
    expect(r.configurations.map((c) => c.name)).toEqual(["lowmem", "extra"]);
    await expect(simulate(scenario, { createTarget: fakeFactory(), compare: ["nope"] })).rejects.toThrow(
      /no configuration named "nope".*expected one of: highmem, highmem\+nkm, lowmem/,
    );
  });

  it("runs bursts and vmalloc-space users, and explains a full modules area", async () => {
    const r = await simulate(
      {
        name: "modules",
        ops: 2000,
        devices: [{ name: "gpu" }],
        workloads: [
          { kind: "stream", device: "gpu", size: "8K", burst: { every: "1s", count: 10 }, lifetime: 500 },
          { kind: "stream", api: "module", size: "1M", initial: 20 },
          { kind: "stream", api: "ioremap", size: "64K", ratePerSecond: 2, lifetime: "1s" },
        ],
      },
      { createTarget: fakeFactory({ highmem: false, modulesBytes: 8 << 20 }) },
    );
    const c = r.configurations[0];
    // one burst of 10 per second, each buffer freed within the second: 20 ops per simulated second
    expect(c.simulatedMs).toBe(100_500); // the 100th burst at 100 s, freed at 100.5 s
    expect(c.allocs).toBe(1000);
    expect(c.failuresByCause["modules-exhausted"]).toBe(20 - 7); // 7 x (1 MiB + guard) fit in 8 MiB
    expect(c.firstFailure).toMatchObject({ api: "module", op: 0, cause: "modules-exhausted" });
    expect(c.explanation).toMatch(/^modules area exhausted/);
    expect(c.advice.join(" ")).toMatch(/vmalloc= does not change it/);
    expect(c.vmOps).toBeGreaterThan(200);
  });
});
