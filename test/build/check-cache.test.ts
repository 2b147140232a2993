/**
 * The build's record fingerprint: files the build just wrote (or found current) are hashed from the content
 * it holds, and that gives exactly the fingerprint reading them back gives.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { buildFingerprint } from "../../src/build/check-cache.ts";

describe("buildFingerprint", () => {
  const root = mkdtempSync(join(tmpdir(), "homelab-fingerprint-"));
  after(() => rmSync(root, { recursive: true, force: true }));
  const files: Record<string, string> = { "homelab.config.ts": "export default {};\n", "gitops/a/x.yaml": "kind: ConfigMap\n", "gitops/b/y.yaml": "name: é ünïcode\n", "hosts/n/compose.yaml": "services: {}\n" };
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(join(root, p, ".."), { recursive: true });
    writeFileSync(join(root, p), c);
  }
  const day = new Date("2026-01-02T03:04:05Z");
  const opts = { config: "homelab.config.ts" };

  it("is the same whether the rendered files are read or given", () => {
    const known = new Map(Object.entries(files).filter(([p]) => !p.endsWith(".ts")));
    assert.equal(buildFingerprint(root, opts, day, known), buildFingerprint(root, opts, day));
  });

  it("uses the given content instead of reading the file", () => {
    assert.notEqual(buildFingerprint(root, opts, day, new Map([["gitops/a/x.yaml", "kind: Secret\n"]])), buildFingerprint(root, opts, day));
  });
});
