// `homelab check` end to end: the real binary for exit codes and streams, `runCheck` for the
// no-path mode on a small homelab repository written to a temporary folder.
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { NothingToCheckError, parseCheckArgs, runCheck } from "../../src/cli/commands/check.ts";
import { UserError } from "../../src/errors.ts";
import { ALL_RULES, exitCodeFor } from "../../src/policy/index.ts";
import { REPO, homelab } from "../helpers.ts";
import { scannerRules, TODAY } from "./helpers.ts";

/** `secrets/scan-waivers.yaml` waiving, for files matching `path`, every scanner rule a violation message names. */
function waiverFile(message: string, path: string): string {
  const rules = scannerRules(message);
  assert.ok(rules.length > 0, message);
  return "waivers:\n" + rules.map((rule) => `  - rule: ${rule}\n    path: ${path}\n    reason: throwaway password of the local test database\n`).join("");
}

const CORPUS = "test/policy/corpus";
const RULES = "test/policy/fixtures/rules";

describe("homelab check <paths>", () => {
  it("exits 1 on errors and prints the table on stdout", () => {
    const r = homelab(["check", `${CORPUS}/nodeport.yaml`]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^ERRORS \(1\)\n/);
    assert.match(r.stdout, /service-exposure +Service shop\/web +Service is of type NodePort +test\/policy\/corpus\/nodeport\.yaml \/spec\/type/);
    assert.equal(r.stderr, "");
  });

  it("exits 0 when clean and 3 on warnings only (1 with --fail-on-warning)", () => {
    assert.equal(homelab(["check", `${CORPUS}/good.yaml`]).code, 0);
    const warn = homelab(["check", `${RULES}/deprecated-api/fail.yaml`]);
    assert.equal(warn.code, 3);
    assert.match(warn.stdout, /policy PASSED with warnings: 0 errors, 1 warning/);
    assert.equal(homelab(["check", `${RULES}/deprecated-api/fail.yaml`, "--fail-on-warning"]).code, 1);
  });

  it("writes JSON with --format json and runs only the rules named by --rule", () => {
    const r = homelab(["check", CORPUS, "--format", "json", "--rule", "image-pinned", "--rule", "service-exposure"]);
    assert.equal(r.code, 1);
    const doc = JSON.parse(r.stdout);
    assert.deepEqual(doc.rules.map((x: { id: string }) => x.id), ["image-pinned", "service-exposure"]);
    assert.deepEqual(
      doc.violations.map((v: { rule: string; file: string }) => `${v.rule} ${v.file}`),
      [
        "image-pinned test/policy/corpus/latest-tags.yaml",
        "image-pinned test/policy/corpus/latest-tags.yaml",
        "service-exposure test/policy/corpus/list-of-objects.yaml",
        "service-exposure test/policy/corpus/missing-metadata.yaml",
        "service-exposure test/policy/corpus/nodeport.yaml",
      ],
    );
  });

  it("reads standard input for '-', e.g. piped `helm template` output", () => {
    const r = homelab(["check", "-", "--format", "json"], { input: readFileSync(join(CORPUS, "helm-rendered.yaml"), "utf8") });
    assert.equal(r.code, 1);
    const doc = JSON.parse(r.stdout);
    assert.deepEqual(doc.violations.map((v: { file: string; source: string; rule: string }) => [v.file, v.source, v.rule]), [
      ["<stdin>", "shop/templates/deployment.yaml", "probes"],
      ["<stdin>", "shop/templates/deployment.yaml", "probes"],
    ]);
  });

  it("names the file and document of unreadable input, checks the rest and exits 1", () => {
    const r = homelab(["check", "test/policy/fixtures/load/broken-syntax.yaml", "no-such.yaml"]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^INPUT PROBLEMS \(3\): these were not checked$/m);
    assert.match(r.stdout, /^ {2}no-such\.yaml: no such file or folder$/m);
    assert.match(r.stdout, /^ {2}test\/policy\/fixtures\/load\/broken-syntax\.yaml \(document 3, line 12\): Map keys must be unique$/m);
    assert.match(r.stdout, /policy FAILED: 0 errors, 0 warnings \(3 input problems not checked, \d+ rule\(s\) not run\); \d+ rules over 1 object/);
  });

  it("exits 1 without a report when nothing could be loaded", () => {
    const r = homelab(["check", "no-such.yaml"]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /homelab check: could not load the manifests \(1 problem\):\n {2}- no-such\.yaml: no such file or folder/);
  });

  it("prints the load problems as JSON with --format json", () => {
    const r = homelab(["check", "test/policy/fixtures/load/broken-syntax.yaml", "no-such.yaml", "--format", "json"]);
    assert.equal(r.code, 1);
    assert.deepEqual(JSON.parse(r.stdout).input, {
      skipped: [],
      problems: [
          { file: "no-such.yaml", document: null, line: null, message: "no such file or folder" },
          { file: "test/policy/fixtures/load/broken-syntax.yaml", document: 2, line: 9, message: "Flow sequence in block collection must be sufficiently indented and end with a ]" },
          { file: "test/policy/fixtures/load/broken-syntax.yaml", document: 3, line: 12, message: "Map keys must be unique" },
      ],
    });
    const alone = homelab(["check", "no-such.yaml", "--format", "json"]);
    assert.equal(alone.code, 1);
    assert.deepEqual(JSON.parse(alone.stdout).error, {
      kind: "load",
      message: "could not load the manifests (1 problem)",
      problems: [{ file: "no-such.yaml", document: null, line: null, message: "no such file or folder" }],
    });
  });

  it("refuses to pass when there was nothing to check (exit 4)", () => {
    const why = "(empty, comments only, encrypted, or YAML that is not a Kubernetes object)";
    for (const input of ["", "\n", "# only a comment\n---\n"]) {
      const r = homelab(["check", "-"], { input });
      assert.equal(r.code, 4, JSON.stringify(input));
      assert.equal(r.stdout, "");
      assert.equal(r.stderr, `homelab check: nothing to check: standard input holds no Kubernetes object ${why}\n`);
    }
    const empty = mkdtempSync(join(tmpdir(), "homelab-empty-"));
    try {
      const r = homelab(["check", empty]);
      assert.equal(r.code, 4);
      assert.equal(r.stderr, `homelab check: nothing to check: ${empty} has no .yaml, .yml or .json file\n`);
      writeFileSync(join(empty, "values.yaml"), "replicas: 2\n");
      writeFileSync(join(empty, "empty.yaml"), "");
      const values = homelab(["check", empty]);
      assert.equal(values.code, 4);
      assert.equal(values.stderr, `homelab check: nothing to check: none of the 2 files read from ${empty} holds a Kubernetes object ${why}: ${empty}/empty.yaml, ${empty}/values.yaml\n`);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
    const json = homelab(["check", "-", "--format", "json"], { input: "" });
    assert.equal(json.code, 4);
    assert.deepEqual(JSON.parse(json.stdout), {
      version: 1,
      error: { kind: "nothing-to-check", message: `nothing to check: standard input holds no Kubernetes object ${why}`, problems: [] },
    });
  });

  it("applies the homelab's allowlists to paths only when asked", () => {
    const file = `${RULES}/pss-host-namespaces/pass.yaml`;
    const foreign = homelab(["check", file, "--rule", "pss-host-namespaces", "--format", "json"]);
    assert.equal(foreign.code, 1);
    assert.deepEqual(JSON.parse(foreign.stdout).violations.map((v: { subject: string; path: string }) => `${v.subject} ${v.path}`), [
      "DaemonSet node-exporter/node-exporter /spec/template/spec/containers/0/ports/0/hostPort",
      "DaemonSet node-exporter/node-exporter /spec/template/spec/hostNetwork",
      "DaemonSet node-exporter/node-exporter /spec/template/spec/hostPID",
    ]);
    assert.equal(homelab(["check", file, "--rule", "pss-host-namespaces", "--homelab-allowlists"]).code, 0);
  });

  it("judges NetworkPolicy coverage of paths only when they hold whole namespaces", () => {
    const file = `${RULES}/network-policy-coverage/fail.yaml`;
    const partial = homelab(["check", file, "--rule", "network-policy-coverage", "--format", "json"]);
    assert.equal(partial.code, 0);
    assert.match(JSON.parse(partial.stdout).notes[0].message, /not judged: the input may not hold whole namespaces.*--whole-namespaces/);
    const whole = homelab(["check", file, "--rule", "network-policy-coverage", "--whole-namespaces", "--format", "json"]);
    assert.equal(whole.code, 1);
    assert.deepEqual(JSON.parse(whole.stdout).violations.map((v: { subject: string }) => v.subject), ["Deployment demo/db", "Deployment demo/open", "Pod demo/bare"]);
  });

  it("applies the repository's secret-scan waivers to paths, from any folder in it, or a --scan-waivers file", () => {
    const repo = mkdtempSync(join(tmpdir(), "homelab-repo-"));
    try {
      mkdirSync(join(repo, "vendor", "app"), { recursive: true });
      const manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app, namespace: shop}\ndata:\n  DB_PASSWORD: Xq7#mK2v!Lp9wZ4r\n";
      writeFileSync(join(repo, "vendor", "app", "cm.yaml"), manifest);
      const args = ["--rule", "no-plaintext-secrets", "--format", "json"];
      const outside = homelab(["check", "vendor/app/cm.yaml", ...args], { cwd: repo });
      assert.equal(outside.code, 1, "not a homelab repository yet: no waivers");
      const found = JSON.parse(outside.stdout).violations as { file: string; message: string }[];
      assert.deepEqual(found.map((v) => v.file), ["vendor/app/cm.yaml"]);

      // A waiver file outside any repository, given explicitly; its paths match the paths shown.
      writeFileSync(join(repo, "waivers.yaml"), waiverFile(found[0]!.message, "vendor/*/cm.yaml"));
      assert.equal(homelab(["check", "vendor/app/cm.yaml", ...args, "--scan-waivers", "waivers.yaml"], { cwd: repo }).code, 0);
      assert.equal(homelab(["check", "vendor/app/cm.yaml", ...args, "--scan-waivers", join(repo, "waivers.yaml")], { cwd: repo }).code, 0);
      const missing = homelab(["check", "vendor/app/cm.yaml", "--scan-waivers", "nope.yaml"], { cwd: repo });
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /--scan-waivers: no such file: nope\.yaml/);

      // Inside the homelab repository its own waiver file applies, with paths from its root.
      writeFileSync(join(repo, "homelab.config.ts"), "export default {};\n");
      mkdirSync(join(repo, "secrets"));
      writeFileSync(join(repo, "secrets", "scan-waivers.yaml"), waiverFile(found[0]!.message, "vendor/*/cm.yaml"));
      assert.equal(homelab(["check", "vendor/app/cm.yaml", ...args], { cwd: repo }).code, 0);
      const fromSub = homelab(["check", "cm.yaml", ...args], { cwd: join(repo, "vendor", "app") });
      assert.equal(fromSub.code, 0);
      writeFileSync(join(repo, "secrets", "scan-waivers.yaml"), waiverFile(found[0]!.message, "elsewhere/*.yaml"));
      const notCovered = homelab(["check", "cm.yaml", ...args], { cwd: join(repo, "vendor", "app") });
      assert.equal(notCovered.code, 1);
      assert.deepEqual(JSON.parse(notCovered.stdout).violations.map((v: { file: string }) => v.file), ["vendor/app/cm.yaml"], "paths are shown from the repository root");
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });

  it("lists the rules", () => {
    const r = homelab(["check", "--list-rules"]);
    assert.equal(r.code, 0);
    const ids = r.stdout.trim().split("\n").map((l) => l.split(/\s+/)[0]!);
    // Exactly what --rule accepts.
    assert.deepEqual(ids, ALL_RULES.map((x) => x.id));
    for (const id of ids) assert.doesNotThrow(() => parseCheckArgs(["--rule", id]));
    assert.match(r.stdout, /\nbackup-coverage +error +Every PersistentVolumeClaim is backed up or exempt with a reason \(needs the homelab model\)\n/);
  });

  it("rejects bad options with exit 2", () => {
    assert.equal(homelab(["check", "--format", "xml"]).code, 2);
    assert.equal(homelab(["check", "--bogus"]).code, 2);
    const r = homelab(["check", CORPUS, "--rule", "no-such-rule"]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^homelab check: unknown rule id 'no-such-rule'; see `homelab check --list-rules`\n\nUsage: homelab check /);
    const w = homelab(["check", CORPUS, "--rule", "waiver-expired", "--rule", "nope"]);
    assert.equal(w.code, 2);
    assert.match(w.stderr, /unknown rule ids 'waiver-expired', 'nope' \(waiver-expired is reported whenever waivers are judged, not a rule to select\)/);
  });
});

