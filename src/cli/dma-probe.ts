/**
 * `cma-emu dma-probe`: boots the described machine and runs the oracle's dmaprobe driver on it
 * (dma_alloc_attrs of --chunk bytes until the first failure), then says what ran out.
 */
import type { Command } from "commander";
import type { BootConfig } from "../boot/config.js";
import { boot } from "../boot/index.js";
import { ConfigError } from "../errors.js";
import { parseMeminfo } from "../input/meminfo.js";
import { parseVmallocinfo } from "../input/vmallocinfo.js";
import { parseSizeArg } from "../kernel/memparse.js";
import { Runtime, type RuntimeOptions } from "../runtime/index.js";
import { type ProbeParams, type ProbeResult, runDmaProbe } from "../runtime/probe.js";
import { addBootOptions, type BootOptions, bootConfigFromOptions } from "./boot-options.js";
import type { CliIo } from "./io.js";
import { readInputFile } from "./read-file.js";

interface ProbeOptions extends BootOptions {
  chunk: string;
  attrs?: string;
  coherent?: boolean;
  warn?: boolean;
  stopOutsideCma?: boolean;
  vmallocinfo?: string;
  meminfo?: string;
  json?: boolean;
}

const EXAMPLES = `
Examples:
  # the classic trap: 512 MiB of CMA in highmem, 1 MiB buffers with a kernel mapping (233, vmalloc full)
  $ cma-emu dma-probe --kernel 6.1 --ram 0x40000000:2G --cmdline "cma=512M" --chunk 1M
  # the same with DMA_ATTR_NO_KERNEL_MAPPING, stopping at the end of the CMA area (511)
  $ cma-emu dma-probe --kernel 6.1 --ram 0x40000000:2G --cmdline "cma=512M" --chunk 1M \\
      --attrs NO_KERNEL_MAPPING --stop-outside-cma
  # a bigger vmalloc area, or a lower PAGE_OFFSET
  $ cma-emu dma-probe --ram 0x40000000:2G --cmdline "cma=512M vmalloc=512M" --chunk 1M
  $ cma-emu dma-probe --split 2G --ram 0x40000000:1G --cmdline "cma=256M" --chunk 1M
  # replay on the boot-time vmalloc occupants of a real board, JSON for scripts
  $ cma-emu dma-probe --ram 0x40000000:2G --cmdline "cma=512M" --chunk 4M \\
      --vmallocinfo board-vmallocinfo.txt --meminfo board-meminfo.txt --json

What it emulates: the oracle's test driver (a platform device, 32-bit DMA mask, non-coherent unless
--coherent, the default CMA area) calling dma_alloc_attrs(chunk, GFP_KERNEL | __GFP_NOWARN) in a loop
until the first failure, after its own module load footprint in the vmalloc area. The first failure's
kernel line is reported (vmap failures print despite __GFP_NOWARN: vmap allocates with GFP_KERNEL).
Counts decided by the vmalloc area or the CMA bitmap are exact; counts decided by the page
allocator (NO_KERNEL_MAPPING beyond CMA on 5.19+) are calibrated (about ±2 %).
`;

function parseChunk(text: string): number {
  const n = parseSizeArg(text, "--chunk");
  if (n <= 0n || n > 1n << 31n)
    throw new ConfigError(`--chunk: '${text}' is outside 1 byte .. 2G (e.g. 64K, 1M, 4M)`);
  return Number(n);
}

interface ProbeRun {
  result: ProbeResult;
  runtime: Runtime;
}

function probeOnce(config: BootConfig, params: ProbeParams, extra: Partial<RuntimeOptions>): ProbeRun {
  const machine = boot(config);
  if (machine.panic) throw new ConfigError(`this configuration does not boot: ${machine.panic}`);
  const runtime = new Runtime(machine, extra);
  return { result: runDmaProbe(runtime, params), runtime };
}

const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;

