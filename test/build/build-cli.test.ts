import assert from "node:assert/strict";
import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { REPO, homelab } from "../helpers.ts";

/** A scratch checkout: the sources are linked, the rendered tree is its own. */
function scratchCheckout(): string {
  const dir = mkdtempSync(join(tmpdir(), "homelab-build-"));
  for (const f of ["versions.yaml", "package.json", "homelab.config.ts"]) cpSync(join(REPO, f), join(dir, f));
  if (existsSync(join(REPO, "secrets"))) cpSync(join(REPO, "secrets"), join(dir, "secrets"), { recursive: true });
  if (existsSync(join(REPO, ".sops.yaml"))) cpSync(join(REPO, ".sops.yaml"), join(dir, ".sops.yaml"));
  symlinkSync(join(REPO, "src"), join(dir, "src"));
  symlinkSync(join(REPO, "node_modules"), join(dir, "node_modules"));
  cpSync(join(REPO, "charts"), join(dir, "charts"), { recursive: true });
  // Every alert's runbook section must exist in the checkout it links to.
  cpSync(join(REPO, "docs", "runbooks"), join(dir, "docs", "runbooks"), { recursive: true });
  return dir;
}

describe("homelab build / --check", () => {
  let dir = "";
  before(() => {
    dir = scratchCheckout();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("builds the default config, prints the summary, and a second build changes nothing", (t) => {
    const first = homelab(["build"], { cwd: dir });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /Components \(sync wave, layer, chart\):/);
    assert.match(first.stdout, /argo-cd@10\.1\.1/);
    assert.match(first.stdout, /Helm values of (\d+)\/\1 charts: 0 errors, 0 warnings/);
    assert.match(first.stdout, /Dashboards: \d+ with \d+ queries, PromQL and LogQL parsed; /);
    assert.match(first.stdout, /wrote \d+ new, 0 changed, removed 0/);
    assert.match(first.stdout, /\nHosts: 11 files under hosts\/ for 1 node\(s\); the Compose stack's 7 services checked against the Compose specification's schema\n/);
    const second = homelab(["build", "--quiet"], { cwd: dir });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /tree already current/);
  });

  it("--check passes on a current tree", (t) => {
    const res = homelab(["build", "--check", "--quiet"], { cwd: dir });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /files current/);
  });

  it("--check detects a hand edit, a stray file and a deleted file, and touches nothing", (t) => {
    const edited = join(dir, "gitops/site/deployment-site.yaml");
    const before = readFileSync(edited, "utf8").replace("replicas: 1", "replicas: 3");
    writeFileSync(edited, before);
    writeFileSync(join(dir, "gitops/site/hand-made.yaml"), "kind: ConfigMap\n");
    rmSync(join(dir, "gitops/site/service-site.yaml"));
    const res = homelab(["build", "--check"], { cwd: dir });
    assert.equal(res.code, 1);
    assert.match(res.stderr, /the committed tree is stale/);
    assert.match(res.stderr, /\n {2}changed: gitops\/site\/deployment-site\.yaml — build would rewrite it\n/);
    assert.match(res.stderr, /\n {2}stray: {3}gitops\/site\/hand-made\.yaml — build would delete it\n/);
    assert.match(res.stderr, /\n {2}missing: gitops\/site\/service-site\.yaml — build would recreate it\n/);
    assert.doesNotMatch(res.stderr, /added:|removed:/);
    assert.equal(readFileSync(edited, "utf8"), before, "--check must not write");
    // A build repairs all three.
    assert.equal(homelab(["build", "--quiet"], { cwd: dir }).code, 0);
    assert.equal(existsSync(join(dir, "gitops/site/hand-made.yaml")), false);
    assert.equal(homelab(["build", "--check", "--quiet"], { cwd: dir }).code, 0);
  });

  it("hosts/ is a managed root too: --check lists a hand edit and a stray file there, a build repairs both", () => {
    const compose = join(dir, "hosts/k8s-worker-3090/compose.yaml");
    const edited = readFileSync(compose, "utf8").replace('published: "2222"', 'published: "22"');
    writeFileSync(compose, edited);
    writeFileSync(join(dir, "hosts/k8s-worker-3090/notes.txt"), "hand-made\n");
    const res = homelab(["build", "--check"], { cwd: dir });
    assert.equal(res.code, 1);
    assert.match(res.stderr, /\n {2}changed: hosts\/k8s-worker-3090\/compose\.yaml — build would rewrite it\n/);
    assert.match(res.stderr, /\n {2}stray: {3}hosts\/k8s-worker-3090\/notes\.txt — build would delete it\n/);
    assert.equal(readFileSync(compose, "utf8"), edited, "--check must not write");
    assert.equal(homelab(["build", "--quiet"], { cwd: dir }).code, 0);
    assert.equal(existsSync(join(dir, "hosts/k8s-worker-3090/notes.txt")), false);
    assert.match(readFileSync(compose, "utf8"), /published: "2222"/);
  });

  it("a host file that fails its checks writes nothing: a Compose secret missing from the encrypted env file", () => {
    const envFile = join(dir, "secrets/forgejo/compose.sops.env");
    const original = readFileSync(envFile, "utf8");
    const compose = join(dir, "hosts/k8s-worker-3090/compose.yaml");
    const before = readFileSync(compose, "utf8");
    try {
      writeFileSync(envFile, original.split("\n").filter((l) => !l.startsWith("PR_AGENT_OPENAI_KEY=")).join("\n"));
      writeFileSync(compose, before + "# stale\n");
      const res = homelab(["build"], { cwd: dir });
      assert.equal(res.code, 1);
      assert.match(res.stderr, /secrets\/forgejo\/compose\.sops\.env: Compose secrets PR_AGENT_OPENAI_KEY: missing key PR_AGENT_OPENAI_KEY/);
      assert.match(res.stderr, /nothing was written/);
      assert.equal(readFileSync(compose, "utf8"), before + "# stale\n", "a failed build must leave hosts/ as it was");
    } finally {
      writeFileSync(envFile, original);
      assert.equal(homelab(["build", "--quiet"], { cwd: dir }).code, 0);
    }
  });

  it("without promtool the alert rules are parsed only and the summary says so; HOMELAB_REQUIRE_PROMTOOL=1 makes that an error", () => {
    // The CLI runs on process.execPath, so an empty PATH hides only the tools.
    const env = { PATH: join(dir, "no-tools-here") };
    const res = homelab(["build", "--check", "--no-cache"], { cwd: dir, env });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /Alert rules: \d+ with \d+ promtool test cases, PromQL parsed; promtool check \+ test rules: not run \(promtool is not on PATH/);
    const strict = homelab(["build", "--check", "--no-cache"], { cwd: dir, env: { ...env, HOMELAB_REQUIRE_PROMTOOL: "1" } });
    assert.equal(strict.code, 1);
    assert.match(strict.stderr, /alert rules \(root\): promtool is not on PATH and HOMELAB_REQUIRE_PROMTOOL=1/);
    // With promtool the build runs it.
    const real = homelab(["build", "--check", "--no-cache"], { cwd: dir });
    assert.match(real.stdout, /promtool check \+ test rules: passed/);
  });

  it("a missing runbook section fails the build, naming the alert", () => {
    const page = join(dir, "docs", "runbooks", "apps.md");
    const original = readFileSync(page, "utf8");
    writeFileSync(page, original.replace("## AppDown", "## Something else"));
    try {
      const res = homelab(["build", "--check", "--no-cache"], { cwd: dir });
      assert.equal(res.code, 1);
      assert.match(res.stderr, /PrometheusRule site\/site-availability \/spec\/groups\/0\/rules\/0\/annotations\/runbook_url: alert AppDown: docs\/runbooks\/apps\.md has no '## AppDown' section \[alert-runbook\]/);
    } finally {
      writeFileSync(page, original);
    }
  });

  it("a bad config fails the build and keeps the committed tree", (t) => {
    const cfg = join(dir, "homelab.config.ts");
    const original = readFileSync(cfg, "utf8");
    writeFileSync(cfg, original.replace("  components: {\n", '  components: {\n    ingressNginx: { config: { "ssl-protocols": 42 as unknown as string } },\n'));
    assert.notEqual(readFileSync(cfg, "utf8"), original);
    const res = homelab(["build"], { cwd: dir });
    writeFileSync(cfg, original);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /components\.ingressNginx\.config\.ssl-protocols/);
    assert.equal(homelab(["build", "--check", "--quiet"], { cwd: dir }).code, 0, "the tree was changed by a failed build");
  });

  it("fails when a declared secret has no encrypted file, and warns about an undeclared one", (t) => {
    const src = join(dir, "secrets/cloudflared/cloudflared-credentials.sops.yaml");
    const moved = join(dir, "secrets/cloudflared/renamed.sops.yaml");
    renameSync(src, moved);
    try {
      const res = homelab(["build", "--check"], { cwd: dir });
      assert.equal(res.code, 1);
      assert.match(res.stderr, /Secret cloudflared\/cloudflared-credentials \(root\): declared secret has no encrypted file secrets\/cloudflared\/cloudflared-credentials\.sops\.yaml/);
      assert.match(res.stderr, /WARNING: secrets\/cloudflared\/renamed\.sops\.yaml is not declared by any app or component/);
    } finally {
      renameSync(moved, src);
    }
    assert.equal(homelab(["build", "--check", "--quiet"], { cwd: dir }).code, 0);
  });

  it("a check with no input changed since the last success answers from its record; any change runs it all", () => {
    assert.equal(homelab(["build", "--quiet"], { cwd: dir }).code, 0);
    const cached = homelab(["build", "--check"], { cwd: dir });
    assert.equal(cached.code, 0, cached.stderr);
    assert.match(cached.stdout, /\d+ files current \(\d+\.\d\ds; no input changed since the full check of \d{4}-\d\d-\d\dT[\d:.]+Z, --no-cache runs it again\)/);
    // The summary is the full check's, minus its timing.
    assert.match(cached.stdout, /Helm values of (\d+)\/\1 charts: 0 errors, 0 warnings/);
    const full = homelab(["build", "--check", "--quiet", "--no-cache"], { cwd: dir });
    assert.equal(full.code, 0, full.stderr);
    assert.doesNotMatch(full.stdout, /no input changed/);
    // A hand edit in the tree, and a change of the config, are inputs like any other.
    const edited = join(dir, "gitops/site/service-site.yaml");
    const original = readFileSync(edited, "utf8");
    writeFileSync(edited, original + "# hand edit\n");
    const stale = homelab(["build", "--check", "--quiet"], { cwd: dir });
    writeFileSync(edited, original);
    assert.equal(stale.code, 1);
    assert.match(stale.stderr, /gitops\/site\/service-site\.yaml/);
    const cfg = join(dir, "homelab.config.ts");
    const config = readFileSync(cfg, "utf8");
    writeFileSync(cfg, config + "\n// a comment changes no output, but the file changed\n");
    const rerun = homelab(["build", "--check", "--quiet"], { cwd: dir });
    writeFileSync(cfg, config);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.doesNotMatch(rerun.stdout, /no input changed/);
  });

  it("checks every chart against the committed lock, with no cache folder and no network", () => {
    // A cache variable pointing nowhere changes nothing: the build reads charts/ only.
    const res = homelab(["build", "--check"], { cwd: dir, env: { HOMELAB_CHART_CACHE: "/nonexistent", CI: "true" } });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /Helm values of (\d+)\/\1 charts: 0 errors, 0 warnings/);
    assert.match(res.stdout, /argo-cd@10\.1\.1 {2}https:\/\/argoproj\.github\.io\/argo-helm {2}\(defaults: charts\/argo-cd-10\.1\.1\)/);
    assert.doesNotMatch(res.stderr, /WARNING/);
  });

  it("a chart pinned in versions.yaml without its lock entry fails the build with the one command to run", () => {
    const path = join(dir, "versions.yaml");
    const original = readFileSync(path, "utf8");
    writeFileSync(path, original.replace("version: 4.15.1", "version: 4.15.2"));
    try {
      const res = homelab(["build"], { cwd: dir });
      assert.equal(res.code, 1);
      assert.match(
        res.stderr,
        /versions\.yaml: chart ingress-nginx \/charts\/ingress-nginx: chart ingress-nginx is pinned at 4\.15\.2 from https:\/\/kubernetes\.github\.io\/ingress-nginx in versions\.yaml, but charts\/lock\.yaml holds 4\.15\.1 from https:\/\/kubernetes\.github\.io\/ingress-nginx; run `npx homelab charts pull` and commit charts\/ \[chart-lock\]/,
      );
      assert.match(res.stderr, /nothing was written/);
    } finally {
      writeFileSync(path, original);
    }
    assert.equal(homelab(["build", "--check", "--quiet"], { cwd: dir }).code, 0);
  });

  it("a hand-edited file in the lock fails the build", () => {
    const path = join(dir, "charts/cert-manager-v1.21.1/values.yaml");
    const original = readFileSync(path, "utf8");
    writeFileSync(path, original + "\nmadeUp: true\n");
    try {
      const res = homelab(["build", "--check"], { cwd: dir });
      assert.equal(res.code, 1);
      assert.match(res.stderr, /chart cert-manager v1\.21\.1: \S*charts\/cert-manager-v1\.21\.1\/values\.yaml does not match its sha256 in charts\/lock\.yaml \(a hand edit\?\); run `npx homelab charts pull`/);
    } finally {
      writeFileSync(path, original);
    }
  });

  it("rejects unknown flags with exit 2 and has --help", () => {
    const bad = homelab(["build", "--chek"], { cwd: dir });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown option --chek — did you mean --check\?/);
    const help = homelab(["build", "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--check/);
    const top = homelab(["nope"]);
    assert.equal(top.code, 2);
  });
});
