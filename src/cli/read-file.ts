import { readFileSync } from "node:fs";
import { InputError } from "../errors.js";

/** Reads a text file named on the command line; an unreadable one is an InputError naming it. */
export function readInputFile(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "error";
    throw new InputError(`cannot read the ${what} (${code})`, path);
  }
}
