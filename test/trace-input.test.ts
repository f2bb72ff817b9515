import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../src/cli/index.js";
import { InputError } from "../src/errors.js";
import { formatChecksum, parseBmt1, replayTrace } from "../src/input/bmt1-trace.js";
import { PageBitmap } from "../src/wasm/page-bitmap.js";
import { WasmTraceReplayer } from "../src/wasm/trace-replay.js";
import { captureIo } from "./helpers/io.js";

/** A BMT1 file from header fields and op words. */
function bmt1(nbits: number, ops: number[], header: Partial<Record<number, number>> = {}): Uint8Array {
  const nallocs = ops.filter((o) => (o & 0x80000000) === 0).length;
  const words = new Uint32Array([0x31544d42, 1, nbits, ops.length, nallocs, 7, 8, 0, ...ops]);
  for (const [k, v] of Object.entries(header)) words[Number(k)] = v as number;
  return new Uint8Array(words.buffer);
}

const alloc = (nr: number, order: number) => (order << 16) | nr;
const free = (id: number) => (0x80000000 | id) >>> 0;

describe("BMT1 reader", () => {
  it("reads a small trace and both replays agree on a hand-checked result", () => {
    // 100 bits: alloc 10 (order 4) -> 0; alloc 3 (order 2) -> 12; free #0; alloc 20 (order 5) -> 32
    // (0 and 16 collide with bits 12..14); alloc 90 (order 7) fails; alloc 1 (order 0) -> 0
    const ops = [alloc(10, 4), alloc(3, 2), free(0), alloc(20, 5), alloc(90, 7), alloc(1, 0)];
    const trace = parseBmt1(bmt1(100, ops), "small.bin");
    expect(trace.nallocs).toBe(5);
    let h = 0x811c9dc5;
    for (const r of [0, 12, 32, 0xffffffff, 0]) h = Math.imul((h ^ r) >>> 0, 0x01000193) >>> 0;
    const want = `checksum nbits=100 ops=6 allocs=5 fails=1 sum=44 hash=0x${h.toString(16).padStart(8, "0")} setbits=24`;
    const replayer = new WasmTraceReplayer(trace);
    expect(formatChecksum(replayer.run(false).checksum)).toBe(want);
    expect(formatChecksum(replayer.run(true).checksum)).toBe(want);
    // a prefix (the CLI's warm-up) is a trace of its own: alloc [0, 10), alloc [12, 15), free [0, 10)
    const prefix = replayer.run(false, 3).checksum;
    expect([prefix.ops, prefix.allocs, prefix.fails, prefix.sum, prefix.setbits]).toEqual([3, 2, 0, 12, 3]);
    replayer.dispose();
    const bm = PageBitmap.create(100);
    expect(formatChecksum(replayTrace(trace, bm, (nr, m) => bm.findNextZeroAreaOffNaive(0, nr, m, 0)))).toBe(
      want,
    );
    bm.dispose();
  });

  it("rejects malformed files with an InputError naming the file", () => {
    const cases: [Uint8Array, RegExp][] = [
      [new Uint8Array(10), /not a BMT1 trace/],
      [bmt1(100, [alloc(1, 0)], { 0: 0x12345678 }), /bad magic/],
      [bmt1(100, [alloc(1, 0)], { 1: 2 }), /version 2/],
      [bmt1(0, [alloc(1, 0)]), /nbits 0/],
      [bmt1(100, [alloc(1, 0)], { 3: 5 }), /header says 5 ops/],
      [bmt1(100, [alloc(1, 0)], { 4: 3 }), /header says 3 allocs/],
      [bmt1(100, [free(0)]), /frees alloc 0 before it exists/],
      [bmt1(100, [alloc(0, 0)]), /not a valid alloc/],
    ];
    for (const [bytes, msg] of cases) {
      expect(() => parseBmt1(bytes, "bad.bin")).toThrow(InputError);
      expect(() => parseBmt1(bytes, "bad.bin")).toThrow(msg);
      expect(() => parseBmt1(bytes, "bad.bin")).toThrow(/^bad\.bin: /);
    }
  });
});

describe("cma-emu trace errors", () => {
  const dir = mkdtempSync(join(tmpdir(), "cma-emu-bad-"));
  it("a missing or malformed file is one line and exit code 2", async () => {
    const bad = join(dir, "bad.bin");
    writeFileSync(bad, bmt1(100, [alloc(1, 0)], { 0: 1 }));
    for (const file of [join(dir, "missing.bin"), bad]) {
      const io = captureIo();
      expect(await main(["trace", file], io)).toBe(2);
      expect(io.stderr.trim().split("\n")).toHaveLength(1);
      expect(io.stderr).toMatch(/^cma-emu: .*(ENOENT|bad magic)/);
    }
  });
  it("--runs must be a positive integer", async () => {
    const io = captureIo();
    expect(await main(["trace", "x.bin", "--runs", "0"], io)).toBe(2);
  });
  it("--help shows an example", async () => {
    const io = captureIo();
    expect(await main(["trace", "--help"], io)).toBe(0);
    expect(io.stdout).toMatch(/Examples:/);
    expect(io.stdout).toMatch(/cma-emu trace \S+ --runs 5 --naive/);
  });
});
