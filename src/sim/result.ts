/**
 * The result of a simulation: plain data (numbers, strings, arrays), ready for JSON, and the same
 * for the same seed on any machine apart from the timing fields (`seconds`).
 */
import type { BootedMachine } from "../boot/machine.js";
import type { RuntimeRules } from "../kernel/profile.js";
import type { BufferSource, FailureCause } from "../runtime/api.js";
import type { DeviceMetrics, FirstFailure, LoadBucket, TimeSeries } from "./metrics.js";

/** What a configuration booted into: the facts the comparison table shows. */
export interface MachineSummary {
  kernel: string;
  /** first version of the era row the profile used */
  era: string;
  dmaPath: RuntimeRules["dmaPath"];
  noKernelMapping: RuntimeRules["noKernelMapping"];
  pageOffset: string;
  lowmemBytes: number;
  highmemBytes: number;
  vmallocStart: string;
  vmallocEnd: string;
  vmallocBytes: number;
  modulesBytes: number;
  cmaAreas: {
    name: string;
    base: string;
    sizeBytes: number;
    placement: "lowmem" | "highmem";
    isDefault: boolean;
  }[];
  /** set when this configuration would not boot */
  panic?: string;
}

export interface ConfigurationResult {
  name: string;
  description?: string;
  machine: MachineSummary;
  /** DMA-API operations (dma_alloc_attrs + dma_free_attrs calls) */
  ops: number;
  allocs: number;
  frees: number;
  /** ioremap / iounmap / module load and unload calls */
  vmOps: number;
  simulatedMs: number;
  /** successful DMA allocations */
  ok: number;
  /** failed requests of every kind (DMA, ioremap, module loads) */
  failed: number;
  failuresByCause: Partial<Record<FailureCause, number>>;
  allocsBySource: Partial<Record<BufferSource, number>>;
  firstFailure: FirstFailure | null;
  /** why the first failure happened, and what would avoid it */
  explanation: string;
  advice: string[];
  peaks: {
    /** live DMA buffer bytes (page aligned) */
    liveDmaBytes: number;
    /** live bytes from CMA */
    cmaBytes: number;
    /** DMA buffer mappings in the vmalloc area (guard pages included) */
    vmallocDmaBytes: number;
    /** vmalloc area in use, all users (from the runtime) */
    vmallocUsedBytes: number;
    /** offered load: live bytes plus the bytes of failed requests the drivers would still hold */
    demandBytes: number;
    /** smallest "largest free run" of the default CMA area seen (fragmentation) */
    minCmaLargestFreeBytes: number;
    modulesUsedBytes: number;
  };
  devices: DeviceMetrics[];
  failureRateByLoad: LoadBucket[];
  timeSeries: TimeSeries;
  /** the kernel lines printed by failures, with how often each appeared */
  messages: { text: string; count: number }[];
  interrupted: boolean;
  /** wall time of this configuration (timing field) */
  seconds: number;
}

export interface SimResult {
  scenario: string;
  description?: string;
  seed: number;
  opsPerConfiguration: number;
  configurations: ConfigurationResult[];
  verdict: string[];
  /** true when the run was aborted (Ctrl-C, AbortSignal): the results are partial */
  interrupted: boolean;
  /** DMA-API operations over all configurations */
  ops: number;
  /** total wall time (timing field) */
  seconds: number;
}

const hex = (n: number): string => `0x${n.toString(16).padStart(8, "0")}`;

/** The comparison-table facts of a booted machine. */
export function summarizeMachine(m: BootedMachine): MachineSummary {
  const lowPages = m.zones.filter((z) => z.name !== "HighMem").reduce((s, z) => s + z.presentPages, 0);
  const highPages = m.zones.filter((z) => z.name === "HighMem").reduce((s, z) => s + z.presentPages, 0);
  return {
    kernel: m.profile.version,
    era: m.profile.era,
    dmaPath: m.profile.runtime.dmaPath,
    noKernelMapping: m.profile.runtime.noKernelMapping,
    pageOffset: hex(m.layout.pageOffset),
    lowmemBytes: lowPages * 4096,
    highmemBytes: highPages * 4096,
    vmallocStart: hex(m.layout.vmalloc.start),
    vmallocEnd: hex(m.layout.vmalloc.end),
    vmallocBytes: m.layout.vmalloc.end - m.layout.vmalloc.start,
    modulesBytes: m.layout.modules.end - m.layout.modules.start,
    cmaAreas: m.cmaAreas.map((a) => ({
      name: a.name,
      base: `0x${(BigInt(a.basePfn) << 12n).toString(16).padStart(m.lpae ? 9 : 8, "0")}`,
      sizeBytes: a.countPages * 4096,
      placement: a.inHighmem ? "highmem" : "lowmem",
      isDefault: a.isDefault,
    })),
    ...(m.panic ? { panic: m.panic } : {}),
  };
}
