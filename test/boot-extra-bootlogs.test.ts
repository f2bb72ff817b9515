/**
 * More real 32-bit ARM boot logs (openbmc AST2500, i.MX6ULL, Raspberry Pi 1/3/3B+/4, NanoPi NEO,
 * Allwinner A20, BeagleBone Black, Odroid XU4; kernels 3.4-6.1), found after the public acceptance set
 * and checked the same way: the lines the emulator can derive from each case's inputs must appear verbatim.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type BootCase, checkBootCase } from "./helpers/boot-cases.js";

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, "fixtures", "boot");

const cases: BootCase[] = JSON.parse(readFileSync(join(fixtures, "extra-bootlogs.json"), "utf8"));

describe("extra real boot logs", () => {
  it("has the 15 cases", () => {
    expect(cases.length).toBe(15);
  });
  for (const c of cases) it(c.id, () => checkBootCase(c, join(fixtures, "dts")));
});
