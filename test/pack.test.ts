/**
 * The package as a consumer gets it: `npm pack`, install the tarball into an empty folder (offline,
 * from the npm cache) and run the README's library example there. A file missing from `files`, a
 * broken `exports` map or a dependency left in devDependencies fails here.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "..");
const work = mkdtempSync(join(tmpdir(), "cma-emu-pack-"));
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 90_000 });

/** The ```js block that follows the `<!-- library-example -->` marker in README.md. */
function readmeExample(): string {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const m = /<!-- library-example -->\s*```js\n([\s\S]*?)```/.exec(readme);
  if (!m) throw new Error("README.md has no ```js block after <!-- library-example -->");
  return m[1];
}

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("npm pack, install, use", () => {
  it("the README example is ten lines", () => {
    expect(readmeExample().trim().split("\n").length).toBeLessThanOrEqual(10);
  });

  it("runs the README library example from the installed tarball", () => {
    expect(existsSync(join(root, "dist/index.js")), "run `npm run build` before this test").toBe(true);
    // --ignore-scripts: pack what is built (prepare would rebuild the WASM core)
    const packed = JSON.parse(
      run(npm, ["pack", "--json", "--ignore-scripts", "--pack-destination", work], root),
    );
    const tarball = join(work, packed[0].filename);
    const files: string[] = packed[0].files.map((f: { path: string }) => f.path);
    expect(files).toContain("dist/index.js");
    expect(files).toContain("dist/index.d.ts");
    expect(files.some((f) => f.startsWith("scenarios/"))).toBe(true);
    expect(files.some((f) => f.startsWith("src/") || f.startsWith("test/"))).toBe(false);

    const app = join(work, "app");
    run("mkdir", ["-p", app], work);
    writeFileSync(
      join(app, "package.json"),
      JSON.stringify({ name: "consumer", private: true, type: "module" }),
    );
    const flags = ["install", "--no-audit", "--no-fund", "--ignore-scripts", "--no-package-lock", tarball];
    try {
      run(npm, [...flags, "--offline"], app);
    } catch {
      run(npm, [...flags, "--prefer-offline"], app);
    }
    writeFileSync(join(app, "example.mjs"), readmeExample());
    const out = run(process.execPath, ["example.mjs"], app);
    expect(out).toMatch(/\d+ buffers of 1 MiB/);
    expect(out).toMatch(/vmalloc/);

    // CommonJS consumers (require(esm), Node >= 20.19) and the bin entry
    const cjs = run(process.execPath, ["-e", "console.log(typeof require('arm-cma-emu').simulate)"], app);
    expect(cjs.trim()).toBe("function");
    const help = run(
      process.execPath,
      [join(app, "node_modules/arm-cma-emu/bin/cma-emu.js"), "simulate", "--help"],
      app,
    );
    expect(help).toMatch(/--compare/);
  });
});
