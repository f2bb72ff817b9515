/**
 * The discrete-event loop of one configuration: workload generators schedule arrivals, frees, bursts
 * and resolution changes on a binary heap in simulated milliseconds; each event calls the target's
 * allocators and records the outcome. Events and live buffers live in typed arrays (no allocation per
 * operation); the loop yields to the event loop every YIELD_OPS operations so that progress reports,
 * Ctrl-C and AbortSignal get through.
 */
import type { BufferSource, DmaAttrs, DmaDevice, FailureCause, GfpFlags } from "../runtime/api.js";
import type { ResolvedConfiguration } from "./configurations.js";
import { BUFFER_SOURCES, type FirstFailure, Metrics, type WorkloadApi } from "./metrics.js";
import { Prng } from "./prng.js";
import { Sampler } from "./sampler.js";
import { pipelineFrameBytes, type Scenario } from "./scenario.js";
import type { DmaOutcome, SimTarget } from "./target.js";

enum Ev {
  /** next Poisson arrival of a stream */
  Arrival,
  /** one allocation of a stream without a follow-up (initial population) */
  Single,
  Free,
  Burst,
  /** a pipeline (re)allocates its buffers at the next resolution */
  Change,
}

enum Api {
  Dma,
  Ioremap,
  Module,
}

const API_NAMES: WorkloadApi[] = ["dma", "ioremap", "module"];
/** Slot source marking unmet demand: a request that failed but would have lived (not in the runtime). */
const PHANTOM = 255;
/** operations between two yields to the event loop */
const YIELD_OPS = 1 << 16;

type TypedArray = Int32Array | Float64Array | Uint8Array;

/** A copy of `a` in a new array of length `n` of the same type (growing a typed-array column). */
function grown<T extends TypedArray>(a: T, n: number): T {
  const b = new (a.constructor as new (length: number) => T)(n);
  b.set(a);
  return b;
}

/** A growable stack of ids in a typed array (no boxing, no garbage). */
class IdStack {
  private a = new Int32Array(256);
  n = 0;
  push(v: number): void {
    if (this.n === this.a.length) this.a = grown(this.a, this.n * 2);
    this.a[this.n++] = v;
  }
  pop(): number {
    return this.a[--this.n];
  }
}

/** Bits of a packed event word that hold its kind; the argument (an index below 2^28) is above them. */
const KIND_BITS = 3;

/**
 * A min-heap of events ordered by time, kept as two columns in heap order: the times, and each
 * event's kind and argument packed in one word (no event ids, no free list). Equal times come out
 * in an order fixed by the sequence of pushes and pops, so a run is deterministic without a
 * tie-break key.
 */
class EventQueue {
  private time = new Float64Array(1024);
  private event = new Int32Array(1024);
  size = 0;
  /** the time of the event pop() returned last: the simulated clock (ms), 0 before the first */
  topTime = 0;

  push(t: number, kind: Ev, arg: number): void {
    if (this.size === this.time.length) {
      this.time = grown(this.time, this.size * 2);
      this.event = grown(this.event, this.size * 2);
    }
    const e = (arg << KIND_BITS) | kind;
    const time = this.time;
    const event = this.event;
    let i = this.size++;
    // a 4-ary heap: half the depth of a binary one, and the four children share a cache line
    while (i > 0) {
      const p = (i - 1) >> 2;
      if (time[p] <= t) break;
      time[i] = time[p];
      event[i] = event[p];
      i = p;
    }
    time[i] = t;
    event[i] = e;
  }

  /** Removes the earliest event and returns its packed word (kind: popKind, argument: popArg). */
  pop(): number {
    const time = this.time;
    const event = this.event;
    const top = event[0];
    this.topTime = time[0];
    const n = --this.size;
    const lastTime = time[n];
    const last = event[n];
    let i = 0;
    while (true) {
      const first = 4 * i + 1;
      if (first >= n) break;
      let c = first;
      if (first + 3 < n) {
        // the first smallest of four without a branch on the random times (one mispredicts half
        // of the time): the smaller of each pair, then of the two, picked by 0/1 arithmetic
        const a = first + +(time[first + 1] < time[first]);
        const b = first + 2 + +(time[first + 3] < time[first + 2]);
        c = a + (b - a) * +(time[b] < time[a]);
      } else {
        for (let k = first + 1; k < n; k++) if (time[k] < time[c]) c = k;
      }
      const ct = time[c];
      if (ct >= lastTime) break;
      time[i] = ct;
      event[i] = event[c];
      i = c;
    }
    time[i] = lastTime;
    event[i] = last;
    return top;
  }
}

