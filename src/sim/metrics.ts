/**
 * Metrics of one simulated configuration: counters by cause, source and device, the first failure,
 * peaks, failure rate against load and a time series of the allocators' state. Counters live in
 * typed arrays so that recording an operation allocates nothing.
 */
import type { BufferSource, FailureCause } from "../runtime/api.js";
import type { TargetMaps, TargetSnapshot } from "./target.js";

export const FAILURE_CAUSES: readonly FailureCause[] = [
  "cma-no-range",
  "cma-busy",
  "vmalloc-exhausted",
  "modules-exhausted",
  "buddy-exhausted",
  "atomic-pool-exhausted",
  "highmem-rejected",
];
export const BUFFER_SOURCES: readonly BufferSource[] = ["cma", "buddy", "atomic-pool", "dev-pool"];
const CAUSE_INDEX = Object.fromEntries(FAILURE_CAUSES.map((c, i) => [c, i])) as Record<FailureCause, number>;
const SOURCE_INDEX = Object.fromEntries(BUFFER_SOURCES.map((c, i) => [c, i])) as Record<BufferSource, number>;

/** Failure-rate-vs-load buckets: live DMA bytes / CMA bytes, in steps of LOAD_STEP up to LOAD_MAX. */
export const LOAD_STEP = 0.05;
const LOAD_BUCKETS = 40;

/** Which API a workload exercises. */
export type WorkloadApi = "dma" | "ioremap" | "module";

/** The first failed request of a run, with the state around it. */
export interface FirstFailure {
  /** DMA-API operations done before it */
  op: number;
  timeMs: number;
  workload: string;
  api: WorkloadApi;
  device?: string;
  /** the CMA area the device allocates from (its DT pool, or the default area) */
  cmaArea?: string;
  sizeBytes: number;
  cause: FailureCause;
  /** the kernel's lines for it ([] when it prints none, e.g. with __GFP_NOWARN) */
  messages: string[];
  liveDmaBytes: number;
  liveCmaBytes: number;
  /** vmalloc bytes held by DMA buffer mappings (guard pages included) */
  liveVmallocDmaBytes: number;
  state: TargetSnapshot;
  maps: TargetMaps;
}

export interface DeviceMetrics {
  name: string;
  allocs: number;
  ok: number;
  failed: number;
  failuresByCause: Partial<Record<FailureCause, number>>;
  peakLiveBytes: number;
  /** op number of this device's first failure, or null */
  firstFailureOp: number | null;
}

export interface LoadBucket {
  /** lower edge of the bucket: live DMA bytes / CMA bytes */
  load: number;
  requests: number;
  failures: number;
}

/** A time series as columns of numbers (one row per sample). */
export interface TimeSeries {
  columns: string[];
  rows: number[][];
}

/** Page-aligned bytes of a request, as dma_alloc_attrs rounds it. */
export const pageAlign = (bytes: number): number => Math.ceil(bytes / 4096) * 4096;

export class Metrics {
  dmaOps = 0;
  allocs = 0;
  frees = 0;
  vmOps = 0;
  failed = 0;
  readonly byCause = new Float64Array(FAILURE_CAUSES.length);
  readonly bySource = new Float64Array(BUFFER_SOURCES.length);
  liveDmaBytes = 0;
  liveCmaBytes = 0;
  liveVmallocDmaBytes = 0;
  peakLiveDmaBytes = 0;
  peakLiveCmaBytes = 0;
  peakVmallocDmaBytes = 0;
  /** bytes of failed requests the drivers would still hold (offered minus served load) */
  unmetBytes = 0;
  /** peak offered load: live plus unmet bytes */
  peakDemandBytes = 0;
  firstFailure: FirstFailure | null = null;
  private readonly devOk: Float64Array;
  private readonly devFailed: Float64Array;
  private readonly devByCause: Float64Array;
  private readonly devLive: Float64Array;
  private readonly devPeak: Float64Array;
  private readonly devFirstFailure: Float64Array;
  private readonly loadRequests = new Float64Array(LOAD_BUCKETS);
  private readonly loadFailures = new Float64Array(LOAD_BUCKETS);
  private readonly messageCounts = new Map<string, number>();
  readonly series: TimeSeries;

  constructor(
    private readonly deviceNames: string[],
    private readonly cmaAreaNames: string[],
    private readonly totalCmaBytes: number,
  ) {
    const n = deviceNames.length;
    this.devOk = new Float64Array(n);
    this.devFailed = new Float64Array(n);
    this.devByCause = new Float64Array(n * FAILURE_CAUSES.length);
    this.devLive = new Float64Array(n);
    this.devPeak = new Float64Array(n);
    this.devFirstFailure = new Float64Array(n).fill(-1);
    this.series = {
      columns: [
        "ops",
        "timeMs",
        "liveDmaBytes",
        "liveCmaBytes",
        ...cmaAreaNames.flatMap((a) => [
          `cmaUsedPages:${a}`,
          `cmaLargestFreePages:${a}`,
          `cmaMovablePages:${a}`,
        ]),
        "vmallocUsedBytes",
        "vmallocLargestFreeBytes",
        "modulesUsedBytes",
        "lowmemFreePages",
        "highmemFreePages",
        "failures",
        ...deviceNames.map((d) => `liveBytes:${d}`),
      ],
      rows: [],
    };
  }

  /** Adds a failed request's bytes to the offered load for the time the driver would have held it. */
  addDemand(bytes: number): void {
    this.unmetBytes += pageAlign(bytes);
    if (this.liveDmaBytes + this.unmetBytes > this.peakDemandBytes)
      this.peakDemandBytes = this.liveDmaBytes + this.unmetBytes;
  }