/** One sentence: what ran out, and what would allow more. */
function explain(run: ProbeRun, params: ProbeParams, config: BootConfig): string {
  const r = run.result;
  const st = run.runtime.stats();
  const head = `${r.count} buffers of ${mib(params.chunkBytes)}`;
  if (r.stopped === "outside_cma")
    return `CMA area used up: ${head} came from CMA; the next one came from the page allocator (outside CMA), where the probe stops.`;
  if (r.stopped === "max_mb") return `max_mb reached: ${head}.`;
  switch (r.failure?.cause) {
    case "vmalloc-exhausted": {
      const alt = (cmdline: string, p: Partial<ProbeParams>) => {
        try {
          return probeOnce({ ...config, cmdline }, { ...params, ...p }, {}).result.count;
        } catch {
          return undefined;
        }
      };
      const base = config.cmdline ?? "";
      const nokmap = alt(base, { noKernelMapping: true, stopOutsideCma: true });
      const big = alt(`${base} vmalloc=512M`, {});
      const hints = [
        nokmap !== undefined ? `NO_KERNEL_MAPPING would allow ${nokmap}` : "",
        big !== undefined && !/vmalloc=512M/.test(base) ? `vmalloc=512M about ${big}` : "",
      ].filter(Boolean);
      const inUse = st.vmalloc.usedBytes + st.vmalloc.lazyBytes;
      return (
        `vmalloc space exhausted: ${head} (each + a 4 KiB guard page) filled the ${mib(st.vmalloc.totalBytes)} ` +
        `vmalloc area (${mib(inUse)} in use with the boot-time areas, largest gap left ` +
        `${Math.round(st.vmalloc.largestGapBytes / 1024)} KiB) ${st.cma[0] ? `while CMA still had ${mib(st.cma[0].freePages * 4096)} free` : "(no CMA area: page-allocator pages, each remapped)"}` +
        (hints.length ? `; ${hints.join(", ")} buffers.` : ".")
      );
    }
    case "cma-no-range":
    case "cma-busy": {
      const a = st.cma[0];
      const what =
        r.failure.cause === "cma-busy"
          ? "every free range had pinned pages (-EBUSY)"
          : "no aligned free range left";
      return a
        ? `CMA area exhausted: ${head} used ${mib(a.usedPages * 4096)} of the ${mib(a.countPages * 4096)} area (${what}; largest free chunk ${mib(a.maxChunkPages * 4096)})${r.inVmalloc === 0 ? ", no vmalloc space used" : ""}.`
        : `no CMA area: ${head}.`;
    }
    case "buddy-exhausted":
      return `page allocator exhausted: ${head} (${r.inCma} from CMA, ${r.outsideCma} from lowmem) until LowFree reached ${st.meminfo.LowFree} kB (watermark or no free block of that order); a calibrated count (±2 %).`;
    case "highmem-rejected":
      return `coherent device on dma-direct: the CMA area is in highmem and every page is rejected ("Rejecting highmem page from CMA."); put CMA in lowmem or use a non-coherent device.`;
    default:
      return `${head}; the first failure: ${r.failure?.cause ?? "none"}.`;
  }
}

