/**
 * The simulation on the package's own boot() and Runtime: the thread's 512 MiB highmem CMA scenario
 * must reproduce the oracle's count (233 buffers of 1 MiB live at once with a kernel mapping, SPEC
 * §6.3 (a)) and the three fixes must remove the failure.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { simJsonText } from "../src/report/sim-json.js";
import { DEFAULT_SCENARIO_YAML } from "../src/sim/default-scenario.js";
import { runtimeTarget } from "../src/sim/real-target.js";
import { simulate } from "../src/sim/simulate.js";
import { RefBitmap } from "./helpers/ref-bitmap.js";

const thread = readFileSync("scenarios/thread-512m-highmem.yaml", "utf8");
/** The runtime on the reference bitmap (the kernel's own loops) instead of the WASM index. */
const onRefBitmap = (c: Parameters<typeof runtimeTarget>[0], seed: number) =>
  runtimeTarget(c, seed, undefined, (n) => new RefBitmap(n));
const strip = (s: string) => s.replace(/"(seconds|opsPerSecond)": [\d.e+-]+/g, '"$1": 0');

describe("simulate on boot() + Runtime", () => {
  it("the thread's scenario: 233 mapped 1 MiB buffers, then vmap fails; the fixes remove the failure", async () => {
    const r = await simulate(thread, { ops: 3000 });
    const [kmap, nkm, vmalloc512, split2g] = r.configurations;
    expect(kmap.machine.cmaAreas[0]).toMatchObject({ placement: "highmem", sizeBytes: 512 << 20 });
    expect(kmap.firstFailure).toMatchObject({ op: 234, cause: "vmalloc-exhausted", sizeBytes: 1 << 20 });
    expect(kmap.firstFailure?.messages).toEqual([
      "vmap allocation for size 1052672 failed: use vmalloc=<size> to increase size",
    ]);
    expect(kmap.peaks.liveDmaBytes).toBe(233 << 20);
    expect(kmap.peaks.demandBytes).toBe(400 << 20);
    for (const c of [nkm, vmalloc512, split2g]) {
      expect(c.failed).toBe(0);
      expect(c.peaks.liveDmaBytes).toBe(400 << 20);
    }
    expect(nkm.peaks.vmallocDmaBytes).toBe(0);
    expect(vmalloc512.peaks.vmallocDmaBytes).toBe(400 * ((1 << 20) + 4096));
    expect(split2g.machine.cmaAreas[0].placement).toBe("lowmem");
    expect(r.verdict[0]).toBe('First to fail: "highmem, kernel mapping" at op 234 (vmalloc-exhausted).');
  });

  it("prints the same JSON twice for the same seed (timing fields aside)", async () => {
    const a = strip(simJsonText(await simulate(thread, { ops: 2000, seed: 9 })));
    const b = strip(simJsonText(await simulate(thread, { ops: 2000, seed: 9 })));
    expect(a).toBe(b);
  });

  it("gives the same results on the WASM index as on the kernel's loops (default scenario)", async () => {
    const opts = { ops: 30_000, compare: ["highmem CMA (6.1)", "lowmem CMA (3.17)"] };
    const wasm = strip(simJsonText(await simulate(DEFAULT_SCENARIO_YAML, opts)));
    const ref = strip(
      simJsonText(await simulate(DEFAULT_SCENARIO_YAML, { ...opts, createTarget: onRefBitmap })),
    );
    expect(wasm).toBe(ref);
  });
});
