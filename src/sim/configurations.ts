/**
 * Resolving a scenario's configurations: each one is the scenario's machine, runtime and devices with
 * the configuration's overrides merged on top.
 */
import { ConfigError } from "../errors.js";
import type { ConfigurationSpec, DeviceSpec, MachineSpec, RuntimeSpec, Scenario } from "./scenario.js";

/** One fully specified configuration of a run. */
export interface ResolvedConfiguration {
  name: string;
  description?: string;
  machine: MachineSpec;
  runtime: RuntimeSpec;
  devices: DeviceSpec[];
}

function mergeMachine(base: MachineSpec, over: MachineSpec | undefined): MachineSpec {
  if (!over) return { ...base };
  return { ...base, ...over, kconfig: { ...base.kconfig, ...over.kconfig } };
}

function resolveOne(s: Scenario, c: ConfigurationSpec): ResolvedConfiguration {
  return {
    name: c.name,
    description: c.description,
    machine: mergeMachine(s.machine, c.machine),
    runtime: { ...s.runtime, ...c.runtime },
    devices: s.devices.map((d) => ({ ...d, ...c.devices?.[d.name] })),
  };
}

/**
 * The configurations to run: the scenario's own (or one named "default" when it has none), restricted
 * to `only` when given (names of the scenario's configurations), followed by `extra` ones (inline --compare).
 */
export function resolveConfigurations(
  s: Scenario,
  only: string[] = [],
  extra: ConfigurationSpec[] = [],
): ResolvedConfiguration[] {
  const own = s.configurations?.length ? s.configurations : [{ name: "default" }];
  for (const name of only) {
    if (!own.some((c) => c.name === name)) {
      throw new ConfigError(
        `--compare: no configuration named "${name}" in scenario "${s.name}"; expected one of: ${own.map((c) => c.name).join(", ")}`,
      );
    }
  }
  const picked = only.length ? own.filter((c) => only.includes(c.name)) : own;
  const devices = new Set(s.devices.map((d) => d.name));
  for (const c of extra) {
    for (const dev of Object.keys(c.devices ?? {})) {
      if (!devices.has(dev)) {
        throw new ConfigError(
          `--compare "${c.name}": devices.${dev}: unknown device; expected one of: ${[...devices].join(", ")}`,
        );
      }
    }
  }
  return [...picked, ...extra].map((c) => resolveOne(s, c));
}
