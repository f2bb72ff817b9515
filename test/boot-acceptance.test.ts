/**
 * Every public `boot` acceptance case (real boot logs, Debian 6.1 oracle runs) through the CLI, in
 * process: the expected dmesg lines must appear and the expected JSON paths must match.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type BootCase, checkBootCase } from "./helpers/boot-cases.js";

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, "fixtures", "boot");

const cases: BootCase[] = JSON.parse(readFileSync(join(fixtures, "acceptance-boot-cases.json"), "utf8"));

describe("boot acceptance cases (copied from shared/acceptance)", () => {
  it("has the 87 public cases", () => {
    expect(cases.length).toBe(87);
  });
  for (const c of cases) it(c.id, () => checkBootCase(c, join(fixtures, "dts")));
});
