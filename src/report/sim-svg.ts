/**
 * SVG plots of a simulation, drawn with Vega-Lite specifications rendered headless by Vega (no DOM,
 * no canvas): use over time per region, failure rate against offered load, and the physical and
 * virtual maps at each configuration's first failure. Vega is loaded on first use only.
 */
import type { TopLevelSpec } from "vega-lite";
import type { ConfigurationResult, SimResult } from "../sim/result.js";
import { slug } from "./sim-csv.js";

const MiB = 1024 * 1024;
const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";
const FONT = { font: "DejaVu Sans, Helvetica, Arial, sans-serif" };

/** Renders a Vega-Lite spec to SVG text. */
async function render(spec: TopLevelSpec): Promise<string> {
  const [vega, vl] = await Promise.all([import("vega"), import("vega-lite")]);
  // no console output from a library: Vega warns on the console by default
  const view = new vega.View(vega.parse(vl.compile(spec, { logger: vega.logger(vega.None) }).spec), {
    renderer: "none",
    logLevel: vega.None,
  });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

/** Long-format rows of the time series: one per sample and plotted quantity. */
function usageRows(c: ConfigurationResult): Record<string, string | number>[] {
  const cols = c.timeSeries.columns;
  const plotted: [string, (row: number[]) => number][] = [
    ["live DMA buffers", (row) => row[cols.indexOf("liveDmaBytes")]],
    ["vmalloc area in use", (row) => row[cols.indexOf("vmallocUsedBytes")]],
    ["modules area in use", (row) => row[cols.indexOf("modulesUsedBytes")]],
  ];
  for (const a of c.machine.cmaAreas) {
    const used = cols.indexOf(`cmaUsedPages:${a.name}`);
    const free = cols.indexOf(`cmaLargestFreePages:${a.name}`);
    const movable = cols.indexOf(`cmaMovablePages:${a.name}`);
    plotted.push([`CMA ${a.name} allocated`, (row) => row[used] * 4096]);
    plotted.push([`CMA ${a.name} largest free run`, (row) => row[free] * 4096]);
    plotted.push([`CMA ${a.name} lent to movable`, (row) => row[movable] * 4096]);
  }
  return c.timeSeries.rows.flatMap((row) =>
    plotted.map(([series, get]) => ({ configuration: c.name, ops: row[0], series, MiB: get(row) / MiB })),
  );
}

function usageSpec(r: SimResult): TopLevelSpec {
  return {
    $schema: SCHEMA,
    title: {
      text: `Use over time per region: ${r.scenario}`,
      subtitle: "red rule: first failure; grey rule: size of the vmalloc area",
    },
    config: FONT,
    vconcat: r.configurations.map((c) => ({
      title: c.name,
      width: 640,
      height: 180,
      layer: [
        {
          data: { values: usageRows(c) },
          mark: { type: "line", strokeWidth: 1.5 },
          encoding: {
            x: { field: "ops", type: "quantitative", title: "DMA-API operations" },
            y: { field: "MiB", type: "quantitative", title: "MiB" },
            color: {
              field: "series",
              type: "nominal",
              title: null,
              legend: { orient: "right", labelLimit: 320 },
            },
          },
        },
        {
          data: { values: [{ MiB: c.machine.vmallocBytes / MiB }] },
          mark: { type: "rule", color: "#888888", strokeDash: [2, 2] },
          encoding: { y: { field: "MiB", type: "quantitative" } },
        },
        {
          data: { values: c.firstFailure ? [{ ops: c.firstFailure.op }] : [] },
          mark: { type: "rule", color: "#d62728", strokeDash: [4, 3] },
          encoding: { x: { field: "ops", type: "quantitative" } },
        },
      ],
    })),
    resolve: { scale: { color: "independent" } },
  } as TopLevelSpec;
}

function failureRateSpec(r: SimResult): TopLevelSpec {
  const values = r.configurations.flatMap((c) =>
    c.failureRateByLoad.map((b) => ({
      configuration: c.name,
      load: b.load * 100,
      rate: (100 * b.failures) / b.requests,
      requests: b.requests,
    })),
  );
  return {
    $schema: SCHEMA,
    title: {
      text: "Failure rate against offered load",
      subtitle: "offered load: live DMA buffers plus failed requests still wanted, as % of the CMA size",
    },
    config: FONT,
    width: 640,
    height: 300,
    data: { values },
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "load", type: "quantitative", title: "offered load (% of CMA)" },
      y: { field: "rate", type: "quantitative", title: "failed requests (%)" },
      color: {
        field: "configuration",
        type: "nominal",
        scale: { domain: r.configurations.map((c) => c.name) },
        legend: { labelLimit: 320 },
      },
      tooltip: [{ field: "requests", type: "quantitative" }],
    },
  };
}