const popKind = (e: number): Ev => e & ((1 << KIND_BITS) - 1);
const popArg = (e: number): number => e >> KIND_BITS;

/** Live buffers: what a free needs to undo an allocation. */
class Slots {
  /** the target's handle (a DMA handle, or a 32-bit virtual address: not an Int32) */
  handle = new Float64Array(1024);
  workload = new Int32Array(1024);
  bytes = new Float64Array(1024);
  source = new Uint8Array(1024);
  inVmalloc = new Uint8Array(1024);
  private readonly freeIds = new IdStack();
  private next = 0;

  take(): number {
    if (this.freeIds.n > 0) return this.freeIds.pop();
    if (this.next === this.handle.length) {
      const n = this.next * 2;
      this.handle = grown(this.handle, n);
      this.workload = grown(this.workload, n);
      this.bytes = grown(this.bytes, n);
      this.source = grown(this.source, n);
      this.inVmalloc = grown(this.inVmalloc, n);
    }
    return this.next++;
  }

  release(id: number): void {
    this.freeIds.push(id);
  }
}

/** A workload compiled for the loop. */
interface Workload {
  name: string;
  api: Api;
  /** device index, -1 for ioremap/module workloads */
  dev: number;
  device?: DmaDevice;
  attrs: DmaAttrs;
  gfp: GfpFlags;
  rng: Prng;
  size?: Sampler;
  lifetime?: Sampler;
  meanInterarrivalMs: number;
  initial: number;
  burstEveryMs: number;
  burstCount: number;
  maxLive: number;
  live: number;
  /** pipeline: frame bytes per resolution, current index, live slots, period */
  frameBytes: number[];
  resolution: number;
  buffers: number;
  pipelineSlots: number[];
  changeEveryMs: number;
}

function compileWorkloads(s: Scenario, c: ResolvedConfiguration, seed: number): Workload[] {
  const devIndex = new Map(c.devices.map((d, i) => [d.name, i]));
  return s.workloads.map((w, i): Workload => {
    const devSpec = w.device !== undefined ? c.devices[devIndex.get(w.device)!] : undefined;
    const api =
      w.kind === "pipeline" || w.api === "dma" ? Api.Dma : w.api === "ioremap" ? Api.Ioremap : Api.Module;
    const base: Workload = {
      name: w.name ?? `${w.kind}${i}${w.device ? `:${w.device}` : ""}`,
      api,
      dev: api === Api.Dma && w.device !== undefined ? devIndex.get(w.device)! : -1,
      device: devSpec && {
        name: devSpec.name,
        coherent: devSpec.coherent,
        dmaMaskBits: devSpec.dmaMaskBits,
        cmaArea: devSpec.cmaArea,
      },
      attrs: { noKernelMapping: devSpec?.noKernelMapping ?? false },
      gfp: { atomic: devSpec?.atomic ?? false },
      // one independent stream per workload: adding a workload does not change the others' draws
      rng: new Prng(seed, i),
      meanInterarrivalMs: 0,
      initial: 0,
      burstEveryMs: 0,
      burstCount: 0,
      maxLive: Number.POSITIVE_INFINITY,
      live: 0,
      frameBytes: [],
      resolution: 0,
      buffers: 0,
      pipelineSlots: [],
      changeEveryMs: 0,
    };
    if (w.kind === "pipeline") {
      base.frameBytes = w.resolutions.map((r) => pipelineFrameBytes(w, r));
      base.buffers = w.buffers;
      base.changeEveryMs = w.changeEvery ?? 0;
      return base;
    }
    base.size = new Sampler(w.size, true);
    base.lifetime = w.lifetime && new Sampler(w.lifetime, false);
    base.meanInterarrivalMs = w.ratePerSecond > 0 ? 1000 / w.ratePerSecond : 0;
    base.initial = w.initial;
    base.burstEveryMs = w.burst?.every ?? 0;
    base.burstCount = w.burst?.count ?? 0;
    base.maxLive = w.maxLive ?? Number.POSITIVE_INFINITY;
    return base;
  });
}

/** Progress of a run, reported every few tens of thousands of operations. */
export interface SimProgress {
  /** configuration being simulated, and its index among `configurations` */
  configuration: string;
  index: number;
  configurations: number;
  /** DMA-API operations done in this configuration, and its target */
  ops: number;
  opsTarget: number;
}

