/**
 * CSV files of a simulation: a time series per configuration, a summary row per configuration,
 * the failure rate against offered load and the per-device counters. RFC 4180 quoting.
 */
import { FAILURE_CAUSES } from "../sim/metrics.js";
import type { SimResult } from "../sim/result.js";

const cell = (v: string | number | null | undefined): string => {
  const s = v === null || v === undefined ? "" : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
const csv = (rows: (string | number | null | undefined)[][]): string =>
  `${rows.map((r) => r.map(cell).join(",")).join("\n")}\n`;

/** A file-name-safe form of a configuration name. */
export function slug(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-|-$/g, "") || "configuration"
  );
}

/** File name -> CSV text. */
export function simCsvFiles(r: SimResult): Record<string, string> {
  const files: Record<string, string> = {};
  for (const c of r.configurations) {
    files[`timeseries-${slug(c.name)}.csv`] = csv([c.timeSeries.columns, ...c.timeSeries.rows]);
  }
  files["summary.csv"] = csv([
    [
      "configuration",
      "kernel",
      "cmaPlacement",
      "vmallocBytes",
      "ops",
      "allocs",
      "ok",
      "failed",
      ...FAILURE_CAUSES,
      "firstFailureOp",
      "firstFailureCause",
      "firstFailureDevice",
      "firstFailureBytes",
      "peakLiveDmaBytes",
      "peakCmaBytes",
      "peakVmallocDmaBytes",
      "peakDemandBytes",
      "minCmaLargestFreeBytes",
    ],
    ...r.configurations.map((c) => [
      c.name,
      c.machine.kernel,
      c.machine.cmaAreas.map((a) => a.placement).join("+"),
      c.machine.vmallocBytes,
      c.ops,
      c.allocs,
      c.ok,
      c.failed,
      ...FAILURE_CAUSES.map((k) => c.failuresByCause[k] ?? 0),
      c.firstFailure?.op,
      c.firstFailure?.cause,
      c.firstFailure?.device ?? c.firstFailure?.workload,
      c.firstFailure?.sizeBytes,
      c.peaks.liveDmaBytes,
      c.peaks.cmaBytes,
      c.peaks.vmallocDmaBytes,
      c.peaks.demandBytes,
      c.peaks.minCmaLargestFreeBytes,
    ]),
  ]);
  files["failure-rate-vs-load.csv"] = csv([
    ["configuration", "offeredLoad", "requests", "failures", "failureRate"],
    ...r.configurations.flatMap((c) =>
      c.failureRateByLoad.map((b) => [c.name, b.load, b.requests, b.failures, b.failures / b.requests]),
    ),
  ]);
  files["devices.csv"] = csv([
    [
      "configuration",
      "device",
      "allocs",
      "ok",
      "failed",
      "peakLiveBytes",
      "firstFailureOp",
      ...FAILURE_CAUSES,
    ],
    ...r.configurations.flatMap((c) =>
      c.devices.map((d) => [
        c.name,
        d.name,
        d.allocs,
        d.ok,
        d.failed,
        d.peakLiveBytes,
        d.firstFailureOp,
        ...FAILURE_CAUSES.map((k) => d.failuresByCause[k] ?? 0),
      ]),
    ),
  ]);
  return files;
}
