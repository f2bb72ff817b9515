#!/usr/bin/env node
// The page-frame bitmap benchmark: replays the three standard BMT1 traces of the native anchor with
//   wasm-index      the WASM index, op loop inside WASM       (what `cma-emu trace` measures)
//   wasm-naive      the WASM kernel loop, op loop inside WASM (what `cma-emu trace --naive` measures)
//   wasm-index-js   the WASM index through PageBitmap, one JS call per op (the library's cost)
//   ts-kernel       the plain TypeScript kernel loop (test/helpers/kernel-bitmap.ts)
//   native          gcc -O2 test/fixtures/anchors/bitmap_native.c, when gcc is present
// as a tinybench suite, in interleaved rounds (this machine drifts by +-30 % between runs, so only
// same-round ratios mean much), and prints ops/s and ratios to native side by side.
//
//   npm run bench -- [--rounds 3] [--traces std-512MiB,std-4GiB,stress-512MiB] [--skip ts-kernel]
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Bench } from "tinybench";
import ts from "typescript";

const root = fileURLToPath(new URL("..", import.meta.url));
const anchors = join(root, "test/fixtures/anchors");
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const rounds = Math.max(3, Number(opt("--rounds", 3)));
const skip = new Set(opt("--skip", "").split(",").filter(Boolean));

if (!existsSync(join(root, "dist/wasm/bitmap.wasm")) || !existsSync(join(root, "dist/wasm/page-bitmap.js"))) {
  console.error("bench: the package is not built: run npm run build");
  process.exit(2);
}
const { parseBmt1, replayTrace, formatChecksum } = await import("../dist/input/bmt1-trace.js");
const { PageBitmap } = await import("../dist/wasm/page-bitmap.js");
const { WasmTraceReplayer } = await import("../dist/wasm/trace-replay.js");

const work = join(tmpdir(), "cma-emu-bench");
mkdirSync(work, { recursive: true });

// The plain TypeScript model, transpiled as is (it imports nothing).
const modelJs = join(work, "kernel-bitmap.mjs");
const modelTs = readFileSync(join(root, "test/helpers/kernel-bitmap.ts"), "utf8");
writeFileSync(
  modelJs,
  ts.transpileModule(modelTs, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
  }).outputText,
);
const { KernelBitmap } = await import(modelJs);

// The standard traces and their checksums, regenerated from the seeds once and cached.
const reference = readFileSync(join(anchors, "reference_checksums.txt"), "utf8").split("\n");
const wanted = new Set(opt("--traces", "std-512MiB,std-4GiB,stress-512MiB").split(","));
const traces = [];
for (let k = 0; k < reference.length - 1; k++) {
  const m = /^# (\S+)\s+(\d+)\s+(\d+)\s+([\d.]+)/.exec(reference[k]);
  if (!m || !wanted.has(m[1]) || !reference[k + 1].startsWith("checksum ")) continue;
  const [, name, bits, seed, occupancy] = m;
  const file = join(work, `${name}.bin`);
  if (!existsSync(file)) {
    const gen = ["--bits", bits, "--ops", "1000000", "--seed", seed, "--occupancy", occupancy, "--out", file];
    execFileSync(process.execPath, [join(anchors, "gen_trace.mjs"), ...gen], { stdio: "ignore" });
  }
  traces.push({ name, file, checksum: reference[k + 1].trim(), trace: parseBmt1(readFileSync(file), file) });
}

// The native anchor, when gcc is there.
let native = null;
if (!skip.has("native")) {
  try {
    native = join(work, "bitmap_native");
    execFileSync("gcc", ["-O2", "-o", native, join(anchors, "bitmap_native.c")], { stdio: "ignore" });
  } catch {
    native = null;
    console.error("bench: gcc not found or failed: no native column");
  }
}

function check(name, t, line) {
  if (line !== t.checksum) throw new Error(`${name} on ${t.name}: ${line} != ${t.checksum}`);
}

/** The tinybench suite of one trace: one iteration per task and round, after one warm-up. */
function suite(t, warm) {
  const bench = new Bench({ iterations: 1, time: 0, warmupIterations: warm ? 1 : 0, warmupTime: 0 });
  const replayer = new WasmTraceReplayer(t.trace);
  bench.add("wasm-index", () => check("wasm-index", t, formatChecksum(replayer.run(false).checksum)));
  bench.add("wasm-naive", () => check("wasm-naive", t, formatChecksum(replayer.run(true).checksum)));
  if (!skip.has("wasm-index-js")) {
    bench.add("wasm-index-js", () => {
      const bm = PageBitmap.create(t.trace.nbits);
      const line = formatChecksum(replayTrace(t.trace, bm, (nr, m) => bm.findNextZeroAreaOff(0, nr, m, 0)));
      bm.dispose();
      check("wasm-index-js", t, line);
    });
  }
  if (!skip.has("ts-kernel")) {
    bench.add("ts-kernel", () => {
      const ref = new KernelBitmap(t.trace.nbits);
      check(
        "ts-kernel",
        t,
        formatChecksum(replayTrace(t.trace, ref, (nr, m) => ref.findNextZeroAreaOff(0, nr, m, 0))),
      );
    });
  }
  return { bench, replayer };
}

const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};

// rates[trace][impl] = ops/s per round
const rates = new Map(traces.map((t) => [t.name, new Map()]));
const record = (t, impl, r) => {
  const m = rates.get(t.name);
  if (!m.has(impl)) m.set(impl, []);
  m.get(impl).push(r);
};
for (let round = 0; round < rounds; round++) {
  for (const t of traces) {
    if (native) {
      const out = execFileSync(native, [t.file, "1"]).toString();
      check("native", t, out.split("\n")[0]);
      record(t, "native", Number(/median=(\d+)/.exec(out)[1]));
    }
    const { bench, replayer } = suite(t, round === 0);
    await bench.run();
    for (const task of bench.tasks) {
      if (task.result.state !== "completed")
        throw new Error(`${task.name}: ${task.result.error ?? task.result.state}`);
      record(t, task.name, 1e6 / (task.result.latency.p50 / 1000));
    }
    replayer.dispose();
    process.stderr.write(`round ${round + 1}/${rounds} ${t.name} done\n`);
  }
}

const cpu = cpus()[0]?.model ?? "unknown cpu";
console.log(`\n${cpu}, ${cpus().length} cpus, node ${process.version}, ${rounds} interleaved rounds`);
console.log("ops/s = median over rounds; ratio = median over rounds of (impl / native) in the same round\n");
const impls = ["native", "wasm-index", "wasm-naive", "wasm-index-js", "ts-kernel"];
for (const t of traces) {
  const m = rates.get(t.name);
  console.log(`${t.name}  (${t.checksum.split(" ").slice(1, 5).join(" ")})`);
  for (const impl of impls) {
    if (!m.has(impl)) continue;
    const r = m.get(impl);
    const mops = (median(r) / 1e6).toFixed(2).padStart(7);
    const ratio = m.has("native") ? `${median(r.map((x, k) => x / m.get("native")[k])).toFixed(2)}x` : "-";
    const rounds = r.map((x) => (x / 1e6).toFixed(2)).join(" ");
    console.log(`  ${impl.padEnd(14)} ${mops} Mops/s  ${ratio.padStart(7)} native   rounds: ${rounds}`);
  }
}
console.log("\nchecksums: every implementation printed the reference line on every run");