/** One horizontal bar of a map: ranges as [x, x2) in MiB from the region's start. */
function mapBar(title: string, lengthMib: number, values: { x: number; x2: number; state: string }[]) {
  return {
    title,
    width: 640,
    height: 40,
    data: { values: [{ x: 0, x2: lengthMib, state: "free" }, ...values] },
    mark: { type: "rect" as const },
    encoding: {
      x: {
        field: "x",
        type: "quantitative" as const,
        title: "MiB from the start",
        scale: { domain: [0, lengthMib] },
      },
      x2: { field: "x2" },
      color: {
        field: "state",
        type: "nominal" as const,
        title: null,
        scale: {
          domain: [
            "free",
            "allocated",
            "movable",
            "pinned",
            "dma",
            "ioremap",
            "module",
            "boot",
            "lazy",
            "other",
          ],
          range: [
            "#e8e8e8",
            "#1f77b4",
            "#98df8a",
            "#d62728",
            "#ff7f0e",
            "#9467bd",
            "#8c564b",
            "#7f7f7f",
            "#c7c7c7",
            "#bcbd22",
          ],
        },
      },
    },
  };
}

function mapsSpec(c: ConfigurationResult): TopLevelSpec | undefined {
  const f = c.firstFailure;
  if (!f) return undefined;
  const bars = f.maps.cma.map((a) =>
    mapBar(
      `physical: CMA area "${a.name}" (${(a.countPages * 4096) / MiB} MiB at pfn 0x${a.basePfn.toString(16)})`,
      (a.countPages * 4096) / MiB,
      a.runs
        .filter((run) => run.state !== "free")
        .map((run) => ({
          x: ((run.startPfn - a.basePfn) * 4096) / MiB,
          x2: ((run.startPfn - a.basePfn + run.pages) * 4096) / MiB,
          state: run.state,
        })),
    ),
  );
  for (const [name, area] of [
    ["vmalloc", f.maps.vmalloc],
    ["modules", f.maps.modules],
  ] as const) {
    bars.push(
      mapBar(
        `virtual: ${name} area 0x${area.start.toString(16)}-0x${area.end.toString(16)}`,
        (area.end - area.start) / MiB,
        area.used.map((u) => ({
          x: (u.start - area.start) / MiB,
          x2: (u.start - area.start + u.sizeBytes) / MiB,
          state: u.kind,
        })),
      ),
    );
  }
  return {
    $schema: SCHEMA,
    title: {
      text: `Maps at the first failure: ${c.name}`,
      subtitle: `op ${f.op}: ${f.device ?? f.workload} asked for ${(f.sizeBytes / MiB).toFixed(2)} MiB -> ${f.cause}`,
    },
    config: FONT,
    vconcat: bars,
    resolve: { scale: { x: "independent" } },
  } as TopLevelSpec;
}

/** File name -> SVG text: usage-over-time.svg, failure-rate-vs-load.svg, maps-<configuration>.svg. */
export async function simSvgFiles(r: SimResult): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  files["usage-over-time.svg"] = await render(usageSpec(r));
  files["failure-rate-vs-load.svg"] = await render(failureRateSpec(r));
  for (const c of r.configurations) {
    const spec = mapsSpec(c);
    if (spec) files[`maps-${slug(c.name)}.svg`] = await render(spec);
  }
  return files;
}
