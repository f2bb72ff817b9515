import type { Command } from "commander";
import { CmaEmuError } from "../errors.js";
import type { CliIo } from "./io.js";

// Placeholder until the verb lands (see its issue).
export function registerDmaProbe(program: Command, _io: CliIo): void {
  program
    .command("dma-probe")
    .description("(not yet implemented)")
    .action(() => {
      throw new CmaEmuError("dma-probe: not yet implemented");
    });
}
