import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../src/cli/index.js";
import { type Bmt1Trace, formatChecksum, parseBmt1, replayTrace } from "../src/input/bmt1-trace.js";
import { PageBitmap } from "../src/wasm/page-bitmap.js";
import { WasmTraceReplayer } from "../src/wasm/trace-replay.js";
import { type AnchorTrace, anchorTraces, generateTrace } from "./helpers/anchor-traces.js";
import { captureIo } from "./helpers/io.js";
import { KernelBitmap } from "./helpers/kernel-bitmap.js";

// The three standard traces of the native anchor, regenerated from their seeds (never stored), must
// replay to the anchor's checksum lines with the index, with the kernel loop, and from JavaScript.
const standard = anchorTraces();
const files = new Map<string, string>();
const traces = new Map<string, Bmt1Trace>();
const dir = mkdtempSync(join(tmpdir(), "cma-emu-trace-"));

beforeAll(async () => {
  const made = await Promise.all(standard.map((t) => generateTrace(t, dir)));
  standard.forEach((t, k) => {
    files.set(t.name, made[k].file);
    traces.set(t.name, parseBmt1(readFileSync(made[k].file), made[k].file));
    // The generator itself agrees with the stored reference, or the fixture is stale.
    expect(made[k].line).toBe(t.checksum);
  });
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const byName = (t: AnchorTrace) => traces.get(t.name)!;

describe("standard traces replayed in WASM", () => {
  it("lists the three standard traces", () => {
    expect(standard.map((t) => t.name)).toEqual(["std-512MiB", "std-4GiB", "stress-512MiB"]);
  });
  for (const t of standard) {
    it(`${t.name}: index and kernel loop both print the anchor's line`, () => {
      const replayer = new WasmTraceReplayer(byName(t));
      try {
        expect(formatChecksum(replayer.run(false).checksum)).toBe(t.checksum);
        expect(formatChecksum(replayer.run(true).checksum)).toBe(t.checksum);
        // a second run on a fresh bitmap gives the same line
        expect(formatChecksum(replayer.run(false).checksum)).toBe(t.checksum);
      } finally {
        replayer.dispose();
      }
    });
  }
});

describe("standard traces replayed op by op from JavaScript", () => {
  for (const t of standard.slice(0, 2)) {
    it(`${t.name}: PageBitmap through its public API`, () => {
      const bm = PageBitmap.create(t.bits);
      try {
        const c = replayTrace(byName(t), bm, (nr, mask) => bm.findNextZeroAreaOff(0, nr, mask, 0));
        expect(formatChecksum(c)).toBe(t.checksum);
      } finally {
        bm.dispose();
      }
    });
  }
  it("std-512MiB: the TypeScript reference model", () => {
    const t = standard[0];
    const ref = new KernelBitmap(t.bits);
    const c = replayTrace(byName(t), ref, (nr, mask) => ref.findNextZeroAreaOff(0, nr, mask, 0));
    expect(formatChecksum(c)).toBe(t.checksum);
  });
});

describe("cma-emu trace", () => {
  it("prints the checksum line, then ops_per_s", async () => {
    const t = standard[0];
    for (const extra of [[], ["--naive"]]) {
      const io = captureIo();
      expect(await main(["trace", files.get(t.name)!, "--runs", "3", ...extra], io)).toBe(0);
      const lines = io.stdout.trimEnd().split("\n");
      expect(lines).toHaveLength(2);
      expect(lines[0]).toBe(t.checksum);
      expect(lines[1]).toMatch(/^ops_per_s=\d+$/);
      expect(Number(lines[1].slice(10))).toBeGreaterThan(0);
    }
  });
});
