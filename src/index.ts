/**
 * arm-cma-emu: the public API. Everything the CLI does is a call here; nothing here prints.
 *
 * - boot(config): the address space and boot-time reservations of a board and kernel (`cma-emu boot`)
 * - new Runtime(machine): its CMA, vmalloc and page allocators and the DMA API (`cma-emu dma-probe`)
 * - simulate(scenario, options): millions of allocations over several configurations (`cma-emu simulate`)
 * - the report functions that turn results into text, JSON, CSV and SVG
 */

export type { BootConfig, RamBank, VmSplit } from "./boot/config.js";
export { boot } from "./boot/index.js";
export type { BootedMachine, CmaAreaInfo, VirtualLayout, Zone } from "./boot/machine.js";
export { CmaEmuError, ConfigError, InputError, RangeArgumentError } from "./errors.js";
export {
  type Bmt1Trace,
  formatChecksum,
  parseBmt1,
  replayTrace,
  type TraceBitmap,
  type TraceChecksum,
} from "./input/bmt1-trace.js";
export { type DtInfo, parseDts } from "./input/dts.js";
export { parseKconfigFile } from "./input/kconfig-file.js";
export { parseMeminfo } from "./input/meminfo.js";
export { parseVmallocinfo, type VmallocinfoEntry } from "./input/vmallocinfo.js";
export { Dmesg, type DmesgLine, type LogLevel } from "./kernel/dmesg.js";
export { type KernelProfile, NAMED_PROFILES, resolveProfile } from "./kernel/profile.js";
export { bootJson } from "./report/boot-json.js";
export { bootText } from "./report/boot-text.js";
export { physmapSvg } from "./report/physmap-svg.js";
export { simCsvFiles } from "./report/sim-csv.js";
export { type SimJson, simJson } from "./report/sim-json.js";
export { simSvgFiles } from "./report/sim-svg.js";
export { simText } from "./report/sim-text.js";
export type {
  BufferSource,
  DmaAllocResult,
  DmaAttrs,
  DmaDevice,
  FailureCause,
  GfpFlags,
} from "./runtime/api.js";
export { Runtime, type RuntimeOptions, type RuntimeStats } from "./runtime/index.js";
export { type ProbeParams, type ProbeResult, runDmaProbe } from "./runtime/probe.js";
export { DEFAULT_SCENARIO_YAML } from "./sim/default-scenario.js";
export type { SimProgress } from "./sim/engine.js";
export type { DeviceMetrics, FirstFailure, LoadBucket, TimeSeries } from "./sim/metrics.js";
export { Prng } from "./sim/prng.js";
export type { ConfigurationResult, MachineSummary, SimResult } from "./sim/result.js";
export {
  type ConfigurationSpec,
  type DeviceSpec,
  type MachineSpec,
  parseScenario,
  type Scenario,
  type ScenarioInput,
  validateScenario,
  type WorkloadSpec,
} from "./sim/scenario.js";
export { type SimulateOptions, simulate } from "./sim/simulate.js";
export type { SimTarget, TargetMaps, TargetSnapshot, VmAllocResult } from "./sim/target.js";
export { type FreeRun, formatFreeRuns, MAX_BITMAP_BITS, PageBitmap } from "./wasm/page-bitmap.js";
export { type TimedReplay, WasmTraceReplayer } from "./wasm/trace-replay.js";
