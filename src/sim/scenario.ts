/**
 * The scenario file (YAML or JSON): a board and kernel, devices, workloads and the configurations
 * to compare. Validated with zod; every error names the path, the value found and what is expected.
 */
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { InputError } from "../errors.js";
import { frameSizeBytes, PIXEL_FORMATS, parseResolution } from "./frames.js";

/** Largest buffer or area a 32-bit kernel can be asked for. */
const MAX_SIZE_BYTES = 2 ** 32;
const SIZE_RE = /^(0x[0-9a-f]+|\d+(?:\.\d+)?)\s*([kmg]i?b?)?$/i;
const UNIT: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** Parses "512K", "1.5M", "2G", "0x1000", 4096 into bytes; undefined when malformed. */
export function parseSizeBytes(value: string | number): number | undefined {
  if (typeof value === "number") return Number.isInteger(value) ? value : undefined;
  const m = SIZE_RE.exec(value.trim());
  if (!m) return undefined;
  const bytes = Number(m[1]) * UNIT[(m[2] ?? "").charAt(0).toLowerCase()];
  return Number.isInteger(bytes) ? bytes : Math.round(bytes);
}

/** A strict object whose "unknown key" error lists the keys it accepts. */
function obj<T extends z.ZodRawShape>(shape: T) {
  const known = Object.keys(shape).join(", ");
  return z.strictObject(shape, {
    error: (iss) => (iss.code === "unrecognized_keys" ? `unknown key; expected one of: ${known}` : undefined),
  });
}

/** A size in bytes: a number or a string with K/M/G suffix, between 1 byte and 4 GiB. */
const size = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const bytes = parseSizeBytes(v);
  if (bytes === undefined || bytes <= 0 || bytes > MAX_SIZE_BYTES) {
    ctx.addIssue({
      code: "custom",
      message: "expected a size between 1 and 4G (bytes, or with a K/M/G suffix)",
    });
    return z.NEVER;
  }
  return bytes;
});

const positive = z.number().positive();
const nonNegative = z.number().nonnegative();
const probability = z.number().min(0).max(1);

const frame = obj({
  format: z.string().refine((f) => f.toUpperCase() in PIXEL_FORMATS, {
    message: `expected a pixel format: ${Object.keys(PIXEL_FORMATS).join(", ")}`,
  }),
  resolution: z.string().refine((r) => parseResolution(r) !== undefined, {
    message: "expected a resolution such as 1080p, 720p, 4k or 1920x1080",
  }),
  strideAlign: z.number().int().positive().optional(),
});
export type FrameSpec = z.infer<typeof frame>;

/**
 * A distribution of values (sizes in bytes, or durations in ms): exactly one of its keys.
 * `table` is an empirical distribution of values with weights.
 */
function distribution<V extends z.ZodType<number, unknown>>(value: V, withFrame: boolean) {
  const shape = {
    fixed: value.optional(),
    uniform: obj({ min: value, max: value }).optional(),
    exponential: obj({ mean: value }).optional(),
    logNormal: obj({
      median: value,
      sigma: nonNegative,
      min: value.optional(),
      max: value.optional(),
    }).optional(),
    table: z
      .array(obj({ value, weight: positive }))
      .min(1)
      .optional(),
    ...(withFrame ? { frame: frame.optional() } : {}),
  };
  const keys = Object.keys(shape);
  // A bare value is shorthand for { fixed: value }.
  const asObject = (v: unknown) =>
    typeof v === "object" && v !== null && !Array.isArray(v) ? v : { fixed: v };
  return z.preprocess(asObject, obj(shape)).superRefine((d, ctx) => {
    const given = Object.keys(d).filter((k) => (d as Record<string, unknown>)[k] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({ code: "custom", message: `expected exactly one of: ${keys.join(", ")}` });
      return;
    }
    const u = (d as { uniform?: { min: number; max: number } }).uniform;
    if (u && u.min > u.max)
      ctx.addIssue({ code: "custom", path: ["uniform"], message: "expected min <= max" });
  });
}

const sizeDistribution = distribution(size, true);
const duration = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const ms = parseDurationMs(v);
  if (ms === undefined || ms < 0) {
    ctx.addIssue({ code: "custom", message: "expected a duration >= 0 (ms, or with a ms/s/min suffix)" });
    return z.NEVER;
  }
  return ms;
});
const durationDistribution = distribution(duration, false);
export type SizeDistribution = z.infer<typeof sizeDistribution>;
export type DurationDistribution = z.infer<typeof durationDistribution>;

/** Parses "150", "150ms", "2s", "5min" into milliseconds. */
export function parseDurationMs(value: string | number): number | undefined {
  if (typeof value === "number") return value;
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|min)?$/.exec(value.trim());
  if (!m) return undefined;
  return Number(m[1]) * (m[2] === "s" ? 1000 : m[2] === "min" ? 60000 : 1);
}

