import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { BOOTSTRAP_STEPS } from "../../src/host/bootstrap.ts";
import { REPO } from "../helpers.ts";

const runbook = () => readFileSync(join(REPO, "docs/bootstrap.md"), "utf8");
/** The `### Step \`name\`` headings of the runbook, in order. */
function runbookSteps(text: string): string[] {
  return [...text.matchAll(/^### Step `([a-z-]+)`$/gm)].map((m) => m[1]!);
}
/** The STEPS=(…) list of a rendered script. */
function scriptSteps(text: string): string[] {
  const m = /^STEPS=\(([^)]*)\)$/m.exec(text);
  assert.ok(m, "the script has no STEPS=(…) line");
  return m[1]!.split(/\s+/).filter(Boolean);
}

describe("docs/bootstrap.md and hosts/<node>/bootstrap.sh", () => {
  it("name the same steps in the same order, each with a function in the script", () => {
    for (const node of readdirSync(join(REPO, "hosts"))) {
      const script = readFileSync(join(REPO, "hosts", node, "bootstrap.sh"), "utf8");
      assert.deepEqual(scriptSteps(script), runbookSteps(runbook()), `hosts/${node}/bootstrap.sh`);
      for (const s of scriptSteps(script)) assert.match(script, new RegExp(`^step_${s.replace(/-/g, "_")}\\(\\) \\{$`, "m"), `no function for step ${s}`);
    }
    assert.deepEqual(runbookSteps(runbook()), [...BOOTSTRAP_STEPS]);
  });

  it("the comparison fails on a runbook that drops, renames or reorders a step", () => {
    const steps = runbookSteps(runbook());
    const dropped = runbook().replace("### Step `chrony`\n", "");
    assert.notDeepEqual(runbookSteps(dropped), steps);
    const renamed = runbook().replace("### Step `sops-age`", "### Step `age-key`");
    assert.notDeepEqual(runbookSteps(renamed), steps);
    const swapped = runbook().replace("### Step `kubeadm`", "### Step `TMP`").replace("### Step `cni`", "### Step `kubeadm`").replace("### Step `TMP`", "### Step `cni`");
    assert.notDeepEqual(runbookSteps(swapped), steps);
  });

  it("the runbook shows the script's own commands for the dry run and the Compose deploy", () => {
    const text = runbook();
    assert.match(text, /sudo bash hosts\/k8s-worker-3090\/bootstrap\.sh --dry-run/);
    assert.match(text, /sudo bash hosts\/k8s-worker-3090\/bootstrap\.sh compose --dry-run/);
    const script = readFileSync(join(REPO, "hosts/k8s-worker-3090/bootstrap.sh"), "utf8");
    assert.match(script, /exec-env "\$REPO\/\$COMPOSE_SECRETS" -- docker compose --project-name "\$COMPOSE_PROJECT" --file "\$COMPOSE_FILE" up --detach --wait/);
    assert.match(text, /homelab secrets exec-env secrets\/forgejo\/compose\.sops\.env -- docker compose --project-name forgejo --file hosts\/k8s-worker-3090\/compose\.yaml up --detach --wait/);
  });
});
