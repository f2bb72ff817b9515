import { describe, expect, it } from "vitest";
import { main } from "../src/cli/index.js";
import { captureIo } from "./helpers/io.js";

describe("cli skeleton", () => {
  it("prints the version and exits 0", async () => {
    const io = captureIo();
    expect(await main(["--version"], io)).toBe(0);
    expect(io.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
  it("rejects an unknown verb with one line and exit code 2", async () => {
    const io = captureIo();
    expect(await main(["frobnicate"], io)).toBe(2);
    expect(io.stderr).toMatch(/unknown command 'frobnicate'/);
    expect(io.stderr).not.toMatch(/at .*\.ts:\d+/);
  });
});
