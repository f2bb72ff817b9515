import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { InputError } from "../src/errors.js";
import { DEFAULT_SCENARIO_YAML } from "../src/sim/default-scenario.js";
import { frameSizeBytes } from "../src/sim/frames.js";
import { Prng } from "../src/sim/prng.js";
import { Sampler } from "../src/sim/sampler.js";
import { parseConfiguration, parseScenario, parseSizeBytes } from "../src/sim/scenario.js";

const base = `name: t
devices: [{name: vpu}]
`;
const errorOf = (text: string): string => {
  try {
    parseScenario(text, "bad.yaml");
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as Error).message;
  }
  throw new Error("expected a validation error");
};

describe("scenario files", () => {
  it("accepts the embedded default and every ready scenario", () => {
    const d = parseScenario(DEFAULT_SCENARIO_YAML);
    expect(d.configurations?.map((c) => c.name)).toEqual([
      "lowmem CMA (3.17)",
      "highmem CMA (6.1)",
      "highmem + NO_KERNEL_MAPPING",
      "VMSPLIT_2G (6.1)",
    ]);
    expect(d.ops).toBeGreaterThanOrEqual(1_000_000);
    const files = readdirSync("scenarios").filter((f) => /\.(ya?ml|json)$/.test(f));
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const f of files)
      expect(() => parseScenario(readFileSync(`scenarios/${f}`, "utf8"), f)).not.toThrow();
  });

  it("fills defaults", () => {
    const s = parseScenario(`${base}workloads: [{kind: stream, device: vpu, size: 4M, initial: 3}]`);
    expect(s.seed).toBe(1);
    expect(s.ops).toBe(1_000_000);
    expect(s.devices[0]).toMatchObject({ coherent: false, dmaMaskBits: 32, noKernelMapping: false });
    expect(s.workloads[0]).toMatchObject({ api: "dma", size: { fixed: 4 << 20 }, ratePerSecond: 0 });
  });

  it("names the path, the value and what is expected", () => {
    expect(errorOf(`${base}workloads: [{kind: stream, device: vpu, size: 1M, colour: red}]`)).toBe(
      'bad.yaml: workloads[0].colour: got "red", unknown key; expected one of: kind, name, api, device, size, initial, ratePerSecond, lifetime, burst, maxLive',
    );
    expect(errorOf(`${base}workloads: [{kind: stream, device: vpu, size: 0}]`)).toMatch(
      /^bad\.yaml: workloads\[0\]\.size\.fixed: got 0, expected a size between 1 and 4G/,
    );
    expect(errorOf(`${base}workloads: [{kind: stream, device: vpu, size: 9G}]`)).toMatch(
      /size\.fixed: got "9G"/,
    );
    expect(
      errorOf(`${base}workloads: [{kind: stream, device: vpu, size: 1M, ratePerSecond: -5, lifetime: 10}]`),
    ).toMatch(/workloads\[0\]\.ratePerSecond: got -5, expected number >= 0/);
    expect(errorOf(`${base}workloads: [{kind: stream, device: gpu, size: 1M}]`)).toBe(
      'bad.yaml: workloads[0].device: got "gpu", expected one of the devices: vpu',
    );
    expect(
      errorOf(
        `${base}workloads: [{kind: pipeline, device: vpu, format: NV99, resolutions: [1080p], buffers: 2}]`,
      ),
    ).toMatch(/workloads\[0\]\.format: got "NV99", expected a pixel format: NV12/);
    expect(errorOf(`${base}workloads: [{kind: stream, device: vpu, size: 1M, ratePerSecond: 5}]`)).toMatch(
      /workloads\[0\]\.lifetime: got nothing, expected a lifetime/,
    );
    expect(
      errorOf(`${base}workloads: []\nconfigurations: [{name: a, devices: {gpu: {coherent: true}}}]`),
    ).toMatch(/workloads: got \[\], expected number of entries >= 1/);
    expect(
      errorOf(`name: t\ndevices: [{name: a}, {name: a}]\nworkloads: [{kind: stream, device: a, size: 1M}]`),
    ).toMatch(/devices\[1\]\.name: got "a", expected a unique device name/);
    expect(errorOf("name: [unclosed")).toMatch(/^bad\.yaml:1: not valid YAML/);
  });

  it("parses inline --compare configurations", () => {
    expect(parseConfiguration('{name: big, machine: {cmdline: "cma=1G"}}')).toEqual({
      name: "big",
      machine: { cmdline: "cma=1G" },
    });
    expect(() => parseConfiguration("{name: x, machine: {splt: 2G}}")).toThrow(
      /machine\.splt: got "2G", unknown key/,
    );
  });
});

describe("sizes, frames and distributions", () => {
  it("parses sizes with suffixes", () => {
    expect(parseSizeBytes("512K")).toBe(524288);
    expect(parseSizeBytes("1.5M")).toBe(1572864);
    expect(parseSizeBytes("2GiB")).toBe(2 ** 31);
    expect(parseSizeBytes("0x1000")).toBe(4096);
    expect(parseSizeBytes("12 parsecs")).toBeUndefined();
  });

  it("computes frame sizes like V4L2 (stride aligned)", () => {
    expect(frameSizeBytes("NV12", 1920, 1080)).toBe(1920 * 1080 * 1.5);
    expect(frameSizeBytes("ARGB8888", 1920, 1080)).toBe(1920 * 4 * 1080);
    // 1366 pixels: stride 1408 with 64-byte alignment
    expect(frameSizeBytes("NV12", 1366, 768)).toBe(1408 * 768 * 1.5);
  });

  it("draws each distribution within its bounds and near its mean", () => {
    const rng = new Prng(42);
    const draw = (d: Parameters<typeof parseScenario>[0]) => {
      const s = parseScenario(`${base}workloads: [{kind: stream, device: vpu, size: ${d}}]`).workloads[0];
      const sampler = new Sampler((s as unknown as { size: never }).size, true);
      return Array.from({ length: 20000 }, () => sampler.sample(rng));
    };
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    const u = draw("{uniform: {min: 4K, max: 8K}}");
    expect(Math.min(...u)).toBeGreaterThanOrEqual(4096);
    expect(Math.max(...u)).toBeLessThanOrEqual(8192);
    expect(mean(u) / 6144).toBeCloseTo(1, 1);
    const ln = draw("{logNormal: {median: 64K, sigma: 1, max: 1M}}");
    const sorted = [...ln].sort((a, b) => a - b);
    expect(sorted[10000] / 65536).toBeCloseTo(1, 1);
    expect(Math.max(...ln)).toBeLessThanOrEqual(1 << 20);
    const t = draw("{table: [{value: 4K, weight: 3}, {value: 64K, weight: 1}]}");
    expect(new Set(t)).toEqual(new Set([4096, 65536]));
    expect(t.filter((v) => v === 4096).length / t.length).toBeCloseTo(0.75, 1);
    expect(new Set(draw("{frame: {format: NV12, resolution: 720p}}"))).toEqual(new Set([1280 * 720 * 1.5]));
  });

  it("gives the same stream for the same seed, independent streams otherwise", () => {
    const a = new Prng(7);
    const b = new Prng(7);
    const c = new Prng(7, 1);
    const xs = Array.from({ length: 5 }, () => a.nextU32());
    expect(Array.from({ length: 5 }, () => b.nextU32())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.nextU32())).not.toEqual(xs);
  });
});
