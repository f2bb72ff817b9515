/**
 * Runs a `boot` case (the acceptance format: argv, expect_lines, expect_json) through the CLI in
 * process and checks it; shared by the acceptance and the extra-bootlog tests.
 */
import { expect } from "vitest";
import { main } from "../../src/cli/index.js";
import { captureIo } from "./io.js";

export interface BootCase {
  id: string;
  argv: string[];
  expect_lines: string[];
  expect_json?: Record<string, number | string>;
}

function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split(".")) {
    if (Array.isArray(cur) && /^\d+$/.test(part)) cur = cur[Number(part)];
    else if (cur && typeof cur === "object") cur = (cur as Record<string, unknown>)[part];
    else return undefined;
  }
  return cur;
}

/** Boots `c.argv` with `{SHARED}/acceptance/dts` pointing at `dtsDir`; every expected line and path must match. */
export async function checkBootCase(c: BootCase, dtsDir: string): Promise<void> {
  const argv = c.argv.map((a) => a.replace("{SHARED}/acceptance/dts", dtsDir));
  const io = captureIo();
  expect(await main(argv, io)).toBe(0);
  const out = JSON.parse(io.stdout);
  const lines = (out.dmesg as string[]).map((l) => l.trimEnd());
  for (const l of c.expect_lines) expect(lines).toContain(l);
  for (const [path, want] of Object.entries(c.expect_json ?? {})) {
    const got = getPath(out, path);
    if (typeof want === "string" && /^0x/.test(want)) expect(BigInt(got as string)).toBe(BigInt(want));
    else expect(got).toBe(want);
  }
}
