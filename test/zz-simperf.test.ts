import { readFileSync } from "node:fs";
import { test } from "vitest";
import { simText } from "../src/report/sim-text.js";
import { runtimeTarget } from "../src/sim/real-target.js";
import { simulate } from "../src/sim/simulate.js";
import { RefBitmap } from "./helpers/ref-bitmap.js";

for (const f of ["imx6-camera-1080p", "rpi-display"]) test(f, async () => {
  const r = await simulate(readFileSync(`scenarios/${f}.yaml`, "utf8"), {
    ops: 50_000,
    createTarget: (c, seed) => runtimeTarget(c, seed, undefined, (n) => new RefBitmap(n)),
  });
  console.log(simText(r));
}, 120000);
