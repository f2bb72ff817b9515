/**
 * arm-cma-emu: the public API. Everything the CLI does is a call here.
 */
export type { BootedMachine, CmaAreaInfo, VirtualLayout, Zone } from "./boot/machine.js";
export { CmaEmuError, ConfigError, InputError, RangeArgumentError } from "./errors.js";
export { Dmesg, type DmesgLine, type LogLevel } from "./kernel/dmesg.js";
export { type KernelProfile, resolveProfile } from "./kernel/profile.js";
