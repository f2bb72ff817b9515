import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

/** One standard trace of the native anchor, with the checksum line every replay must print. */
export interface AnchorTrace {
  name: string;
  bits: number;
  seed: number;
  occupancy: number;
  checksum: string;
}

const ANCHORS = new URL("../fixtures/anchors/", import.meta.url);

/** The standard traces listed in test/fixtures/anchors/reference_checksums.txt. */
export function anchorTraces(): AnchorTrace[] {
  const lines = readFileSync(new URL("reference_checksums.txt", ANCHORS), "utf8").split("\n");
  const traces: AnchorTrace[] = [];
  for (let k = 0; k < lines.length - 1; k++) {
    const m = /^# (\S+)\s+(\d+)\s+(\d+)\s+([\d.]+)/.exec(lines[k]);
    if (m && lines[k + 1].startsWith("checksum ")) {
      traces.push({ name: m[1], bits: +m[2], seed: +m[3], occupancy: +m[4], checksum: lines[k + 1].trim() });
    }
  }
  return traces;
}

/** Regenerates a trace from its seed into `dir`; returns the file and gen_trace's checksum line. */
export async function generateTrace(t: AnchorTrace, dir: string): Promise<{ file: string; line: string }> {
  const file = join(dir, `${t.name}.bin`);
  const args = ["--bits", `${t.bits}`, "--ops", "1000000", "--seed", `${t.seed}`];
  args.push("--occupancy", `${t.occupancy}`, "--out", file);
  const gen = new URL("gen_trace.mjs", ANCHORS).pathname;
  const { stdout } = await promisify(execFile)(process.execPath, [gen, ...args]);
  return { file, line: stdout.trim() };
}