export interface RunControl {
  opsTarget: number;
  seed: number;
  samples: number;
  onProgress?: (p: SimProgress) => void;
  signal?: AbortSignal;
  index: number;
  configurations: number;
}

/** The raw outcome of one configuration's event loop. */
export interface RunOutcome {
  metrics: Metrics;
  simulatedMs: number;
  vmOps: number;
  interrupted: boolean;
  seconds: number;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Runs one configuration until `opsTarget` DMA-API operations, an empty queue or an abort. */
export async function runConfiguration(
  s: Scenario,
  c: ResolvedConfiguration,
  target: SimTarget,
  ctl: RunControl,
): Promise<RunOutcome> {
  const started = performance.now();
  const areas = target.machine.cmaAreas;
  const metrics = new Metrics(
    c.devices.map((d) => d.name),
    areas.map((a) => a.name),
    areas.reduce((sum, a) => sum + a.countPages * 4096, 0),
  );
  const wls = compileWorkloads(s, c, ctl.seed);
  const defaultArea = areas.find((a) => a.isDefault)?.name;
  const q = new EventQueue();
  const slots = new Slots();

  wls.forEach((w, i) => {
    if (w.frameBytes.length > 0) {
      q.push(0, Ev.Change, i);
      return;
    }
    for (let k = 0; k < w.initial; k++) q.push(0, Ev.Single, i);
    if (w.meanInterarrivalMs > 0) q.push(w.rng.exponential(w.meanInterarrivalMs), Ev.Arrival, i);
    if (w.burstEveryMs > 0 && w.burstCount > 0) q.push(w.burstEveryMs, Ev.Burst, i);
  });

  const recordFailure = (w: Workload, bytes: number, cause: FailureCause, messages: string[]) => {
    if (metrics.failure(w.dev, cause, messages)) {
      const ff: FirstFailure = {
        op: metrics.dmaOps,
        timeMs: q.topTime,
        workload: w.name,
        api: API_NAMES[w.api],
        device: w.device?.name,
        cmaArea: w.device ? (w.device.cmaArea ?? defaultArea) : undefined,
        sizeBytes: bytes,
        cause,
        messages,
        liveDmaBytes: metrics.liveDmaBytes,
        liveCmaBytes: metrics.liveCmaBytes,
        liveVmallocDmaBytes: metrics.liveVmallocDmaBytes,
        state: target.snapshot(),
        maps: target.maps(),
      };
      metrics.firstFailure = ff;
      metrics.sample(q.topTime, ff.state);
    }
  };

  // one outcome record for every DMA allocation of the run
  const r: DmaOutcome = {
    ok: false,
    handle: 0,
    source: "cma",
    inVmalloc: false,
    cause: "buddy-exhausted",
    messages: [],
  };
  /** dmaAlloc into `r` for a target without dmaAllocInto */
  const dmaAllocCopy = (dev: DmaDevice, bytes: number, attrs: DmaAttrs, gfp: GfpFlags): void => {
    const res = target.dmaAlloc(dev, bytes, attrs, gfp);
    r.ok = res.ok;
    if (res.ok) {
      r.handle = res.handle;
      r.source = res.source;
      r.inVmalloc = res.inVmalloc;
    } else {
      r.cause = res.cause;
      r.messages = res.messages;
    }
  };
  const hasAllocInto = target.dmaAllocInto !== undefined;

  /** Allocates one buffer of `bytes` for workload `wi`; returns its slot (a phantom one for a failed DMA request) or -1. */
  const allocate = (wi: number, bytes: number): number => {
    const w = wls[wi];
    if (w.api === Api.Dma) {
      if (hasAllocInto) target.dmaAllocInto!(w.device!, bytes, w.attrs, w.gfp, r);
      else dmaAllocCopy(w.device!, bytes, w.attrs, w.gfp);
      const id = slots.take();
      slots.workload[id] = wi;
      slots.bytes[id] = bytes;
      w.live++;
      if (!r.ok) {
        recordFailure(w, bytes, r.cause, r.messages);
        // The driver still wants the buffer: it stays as unmet demand for its lifetime (offered load).
        slots.source[id] = PHANTOM;
        metrics.addDemand(bytes);
        return id;
      }
      metrics.dmaAllocOk(w.dev, bytes, r.source, r.inVmalloc);
      slots.handle[id] = r.handle;
      slots.source[id] = BUFFER_SOURCES.indexOf(r.source);
      slots.inVmalloc[id] = r.inVmalloc ? 1 : 0;
      return id;
    }
    metrics.vmOps++;
    const vm = w.api === Api.Ioremap ? target.ioremap(bytes) : target.moduleAlloc(bytes);
    if (!vm.ok) {
      recordFailure(w, bytes, vm.cause, vm.messages);
      return -1;
    }
    const id = slots.take();
    slots.handle[id] = vm.handle;
    slots.workload[id] = wi;
    slots.bytes[id] = bytes;
    w.live++;
    return id;
  };

  const free = (id: number): void => {
    const w = wls[slots.workload[id]];
    if (w.api === Api.Dma && slots.source[id] === PHANTOM) metrics.removeDemand(slots.bytes[id]);
    else if (w.api === Api.Dma) {
      target.dmaFree(slots.handle[id]);
      metrics.dmaFree(
        w.dev,
        slots.bytes[id],
        BUFFER_SOURCES[slots.source[id]] as BufferSource,
        slots.inVmalloc[id] === 1,
      );
    } else {
      metrics.vmOps++;
      if (w.api === Api.Ioremap) target.iounmap(slots.handle[id]);
      else target.moduleFree(slots.handle[id]);
    }
    w.live--;
    slots.release(id);
  };

  /** One stream allocation with its scheduled free. */
  const streamAlloc = (wi: number): void => {
    const w = wls[wi];
    if (w.live >= w.maxLive) return;
    const id = allocate(wi, w.size!.sample(w.rng));
    if (id >= 0 && w.lifetime) q.push(q.topTime + w.lifetime.sample(w.rng), Ev.Free, id);
  };

  const sampleEvery = Math.max(1, Math.ceil(ctl.opsTarget / ctl.samples));
  let nextSample = 0;
  let nextYield = YIELD_OPS;
  // Guards against scenarios whose events never reach the target (e.g. only ioremap churn).
  const maxEvents = ctl.opsTarget * 50 + 1_000_000;
  let events = 0;
  let interrupted = false;

  const running = () => q.size > 0 && metrics.dmaOps < ctl.opsTarget && events < maxEvents;
  /**
   * Runs events until the next yield point or the end of the run: a plain function, which V8
   * optimises better than the loop of an async function.
   */
  const runEvents = (): void => {
    while (running()) {
      const before = q.topTime;
      const e = q.pop();
      const now = q.topTime;
      if (now !== before) target.setClock?.(now);
      const arg = popArg(e);
      events++;
      switch (popKind(e)) {
        case Ev.Free:
          free(arg);
          break;
        case Ev.Arrival: {
          const w = wls[arg];
          q.push(now + w.rng.exponential(w.meanInterarrivalMs), Ev.Arrival, arg);
          streamAlloc(arg);
          break;
        }
        case Ev.Single:
          streamAlloc(arg);
          break;
        case Ev.Burst: {
          const w = wls[arg];
          q.push(now + w.burstEveryMs, Ev.Burst, arg);
          for (let k = 0; k < w.burstCount; k++) streamAlloc(arg);
          break;
        }
        case Ev.Change: {
          const w = wls[arg];
          for (const sid of w.pipelineSlots) free(sid);
          w.pipelineSlots.length = 0;
          if (now > 0) w.resolution = (w.resolution + 1) % w.frameBytes.length;
          for (let k = 0; k < w.buffers; k++) {
            const sid = allocate(arg, w.frameBytes[w.resolution]);
            if (sid >= 0) w.pipelineSlots.push(sid);
          }
          if (w.changeEveryMs > 0) q.push(now + w.changeEveryMs, Ev.Change, arg);
          break;
        }
      }
      if (metrics.dmaOps >= nextSample) {
        metrics.sample(now, target.snapshot());
        nextSample = metrics.dmaOps + sampleEvery;
      }
      if (metrics.dmaOps >= nextYield) return;
    }
  };

  while (running()) {
    runEvents();
    if (metrics.dmaOps >= nextYield) {
      nextYield = metrics.dmaOps + YIELD_OPS;
      ctl.onProgress?.({
        configuration: c.name,
        index: ctl.index,
        configurations: ctl.configurations,
        ops: metrics.dmaOps,
        opsTarget: ctl.opsTarget,
      });
      await yieldToEventLoop();
      if (ctl.signal?.aborted) {
        interrupted = true;
        break;
      }
    }
  }
  metrics.sample(q.topTime, target.snapshot());
  return {
    metrics,
    simulatedMs: q.topTime,
    vmOps: metrics.vmOps,
    interrupted,
    seconds: (performance.now() - started) / 1000,
  };
}
