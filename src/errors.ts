/**
 * Typed errors of arm-cma-emu. Models throw these; the CLI turns them into one line and exit code 2.
 * A kernel-level failure (a reservation that fails, an allocation that fails) is never an error:
 * it is a result plus the kernel's own message in the Dmesg log.
 */
export class CmaEmuError extends Error {
  override name = "CmaEmuError";
}

/** A configuration the emulator (or the kernel's Kconfig) refuses: unknown split, bad option value. */
export class ConfigError extends CmaEmuError {
  override name = "ConfigError";
}

/** A malformed input file or value; `source` names the file (and line) or the option. */
export class InputError extends CmaEmuError {
  override name = "InputError";
  constructor(
    message: string,
    readonly source?: string,
    readonly line?: number,
  ) {
    super(source ? `${source}${line !== undefined ? `:${line}` : ""}: ${message}` : message);
  }
}

/** A bad argument at the WASM boundary (negative count, range past the end of a bitmap). */
export class RangeArgumentError extends CmaEmuError {
  override name = "RangeArgumentError";
}
