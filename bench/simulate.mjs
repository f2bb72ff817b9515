#!/usr/bin/env node
// End-to-end simulation throughput on the embedded default scenario: DMA-API operations per second
// (allocations and frees counted separately), 1e5 / 1e6 / 1e7 operations, peak memory. Each size
// runs in its own child process so that the peak RSS is that run's. One core (no workers).
//
//   npm run build && node bench/simulate.mjs [--sizes 1e5,1e6,1e7] [--config "highmem CMA (6.1)"|all]
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};

if (args[0] === "--child") {
  const { DEFAULT_SCENARIO_YAML, simulate } = await import("../dist/index.js");
  const ops = Number(args[1]);
  const config = args[2];
  let peakHeap = 0;
  const cpu0 = process.cpuUsage();
  const r = await simulate(DEFAULT_SCENARIO_YAML, {
    ops,
    compare: config === "all" ? [] : [config],
    onProgress: () => {
      peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    },
  });
  const allocs = r.configurations.reduce((s, c) => s + c.allocs, 0);
  const frees = r.configurations.reduce((s, c) => s + c.frees, 0);
  const failed = r.configurations.reduce((s, c) => s + c.failed, 0);
  process.stdout.write(
    JSON.stringify({
      ops: r.ops,
      allocs,
      frees,
      failed,
      seconds: r.seconds,
      // CPU time of the run: a steadier figure than wall time on a shared machine
      cpuSeconds: (() => {
        const c = process.cpuUsage(cpu0);
        return (c.user + c.system) / 1e6;
      })(),
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
      peakHeapMiB: Math.max(peakHeap, process.memoryUsage().heapUsed) / 2 ** 20,
    }),
  );
  process.exit(0);
}

const sizes = opt("--sizes", "1e5,1e6,1e7").split(",").map(Number);
const config = opt("--config", "highmem CMA (6.1)");
const self = fileURLToPath(import.meta.url);
console.log(`default scenario, configuration: ${config}, node ${process.version}, one core`);
console.log(
  "| ops | allocs | frees | failed | wall s | ops/s (wall) | allocs/s | frees/s | ns/op | CPU s | ops/CPU-s | peak RSS | peak heap |",
);
console.log("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const n of sizes) {
  const out = execFileSync(process.execPath, [self, "--child", String(n), config], { encoding: "utf8" });
  const r = JSON.parse(out);
  const f = (x) => Math.round(x).toLocaleString("en-US");
  console.log(
    `| ${f(r.ops)} | ${f(r.allocs)} | ${f(r.frees)} | ${f(r.failed)} | ${r.seconds.toFixed(2)} | ${f(r.ops / r.seconds)} | ` +
      `${f(r.allocs / r.seconds)} | ${f(r.frees / r.seconds)} | ${((r.seconds * 1e9) / r.ops).toFixed(0)} | ` +
      `${r.cpuSeconds.toFixed(2)} | ${f(r.ops / r.cpuSeconds)} | ${r.peakRssMiB.toFixed(0)} MiB | ${r.peakHeapMiB.toFixed(0)} MiB |`,
  );
}
