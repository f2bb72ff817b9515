/**
 * Every public `boot` acceptance case (real boot logs, Debian 6.1 oracle runs) through the CLI, in
 * process: the expected dmesg lines must appear and the expected JSON paths must match.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { main } from "../src/cli/index.js";
import { captureIo } from "./helpers/io.js";

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, "fixtures", "boot");

interface Case {
  id: string;
  argv: string[];
  expect_lines: string[];
  expect_json: Record<string, number | string>;
}

const cases: Case[] = JSON.parse(readFileSync(join(fixtures, "acceptance-boot-cases.json"), "utf8"));

function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split(".")) {
    if (Array.isArray(cur) && /^\d+$/.test(part)) cur = cur[Number(part)];
    else if (cur && typeof cur === "object") cur = (cur as Record<string, unknown>)[part];
    else return undefined;
  }
  return cur;
}

describe("boot acceptance cases (copied from shared/acceptance)", () => {
  it("has the 87 public cases", () => {
    expect(cases.length).toBe(87);
  });
  for (const c of cases) {
    it(c.id, async () => {
      const argv = c.argv.map((a) => a.replace("{SHARED}/acceptance/dts", join(fixtures, "dts")));
      const io = captureIo();
      expect(await main(argv, io)).toBe(0);
      const out = JSON.parse(io.stdout);
      const lines = (out.dmesg as string[]).map((l) => l.trimEnd());
      for (const l of c.expect_lines) expect(lines).toContain(l);
      for (const [path, want] of Object.entries(c.expect_json)) {
        const got = getPath(out, path);
        if (typeof want === "string" && /^0x/.test(want)) expect(BigInt(got as string)).toBe(BigInt(want));
        else expect(got).toBe(want);
      }
    });
  }
});
