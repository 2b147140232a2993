#!/usr/bin/env node
// Entry point: register the TypeScript loader, then hand over to the CLI.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
