import { Command, CommanderError } from "commander";
import { CmaEmuError } from "../errors.js";
import { registerBoot } from "./boot.js";
import { registerDmaProbe } from "./dma-probe.js";
import { type CliIo, exitQuietlyOnClosedPipe, processIo } from "./io.js";
import { registerSimulate } from "./simulate.js";
import { registerTrace } from "./trace.js";
import { packageVersion } from "./version.js";

/** Exit codes: 0 success, 1 internal error, 2 bad input or configuration (one line on stderr). */
export const EXIT_USAGE = 2;

export function buildProgram(io: CliIo): Command {
  const program = new Command("cma-emu")
    .description(
      "Emulates 32-bit ARM Linux memory management: the boot-time address space, CMA placement,\n" +
        "vmalloc space and the DMA API, per kernel era, with the kernel's own messages.",
    )
    .version(packageVersion(), "-V, --version")
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({
      writeOut: (s) => io.out(s),
      writeErr: (s) => io.err(s),
    })
    .exitOverride();
  registerBoot(program, io);
  registerDmaProbe(program, io);
  registerTrace(program, io);
  registerSimulate(program, io);
  for (const cmd of program.commands) cmd.exitOverride().configureOutput(program.configureOutput());
  return program;
}

/** Runs the CLI; returns the process exit code. Never throws. */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  if (io === processIo) exitQuietlyOnClosedPipe();
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end with a CommanderError too; their code is 0.
      return e.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (e instanceof CmaEmuError) {
      io.err(`cma-emu: ${e.message}\n`);
      // an error may carry its own code (an interrupted simulation: 130)
      return (e as { exitCode?: number }).exitCode ?? EXIT_USAGE;
    }
    const msg = e instanceof Error ? e.message : String(e);
    io.err(`cma-emu: internal error: ${msg}\n`);
    if (process.env.CMA_EMU_DEBUG && e instanceof Error) io.err(`${e.stack}\n`);
    return 1;
  }
}
