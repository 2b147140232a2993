import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { DEFAULT_SCAN_PATHS, readScanTargets } from "../../src/secrets/scan-inputs.ts";
import { scanFiles } from "../../src/secrets/scan.ts";
import { REPO } from "../helpers.ts";

describe("the plaintext scanner and hosts/", () => {
  it("scans every rendered host file by default and finds nothing in them", () => {
    assert.ok(DEFAULT_SCAN_PATHS.includes("hosts"));
    const targets = readScanTargets(REPO, ["hosts"]);
    assert.deepEqual(
      targets.map((t) => t.path.replace(/^hosts\/[^/]+\//, "")).sort(),
      ["argocd/values.yaml", "bootstrap.sh", "chrony/chrony.conf", "cloudflared/forgejo.yaml", "cni/calico.yaml", "compose.yaml", "containerd/config.toml", "kernel/modules-load.conf", "kernel/sysctl.conf", "kubeadm.yaml", "runner/config.yaml"],
    );
    assert.deepEqual(scanFiles(targets), []);
  });

  it("a credential written into the Compose file instead of referenced is found, at its line", () => {
    const path = "hosts/k8s-worker-3090/compose.yaml";
    const literal = randomBytes(18).toString("base64url");
    const content = readFileSync(join(REPO, path), "utf8").replace(/POSTGRES_PASSWORD: \$\{[^}]*\}/, `POSTGRES_PASSWORD: ${literal}`);
    const line = content.split("\n").findIndex((l) => l.includes(literal)) + 1;
    const findings = scanFiles([{ path, content }]);
    assert.deepEqual(findings.map((f) => [f.file, f.line, f.rule]), [[path, line, "literal-password"]]);
    assert.ok(!findings[0]!.message.includes(literal), "a finding never repeats the secret");
  });
});