describe("parseCheckArgs", () => {
  it("parses paths, repeated --rule and the version", () => {
    assert.deepEqual(parseCheckArgs(["a.yaml", "dir", "--rule", "probes", "--rule", "resources", "--kubernetes-version", "1.31", "--format", "json"]), {
      paths: ["a.yaml", "dir"],
      format: "json",
      rules: ["probes", "resources"],
      kubernetesVersion: "1.31",
      config: "homelab.config.ts",
      versions: "versions.yaml",
      failOnWarning: false,
      listRules: false,
      homelabAllowlists: false,
      wholeNamespaces: false,
    });
  });
  it("refuses an unknown rule id as a usage error", () => {
    assert.throws(() => parseCheckArgs(["--rule", "probes", "--rule", "nope"]), (e: unknown) => e instanceof UserError && e.exitCode === 2 && /unknown rule id 'nope'/.test(e.message));
  });
  it("refuses path-only options without paths as a usage error", () => {
    for (const args of [["--scan-waivers", "w.yaml"], ["--homelab-allowlists"], ["--whole-namespaces"]])
      assert.throws(() => parseCheckArgs(args), (e: unknown) => e instanceof UserError && e.exitCode === 2 && /applies to paths only/.test(e.message));
    assert.doesNotThrow(() => parseCheckArgs(["x.yaml", "--scan-waivers", "w.yaml", "--homelab-allowlists"]));
  });
  it("refuses a malformed Kubernetes version as a usage error", () => {
    assert.throws(() => parseCheckArgs(["--kubernetes-version", "34"]), (e: unknown) => e instanceof UserError && e.exitCode === 2);
  });
});

