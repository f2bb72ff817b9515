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

/** The CMA area of the first failure, and its free bytes and largest free run at that moment. */
function failedArea(r: ConfigurationResult) {
  const f = r.firstFailure!;
  const i = r.machine.cmaAreas.findIndex((a) => a.name === f.cmaArea);
  if (i < 0) return { area: undefined, freeBytes: 0, largestFreeBytes: 0 };
  const area = r.machine.cmaAreas[i];
  return {
    area,
    freeBytes: area.sizeBytes - (f.state.cmaUsedPages[i] ?? 0) * 4096,
    largestFreeBytes: (f.state.cmaLargestFreePages[i] ?? 0) * 4096,
  };
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
      const { area, freeBytes, largestFreeBytes } = failedArea(r);
      const where = area ? ` in the CMA area "${area.name}" (${mib(area.sizeBytes)})` : "";
      return freeBytes >= f.sizeBytes
        ? `CMA fragmentation: ${who} found no free aligned range${where} although ${mib(freeBytes)} were free; the largest free run was ${mib(largestFreeBytes)}`
        : `CMA area exhausted: ${who} asked for more than the ${mib(freeBytes)} left free${where}`;
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
      const { area, freeBytes } = failedArea(r);
      const size = area?.sizeBytes ?? 0;
      // the default area alone carries the whole offered load; a DT pool carries its devices' share
      const wanted = m.cmaAreas.length === 1 ? r.peaks.demandBytes * 1.25 : size * 1.5;
      const need = roundUpMib(Math.max(wanted, size + f.sizeBytes), 16);
      const grow =
        area && area.name !== m.cmaAreas.find((a) => a.isDefault)?.name
          ? `the DT pool "${area.name}" at ${need} MiB: size = <0x${(need * MiB).toString(16)}>`
          : `cma=${need}M`;
      return freeBytes >= f.sizeBytes
        ? [
            "a separate CMA pool for the large-buffer devices (DT shared-dma-pool, reusable), so small buffers cannot fragment it",
            `${grow} (more room between buffers)`,
            "allocate long-lived frame buffers once at start and reuse them instead of reallocating",
          ]
        : [`${grow} (peak offered load ${mib(r.peaks.demandBytes)} over all devices)`];
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