export function registerDmaProbe(program: Command, io: CliIo): void {
  const cmd = program
    .command("dma-probe")
    .description(
      "Run the oracle's DMA test driver on an emulated machine: allocate --chunk buffers with " +
        "dma_alloc_attrs() until the first failure, and say what ran out (vmalloc space, CMA, page allocator).",
    );
  addBootOptions(cmd);
  cmd
    .requiredOption("--chunk <size>", "bytes per dma_alloc_attrs call (64K, 1M, 4M ...)")
    .option("--attrs <attrs>", "DMA attributes: NO_KERNEL_MAPPING")
    .option("--coherent", "a dma-coherent device (the oracle's device is not)")
    .option("--warn", "allocate without __GFP_NOWARN: the kernel's cma_alloc failure lines appear in dmesg")
    .option(
      "--stop-outside-cma",
      "stop before the first buffer outside the default CMA area (dmaprobe.stop_outside_cma)",
    )
    .option(
      "--vmallocinfo <file>",
      "boot-time /proc/vmallocinfo of the real machine (default: the qemu-virt-6.1 preset)",
    )
    .option("--meminfo <file>", "a real /proc/meminfo to seed LowFree/HighFree")
    .option("--json", "print JSON: {count, bytes, failure: {message, cause}, ...}")
    .addHelpText("after", EXAMPLES)
    .action((opts: ProbeOptions) => {
      const attrs = (opts.attrs ?? "").split(/[,|\s]+/).filter(Boolean);
      for (const a of attrs)
        if (a.replace(/^DMA_ATTR_/, "") !== "NO_KERNEL_MAPPING")
          throw new ConfigError(`--attrs: unknown attribute '${a}'; supported: NO_KERNEL_MAPPING`);
      const params: ProbeParams = {
        chunkBytes: parseChunk(opts.chunk),
        noKernelMapping: attrs.length > 0,
        stopOutsideCma: opts.stopOutsideCma === true,
        coherent: opts.coherent === true,
        warn: opts.warn === true,
      };
      const config = bootConfigFromOptions(opts);
      const extra: Partial<RuntimeOptions> = {};
      if (opts.vmallocinfo)
        extra.vmallocinfo = parseVmallocinfo(
          readInputFile(opts.vmallocinfo, "--vmallocinfo dump"),
          opts.vmallocinfo,
        );
      if (opts.meminfo)
        extra.meminfo = parseMeminfo(readInputFile(opts.meminfo, "--meminfo dump"), opts.meminfo);
      const run = probeOnce(config, params, extra);
      const { result: r, runtime } = run;
      const failureMessage = r.failure?.message ?? "";
      if (opts.json) {
        const st = runtime.stats();
        const m = runtime.machine;
        io.out(
          `${JSON.stringify(
            {
              count: r.count,
              bytes: r.bytes,
              failure: { message: failureMessage, cause: r.failure?.cause ?? null },
              stopped: r.stopped,
              kernel: m.profile.version,
              era: m.profile.era,
              dmaPath: m.profile.runtime.dmaPath,
              chunkBytes: params.chunkBytes,
              noKernelMapping: params.noKernelMapping,
              coherent: params.coherent,
              inCma: r.inCma,
              outsideCma: r.outsideCma,
              inVmalloc: r.inVmalloc,
              physHighmem: r.physHighmem,
              dmaLo: r.pfnLo < 0 ? null : `0x${(r.pfnLo * 4096).toString(16)}`,
              dmaHi: r.pfnHi < 0 ? null : `0x${(r.pfnHi * 4096).toString(16)}`,
              probeFootprintBytes: r.footprintBytes,
              calibrated: r.outsideCma > 0 || r.failure?.cause === "buddy-exhausted",
              cma: st.cma,
              vmalloc: st.vmalloc,
              modules: st.modules,
              buddy: st.buddy,
              meminfo: { ...m.meminfo, ...st.meminfo },
              explanation: explain(run, params, config),
              dmesg: [...m.dmesg.map((l) => l.text), ...runtime.dmesg.texts()],
            },
            null,
            2,
          )}\n`,
        );
      } else {
        io.out(`${explain(run, params, config)}\n`);
        io.out(
          `count ${r.count}, ${r.bytes} bytes (${r.inCma} in CMA, ${r.outsideCma} outside, ${r.inVmalloc} mapped in vmalloc); ` +
            `kernel ${runtime.machine.profile.version} (era ${runtime.machine.profile.era}, DMA path ${runtime.machine.profile.runtime.dmaPath})\n`,
        );
        io.out(`first failure: ${failureMessage === "" ? "(no kernel message)" : failureMessage}\n`);
      }
      runtime.dispose();
    });
}