  removeDemand(bytes: number): void {
    this.unmetBytes -= pageAlign(bytes);
  }

  /** Load bucket of a request arriving now: offered load (live + unmet bytes) over CMA bytes. */
  private loadBucket(): number {
    const load = this.totalCmaBytes > 0 ? (this.liveDmaBytes + this.unmetBytes) / this.totalCmaBytes : 0;
    return Math.min(LOAD_BUCKETS - 1, Math.floor(load / LOAD_STEP));
  }

  /** A successful dma_alloc_attrs of `bytes` for device `dev`. */
  dmaAllocOk(dev: number, bytes: number, source: BufferSource, inVmalloc: boolean): void {
    this.dmaOps++;
    this.allocs++;
    this.loadRequests[this.loadBucket()]++;
    this.bySource[SOURCE_INDEX[source]]++;
    this.devOk[dev]++;
    const b = pageAlign(bytes);
    this.liveDmaBytes += b;
    if (this.liveDmaBytes > this.peakLiveDmaBytes) this.peakLiveDmaBytes = this.liveDmaBytes;
    if (this.liveDmaBytes + this.unmetBytes > this.peakDemandBytes)
      this.peakDemandBytes = this.liveDmaBytes + this.unmetBytes;
    if (source === "cma") {
      this.liveCmaBytes += b;
      if (this.liveCmaBytes > this.peakLiveCmaBytes) this.peakLiveCmaBytes = this.liveCmaBytes;
    }
    if (inVmalloc) {
      this.liveVmallocDmaBytes += b + 4096;
      if (this.liveVmallocDmaBytes > this.peakVmallocDmaBytes)
        this.peakVmallocDmaBytes = this.liveVmallocDmaBytes;
    }
    this.devLive[dev] += b;
    if (this.devLive[dev] > this.devPeak[dev]) this.devPeak[dev] = this.devLive[dev];
  }

  /** A dma_free_attrs of a buffer recorded by dmaAllocOk. */
  dmaFree(dev: number, bytes: number, source: BufferSource, inVmalloc: boolean): void {
    this.dmaOps++;
    this.frees++;
    const b = pageAlign(bytes);
    this.liveDmaBytes -= b;
    if (source === "cma") this.liveCmaBytes -= b;
    if (inVmalloc) this.liveVmallocDmaBytes -= b + 4096;
    this.devLive[dev] -= b;
  }

  /** A failed request (dev < 0 for ioremap / module loads); returns true when it is the first. */
  failure(dev: number, cause: FailureCause, messages: string[]): boolean {
    if (dev >= 0) {
      this.dmaOps++;
      this.allocs++;
      const bucket = this.loadBucket();
      this.loadRequests[bucket]++;
      this.loadFailures[bucket]++;
      this.devFailed[dev]++;
      this.devByCause[dev * FAILURE_CAUSES.length + CAUSE_INDEX[cause]]++;
      if (this.devFirstFailure[dev] < 0) this.devFirstFailure[dev] = this.dmaOps;
    }
    this.failed++;
    this.byCause[CAUSE_INDEX[cause]]++;
    for (const m of messages) {
      const n = this.messageCounts.get(m);
      if (n !== undefined) this.messageCounts.set(m, n + 1);
      else if (this.messageCounts.size < 100) this.messageCounts.set(m, 1);
    }
    return this.firstFailure === null;
  }

  /** One row of the time series from the runtime's counters. */
  sample(timeMs: number, s: TargetSnapshot): void {
    const row = [this.dmaOps, Math.round(timeMs * 1000) / 1000, this.liveDmaBytes, this.liveCmaBytes];
    for (let i = 0; i < this.cmaAreaNames.length; i++) {
      row.push(s.cmaUsedPages[i] ?? 0, s.cmaLargestFreePages[i] ?? 0, s.cmaMovablePages[i] ?? 0);
    }
    row.push(
      s.vmallocUsedBytes,
      s.vmallocLargestFreeBytes,
      s.modulesUsedBytes,
      s.lowmemFreePages,
      s.highmemFreePages,
      this.failed,
    );
    for (let i = 0; i < this.devLive.length; i++) row.push(this.devLive[i]);
    this.series.rows.push(row);
  }

  causes(counts: Float64Array, offset = 0): Partial<Record<FailureCause, number>> {
    const out: Partial<Record<FailureCause, number>> = {};
    FAILURE_CAUSES.forEach((c, i) => {
      if (counts[offset + i] > 0) out[c] = counts[offset + i];
    });
    return out;
  }

  devices(): DeviceMetrics[] {
    return this.deviceNames.map((name, i) => ({
      name,
      allocs: this.devOk[i] + this.devFailed[i],
      ok: this.devOk[i],
      failed: this.devFailed[i],
      failuresByCause: this.causes(this.devByCause, i * FAILURE_CAUSES.length),
      peakLiveBytes: this.devPeak[i],
      firstFailureOp: this.devFirstFailure[i] < 0 ? null : this.devFirstFailure[i],
    }));
  }

  loadCurve(): LoadBucket[] {
    const out: LoadBucket[] = [];
    for (let i = 0; i < LOAD_BUCKETS; i++) {
      if (this.loadRequests[i] > 0) {
        out.push({
          load: Math.round(i * LOAD_STEP * 100) / 100,
          requests: this.loadRequests[i],
          failures: this.loadFailures[i],
        });
      }
    }
    return out;
  }

  messages(): { text: string; count: number }[] {
    return [...this.messageCounts].map(([text, count]) => ({ text, count }));
  }
}