describe("homelab check (the homelab repository)", () => {
  let root: string;
  const estate = readFileSync(join(import.meta.dirname, "fixtures", "clean", "estate.yaml"), "utf8");

  let configs = 0;
  /** Writes the repository; returns the config file's name, fresh each time since imports are cached. */
  function writeRepo(waivers: string, opts: { image?: string; hostFile?: string; alert?: string } = {}): string {
    rmSync(join(root, "gitops"), { recursive: true, force: true });
    rmSync(join(root, "hosts"), { recursive: true, force: true });
    mkdirSync(join(root, "gitops", "shop"), { recursive: true });
    mkdirSync(join(root, "hosts", "box"), { recursive: true });
    // The tree's alert is one a platform component declares with its promtool cases, unless a test says otherwise.
    const tree = estate.replace("ghcr.io/example/shop:3.2.1", opts.image ?? "ghcr.io/example/shop:3.2.1").replace("alert: ShopDown", `alert: ${opts.alert ?? "CloudflaredTunnelDown"}`);
    writeFileSync(join(root, "gitops", "shop", "estate.yaml"), tree);
    writeFileSync(join(root, "gitops", "shop", "kustomization.yaml"), "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [estate.yaml]\n");
    // An encrypted Secret, as KSOPS reads it: a file for the secret scan, not an object (as in the build).
    copyFileSync(join(REPO, "gitops", "cloudflared", "cloudflared-credentials.sops.yaml"), join(root, "gitops", "shop", "credentials.sops.yaml"));
    writeFileSync(join(root, "hosts", "box", "compose.yaml"), opts.hostFile ?? "services:\n  forgejo:\n    image: codeberg.org/forgejo/forgejo:11.0.3\n");
    const config = `homelab-${++configs}.config.ts`;
    writeFileSync(
      join(root, config),
      `export default {
  name: "example",
  domain: "example.org",
  kubernetesVersion: "1.33",
  nodes: [{ name: "box", address: "192.168.1.10", roles: ["control-plane", "worker"] }],
  git: { url: "https://git.example.org", repo: "me/homelab" },
  tunnels: { cluster: { name: "example-cluster" }, forgejo: { name: "example-forgejo", hostname: "git.example.org" } },
  acme: { email: "ops@example.org" },
  policy: { waivers: [${waivers}] },
};
`,
    );
    copyFileSync(join(REPO, "versions.yaml"), join(root, "versions.yaml"));
    return config;
  }

  const opts = (extra: Partial<ReturnType<typeof parseCheckArgs>> = {}) => ({ ...parseCheckArgs([]), ...extra });

  before(() => {
    root = mkdtempSync(join(tmpdir(), "homelab-check-"));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it("checks gitops/ and hosts/ with the model and the config's Kubernetes version", async () => {
    const r = await runCheck(opts({ config: writeRepo("") }), root, TODAY);
    assert.equal(r.withModel, true);
    assert.equal(r.kubernetesVersion, "1.33");
    assert.equal(r.objects, 14);
    // kustomization.yaml (no object), the encrypted Secret and the host's compose file are scanned as files.
    assert.equal(r.files, 3);
    assert.deepEqual(r.violations, []);
    // Only what the model cannot know yet is left out (this config lists no allowed registries).
    assert.deepEqual(r.notes.map((n) => n.rule), ["image-registry", "scrape-coverage"]);
    assert.equal(exitCodeFor(r), 0);
  });

  it("an alert in the tree that no component declares with its promtool cases fails alert-unit-tests", async () => {
    const r = await runCheck(opts({ config: writeRepo("", { alert: "ShopDown" }) }), root, TODAY);
    assert.deepEqual(
      r.violations.map((v) => `${v.rule} ${v.subject}: ${v.message}`),
      ["alert-unit-tests PrometheusRule shop/shop: alert ShopDown is not exercised by any promtool unit test"],
    );
  });

  it("applies the config's waivers, and fails on an expired one", async () => {
    const valid = `{ rule: "image-pinned", object: "StatefulSet shop/*", reason: "upstream tags releases next week", expires: "2026-02-01" }`;
    const ok = await runCheck(opts({ config: writeRepo(valid, { image: "ghcr.io/example/shop:latest" }) }), root, TODAY);
    assert.deepEqual(ok.violations, []);
    assert.deepEqual(ok.waived.map((w) => w.violation.subject), ["StatefulSet shop/shop"]);

    const expired = `{ rule: "image-pinned", object: "StatefulSet shop/*", reason: "upstream tags releases next week", expires: "2026-01-14" }`;
    const config = writeRepo(expired, { image: "ghcr.io/example/shop:latest" });
    const bad = await runCheck(opts({ config }), root, TODAY);
    assert.deepEqual(bad.violations.map((v) => [v.rule, v.file]), [
      ["image-pinned", "gitops/shop/estate.yaml"],
      ["waiver-expired", config],
    ]);
    assert.equal(exitCodeFor(bad), 1);
  });

  it("catches a plaintext secret in a host file", async () => {
    const config = writeRepo("", { hostFile: "services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: Xq7#mK2v!Lp9wZ4r\n" });
    const r = await runCheck(opts({ config }), root, TODAY);
    assert.deepEqual(r.violations.map((v) => [v.rule, v.subject, v.path]), [["no-plaintext-secrets", "hosts/box/compose.yaml", "line 4"]]);

    // The secret scanner's own waiver file applies here too.
    mkdirSync(join(root, "secrets"), { recursive: true });
    writeFileSync(join(root, "secrets", "scan-waivers.yaml"), waiverFile(r.violations[0]!.message, "hosts/*/compose.yaml"));
    try {
      assert.deepEqual((await runCheck(opts({ config }), root, TODAY)).violations, []);
    } finally {
      rmSync(join(root, "secrets"), { recursive: true });
    }
  });

  it("refuses a rendered tree without objects", async () => {
    const config = writeRepo("");
    rmSync(join(root, "gitops", "shop", "estate.yaml"));
    await assert.rejects(
      runCheck(opts({ config }), root, TODAY),
      (e: unknown) =>
        e instanceof NothingToCheckError &&
        e.exitCode === 4 &&
        e.message ===
          "nothing to check: none of the 2 files read from gitops/ holds a Kubernetes object (empty, comments only, encrypted, or YAML that is not a Kubernetes object): gitops/shop/credentials.sops.yaml, gitops/shop/kustomization.yaml; run `homelab build`",
    );
  });

  it("says to build first when there is no rendered tree", async () => {
    const config = writeRepo("");
    rmSync(join(root, "gitops"), { recursive: true });
    await assert.rejects(runCheck(opts({ config }), root, TODAY), (e: unknown) => e instanceof UserError && e.message === "no rendered tree at gitops/; run `homelab build` first");
  });
});

describe("what `homelab check` loads", () => {
  /** Whether the CLI, run with `args` in `cwd`, had loaded cdk8s (the platform's constructs) when it ended. */
  function loadsPlatform(args: string[], cwd: string): boolean {
    const dir = mkdtempSync(join(tmpdir(), "check-loads-"));
    const probe = join(dir, "probe.mjs");
    writeFileSync(probe, 'import { createRequire } from "node:module";\nconst cache = createRequire(import.meta.url).cache;\nprocess.on("exit", () => process.stderr.write(`\\ncdk8s=${Object.keys(cache).some((k) => k.includes("/node_modules/cdk8s/"))}\\n`));\n');
    const res = spawnSync(process.execPath, ["--import", probe, join(REPO, "bin", "homelab.mjs"), "check", ...args], { cwd, encoding: "utf8", timeout: 120_000 });
    rmSync(dir, { recursive: true, force: true });
    const m = /cdk8s=(true|false)/.exec(res.stderr);
    assert.ok(m, res.stderr);
    return m[1] === "true";
  }

  it("a check of given paths does not load the platform (cdk8s, Grafana's SDK); the repository's own check does", () => {
    assert.equal(loadsPlatform([join(CORPUS, "good.yaml")], REPO), false);
    assert.equal(loadsPlatform([], REPO), true);
  });
});
