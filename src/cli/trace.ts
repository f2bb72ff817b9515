import { readFileSync } from "node:fs";
import { type Command, InvalidArgumentError } from "commander";
import { CmaEmuError, InputError } from "../errors.js";
import { formatChecksum, parseBmt1 } from "../input/bmt1-trace.js";
import { WasmTraceReplayer } from "../wasm/trace-replay.js";
import type { CliIo } from "./io.js";

const EXAMPLES = `
Examples:
  # make the standard 512 MiB trace (seed 1) and replay it 5 times with the index
  node test/fixtures/anchors/gen_trace.mjs --bits 131072 --ops 1000000 --seed 1 --out /tmp/t131072.bin
  cma-emu trace /tmp/t131072.bin --runs 5
  # the same with the kernel's own loop of bitmap_find_next_zero_area_off
  cma-emu trace /tmp/t131072.bin --runs 5 --naive

Prints the checksum line exactly as the native anchor (test/fixtures/anchors/bitmap_native.c) does,
then ops_per_s=<median over the runs>. Every run starts from a fresh bitmap; all runs must agree.
The timed runs follow an untimed warm-up over the first 200,000 operations (JIT tier-up).`;

/** Operations replayed once, untimed, before the timed runs. */
const WARM_UP_OPS = 200_000;

function parseRuns(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 1000)
    throw new InvalidArgumentError("expected an integer 1..1000");
  return n;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function readTrace(file: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new InputError(`cannot read the trace (${(e as NodeJS.ErrnoException).code ?? "error"})`, file);
  }
}

export function registerTrace(program: Command, io: CliIo): void {
  program
    .command("trace")
    .description(
      "Replay a BMT1 bitmap trace (CMA-like allocs and frees) on the WebAssembly page-frame bitmap and " +
        "print its checksum and speed.",
    )
    .argument("<file>", "BMT1 trace file (see test/fixtures/anchors/gen_trace.mjs)")
    .option("--runs <n>", "number of timed replays", parseRuns, 1)
    .option("--naive", "search with the kernel loop instead of the index")
    .addHelpText("after", EXAMPLES)
    .action((file: string, opts: { runs: number; naive?: boolean }) => {
      const trace = parseBmt1(readTrace(file), file);
      const replayer = new WasmTraceReplayer(trace);
      try {
        // Untimed, so that the timed runs measure the optimized code, not the JIT's first tier.
        replayer.run(opts.naive ?? false, WARM_UP_OPS);
        let line = "";
        const rates: number[] = [];
        for (let k = 0; k < opts.runs; k++) {
          const { checksum, seconds } = replayer.run(opts.naive ?? false);
          const text = formatChecksum(checksum);
          if (k > 0 && text !== line) throw new CmaEmuError(`run ${k + 1} disagrees with run 1: ${text}`);
          line = text;
          rates.push(trace.ops.length / Math.max(seconds, 1e-9));
        }
        io.out(`${line}\nops_per_s=${Math.round(median(rates))}\n`);
      } finally {
        replayer.dispose();
      }
    });
}
