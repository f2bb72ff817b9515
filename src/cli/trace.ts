import type { Command } from "commander";
import { CmaEmuError } from "../errors.js";
import type { CliIo } from "./io.js";

// Placeholder until the verb lands (see its issue).
export function registerTrace(program: Command, _io: CliIo): void {
  program
    .command("trace")
    .description("(not yet implemented)")
    .action(() => {
      throw new CmaEmuError("trace: not yet implemented");
    });
}
