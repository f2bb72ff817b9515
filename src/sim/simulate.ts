/**
 * simulate(): a scenario's workload over each of its configurations, one after the other, each on a
 * freshly booted machine and runtime. Pure: no console, no files; progress through a callback.
 */
import { adviseConfiguration, explainFirstFailure, verdict } from "./advice.js";
import { type ResolvedConfiguration, resolveConfigurations } from "./configurations.js";
import { runConfiguration, type SimProgress } from "./engine.js";
import type { ReadFile } from "./machine-config.js";
import { BUFFER_SOURCES } from "./metrics.js";
import { runtimeTarget } from "./real-target.js";
import { type ConfigurationResult, type SimResult, summarizeMachine } from "./result.js";
import {
  type ConfigurationSpec,
  parseScenario,
  type Scenario,
  type ScenarioInput,
  validateScenario,
} from "./scenario.js";
import type { SimTarget } from "./target.js";
import { simulateInWorkers, workersAvailable } from "./workers.js";

export interface SimulateOptions {
  /** overrides the scenario's seed: the same seed gives the same result on any machine */
  seed?: number;
  /** DMA-API operations per configuration (overrides the scenario's `ops`) */
  ops?: number;
  /** run only these of the scenario's configurations (by name) */
  compare?: string[];
  /** further configurations to run after the scenario's own (overrides of machine, runtime, devices) */
  configurations?: ConfigurationSpec[];
  /** points of the time series per configuration (default 200) */
  samples?: number;
  /** called every 65 536 operations */
  onProgress?: (progress: SimProgress) => void;
  /** aborting ends the run early; the result says `interrupted` and holds what was simulated */
  signal?: AbortSignal;
  /** reads the files a scenario names (dts, kconfigFile, vmallocinfo, meminfo); none by default */
  readFile?: ReadFile;
  /**
   * worker threads to spread the configurations over (default 1: all in the calling thread); used
   * only with the default createTarget
   */
  workers?: number;
  /** boots a configuration and returns the allocators to drive (default: the package's boot + Runtime) */
  createTarget?: (configuration: ResolvedConfiguration, seed: number) => SimTarget;
}

function sourceCounts(counts: Float64Array): ConfigurationResult["allocsBySource"] {
  const out: ConfigurationResult["allocsBySource"] = {};
  BUFFER_SOURCES.forEach((s, i) => {
    if (counts[i] > 0) out[s] = counts[i];
  });
  return out;
}

/** The smallest value of a time-series column, or 0 when the column is absent. */
function columnMin(r: { columns: string[]; rows: number[][] }, column: string): number {
  const i = r.columns.indexOf(column);
  if (i < 0 || r.rows.length === 0) return 0;
  return Math.min(...r.rows.map((row) => row[i]));
}

function columnMax(r: { columns: string[]; rows: number[][] }, column: string): number {
  const i = r.columns.indexOf(column);
  if (i < 0 || r.rows.length === 0) return 0;
  return Math.max(...r.rows.map((row) => row[i]));
}

/** What one configuration's run needs besides the scenario and the configuration. */
export interface ConfigurationRun {
  index: number;
  configurations: number;
  seed: number;
  opsTarget: number;
  samples: number;
  onProgress?: (progress: SimProgress) => void;
  signal?: AbortSignal;
}

/** Boots, runs and summarises one configuration. */
export async function simulateConfiguration(
  s: Scenario,
  c: ResolvedConfiguration,
  target: SimTarget,
  ctl: ConfigurationRun,
): Promise<ConfigurationResult> {
  const machine = summarizeMachine(target.machine);
  const run = await runConfiguration(s, c, target, { ...ctl, opsTarget: machine.panic ? 0 : ctl.opsTarget });
  target.dispose?.();
  const m = run.metrics;
  const series = m.series;
  const defaultArea = target.machine.cmaAreas.find((a) => a.isDefault) ?? target.machine.cmaAreas[0];
  const r: ConfigurationResult = {
    name: c.name,
    ...(c.description ? { description: c.description } : {}),
    machine,
    ops: m.dmaOps,
    allocs: m.allocs,
    frees: m.frees,
    vmOps: m.vmOps,
    simulatedMs: Math.round(run.simulatedMs * 1000) / 1000,
    ok: m.bySource.reduce((a, b) => a + b, 0),
    failed: m.failed,
    failuresByCause: m.causes(m.byCause),
    allocsBySource: sourceCounts(m.bySource),
    firstFailure: m.firstFailure,
    explanation: "",
    advice: [],
    peaks: {
      liveDmaBytes: m.peakLiveDmaBytes,
      cmaBytes: m.peakLiveCmaBytes,
      vmallocDmaBytes: m.peakVmallocDmaBytes,
      vmallocUsedBytes: columnMax(series, "vmallocUsedBytes"),
      demandBytes: m.peakDemandBytes,
      minCmaLargestFreeBytes: defaultArea
        ? columnMin(series, `cmaLargestFreePages:${defaultArea.name}`) * 4096
        : 0,
      modulesUsedBytes: columnMax(series, "modulesUsedBytes"),
    },
    devices: m.devices(),
    failureRateByLoad: m.loadCurve(),
    timeSeries: series,
    messages: m.messages(),
    interrupted: run.interrupted,
    seconds: run.seconds,
  };
  r.explanation = explainFirstFailure(r);
  r.advice = adviseConfiguration(r);
  return r;
}

/**
 * Simulates `scenario` (a validated Scenario, a scenario object as written in a file, or YAML/JSON
 * text) over each configuration and returns the results. With `workers` > 1 the configurations run
 * in parallel worker threads; the results are the same as in one thread.
 *
 * @example
 * const result = await simulate(await readFile("camera.yaml", "utf8"), { ops: 100_000, seed: 7 });
 * for (const c of result.configurations) console.log(c.name, c.failed, c.explanation);
 */
export async function simulate(
  scenario: Scenario | ScenarioInput | string,
  options: SimulateOptions = {},
): Promise<SimResult> {
  const started = performance.now();
  const s = typeof scenario === "string" ? parseScenario(scenario) : validateScenario(scenario);
  const seed = options.seed ?? s.seed;
  const opsTarget = options.ops ?? s.ops;
  const configs = resolveConfigurations(s, options.compare, options.configurations);
  const ctl = (index: number): ConfigurationRun => ({
    index,
    configurations: configs.length,
    seed,
    opsTarget,
    samples: options.samples ?? 200,
    onProgress: options.onProgress,
    signal: options.signal,
  });
  let results: ConfigurationResult[];
  const workers = Math.min(options.workers ?? 1, configs.length);
  if (workers > 1 && !options.createTarget && workersAvailable()) {
    results = await simulateInWorkers(s, configs, workers, ctl, options.readFile);
  } else {
    const createTarget = options.createTarget ?? ((c, seed) => runtimeTarget(c, seed, options.readFile));
    results = [];
    for (const [index, c] of configs.entries()) {
      if (options.signal?.aborted) break;
      const r = await simulateConfiguration(s, c, createTarget(c, seed), ctl(index));
      results.push(r);
      if (r.interrupted) break;
    }
  }
  const interrupted = results.length < configs.length || results.some((r) => r.interrupted);
  return {
    scenario: s.name,
    ...(s.description ? { description: s.description } : {}),
    seed,
    opsPerConfiguration: opsTarget,
    configurations: results,
    verdict: verdict(results),
    interrupted,
    ops: results.reduce((sum, r) => sum + r.ops, 0),
    seconds: (performance.now() - started) / 1000,
  };
}