/** The board and kernel: the same names as `cma-emu boot` options. */
const machine = obj({
  kernel: z.string().optional(),
  split: z.enum(["3G", "3G_OPT", "2G", "1G"]).optional(),
  lpae: z.boolean().optional(),
  highmem: z.boolean().optional(),
  thumb2: z.boolean().optional(),
  ram: z.string().optional(),
  physOffset: z.string().optional(),
  dmaZoneSize: z.string().optional(),
  cmdline: z.string().optional(),
  /** CONFIG_ symbols (the CONFIG_ prefix may be left out), as `--kconfig KEY=VALUE` */
  kconfig: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  kconfigFile: z.string().optional(),
  dts: z.string().optional(),
  vmallocinfo: z.string().optional(),
  meminfo: z.string().optional(),
});
export type MachineSpec = z.infer<typeof machine>;

/** The movable/pinned page model of the runtime. */
const runtime = obj({
  /** share of free CMA pages the page allocator lends to movable allocations */
  movableShare: probability.optional(),
  /** probability that a borrowed page is pinned (cannot migrate: alloc_contig_range -EBUSY) */
  pinProbability: probability.optional(),
});
export type RuntimeSpec = z.infer<typeof runtime>;

const device = obj({
  name: z.string().min(1),
  coherent: z.boolean().default(false),
  dmaMaskBits: z.number().int().min(24).max(64).default(32),
  /** a per-device CMA area (DT pool name); absent = the default area */
  cmaArea: z.string().optional(),
  /** DMA_ATTR_NO_KERNEL_MAPPING on every allocation */
  noKernelMapping: z.boolean().default(false),
  /** GFP_ATOMIC allocations (atomic pool) */
  atomic: z.boolean().default(false),
});
export type DeviceSpec = z.infer<typeof device>;

const burst = obj({ every: duration, count: z.number().int().positive() });

/** Independent buffers: `initial` at t=0, then Poisson arrivals at `ratePerSecond`, each living `lifetime`. */
const stream = obj({
  kind: z.literal("stream"),
  name: z.string().optional(),
  /** dma: dma_alloc_attrs on `device`; ioremap / module: vmalloc-space users */
  api: z.enum(["dma", "ioremap", "module"]).default("dma"),
  device: z.string().optional(),
  size: sizeDistribution,
  initial: z.number().int().nonnegative().default(0),
  ratePerSecond: nonNegative.default(0),
  /** absent: buffers are never freed */
  lifetime: durationDistribution.optional(),
  burst: burst.optional(),
  /** cap on live buffers of this workload (arrivals beyond it are skipped) */
  maxLive: z.number().int().positive().optional(),
});

/** A video pipeline: `buffers` frames at start, all reallocated at the next resolution every `changeEvery`. */
const pipeline = obj({
  kind: z.literal("pipeline"),
  name: z.string().optional(),
  device: z.string(),
  format: frame.shape.format,
  resolutions: z.array(frame.shape.resolution).min(1),
  strideAlign: z.number().int().positive().optional(),
  buffers: z.number().int().positive(),
  changeEvery: duration.optional(),
});

const workload = z.discriminatedUnion("kind", [stream, pipeline], {
  error: () => 'expected a workload with kind "stream" or "pipeline"',
});
export type WorkloadSpec = z.infer<typeof workload>;
export type StreamSpec = z.infer<typeof stream>;
export type PipelineSpec = z.infer<typeof pipeline>;

const deviceOverride = obj({
  coherent: z.boolean().optional(),
  dmaMaskBits: z.number().int().min(24).max(64).optional(),
  cmaArea: z.string().optional(),
  noKernelMapping: z.boolean().optional(),
  atomic: z.boolean().optional(),
});

/** One configuration of a comparison: overrides merged over the scenario's machine, runtime and devices. */
const configuration = obj({
  name: z.string().min(1),
  description: z.string().optional(),
  machine: machine.optional(),
  runtime: runtime.optional(),
  devices: z.record(z.string(), deviceOverride).optional(),
});
export type ConfigurationSpec = z.infer<typeof configuration>;

