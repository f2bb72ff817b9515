/**
 * Plain-language explanations: why a configuration failed first, and which configuration change
 * would avoid it; then a verdict over all configurations of a comparison.
 */
import type { ConfigurationResult, MachineSummary } from "./result.js";

const MiB = 1024 * 1024;
const mib = (bytes: number): string => `${Math.round((bytes / MiB) * 10) / 10} MiB`;
/** Rounds up to a multiple of `step` MiB, in MiB. */
const roundUpMib = (bytes: number, step: number): number => Math.ceil(bytes / MiB / step) * step;

function mappedDevices(r: ConfigurationResult): string {
  const names = r.devices.filter((d) => (d.failuresByCause["vmalloc-exhausted"] ?? 0) > 0).map((d) => d.name);
  return names.length ? names.join(", ") : "the failing devices";
}

/** Why the first failure happened, in one sentence. */
export function explainFirstFailure(r: ConfigurationResult): string {
  const f = r.firstFailure;
  if (!f) {
    return r.machine.panic
      ? `this configuration does not boot: ${r.machine.panic}`
      : `no failure in ${r.ops.toLocaleString("en-US")} DMA-API operations (peak ${mib(r.peaks.liveDmaBytes)} of DMA buffers live)`;
  }
  const who = `${f.device ?? f.workload} (${mib(f.sizeBytes)}, op ${f.op.toLocaleString("en-US")})`;
  const m = r.machine;
  switch (f.cause) {
    case "vmalloc-exhausted":
      return f.api === "dma"
        ? `vmalloc space exhausted: every buffer from the highmem CMA area needs a kernel mapping in the ${mib(m.vmallocBytes)} vmalloc area; ${mib(f.state.vmallocUsedBytes)} were in use when ${who} failed, with ${mib(f.liveCmaBytes)} of CMA buffers live`
        : `vmalloc space exhausted by ${f.api} requests when ${who} failed (${mib(f.state.vmallocUsedBytes)} of ${mib(m.vmallocBytes)} in use)`;
    case "cma-no-range": {
      const freePages =
        m.cmaAreas.reduce((s, a) => s + a.sizeBytes / 4096, 0) -
        f.state.cmaUsedPages.reduce((s, n) => s + n, 0);
      const largest = Math.max(0, ...f.state.cmaLargestFreePages);
      return freePages * 4096 >= f.sizeBytes
        ? `CMA fragmentation: ${who} found no free aligned range although ${mib(freePages * 4096)} were free; the largest free run was ${mib(largest * 4096)}`
        : `CMA area exhausted: ${who} asked for more than the ${mib(freePages * 4096)} left free (${mib(f.liveCmaBytes)} of buffers live)`;
    }
    case "cma-busy":
      return `alloc_contig_range -EBUSY: every free candidate range for ${who} held a pinned page that cannot migrate`;
    case "modules-exhausted":
      return `modules area exhausted when ${who} was loaded (${mib(f.state.modulesUsedBytes)} in use)`;
    case "buddy-exhausted":
      return `page allocator exhausted: no free block for ${who} in the zones the device can reach (lowmem free ${mib(f.state.lowmemFreePages * 4096)})`;
    case "atomic-pool-exhausted":
      return `the atomic DMA pool is exhausted: ${who} was a GFP_ATOMIC request`;
    case "highmem-rejected":
      return `the coherent device ${f.device} was given a highmem CMA page, which dma-direct rejects ("Rejecting highmem page from CMA.")`;
  }
}

