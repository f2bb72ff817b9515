/**
 * The text report of a simulation for a person: the configurations side by side, then for each
 * one what failed first, why, what the kernel printed and the configuration change that avoids it.
 */
import { FAILURE_CAUSES } from "../sim/metrics.js";
import type { ConfigurationResult, SimResult } from "../sim/result.js";

const MiB = 1024 * 1024;
const n = (v: number): string => Math.round(v).toLocaleString("en-US");
const mib = (bytes: number): string => `${(bytes / MiB).toFixed(bytes >= 100 * MiB ? 0 : 1)} MiB`;
const ms = (t: number): string => (t >= 10_000 ? `${(t / 1000).toFixed(1)} s` : `${t.toFixed(1)} ms`);

type Row = [label: string, cell: (c: ConfigurationResult) => string];

function rows(r: SimResult): Row[] {
  const out: Row[] = [
    ["kernel (era, DMA path)", (c) => `${c.machine.kernel} (${c.machine.era}, ${c.machine.dmaPath})`],
    ["PAGE_OFFSET", (c) => c.machine.pageOffset],
    ["lowmem / highmem", (c) => `${mib(c.machine.lowmemBytes)} / ${mib(c.machine.highmemBytes)}`],
    ["vmalloc area", (c) => mib(c.machine.vmallocBytes)],
    [
      "CMA",
      (c) =>
        c.machine.cmaAreas.map((a) => `${mib(a.sizeBytes)} @${a.base} ${a.placement}`).join(", ") || "none",
    ],
    ["DMA-API ops", (c) => n(c.ops)],
    ["allocations ok", (c) => n(c.ok)],
    ["failures", (c) => n(c.failed)],
  ];
  for (const cause of FAILURE_CAUSES) {
    if (r.configurations.some((c) => c.failuresByCause[cause])) {
      out.push([`  ${cause}`, (c) => n(c.failuresByCause[cause] ?? 0)]);
    }
  }
  out.push(
    [
      "first failure",
      (c) => (c.firstFailure ? `op ${n(c.firstFailure.op)} at ${ms(c.firstFailure.timeMs)}` : "none"),
    ],
    [
      "  request",
      (c) =>
        c.firstFailure
          ? `${c.firstFailure.device ?? c.firstFailure.workload} ${mib(c.firstFailure.sizeBytes)}`
          : "",
    ],
    ["  cause", (c) => c.firstFailure?.cause ?? ""],
    ["peak live DMA buffers", (c) => mib(c.peaks.liveDmaBytes)],
    ["peak offered load", (c) => mib(c.peaks.demandBytes)],
    ["peak CMA in use", (c) => mib(c.peaks.cmaBytes)],
    ["peak vmalloc (DMA maps)", (c) => mib(c.peaks.vmallocDmaBytes)],
    ["min largest free CMA run", (c) => mib(c.peaks.minCmaLargestFreeBytes)],
    ["wall time", (c) => `${c.seconds.toFixed(2)} s`],
  );
  return out;
}

/** A table with the labels in the first column and one column per configuration. */
function table(r: SimResult): string {
  const rs = rows(r);
  const header = ["", ...r.configurations.map((c) => c.name)];
  const body = rs.map(([label, cell]) => [label, ...r.configurations.map(cell)]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((s, i) => s.padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}

function details(c: ConfigurationResult): string {
  const out = [`== ${c.name}${c.description ? `: ${c.description}` : ""}`, `  ${c.explanation}.`];
  const f = c.firstFailure;
  if (f) {
    out.push(
      f.messages.length
        ? `  The kernel printed: ${f.messages.map((m) => `"${m}"`).join(" / ")}`
        : "  The kernel printed nothing for it (__GFP_NOWARN, or a version that prints no cma_alloc failure).",
    );
  }
  if (c.advice.length) {
    out.push("  Would avoid it:");
    for (const a of c.advice) out.push(`    - ${a}`);
  }
  return out.join("\n");
}

/** The whole text report. */
export function simText(r: SimResult, files: string[] = []): string {
  const head = [
    `Scenario "${r.scenario}"${r.description ? `: ${r.description.trim()}` : ""}`,
    `seed ${r.seed}, ${n(r.opsPerConfiguration)} DMA-API operations per configuration`,
  ];
  const parts = [head.join("\n"), table(r), ...r.configurations.map(details), r.verdict.join("\n")];
  if (r.interrupted) parts.push("INTERRUPTED: the figures above cover only the operations simulated so far.");
  parts.push(
    `${n(r.ops)} DMA-API operations in ${r.seconds.toFixed(2)} s (${n(r.seconds > 0 ? r.ops / r.seconds : 0)} ops/s).`,
  );
  if (files.length) parts.push(`Wrote ${files.join(", ")}`);
  return `${parts.join("\n\n")}\n`;
}