export const scenarioSchema = obj({
  name: z.string().min(1),
  description: z.string().optional(),
  seed: z.number().int().nonnegative().default(1),
  /** DMA-API operations (allocations + frees) per configuration */
  ops: z.number().int().positive().default(1_000_000),
  machine: machine.default({}),
  runtime: runtime.default({}),
  devices: z.array(device).min(1),
  workloads: z.array(workload).min(1),
  configurations: z.array(configuration).optional(),
}).superRefine((s, ctx) => {
  /** Names must be unique within a list. */
  const unique = (items: { name: string }[], list: string, what: string) => {
    const seen = new Set<string>();
    items.forEach((item, i) => {
      if (seen.has(item.name))
        ctx.addIssue({ code: "custom", path: [list, i, "name"], message: `expected a unique ${what} name` });
      seen.add(item.name);
    });
    return seen;
  };
  const names = unique(s.devices, "devices", "device");
  const expectedDevice = `expected one of the devices: ${[...names].join(", ")}`;
  s.workloads.forEach((w, i) => {
    const needsDevice = w.kind === "pipeline" || w.api === "dma";
    if (needsDevice && (w.device === undefined || !names.has(w.device))) {
      ctx.addIssue({ code: "custom", path: ["workloads", i, "device"], message: expectedDevice });
    }
    if (w.kind === "stream" && w.ratePerSecond > 0 && w.lifetime === undefined && w.maxLive === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["workloads", i, "lifetime"],
        message:
          "expected a lifetime (or maxLive) when ratePerSecond > 0: buffers that are never freed exhaust any pool",
      });
    }
  });
  unique(s.configurations ?? [], "configurations", "configuration");
  s.configurations?.forEach((c, i) => {
    for (const dev of Object.keys(c.devices ?? {})) {
      if (!names.has(dev))
        ctx.addIssue({
          code: "custom",
          path: ["configurations", i, "devices", dev],
          message: expectedDevice,
        });
    }
  });
});

/** A validated scenario, defaults filled in. */
export type Scenario = z.infer<typeof scenarioSchema>;
/** What a scenario file may contain (defaults optional). */
export type ScenarioInput = z.input<typeof scenarioSchema>;
export type ConfigurationInput = z.input<typeof configuration>;

/** "devices[2].name" from a zod path. */
function formatPath(path: PropertyKey[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : `${out ? "." : ""}${String(p)}`;
  return out || "(top level)";
}

function formatValue(v: unknown): string {
  if (v === undefined) return "nothing";
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/**
 * The value at `path` in what the user wrote; undefined when absent. A scalar met on the way is the
 * answer: `size: 0` is reported at `size.fixed`, the form it is read as.
 */
function valueAt(data: unknown, path: PropertyKey[]): unknown {
  let v = data;
  for (const p of path) {
    if (typeof v !== "object" || v === null) return v;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

function formatIssue(iss: z.core.$ZodIssue, data: unknown): string {
  // The value as written (before defaults and transforms), found by the issue's path.
  const input = valueAt(data, iss.path);
  if (iss.code === "unrecognized_keys") {
    const rec = (input ?? {}) as Record<string, unknown>;
    return iss.keys
      .map((k) => `${formatPath([...iss.path, k])}: got ${formatValue(rec[k])}, ${iss.message}`)
      .join("; ");
  }
  let expected = iss.message;
  if (iss.code === "invalid_type") expected = `expected ${iss.expected}`;
  else if (iss.code === "too_small" || iss.code === "too_big") {
    const op = iss.code === "too_small" ? (iss.inclusive ? ">=" : ">") : iss.inclusive ? "<=" : "<";
    const what = iss.origin === "array" ? "number of entries" : iss.origin;
    expected = `expected ${what} ${op} ${iss.code === "too_small" ? iss.minimum : iss.maximum}`;
  } else if (iss.code === "invalid_value") expected = `expected one of: ${iss.values.map(String).join(", ")}`;
  else if (iss.code === "invalid_union" && input === undefined) expected = "expected a value";
  return `${formatPath(iss.path)}: got ${formatValue(input)}, ${expected}`;
}

/** Validates a parsed scenario object; throws InputError naming `source` and the first problems. */
export function validateScenario(data: unknown, source = "scenario"): Scenario {
  const r = scenarioSchema.safeParse(data);
  if (r.success) return r.data;
  const lines = r.error.issues.slice(0, 5).map((iss) => formatIssue(iss, data));
  throw new InputError(lines.join("; "), source);
}

/** Parses YAML or JSON text (JSON is YAML) into a validated scenario. */
export function parseScenario(text: string, source = "scenario"): Scenario {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (e) {
    const linePos = (e as { linePos?: { line: number }[] }).linePos;
    throw new InputError(
      `not valid YAML/JSON: ${(e as Error).message.split("\n")[0]}`,
      source,
      linePos?.[0]?.line,
    );
  }
  return validateScenario(data, source);
}

/** Parses one `--compare` entry given inline: a YAML/JSON mapping with a name and overrides. */
export function parseConfiguration(text: string, source = "--compare"): ConfigurationSpec {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (e) {
    throw new InputError(`not a YAML/JSON mapping: ${(e as Error).message.split("\n")[0]}`, source);
  }
  const r = configuration.safeParse(data);
  if (r.success) return r.data;
  throw new InputError(
    r.error.issues
      .slice(0, 5)
      .map((iss) => formatIssue(iss, data))
      .join("; "),
    source,
  );
}

/** Bytes of one frame of a pipeline at the given resolution. */
export function pipelineFrameBytes(p: PipelineSpec, resolution: string): number {
  const [w, h] = parseResolution(resolution)!;
  return frameSizeBytes(p.format, w, h, p.strideAlign);
}
