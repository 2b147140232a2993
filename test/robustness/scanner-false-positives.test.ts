/**
 * Values seen in public homelab repositories that are not secrets, each next to the true positive of
 * the same shape that must still be found.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { scanFiles } from "../../src/secrets/scan.ts";

const rules = (content: string, path = "x.yaml") => scanFiles([{ path, content }]).map((f) => `${f.line} ${f.rule}`);

describe("scanner false positives", () => {
  it("an ExternalSecret's secretKey names a key; a MinIO secretKey holding a word is still a password", () => {
    assert.deepEqual(rules("spec:\n  data:\n    - secretKey: github_app_id\n      remoteRef: {key: github, property: app_id}\n"), []);
    assert.deepEqual(rules("minio:\n  secretKey: supersecretpassword\n"), ["2 literal-password"]);
  });
  it("a CIDR under an auth-ish name is a network, a random value there is still flagged", () => {
    assert.deepEqual(rules("env:\n  PLEX_NO_AUTH_NETWORKS: 192.168.10.0/24,10.0.0.0/8\n"), []);
    assert.deepEqual(rules("env:\n  PLEX_AUTH: Zq8vL2mWx9Rt4Kp7\n"), ["2 high-entropy-secret"]);
  });
  it("a Secret's name under *_SECRET is a reference; a password-named literal is not", () => {
    assert.deepEqual(rules("env:\n  TS_KUBE_SECRET: tailscale\n"), []);
    assert.deepEqual(rules("env:\n  TS_PASSWORD: tailscale\n"), ["2 literal-password"]);
  });
  it("secret manager references are references", () => {
    for (const v of ["op://homelab/db/password", "vault:secret/data/db#password", "ref+vault://secret/db#/password", "ref+sops://secrets.yaml#/db"])
      assert.deepEqual(rules(`db:\n  password: "${v}"\n`), [], v);
    assert.deepEqual(rules(`db:\n  password: "vaultpass123"\n`), ["2 literal-password"]);
  });
});
