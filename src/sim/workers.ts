/**
 * Running configurations in parallel worker threads. Each configuration is independent and seeded
 * from the scenario's seed alone, so the results equal those of a single-threaded run. Files named
 * by the scenario are read here, in the calling thread, and sent along as text.
 */
import { Worker } from "node:worker_threads";
import { ConfigError, InputError } from "../errors.js";
import type { ResolvedConfiguration } from "./configurations.js";
import type { ReadFile } from "./machine-config.js";
import type { ConfigurationResult } from "./result.js";
import type { Scenario } from "./scenario.js";
import type { ConfigurationRun } from "./simulate.js";

const WORKER_URL = new URL("./worker.js", import.meta.url);

/** Workers need the compiled worker.js next to this module (not the case when run from sources). */
export function workersAvailable(): boolean {
  return import.meta.url.endsWith(".js");
}

/** Message from the main thread to a worker. */
export interface WorkerTask {
  scenario: Scenario;
  configuration: ResolvedConfiguration;
  run: Omit<ConfigurationRun, "onProgress" | "signal">;
  files: Record<string, string>;
}

/** Messages from a worker. */
export type WorkerMessage =
  | { type: "progress"; ops: number }
  | { type: "result"; result: ConfigurationResult }
  | { type: "error"; message: string; name: string };

function filesOf(configs: ResolvedConfiguration[], readFile: ReadFile | undefined): Record<string, string> {
  const files: Record<string, string> = {};
  for (const c of configs) {
    for (const key of ["dts", "kconfigFile", "vmallocinfo", "meminfo"] as const) {
      const path = c.machine[key];
      if (path && readFile && !(path in files)) files[path] = readFile(path);
    }
  }
  return files;
}

function runInWorker(task: WorkerTask, ctl: ConfigurationRun, name: string): Promise<ConfigurationResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_URL, { workerData: task });
    const onAbort = () => worker.postMessage("abort");
    ctl.signal?.addEventListener("abort", onAbort, { once: true });
    const done = () => ctl.signal?.removeEventListener("abort", onAbort);
    worker.on("message", (m: WorkerMessage) => {
      if (m.type === "progress") {
        ctl.onProgress?.({
          configuration: name,
          index: ctl.index,
          configurations: ctl.configurations,
          ops: m.ops,
          opsTarget: ctl.opsTarget,
        });
      } else if (m.type === "result") {
        done();
        resolve(m.result);
        void worker.terminate();
      } else {
        done();
        // the typed errors keep their type across the thread boundary (the CLI prints them as one line)
        reject(
          m.name === "ConfigError"
            ? new ConfigError(m.message)
            : m.name === "InputError"
              ? new InputError(m.message)
              : new Error(m.message),
        );
        void worker.terminate();
      }
    });
    worker.on("error", (e) => {
      done();
      reject(e);
    });
  });
}

/** Runs `configs` on up to `workers` threads; results in configuration order. */
export async function simulateInWorkers(
  s: Scenario,
  configs: ResolvedConfiguration[],
  workers: number,
  ctl: (index: number) => ConfigurationRun,
  readFile: ReadFile | undefined,
): Promise<ConfigurationResult[]> {
  const files = filesOf(configs, readFile);
  const results: (ConfigurationResult | undefined)[] = new Array(configs.length);
  let next = 0;
  const lane = async () => {
    while (next < configs.length) {
      const index = next++;
      const run = ctl(index);
      if (run.signal?.aborted) return;
      const { onProgress: _p, signal: _s, ...plain } = run;
      results[index] = await runInWorker(
        { scenario: s, configuration: configs[index], run: plain, files },
        run,
        configs[index].name,
      );
    }
  };
  await Promise.all(Array.from({ length: workers }, lane));
  // an interrupted run keeps the configurations finished or started, in order
  const out: ConfigurationResult[] = [];
  for (const r of results) {
    if (!r) break;
    out.push(r);
  }
  return out;
}
