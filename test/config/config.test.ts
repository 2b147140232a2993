import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, copyFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ApiObject } from "cdk8s";
import { ConfigError, keyPath, loadConfig, parseConfig, parseVersions } from "../../src/config/load.ts";
import { platformHosts, reservedAppName } from "../../src/config/schema.ts";
import { formatIssue, UserError } from "../../src/errors.ts";
import { platform } from "../../src/platform/platform.ts";
import { REPO, config, defaultInputCopy, homelab, versions } from "../helpers.ts";

const FIXTURES = join(REPO, "test/config/fixtures/invalid");
/** zod's default English; every message the operator sees is ours. */
const LIBRARY_TEXT = /Invalid (input|key in record|option|string|element)|received undefined|expected .*, received|Too (small|big)|Unrecognized key/;

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
      const { patch, remove = [], expect } = JSON.parse(readFileSync(join(FIXTURES, file), "utf8")) as {
        patch: Record<string, unknown>;
        /** Top-level keys taken out of the default config. */
        remove?: string[];
        expect: [string, string][];
      };
      const input: Record<string, unknown> = { ...defaultInputCopy(), ...patch };
      for (const k of remove) delete input[k];
      let err: unknown;
      try {
        parseConfig(input, file);
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
      for (const p of err.problems) assert.doesNotMatch(p.message, LIBRARY_TEXT, `${file}: zod's own text reached the user: ${p.path}: ${p.message}`);
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

describe("config mistakes the fixtures cannot express", () => {
  const app = { name: "web", image: "ghcr.io/me/web", tag: "1.0.0", port: 8080, host: "web.skypalette.ai" };
  const problems = (raw: unknown) => {
    try {
      parseConfig(raw, "test");
    } catch (e) {
      if (e instanceof ConfigError) return e.problems;
      throw e;
    }
    assert.fail("accepted");
  };

  it("a config that is not an object is reported at (root) in plain words", () => {
    assert.deepEqual(problems(42), [{ path: "(root)", message: "must be an object {...}, not the number 42" }]);
    assert.deepEqual(problems([]), [{ path: "(root)", message: "must be an object {...}, not a list" }]);
  });

  it("an environment of megabytes is refused at the key, before anything is rendered", () => {
    const big = problems({ ...defaultInputCopy(), apps: [{ ...app, env: { BLOB: "x".repeat(2 * 1024 * 1024) } }] });
    assert.equal(big.length, 1);
    assert.equal(big[0]!.path, "apps[0].env.BLOB");
    assert.match(big[0]!.message, /the environment is 2049 KiB, over the 128 KiB an app may have/);
    // Many medium values add up: reported at the env map.
    const many = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`V${i}`, "y".repeat(30 * 1024)]));
    const sum = problems({ ...defaultInputCopy(), apps: [{ ...app, env: many }] });
    assert.deepEqual(sum.map((p) => p.path), ["apps[0].env"]);
    // Just under the limit is fine.
    assert.doesNotThrow(() => parseConfig({ ...defaultInputCopy(), apps: [{ ...app, env: { V: "z".repeat(100 * 1024) } }] }));
  });

  it("an ingress-nginx ConfigMap over 1 MiB is refused at the key", () => {
    const p = problems({ ...defaultInputCopy(), components: { ingressNginx: { config: { "http-snippet": "x".repeat(1024 * 1024 + 1) } } } });
    assert.deepEqual(p.map((x) => x.path), ["components.ingressNginx.config"]);
    assert.match(p[0]!.message, /over 1 MiB/);
  });

  it("every platform component name and the root app are reserved app names", () => {
    const c = config();
    const names = platform(c, versions()).components.map((x) => x.name).filter((n) => !c.apps.some((a) => a.name === n));
    assert.ok(names.length >= 4, names.join(","));
    for (const n of [...names, "root"]) assert.ok(reservedAppName(n), `${n} is not reserved`);
    assert.equal(reservedAppName("notes"), undefined);
  });

  it("every host a platform Ingress serves is known to the config check", () => {
    const c = config();
    const p = platform(c, versions());
    const known = platformHosts(c);
    const hosts = p.components
      .filter((x) => !c.apps.some((a) => a.name === x.name))
      .flatMap((x) => x.node.findAll())
      .filter((n): n is ApiObject => n instanceof ApiObject && n.kind === "Ingress")
      .flatMap((o) => ((o.toJson() as { spec?: { rules?: { host?: string }[] } }).spec?.rules ?? []).map((r) => r.host!));
    // A chart that renders its Ingress itself (argo-cd) exposes the host its values get.
    hosts.push(...p.components.flatMap((x) => (typeof (x as { host?: unknown }).host === "string" ? [(x as unknown as { host: string }).host] : [])));
    assert.ok(hosts.length > 0);
    for (const h of hosts) assert.ok(known.has(h), `${h} is served by the platform but apps may claim it`);
  });

  it("a long tag that passes the config renders a valid version label", () => {
    const tag = `${"1".repeat(62)}.${"a".repeat(30)}`;
    const p = platform(parseConfig({ ...defaultInputCopy(), apps: [{ ...app, tag }] }), versions());
    const deployment = p.components.find((x) => x.name === "web")!.node.findAll().find((n): n is ApiObject => n instanceof ApiObject && n.kind === "Deployment")!;
    const label = (deployment.toJson() as { metadata: { labels: Record<string, string> } }).metadata.labels["app.kubernetes.io/version"]!;
    assert.match(label, /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/, label);
  });

  it("a default export that is a function or a Promise gets one clear message", async () => {
    const dir = mkdtempSync(join(tmpdir(), "homelab-export-"));
    const cases: [string, RegExp][] = [
      ["export default () => ({});\n", /the default export is a function, not the config object; write `export default defineHomelab\(\{\.\.\.\}\)`/],
      ["export default Promise.resolve({});\n", /the default export is a Promise, not the config object/],
    ];
    for (const [i, [text, message]] of cases.entries()) {
      const file = join(dir, `c${i}.ts`);
      writeFileSync(file, text);
      await assert.rejects(loadConfig(file), (e: unknown) => e instanceof UserError && !(e instanceof ConfigError) && message.test(e.message));
    }
  });

  it("an empty path in a validation issue prints as (root)", () => {
    assert.equal(formatIssue({ subject: "ConfigMap x/y", path: "", message: "bad", check: "schema" }), "ConfigMap x/y (root): bad [schema]");
  });
});
