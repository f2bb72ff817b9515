import type { Bmt1Trace, TraceChecksum } from "../input/bmt1-trace.js";
import { bitmapCore } from "./loader.js";

/** One timed replay. */
export interface TimedReplay {
  checksum: TraceChecksum;
  seconds: number;
}

/**
 * Replays a BMT1 trace inside the WASM core (the op loop is in assembly/, as the native anchor's is
 * in C, so the time is the bitmap's alone). The ops are copied into linear memory once; every run
 * starts from a fresh bitmap.
 */
export class WasmTraceReplayer {
  private readonly core = bitmapCore();
  private ops: number;
  private readonly starts: number;
  private readonly sizes: number;

  constructor(private readonly trace: Bmt1Trace) {
    const core = this.core;
    const scratch = Math.max(1, trace.nallocs) * 4;
    this.ops = core.alloc(Math.max(4, trace.ops.byteLength)) >>> 0;
    this.starts = core.alloc(scratch) >>> 0;
    this.sizes = core.alloc(scratch) >>> 0;
    // The view is made after the allocations, which may have grown (and so detached) the memory.
    new Uint32Array(core.memory.buffer, this.ops, trace.ops.length).set(trace.ops);
  }

  /**
   * Replays once, with the index (default) or with the kernel loop (`naive`). `opsLimit` replays only
   * a prefix (a valid trace too: frees name earlier allocs), e.g. to warm up the JIT; the checksum
   * then describes that prefix.
   */
  run(naive = false, opsLimit = Number.POSITIVE_INFINITY): TimedReplay {
    if (this.ops === 0) throw new Error("WasmTraceReplayer used after dispose()");
    const core = this.core;
    const { trace } = this;
    const nops = Math.min(trace.ops.length, opsLimit);
    const handle = core.create(trace.nbits) >>> 0;
    const t0 = performance.now();
    core.replay(handle, this.ops, nops, this.starts, this.sizes, naive ? 1 : 0);
    const seconds = (performance.now() - t0) / 1000;
    const checksum: TraceChecksum = {
      nbits: trace.nbits,
      ops: nops,
      allocs: nops === trace.ops.length ? trace.nallocs : countAllocs(trace.ops.subarray(0, nops)),
      fails: core.getResultFails() >>> 0,
      sum: core.getResultSum(),
      hash: core.getResultHash() >>> 0,
      setbits: core.weight(handle) >>> 0,
    };
    core.dispose(handle);
    return { checksum, seconds };
  }

  dispose(): void {
    if (this.ops === 0) return;
    this.core.free(this.ops);
    this.core.free(this.starts);
    this.core.free(this.sizes);
    this.ops = 0;
  }
}

function countAllocs(ops: Uint32Array): number {
  let n = 0;
  for (const op of ops) if ((op & 0x80000000) === 0) n++;
  return n;
}
