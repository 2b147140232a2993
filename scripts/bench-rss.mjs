// Preloaded by the benchmark: reports the process's peak resident memory on exit.
import { writeSync } from "node:fs";
process.on("exit", () => writeSync(2, `\nmaxrss_kib=${process.resourceUsage().maxRSS}\n`));
