/**
 * arm-cma-emu: the public API. Everything the CLI does is a call here.
 */
// ---- boot (src/boot): the address space and the boot-time reservations ----
export type { BootConfig, RamBank, VmSplit } from "./boot/config.js";
export { boot } from "./boot/index.js";
export type { BootedMachine, CmaAreaInfo, VirtualLayout, Zone } from "./boot/machine.js";
export { CmaEmuError, ConfigError, InputError, RangeArgumentError } from "./errors.js";
export { type DtInfo, parseDts } from "./input/dts.js";
export { parseKconfigFile } from "./input/kconfig-file.js";
// ---- runtime (src/runtime): the allocators and the DMA API of a booted machine ----
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
// ---- simulation (src/sim) and its reports (src/report) ----
/** The embedded default scenario as YAML text (what `npm start` runs). */
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
