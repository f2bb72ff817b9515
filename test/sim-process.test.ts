/**
 * The built CLI in its own process: worker threads give the same results as one thread, and Ctrl-C
 * during a long run stops at the next yield, writes what it has and says so.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "..");
const out = mkdtempSync(join(tmpdir(), "cma-emu-sigint-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("cma-emu simulate in its own process", () => {
  it("prints the same results with 1 and with 4 worker threads", () => {
    expect(existsSync(join(root, "dist/sim/worker.js")), "run `npm run build` before this test").toBe(true);
    const json = (workers: string) =>
      execFileSync(
        process.execPath,
        [
          "bin/cma-emu.js",
          "simulate",
          "scenarios/thread-512m-highmem.yaml",
          "--ops",
          "5000",
          "--json",
          "--no-report",
          "--workers",
          workers,
        ],
        { cwd: root, encoding: "utf8" },
      ).replace(/"(seconds|opsPerSecond)": [\d.e+-]+/g, '"$1": 0');
    const one = json("1");
    expect(json("4")).toBe(one);
    expect(JSON.parse(one).results.configurations).toHaveLength(4);
  });

  it("writes the partial results and says so", async () => {
    expect(existsSync(join(root, "dist/cli/index.js")), "run `npm run build` before this test").toBe(true);
    const child = spawn(
      process.execPath,
      [
        "bin/cma-emu.js",
        "simulate",
        "scenarios/thread-512m-highmem.yaml",
        "--ops",
        "100000000",
        "--out",
        out,
      ],
      { cwd: root, stdio: ["ignore", "pipe", "pipe"] },
    );
    const closed = new Promise<number | null>((r) => child.on("close", r));
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    await new Promise((r) => setTimeout(r, 2500));
    child.kill("SIGINT");
    const code = await closed;
    expect(stderr).toMatch(/cma-emu: interrupted: [\d,]+ operations simulated; partial results written to /);
    expect(code).toBe(130);
    expect(stdout).toContain("INTERRUPTED: the figures above cover only the operations simulated so far.");
    const json = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
    expect(json.interrupted).toBe(true);
    expect(json.ops).toBeGreaterThan(0);
    expect(json.ops).toBeLessThan(400_000_000);
    expect(existsSync(join(out, "usage-over-time.svg"))).toBe(true);
  });
});
