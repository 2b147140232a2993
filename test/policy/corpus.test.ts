// A corpus of deliberately bad manifests, checked the way an operator vets foreign YAML: every rule,
// no homelab model. Each file must be caught by exactly the rules listed here, no more, no fewer.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { exitCodeFor, loadManifests, policyContext, POLICY_EXIT, runPolicies } from "../../src/policy/index.ts";
import { TODAY } from "./helpers.ts";

const DIR = join(import.meta.dirname, "corpus");


const EXPECTED: Record<string, readonly string[]> = {
  "argocd-no-selfheal.yaml": ["argocd-sync-policy"],
  "default-namespace.yaml": ["no-default-namespace"],
  "good.yaml": [],
  "helm-rendered.yaml": ["probes"],
  "host-network.yaml": ["pss-host-namespaces"],
  "hostpath.yaml": ["pss-host-path"],
  // The hand-made certificate also puts its private key in Git in plaintext.
  "ingress-manual-tls.yaml": ["ingress-cert-manager", "no-plaintext-secrets"],
  "istio-sidecar.yaml": ["no-service-mesh"],
  "latest-tags.yaml": ["image-pinned"],
  "linkerd-sidecar.yaml": ["no-service-mesh"],
  "list-of-objects.yaml": ["service-exposure"],
  "missing-limits.yaml": ["resources"],
  "nodeport.yaml": ["service-exposure"],
  "plaintext-secret.yaml": ["no-plaintext-secrets"],
  // A privileged container cannot also forbid privilege escalation.
  "privileged-pod.yaml": ["pss-privilege-escalation", "pss-privileged"],
  // The CronJob also keeps no explicit history of its finished Jobs.
  "removed-api.yaml": ["job-cleanup", "removed-api"],
  "rbac-exec-role.yaml": ["rbac-sensitive-access"],
  "configmap-credentials.yaml": ["no-plaintext-secrets"],
  "missing-metadata.yaml": ["object-metadata", "service-exposure"],
  "wildcard-clusterrole.yaml": ["rbac-least-privilege"],
  // Merge keys are honoured as kubectl honours them: the merged container is privileged, adds
  // SYS_ADMIN and, having no allowPrivilegeEscalation of its own, may escalate.
  "yaml-merge-keys.yaml": ["pss-capabilities", "pss-privilege-escalation", "pss-privileged"],
  // Read as kubectl reads it (true), and the spelling is flagged.
  "yaml-1-1-boolean.yaml": ["pss-privilege-escalation", "pss-privileged", "yaml-booleans"],
};

function check(file: string) {
  const { objects, otherFiles } = loadManifests([file], { cwd: DIR });
  return runPolicies(policyContext({ objects, files: otherFiles, kubernetesVersion: "1.34" }), { waivers: [], today: TODAY });
}

describe("bad-manifest corpus", () => {
  it("lists every corpus file", () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith(".yaml")).sort();
    assert.deepEqual(files, Object.keys(EXPECTED).sort());
  });

  for (const [file, rules] of Object.entries(EXPECTED)) {
    it(`${file} is caught by ${rules.length ? rules.join(", ") : "nothing"}`, () => {
      const report = check(file);
      assert.deepEqual([...new Set(report.violations.map((v) => v.rule))].sort(), [...rules].sort());
      assert.equal(exitCodeFor(report), rules.length ? POLICY_EXIT.errors : POLICY_EXIT.clean);
      // Foreign input: the model-aware rules say they did not run instead of passing silently.
      assert.deepEqual(
        report.notes.map((n) => n.rule).sort(),
        ["alert-unit-tests", "argocd-sources", "backup-coverage", "dangling-references", "ha-shape", "image-registry", "network-policy-coverage", "scrape-coverage"],
      );
    });
  }

  it("points Helm output back at the chart template", () => {
    const report = check("helm-rendered.yaml");
    assert.deepEqual(
      report.violations.map((v) => [v.file, v.source, v.path]),
      [
        ["helm-rendered.yaml", "shop/templates/deployment.yaml", "/spec/template/spec/containers/0/livenessProbe"],
        ["helm-rendered.yaml", "shop/templates/deployment.yaml", "/spec/template/spec/containers/0/readinessProbe"],
      ],
    );
  });
});