/** The configuration changes that would avoid the first failure, most effective first. */
export function adviseConfiguration(r: ConfigurationResult): string[] {
  const f = r.firstFailure;
  if (!f) return [];
  const m: MachineSummary = r.machine;
  switch (f.cause) {
    case "vmalloc-exhausted": {
      if (f.api !== "dma") {
        return [`raise vmalloc= (it costs the same amount of lowmem), or reduce ${f.api} users`];
      }
      // The vmalloc area must hold the mapped peak demand on top of what boot and the other users hold.
      const others = Math.max(0, f.state.vmallocUsedBytes - f.liveVmallocDmaBytes);
      const wanted = roundUpMib(others + r.peaks.demandBytes * 1.05, 32);
      const out: string[] = [];
      if (m.noKernelMapping !== "ignored") {
        out.push(
          `pass DMA_ATTR_NO_KERNEL_MAPPING for ${mappedDevices(r)} (buffers the CPU never touches need no vmalloc mapping)`,
        );
      } else {
        out.push(
          `DMA_ATTR_NO_KERNEL_MAPPING is ignored by kernel ${m.kernel} on non-IOMMU ARM (honoured from 4.1)`,
        );
      }
      out.push(`vmalloc=${wanted}M (costs ${wanted - Math.round(m.vmallocBytes / MiB)} MiB of lowmem)`);
      out.push("CONFIG_VMSPLIT_2G: more lowmem, so CMA lands in lowmem and needs no remapping");
      out.push("place CMA in lowmem (cma=SIZE@BASE below the lowmem limit, or a DT pool with alloc-ranges)");
      return out;
    }
    case "cma-no-range": {
      const total = m.cmaAreas.reduce((s, a) => s + a.sizeBytes, 0);
      const need = roundUpMib(Math.max(r.peaks.demandBytes * 1.25, total + f.sizeBytes), 16);
      const free = total - f.state.cmaUsedPages.reduce((s, n) => s + n, 0) * 4096;
      return free >= f.sizeBytes
        ? [
            `a separate CMA pool for the large-buffer devices (DT shared-dma-pool, reusable), so small buffers cannot fragment it`,
            `cma=${need}M (more room between buffers)`,
            "allocate long-lived frame buffers once at start and reuse them instead of reallocating",
          ]
        : [`cma=${need}M (peak offered load ${mib(r.peaks.demandBytes)})`];
    }
    case "cma-busy":
      return [
        "keep long-term pinned pages out of CMA (FOLL_LONGTERM pins migrate them out on newer kernels)",
        "a larger cma= so that more candidate ranges exist",
      ];
    case "modules-exhausted":
      return [
        `the modules area is fixed (${mib(m.modulesBytes)}); vmalloc= does not change it`,
        "CONFIG_ARM_MODULE_PLTS lets modules spill into the vmalloc area; build rarely used drivers in, or load fewer",
      ];
    case "buddy-exhausted":
      return [
        "a larger cma= (CMA allocations do not need free lowmem blocks)",
        "CONFIG_VMSPLIT_2G for more lowmem",
      ];
    case "atomic-pool-exhausted":
      return [
        "coherent_pool=SIZE on the kernel command line",
        "use blocking (GFP_KERNEL) allocations where possible",
      ];
    case "highmem-rejected":
      return [
        "place the CMA area in lowmem (cma=SIZE@BASE, or a DT pool with alloc-ranges below the lowmem limit)",
      ];
  }
}

/** A few lines over all configurations: which ones survived, which failed first and why. */
export function verdict(results: ConfigurationResult[]): string[] {
  const clean = results.filter((r) => !r.firstFailure && !r.machine.panic);
  const failed = results
    .filter((r) => r.firstFailure)
    .sort((a, b) => a.firstFailure!.op - b.firstFailure!.op);
  const lines: string[] = [];
  if (failed.length) {
    const first = failed[0];
    lines.push(
      `First to fail: "${first.name}" at op ${first.firstFailure!.op.toLocaleString("en-US")} (${first.firstFailure!.cause}).`,
    );
  }
  if (clean.length && failed.length) {
    lines.push(`No failure with: ${clean.map((r) => `"${r.name}"`).join(", ")}; switch to one of these.`);
  } else if (clean.length) {
    lines.push("No configuration failed.");
  } else if (failed.length) {
    lines.push("Every configuration failed; see the advice per configuration.");
  }
  return lines;
}
