/**
 * Worker-thread entry: runs one configuration of a scenario and posts its result (see workers.ts).
 */
import { parentPort, workerData } from "node:worker_threads";
import { runtimeTarget } from "./real-target.js";
import { simulateConfiguration } from "./simulate.js";
import type { WorkerMessage, WorkerTask } from "./workers.js";

const task = workerData as WorkerTask;
const port = parentPort!;
const abort = new AbortController();
port.on("message", (m) => {
  if (m === "abort") abort.abort();
});
const post = (m: WorkerMessage) => port.postMessage(m);

async function main(): Promise<void> {
  try {
    const readFile = (path: string) => task.files[path];
    const target = runtimeTarget(task.configuration, task.run.seed, readFile);
    const result = await simulateConfiguration(task.scenario, task.configuration, target, {
      ...task.run,
      signal: abort.signal,
      onProgress: (p) => post({ type: "progress", ops: p.ops }),
    });
    post({ type: "result", result });
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    post({ type: "error", message: err.message, name: err.name });
  }
  port.close();
}

void main();
