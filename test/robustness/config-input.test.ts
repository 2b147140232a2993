/** A config whose own code misbehaves while loading is a clear error, never a crash or a false success. */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadConfig } from "../../src/config/load.ts";
import { UserError } from "../../src/errors.ts";
import { REPO } from "../helpers.ts";

describe("config code that misbehaves", () => {
  it("a getter that throws is reported with the file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cfg-"));
    const file = join(dir, "getter.config.ts");
    writeFileSync(file, `import base from ${JSON.stringify(join(REPO, "homelab.config.ts"))};\nconst cfg = { ...base };\nObject.defineProperty(cfg, "domain", { get() { throw new Error("boom from a getter"); }, enumerable: true });\nexport default cfg;\n`);
    await assert.rejects(loadConfig(file), (e: unknown) => e instanceof UserError && e.exitCode === 1 && /getter\.config\.ts: reading the config failed: boom from a getter/.test(e.message));
  });

  it("process.exit(0) while loading does not pass for a successful load, and process.exit is restored", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cfg-"));
    const file = join(dir, "exit.config.ts");
    writeFileSync(file, "process.exit(0);\nexport default {};\n");
    const before = process.exit;
    await assert.rejects(loadConfig(file), (e: unknown) => e instanceof UserError && /called process\.exit\(0\) while loading/.test(e.message));
    assert.equal(process.exit, before);
  });
});
