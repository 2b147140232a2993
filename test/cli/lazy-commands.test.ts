/** The command list `homelab --help` prints without loading any command matches the commands themselves. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { COMMANDS } from "../../src/cli/main.ts";

describe("the lazily loaded command list", () => {
  it("names and summaries equal each command's own spec", async () => {
    for (const c of COMMANDS) {
      const cmd = await c.load();
      assert.equal(cmd.spec.name, c.name);
      assert.equal(cmd.spec.summary, c.summary, `summary of ${c.name}`);
    }
  });
});
