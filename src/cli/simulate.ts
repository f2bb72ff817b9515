/**
 * `cma-emu simulate [scenario]`: runs a scenario file (or the embedded default) over its
 * configurations, prints the comparison (or --json) and writes CSV, JSON and SVG to --out.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { CmaEmuError } from "../errors.js";
import { simCsvFiles } from "../report/sim-csv.js";
import { simJsonText } from "../report/sim-json.js";
import { simSvgFiles } from "../report/sim-svg.js";
import { simText } from "../report/sim-text.js";
import { DEFAULT_SCENARIO_YAML } from "../sim/default-scenario.js";
import type { SimProgress } from "../sim/engine.js";
import type { SimResult } from "../sim/result.js";
import {
  type ConfigurationSpec,
  type MachineSpec,
  parseConfiguration,
  parseScenario,
  type Scenario,
} from "../sim/scenario.js";
import { simulate } from "../sim/simulate.js";
import type { CliIo } from "./io.js";
import { readInputFile } from "./read-file.js";

/** Ctrl-C during a run: the partial results are out; exit 128 + SIGINT. */
class Interrupted extends CmaEmuError {
  override name = "Interrupted";
  readonly exitCode = 130;
}

interface SimulateOptions {
  seed?: number;
  ops?: number;
  out: string;
  json?: boolean;
  report: boolean;
  compare?: string[];
  samples?: number;
  workers?: number;
  printScenario?: boolean;
}

function positiveInt(name: string, allowZero = false) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < (allowZero ? 0 : 1)) {
      throw new InvalidArgumentError(`${name}: got "${v}", expected an integer >= ${allowZero ? 0 : 1}`);
    }
    return n;
  };
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** Files named in a scenario are relative to the scenario file. */
function resolvePaths(m: MachineSpec | undefined, base: string): void {
  if (!m) return;
  for (const key of ["dts", "kconfigFile", "vmallocinfo", "meminfo"] as const) {
    const p = m[key];
    if (p && !isAbsolute(p)) m[key] = resolve(base, p);
  }
}

function loadScenario(file: string | undefined): Scenario {
  if (file === undefined) return parseScenario(DEFAULT_SCENARIO_YAML, "default scenario");
  const text = readInputFile(file, "scenario");
  const s = parseScenario(text, file);
  const base = dirname(resolve(file));
  resolvePaths(s.machine, base);
  for (const c of s.configurations ?? []) resolvePaths(c.machine, base);
  return s;
}

/** `--compare` entries: configuration names, or inline YAML/JSON mappings (`{name: x, machine: {...}}`). */
function splitCompare(entries: string[]): { names: string[]; inline: ConfigurationSpec[] } {
  const names: string[] = [];
  const inline: ConfigurationSpec[] = [];
  for (const e of entries) {
    if (e.trim().startsWith("{")) inline.push(parseConfiguration(e, `--compare ${e}`));
    else
      names.push(
        ...e
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean),
      );
  }
  return { names, inline };
}

/** A one-line progress bar over all configurations (several run at once with --workers), on stderr. */
function progressBar(io: CliIo): (p: SimProgress) => void {
  const fractions: number[] = [];
  return (p) => {
    fractions[p.index] = Math.min(1, p.ops / Math.max(1, p.opsTarget));
    const frac = fractions.reduce((a, b) => a + (b ?? 0), 0) / p.configurations;
    const width = 30;
    const filled = Math.round(frac * width);
    io.err(
      `\r[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}%  ` +
        `${p.index + 1}/${p.configurations} ${p.configuration}: ${p.ops.toLocaleString("en-US")} ops\x1b[K`,
    );
  };
}

async function writeReports(r: SimResult, out: string): Promise<string[]> {
  mkdirSync(out, { recursive: true });
  const files: Record<string, string> = {
    "results.json": simJsonText(r),
    ...simCsvFiles(r),
    ...(await simSvgFiles(r)),
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(out, name), text);
  writeFileSync(join(out, "summary.txt"), simText(r));
  return [...Object.keys(files), "summary.txt"].map((f) => join(out, f));
}

export function registerSimulate(program: Command, io: CliIo): void {
  program
    .command("simulate")
    .argument("[scenario]", "scenario file (YAML or JSON); without it, the embedded default scenario")
    .description(
      "Runs a workload of DMA allocations (and ioremaps, module loads) against emulated kernels for " +
        "millions of operations, reproducibly from a seed, and compares configurations side by side: " +
        "what failed first, why, and the configuration change that avoids it. " +
        "Writes CSV time series, results.json and SVG plots to --out.",
    )
    .option(
      "--seed <n>",
      "seed of the workload generators (default: the scenario's)",
      positiveInt("--seed", true),
    )
    .option(
      "--ops <n>",
      "DMA-API operations per configuration (default: the scenario's)",
      positiveInt("--ops"),
    )
    .option("--out <dir>", "folder for the report files", "cma-emu-report")
    .option("--no-report", "write no files, only print")
    .option("--json", "print everything as one JSON object: { ops, seconds, results }")
    .option(
      "--compare <config>",
      "run only the named configurations (repeatable or comma-separated), or add one given inline, " +
        "e.g. --compare '{name: vmalloc512, machine: {cmdline: \"cma=512M vmalloc=512M\"}}'",
      collect,
    )
    .option("--samples <n>", "points of the time series per configuration", positiveInt("--samples"), 200)
    .option(
      "--workers <n>",
      "worker threads running configurations in parallel (default: one per CPU core, at most one per " +
        "configuration); the results do not depend on it",
      positiveInt("--workers"),
    )
    .option("--print-scenario", "print the embedded default scenario (YAML) and exit")
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  cma-emu simulate                                  # the default scenario (npm start)\n" +
        "  cma-emu simulate scenarios/imx6-camera-1080p.yaml --ops 200000 --seed 7\n" +
        '  cma-emu simulate --compare "highmem CMA (6.1)" --json --no-report\n' +
        "  cma-emu simulate --print-scenario > mine.yaml     # a starting point",
    )
    .action(async (file: string | undefined, opts: SimulateOptions) => {
      if (opts.printScenario) {
        io.out(DEFAULT_SCENARIO_YAML);
        return;
      }
      const scenario = loadScenario(file);
      const { names, inline } = splitCompare(opts.compare ?? []);
      const abort = new AbortController();
      const onSigint = () => abort.abort();
      process.once("SIGINT", onSigint);
      const showProgress = io.isTty && Boolean(process.stderr.isTTY) && !opts.json;
      let result: SimResult;
      try {
        result = await simulate(scenario, {
          seed: opts.seed,
          ops: opts.ops,
          compare: names,
          configurations: inline,
          samples: opts.samples,
          workers: opts.workers ?? availableParallelism(),
          signal: abort.signal,
          readFile: (path) => readInputFile(path, "file named in the scenario"),
          onProgress: showProgress ? progressBar(io) : undefined,
        });
      } finally {
        process.removeListener("SIGINT", onSigint);
        if (showProgress) io.err("\r\x1b[K");
      }
      const files = opts.report ? await writeReports(result, opts.out) : [];
      io.out(opts.json ? simJsonText(result) : simText(result, files));
      if (result.interrupted) {
        throw new Interrupted(
          `interrupted: ${result.ops.toLocaleString("en-US")} operations simulated; ` +
            `${files.length ? `partial results written to ${opts.out}` : "partial results printed"}`,
        );
      }
    });
}
