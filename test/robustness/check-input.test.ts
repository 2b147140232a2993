/**
 * `homelab check` on a folder such as a project's deploy tree: one bad or foreign file is reported
 * once and everything else is still checked; files that are not YAML at all are one line each.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadManifests } from "../../src/policy/index.ts";
import { homelab, REPO } from "../helpers.ts";

const DEPLOYMENT = `apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data: {mode: fast}
`;

/** A deploy tree with one real manifest and every kind of file that used to abort the run. */
function tree(): string {
  const dir = mkdtempSync(join(tmpdir(), "check-input-"));
  writeFileSync(join(dir, "a-configmap.yaml"), DEPLOYMENT);
  mkdirSync(join(dir, "chart", "templates"), { recursive: true });
  writeFileSync(join(dir, "chart", "templates", "deployment.yaml"), "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ include \"x.fullname\" . }}\n{{- if .Values.labels }}\n  labels: {{ toYaml .Values.labels | nindent 4 }}\n{{- end }}\n");
  writeFileSync(join(dir, "kubeconfig.yaml"), "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n");
  writeFileSync(join(dir, "kubelet.yaml"), "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: systemd\n");
  writeFileSync(join(dir, "scheduler-policy.yaml"), 'apiVersion: v1\nkind: Policy\npredicates: [{name: PodFitsHostPorts}]\n');
  writeFileSync(join(dir, "image.yaml"), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01, 0x02]));
  writeFileSync(join(dir, "utf16.yaml"), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(DEPLOYMENT, "utf16le")]));
  writeFileSync(join(dir, "latin1.yaml"), Buffer.concat([Buffer.from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: caf"), Buffer.from([0xe9]), Buffer.from("}\n")]));
  // Fifteen broken documents: ten are listed, the rest counted.
  writeFileSync(join(dir, "broken.yaml"), Array.from({ length: 15 }, () => "a: [1\n").join("---\n"));
  symlinkSync(join(dir, "nowhere.yaml"), join(dir, "dangling.yaml"));
  symlinkSync(dir, join(dir, "loop"));
  return dir;
}

describe("check over a folder with foreign and broken files", () => {
  it("loads the manifest, lists each other file once with its reason, and caps problems per file", () => {
    const dir = tree();
    const r = loadManifests(["."], { cwd: dir, keepGoing: true });
    assert.deepEqual(
      r.objects.map((o) => `${o.file} ${o.object.kind}`),
      ["a-configmap.yaml ConfigMap"],
    );
    assert.deepEqual(r.skippedFiles, [
      { file: "dangling.yaml", reason: "dangling symbolic link, skipped" },
      { file: "loop", reason: "symbolic link loop (the folder was already walked), skipped" },
      { file: "chart/templates/deployment.yaml", reason: "Helm template, not rendered: run `helm template` and check its output" },
      { file: "image.yaml", reason: "binary, skipped" },
      { file: "kubeconfig.yaml", reason: "not a Kubernetes manifest: a kubeconfig (kind: Config), not an object to apply" },
      { file: "kubelet.yaml", reason: "not a Kubernetes manifest: KubeletConfiguration (kubelet.config.k8s.io/v1beta1) is a component's configuration file, not an object to apply" },
      { file: "scheduler-policy.yaml", reason: "not a Kubernetes manifest: a scheduler policy file (kind: Policy), not an object to apply" },
    ]);
    const byFile = (f: string) => r.problems.filter((p) => p.file === f).map((p) => p.message);
    assert.equal(byFile("broken.yaml").length, 11);
    assert.equal(byFile("broken.yaml")[10], "… and 5 more problems in this file");
    assert.deepEqual(byFile("utf16.yaml"), ["the file is UTF-16 text; kubectl reads UTF-8: convert it (iconv -f UTF-16 -t UTF-8)"]);
    assert.deepEqual(byFile("latin1.yaml"), ["invalid UTF-8 at byte 51: kubectl would not read this file as the text shown here"]);
  });

  it("the CLI checks the rest, exits 1 for the broken files and prints valid JSON", () => {
    const dir = tree();
    const r = homelab(["check", "--format", "json", dir]);
    assert.equal(r.code, 1, r.stderr);
    const j = JSON.parse(r.stdout) as { summary: { objects: number }; input: { problems: unknown[]; skipped: unknown[] } };
    assert.equal(j.summary.objects, 1);
    assert.equal(j.input.problems.length, 13);
    assert.equal(j.input.skipped.length, 7);
  });

  it("--exclude and .homelabignore leave files and folders out", () => {
    const dir = tree();
    writeFileSync(join(dir, ".homelabignore"), "# generated\nchart/\n*.yaml.bak\nbroken.yaml\n");
    const r = loadManifests(["."], { cwd: dir, keepGoing: true, exclude: ["utf16.yaml", "latin1.*", "**/kube*.yaml"] });
    assert.deepEqual(r.problems, []);
    assert.deepEqual(
      r.skippedFiles.map((s) => s.file),
      ["dangling.yaml", "loop", "image.yaml", "scheduler-policy.yaml"],
    );
    const cli = homelab(["check", dir, "--exclude", "utf16.yaml", "--exclude", "latin1.yaml"]);
    assert.equal(cli.code, 0, cli.stdout + cli.stderr);
    assert.match(cli.stdout, /SKIPPED FILES \(6\)/);
    const usage = homelab(["check", "--exclude", "x"]);
    assert.equal(usage.code, 2);
  });

  it("a file that is not YAML, or is binary, is one line and no input (exit 4)", () => {
    const readme = homelab(["check", "README.md"]);
    assert.equal(readme.code, 4);
    assert.equal(readme.stderr, "homelab check: nothing to check: README.md: not YAML, skipped\n");
    const dir = mkdtempSync(join(tmpdir(), "check-binary-"));
    writeFileSync(join(dir, "prog"), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0x00, 0x41]));
    const bin = homelab(["check", join(dir, "prog")]);
    assert.equal(bin.code, 4);
    assert.equal(bin.stderr.trim().split("\n").length, 1);
    assert.match(bin.stderr, /prog: binary, skipped$/m);
    const stdin = homelab(["check", "-"], { input: "\u00ff\u00fe" });
    assert.notEqual(stdin.code, 70);
    assert.ok(REPO);
  });

  it("an unreadable folder or file is reported with its path and the rest is checked (run as an unprivileged user)", () => {
    const dir = mkdtempSync(join(tmpdir(), "check-unreadable-"));
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, "a-configmap.yaml"), DEPLOYMENT);
    mkdirSync(join(dir, "locked"));
    writeFileSync(join(dir, "locked", "hidden.yaml"), DEPLOYMENT.replace("settings", "hidden"));
    writeFileSync(join(dir, "private.yaml"), DEPLOYMENT.replace("settings", "private"));
    chmodSync(join(dir, "locked"), 0);
    chmodSync(join(dir, "private.yaml"), 0);
    const unprivileged = (args: string[], cwd = REPO) => {
      // Root reads through any permission bits: the walk runs as `nobody`, so the kernel really refuses.
      const argv = [process.execPath, join(REPO, "bin", "homelab.mjs"), ...args];
      const cmd = process.getuid?.() === 0 ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", ...argv] : argv;
      const r = spawnSync(cmd[0]!, cmd.slice(1), { cwd, encoding: "utf8", timeout: 60_000, env: { ...process.env, HOME: tmpdir() } });
      assert.equal(r.error, undefined, `could not run ${cmd[0]}: ${r.error?.message}`);
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    };
    const json = unprivileged(["check", dir, "--format", "json"]);
    assert.equal(json.code, 1, json.stderr);
    const report = JSON.parse(json.stdout) as { summary: { objects: number }; input: { problems: { file: string; message: string }[] } };
    assert.equal(report.summary.objects, 1);
    assert.deepEqual(
      report.input.problems.map((p) => `${p.file}: ${p.message}`),
      [`${join(dir, "locked")}: cannot read the folder: permission denied`, `${join(dir, "private.yaml")}: cannot read: permission denied`],
    );
    const table = unprivileged(["check", dir]);
    assert.equal(table.code, 1);
    assert.match(table.stdout + table.stderr, /INPUT PROBLEMS \(2\): these were not checked\n {2}\S*locked: cannot read the folder: permission denied\n/);
    assert.doesNotMatch(table.stderr, /\bat .*\.(ts|js|mjs):\d+/);
    // The host files of the repository (hosts/): an unreadable one stops the check with its path.
    const probe = `import("${join(REPO, "src", "policy", "load.ts")}").then((m) => m.loadFiles(${JSON.stringify(dir)}, { cwd: ${JSON.stringify(dir)} })).then(() => console.log("loaded"), (e) => console.log(e.name + ": " + e.message))`;
    const argv = [process.execPath, "--import", "tsx", "-e", probe];
    const cmd = process.getuid?.() === 0 ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", ...argv] : argv;
    const r = spawnSync(cmd[0]!, cmd.slice(1), { cwd: REPO, encoding: "utf8", timeout: 60_000 });
    assert.equal(r.stdout.trim(), "UserError: locked: cannot read the folder: permission denied", r.stderr);
  });

  it("a document nested hundreds or thousands of levels deep is one input problem that says so, never a crash, and the rest is checked", () => {
    const dir = mkdtempSync(join(tmpdir(), "check-deep-"));
    // Block style (the fast reader), flow style and JSON (yaml, or JSON.parse), 800 and 3000 levels.
    const block = (n: number, head: string) => `apiVersion: v1\nkind: ConfigMap\n${head}data:\n${Array.from({ length: n }, (_, i) => `${"  ".repeat(i + 1)}a:\n`).join("")}${"  ".repeat(n + 1)}x\n`;
    const json = (n: number) => `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "d", "namespace": "x"}, "data": ${'{"a": '.repeat(n)}1${"}".repeat(n)}}`;
    for (const n of [800, 3000]) {
      writeFileSync(join(dir, `block-${n}.yaml`), block(n, "metadata:\n  name: deep\n  namespace: x\n"));
      writeFileSync(join(dir, `flow-${n}.yaml`), block(n, "metadata: {name: deep, namespace: x}\n"));
      writeFileSync(join(dir, `json-${n}.json`), json(n));
    }
    writeFileSync(join(dir, "ok.yaml"), "apiVersion: v1\nkind: Namespace\nmetadata: {name: fine}\n");
    const r = homelab(["check", dir, "--format", "json"]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout) as { summary: { objects: number }; input: { problems: { file: string; message: string }[] } };
    assert.equal(report.summary.objects, 1);
    const rules = "nested more than 500 levels deep: not checked (real manifests nest a few dozen levels)";
    const reader = "nested too deeply to read: the YAML reader ran out of stack here (real manifests nest a few dozen levels)";
    assert.deepEqual(
      report.input.problems.map((p) => [p.file.slice(dir.length + 1), p.message]),
      [
        ["block-3000.yaml", reader],
        ["block-800.yaml", rules],
        ["flow-3000.yaml", reader],
        ["flow-800.yaml", rules],
        ["json-3000.json", reader],
        ["json-800.json", reader],
      ],
    );
  });

  it("a kustomize patch is named once as a patch, not judged as a Deployment without a selector", () => {
    const dir = mkdtempSync(join(tmpdir(), "check-kustomize-"));
    writeFileSync(
      join(dir, "kustomization.yaml"),
      "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [deployment.yaml]\npatches:\n  - path: patches/resources.yaml\n  - patch: |-\n      - op: replace\n        path: /spec/replicas\n        value: 2\n    target: {kind: Deployment}\npatchesStrategicMerge:\n  - replicas.yaml\n",
    );
    writeFileSync(
      join(dir, "deployment.yaml"),
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: example/web:1.0.0}]\n",
    );
    mkdirSync(join(dir, "patches"));
    writeFileSync(join(dir, "patches", "resources.yaml"), "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers: [{name: web, resources: {limits: {memory: 64Mi}}}]\n");
    writeFileSync(join(dir, "replicas.yaml"), "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 3}\n");
    const r = homelab(["check", dir, "--rule", "selector-match", "--format", "json"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout) as { summary: { objects: number }; violations: unknown[]; input: { skipped: { file: string; reason: string }[] } };
    assert.deepEqual(report.violations, []);
    assert.equal(report.summary.objects, 1);
    assert.deepEqual(report.input.skipped.map((s) => `${s.file.slice(dir.length + 1)}: ${s.reason.replace(dir + "/", "")}`), [
      "patches/resources.yaml: kustomize patch (listed in kustomization.yaml), not a whole object: check the output of `kustomize build`",
      "replicas.yaml: kustomize patch (listed in kustomization.yaml), not a whole object: check the output of `kustomize build`",
    ]);
    // Without the kustomization that names it, the same file is judged as the Deployment it claims to be.
    const alone = homelab(["check", join(dir, "patches", "resources.yaml"), "--rule", "selector-match"]);
    assert.equal(alone.code, 1);
    assert.match(alone.stdout + alone.stderr, /Deployment has no selector/);
  });
});
