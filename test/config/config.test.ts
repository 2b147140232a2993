import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, copyFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ConfigError, keyPath, parseConfig, parseVersions } from "../../src/config/load.ts";
import { REPO, config, defaultInputCopy, homelab } from "../helpers.ts";

const FIXTURES = join(REPO, "test/config/fixtures/invalid");

describe("config", () => {
  it("accepts the Sky Palette default and fills defaults", () => {
    const c = config();
    assert.equal(c.domain, "skypalette.ai");
    assert.deepEqual(c.nodes, [{ name: "k8s-worker-3090", address: "192.168.1.253", roles: ["control-plane", "worker"] }]);
    assert.equal(c.git.url, "https://git.skypalette.ai");
    assert.equal(c.git.path, "gitops");
    assert.equal(c.components.argocd.subdomain, "argocd");
    assert.equal(c.apps[0]?.metricsPath, "/metrics");
    assert.equal(c.apps[0]?.replicas, 2);
  });

  it("formats key paths the way the operator writes them", () => {
    assert.equal(keyPath(["apps", 0, "resources", "limits", "memory"]), "apps[0].resources.limits.memory");
    assert.equal(keyPath([]), "(root)");
  });

  const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith(".json")).sort();
  it("has at least ten invalid-config fixtures", () => assert.ok(fixtures.length >= 10, `${fixtures.length} fixtures`));

  for (const file of fixtures) {
    it(`rejects ${file} with every expected error and its key path`, () => {
      const { patch, expect } = JSON.parse(readFileSync(join(FIXTURES, file), "utf8")) as {
        patch: Record<string, unknown>;
        expect: [string, string][];
      };
      let err: unknown;
      try {
        parseConfig({ ...defaultInputCopy(), ...patch }, file);
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof ConfigError, `${file} was accepted`);
      for (const [path, text] of expect) {
        assert.ok(
          err.problems.some((p) => p.path === path && p.message.includes(text)),
          `${file}: expected '${path}: …${text}…' among:\n${err.problems.map((p) => `${p.path}: ${p.message}`).join("\n")}`,
        );
      }
      assert.equal(err.problems.length, expect.length, `${file}: unexpected extra problems:\n${err.message}`);
    });
  }

  it("rejects a versions file with a latest image and a bad chart version", () => {
    assert.throws(
      () => parseVersions({ charts: { x: { repo: "https://e.org", version: "main" } }, images: { y: { image: "a", tag: "latest" } } }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.problems.some((p) => p.path === "charts.x.version") &&
        e.problems.some((p) => p.path === "images.y.tag" && p.message.includes("latest")),
    );
  });

  it("the CLI prints every problem, exits 1 and writes nothing", () => {
    const dir = mkdtempSync(join(tmpdir(), "homelab-badcfg-"));
    copyFileSync(join(REPO, "versions.yaml"), join(dir, "versions.yaml"));
    const bad = { ...defaultInputCopy(), domain: "x", kubernetesVersion: "2", acme: { email: "nope" } };
    writeFileSync(join(dir, "package.json"), `{ "type": "module" }\n`);
    writeFileSync(join(dir, "homelab.config.ts"), `export default ${JSON.stringify(bad)};\n`);
    const res = homelab(["build"], { cwd: dir });
    assert.equal(res.code, 1, res.stderr);
    assert.match(res.stderr, /homelab\.config\.ts is invalid \(3 problems\)/);
    assert.match(res.stderr, /- domain: must be a fully qualified/);
    assert.match(res.stderr, /- kubernetesVersion: must be a minor version/);
    assert.match(res.stderr, /- acme\.email: must be an e-mail/);
    assert.equal(existsSync(join(dir, "gitops")), false, "a failed build wrote gitops/");
  });
});
