import type { Command } from "commander";
import { CmaEmuError } from "../errors.js";
import type { CliIo } from "./io.js";

// Placeholder until the verb lands (see its issue).
export function registerSimulate(program: Command, _io: CliIo): void {
  program
    .command("simulate")
    .description("(not yet implemented)")
    .action(() => {
      throw new CmaEmuError("simulate: not yet implemented");
    });
}
