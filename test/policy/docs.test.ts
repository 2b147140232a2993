import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { it } from "node:test";
import { ALL_RULES, WAIVER_RULES } from "../../src/policy/index.ts";

it("docs/policy.md lists every rule with its severity, and no rule that does not exist", () => {
  const doc = readFileSync(join(import.meta.dirname, "..", "..", "docs", "policy.md"), "utf8");
  const rows = [...doc.matchAll(/^\| `([a-z0-9-]+)` \| (error|warning)(, model)? \|/gm)].map((m) => [m[1], m[2], m[3] !== undefined]);
  assert.deepEqual(rows, ALL_RULES.map((r) => [r.id, r.severity, r.needsModel === true]));
  for (const w of WAIVER_RULES) assert.ok(doc.includes(`\`${w.id}\``), `${w.id} is not explained`);
});
