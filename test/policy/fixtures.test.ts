// Every rule proves itself on two fixtures: fail.yaml must produce exactly the violations listed in
// expected.json (`<subject> <path>`, with ` (warning)` for a warning from an error rule), pass.yaml must produce none. The rule runs alone, so each
// fixture only has to be interesting for that rule.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ALL_RULES, loadManifests, policyContext, runPolicies, type PolicyReport } from "../../src/policy/index.ts";
import { loadSchemas } from "../../src/validate/kube-schema.ts";
import { modelFor, TODAY } from "./helpers.ts";

const DIR = join(import.meta.dirname, "fixtures", "rules");
const WARNING = " (warning)";

async function runFixture(ruleId: string, file: string): Promise<PolicyReport> {
  const dir = join(DIR, ruleId);
  const { objects, otherFiles } = loadManifests([join(dir, file)], { cwd: dir });
  // As `homelab check` does: the schema rule's models are ES modules, loaded ahead.
  await loadSchemas(objects);
  const model = modelFor(dir);
  const ctx = policyContext({ objects, files: otherFiles, kubernetesVersion: "1.34", ...(model && { model }) });
  return runPolicies(ctx, { waivers: [], today: TODAY, only: [ruleId] });
}

const ruleDirs = readdirSync(DIR, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

describe("policy rule fixtures", () => {
  it("every rule has a fixture folder and every fixture folder names a rule", () => {
    assert.deepEqual(ruleDirs, ALL_RULES.map((r) => r.id).sort());
  });

  for (const rule of ALL_RULES) {
    describe(rule.id, () => {
      it("fail.yaml produces exactly the expected violations", async () => {
        const report = await runFixture(rule.id, "fail.yaml");
        assert.deepEqual(report.notes, [], "the rule must actually run");
        const expected = JSON.parse(readFileSync(join(DIR, rule.id, "expected.json"), "utf8")) as string[];
        assert.ok(expected.length > 0, "expected.json must list at least one violation");
        // Entries ending in ` (warning)` are the rule's milder findings; the rest have its severity.
        const withSeverity = (ref: string) => (ref.endsWith(WARNING) ? ref : `${ref} (${rule.severity})`);
        assert.deepEqual(report.violations.map((v) => `${v.subject} ${v.path} (${v.severity})`).sort(), expected.map(withSeverity).sort());
        for (const v of report.violations) {
          assert.equal(v.rule, rule.id);
          assert.ok(v.message.length > 10, `message too terse: ${v.message}`);
          assert.equal(v.file, "fail.yaml");
        }
      });
      it("pass.yaml produces no violation", async () => {
        const report = await runFixture(rule.id, "pass.yaml");
        assert.deepEqual(report.notes, [], "the rule must actually run");
        assert.deepEqual(report.violations, []);
      });
    });
  }
});
