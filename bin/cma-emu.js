#!/usr/bin/env node
// Thin entry: all logic lives in the compiled package (dist/cli).
import { main } from "../dist/cli/index.js";

process.exitCode = await main(process.argv.slice(2));
