/**
 * The `--json` form of a simulation: `ops` (DMA-API operations over all configurations), `seconds`
 * (their wall time) and `results` (everything else). Apart from the timing fields (`seconds`
 * anywhere), the same seed prints the same text.
 */
import type { SimResult } from "../sim/result.js";

export interface SimJson {
  ops: number;
  seconds: number;
  /** DMA-API operations per second over the whole run (timing field) */
  opsPerSecond: number;
  interrupted: boolean;
  results: Omit<SimResult, "ops" | "seconds">;
}

/** The JSON object of a result: the run totals at the top, everything else under `results`. */
export function simJson(r: SimResult): SimJson {
  const { ops, seconds, ...results } = r;
  return {
    ops,
    seconds: Math.round(seconds * 1000) / 1000,
    opsPerSecond: seconds > 0 ? Math.round(ops / seconds) : 0,
    interrupted: r.interrupted,
    results,
  };
}

/** The JSON text, two-space indented, ending with a newline. */
export function simJsonText(r: SimResult): string {
  return `${JSON.stringify(simJson(r), null, 2)}\n`;
}
