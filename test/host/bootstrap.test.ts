/**
 * The rendered bootstrap script, run for real by bash: shellcheck, the dry run, and whole runs against a
 * scratch root file system with every outside command replaced by a stub that records its call. A stub
 * never acts; the records show what the script would have done on a box in that state.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { BOOTSTRAP_STEPS } from "../../src/host/bootstrap.ts";
import { REPO } from "../helpers.ts";

const SCRIPT = join(REPO, "hosts/k8s-worker-3090/bootstrap.sh");
const NODE_DIR = join(REPO, "hosts/k8s-worker-3090");
/** The published TEST-ONLY identity the example secrets are encrypted to (test/fixtures/sops/SOURCES.md). */
const TEST_KEY = readFileSync(join(REPO, "test/fixtures/sops/sops-age/key.txt"), "utf8")
  .split("\n")
  .find((l) => l.startsWith("AGE-SECRET-KEY-1"))!;

/**
 * Stubs: each logs its name and arguments (one line, tab-separated) to $STUB_LOG. `STUB_STATE=done` makes
 * every query answer "already there"; `empty` answers "not there".
 */
const STUBS: Record<string, string> = {
  "dpkg-query": `[ "$STUB_STATE" = done ] && printf 'install ok installed'; exit 0`,
  "apt-mark": `[ "$1" = showhold ] && [ "$STUB_STATE" = done ] && printf 'kubeadm\\nkubectl\\nkubelet\\n'; exit 0`,
  swapon: `exit 0`,
  lsmod: `printf 'Module Size Used\\n'; [ "$STUB_STATE" = done ] && printf 'overlay 1 0\\nbr_netfilter 1 0\\n'; exit 0`,
  systemctl: `[ "$1" = is-enabled ] && [ "$STUB_STATE" != done ] && exit 1; exit 0`,
  jq: `[ "$STUB_STATE" = done ] && printf 'tid\\n'; exit 0`,
  docker: [
    `case "$*" in *"tunnel list"*) exit 0 ;; esac`,
    // The Compose stack's deploy: record which secrets reached its environment (names and values: the
    // example's placeholders).
    `case "$*" in *"compose"*) for k in FORGEJO_DB_PASSWORD RUNNER_REGISTRATION_TOKEN FORGEJO_TUNNEL_CREDENTIALS PR_AGENT_FORGEJO_TOKEN PR_AGENT_WEBHOOK_SECRET PR_AGENT_OPENAI_KEY; do printf 'env\\t%s=%s\\n' "$k" "$(printenv "$k")" >> "$STUB_LOG"; done ;; esac`,
    `exit 0`,
  ].join("\n"),
  kubectl: [
    // The script's checks (its \`kube\` wrapper) carry a request timeout; its actions do not.
    `case "$1" in --request-timeout=*) [ "$STUB_STATE" = done ]; exit $? ;; esac`,
    `case "$*" in *"/dev/stdin"*) printf 'stdin\\t%s\\n' "$(cat)" >> "$STUB_LOG" ;; esac`,
    `exit 0`,
  ].join("\n"),
  id: `echo 0`,
};
for (const name of ["apt-get", "install", "modprobe", "sysctl", "sed", "shred", "npm", "kubeadm", "curl", "gpg"]) STUBS[name] = "exit 0";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  calls: string[][];
}

describe("hosts/<node>/bootstrap.sh", () => {
  let dir = "";
  let bin = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "homelab-bootstrap-"));
    bin = join(dir, "bin");
    mkdirSync(bin);
    for (const [name, body] of Object.entries(STUBS)) {
      const f = join(bin, name);
      // The line is built first and appended in one write: the two sides of a pipeline (helm template |
      // kubectl apply) run at the same time, and piecewise appends of theirs would interleave in the log.
      writeFileSync(f, `#!/usr/bin/env bash\nline=${JSON.stringify(name)}; for a in "$@"; do line+=$'\\t'"$a"; done; printf '%s\\n' "$line" >> "$STUB_LOG"\n${body}\n`);
      chmodSync(f, 0o755);
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function box(state: "done" | "empty"): string {
    const fs = mkdtempSync(join(dir, `fs-${state}-`));
    if (state === "done") {
      const put = (path: string, content: string) => {
        mkdirSync(join(fs, path, ".."), { recursive: true });
        writeFileSync(join(fs, path), content);
      };
      put("etc/apt/sources.list.d/kubernetes.list", "deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v1.34/deb/ /\n");
      put("etc/fstab", "UUID=1 / ext4 defaults 0 1\n");
      put("etc/modules-load.d/kubernetes.conf", readFileSync(join(NODE_DIR, "kernel/modules-load.conf"), "utf8"));
      put("etc/sysctl.d/90-kubernetes.conf", readFileSync(join(NODE_DIR, "kernel/sysctl.conf"), "utf8"));
      put("etc/containerd/config.toml", readFileSync(join(NODE_DIR, "containerd/config.toml"), "utf8"));
      put("etc/chrony/chrony.conf", readFileSync(join(NODE_DIR, "chrony/chrony.conf"), "utf8"));
      put("root/.cloudflared/cert.pem", "test\n");
      put("etc/kubernetes/admin.conf", "test\n");
      mkdirSync(join(fs, "var/lib/homelab/volumes"), { recursive: true });
      mkdirSync(join(fs, "var/lib/homelab/backups/forgejo-db"), { recursive: true });
    } else {
      // A swap line the packages step comments out.
      mkdirSync(join(fs, "etc/apt/sources.list.d"), { recursive: true });
      writeFileSync(join(fs, "etc/fstab"), "UUID=1 / ext4 defaults 0 1\n/swapfile none swap sw 0 0\n");
    }
    return fs;
  }

  function bootstrap(args: string[], state: "done" | "empty", opts: { input?: string; env?: Record<string, string> } = {}): Run {
    const log = join(dir, `log-${Math.random().toString(36).slice(2)}`);
    writeFileSync(log, "");
    const res = spawnSync("bash", [SCRIPT, ...args], {
      encoding: "utf8",
      input: opts.input ?? "",
      timeout: 60_000,
      env: {
        PATH: `${bin}:${process.env.PATH}`,
        HOME: dir,
        STUB_LOG: log,
        STUB_STATE: state,
        BOOTSTRAP_ROOT_FS: box(state),
        // The homelab CLI the compose step runs reads the example secrets with the test-only key.
        ...opts.env,
      },
    });
    const calls = readFileSync(log, "utf8").split("\n").filter(Boolean).map((l) => l.split("\t"));
    return { code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr, calls };
  }

  /** Commands that change the box. */
  const MUTATING = /^(apt-get|install|modprobe|sysctl|sed|shred|npm|kubeadm|curl|gpg)(\t|$)|^systemctl\t(restart|enable)|^kubectl\t(-n\targocd\t)?(apply|create)|^docker\tcompose|^docker\trun\t.*\t(tunnel\t(create|login|route)|template)\t/;
  const mutations = (r: Run) => r.calls.map((c) => c.join("\t")).filter((c) => MUTATING.test(c));

  it("is shellcheck-clean (Debian's shellcheck)", () => {
    const res = spawnSync("shellcheck", ["--severity=style", "--shell=bash", SCRIPT], { encoding: "utf8" });
    assert.equal(res.error, undefined, "shellcheck must be installed (scripts/ensure-tools.sh)");
    assert.equal(res.status, 0, res.stdout + res.stderr);
  });

  it("starts strict and names its steps in order", () => {
    const text = readFileSync(SCRIPT, "utf8");
    assert.match(text, /^#!\/usr\/bin\/env bash\n/);
    assert.match(text, /^set -euo pipefail$/m);
    assert.match(text, new RegExp(`^STEPS=\\(${BOOTSTRAP_STEPS.join(" ")}\\)$`, "m"));
    assert.deepEqual([...BOOTSTRAP_STEPS], ["packages", "kernel", "containerd", "chrony", "tunnels", "compose", "kubeadm", "cni", "sops-age", "argocd", "root"]);
  });

  it("--dry-run prints every step and what it would run, and runs nothing that changes the box", () => {
    const r = bootstrap(["--dry-run"], "empty");
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.split("\n").filter((l) => l.startsWith("==> ")), BOOTSTRAP_STEPS.map((s) => `==> ${s}`));
    assert.deepEqual(mutations(r), []);
    for (const expected of [
      /would run: env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates curl gpg jq containerd docker\.io docker-compose chrony nodejs npm kubeadm kubelet kubectl\n/,
      /would run: kubeadm init --config \S+\/hosts\/k8s-worker-3090\/kubeadm\.yaml\n/,
      /would run: kubectl apply --server-side -f \S+\/hosts\/k8s-worker-3090\/cni\/calico\.yaml\n/,
      /would run: kubectl -n argocd create secret generic sops-age --from-file=keys\.txt=\/dev\/stdin {3}\(the identity from standard input\)\n/,
      /would run: homelab secrets exec-env secrets\/forgejo\/compose\.sops\.env -- docker compose --project-name forgejo --file \S+\/compose\.yaml up --detach --wait\n/,
      /would run: cloudflared tunnel route dns --overwrite-dns skypalette-cluster \*\.skypalette\.ai\n/,
      /would run: cloudflared tunnel route dns --overwrite-dns skypalette-forgejo git\.skypalette\.ai\n/,
      /would run: kubectl apply -f \S+\/gitops\/root\/appproject-sky-palette\.yaml -f \S+\/gitops\/root\/application-root\.yaml\n/,
    ])
      assert.match(r.stdout, expected);
    assert.match(r.stdout, /\nbootstrap: dry run of packages kernel containerd chrony tunnels compose kubeadm cni sops-age argocd root: nothing was changed\n$/);
  });

  it("the Compose stack has its own dry run", () => {
    const r = bootstrap(["compose", "--dry-run"], "empty");
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.split("\n").filter((l) => l.startsWith("==> ")), ["==> compose"]);
    assert.deepEqual(mutations(r), []);
  });

  it("an unknown step or option is a usage error (exit 2) that lists the steps", () => {
    for (const args of [["kubeadmm"], ["--dryrun"]]) {
      const r = bootstrap(args, "empty");
      assert.equal(r.code, 2, args.join(" "));
      assert.match(r.stderr, /steps, in order: packages kernel containerd chrony tunnels compose kubeadm cni sops-age argocd root/);
      assert.deepEqual(r.calls.filter((c) => c[0] !== "id"), []);
    }
  });

  it("on a blank box a real run does every step in order: kubeadm, then the CNI, the age key from stdin, Argo CD, the two root objects", () => {
    const r = bootstrap([], "empty", { input: `${TEST_KEY}\n` });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const done = mutations(r);
    const at = (re: RegExp) => {
      const i = done.findIndex((c) => re.test(c));
      assert.ok(i >= 0, `${re} not run; ran:\n${done.join("\n")}`);
      return i;
    };
    const order = [
      at(/^apt-get\tinstall\t-y\t--no-install-recommends\tca-certificates\t/),
      at(/^sed\t-i\.homelab-bak\t/),
      at(/^modprobe\tbr_netfilter$/),
      at(/^systemctl\trestart\tcontainerd$/),
      at(/^systemctl\trestart\tchrony$/),
      at(/^docker\trun\t.*\ttunnel\tcreate\tskypalette-cluster$/),
      at(/^docker\tcompose\t--project-name\tforgejo\t--file\t\S+compose\.yaml\tup\t--detach\t--wait$/),
      at(/^kubeadm\tinit\t--config\t\S+kubeadm\.yaml$/),
      at(/^kubectl\tapply\t--server-side\t--force-conflicts\t-f\thttps:\/\/raw\.githubusercontent\.com\/projectcalico\/calico\/v3\.30\.4\/manifests\/tigera-operator\.yaml$/),
      at(/^kubectl\t-n\targocd\tcreate\tsecret\tgeneric\tsops-age\t--from-file=keys\.txt=\/dev\/stdin$/),
      at(/^docker\trun\t--rm\t-v\t\S+argocd:\/values:ro\tdocker\.io\/alpine\/helm:3\.19\.0\ttemplate\targocd\targo-cd\t--repo\thttps:\/\/argoproj\.github\.io\/argo-helm\t--version\t10\.1\.1\t/),
      at(/^kubectl\tapply\t-f\t\S+\/gitops\/root\/appproject-sky-palette\.yaml\t-f\t\S+\/gitops\/root\/application-root\.yaml$/),
    ];
    assert.deepEqual(order, [...order].sort((a, b) => a - b), "steps ran out of order");
    // The CNI comes straight after kubeadm: nothing else changes the cluster in between.
    const init = at(/^kubeadm\tinit/);
    assert.match(done[init + 1]!, /^kubectl\tapply\t--server-side\t--force-conflicts\t-f\thttps:.*tigera-operator\.yaml$/);
    // The root step applies exactly the project and the root app.
    assert.equal(done.filter((c) => /^kubectl\tapply\t-f/.test(c)).length, 1);
    // The identity reached kubectl on its standard input, never as an argument.
    assert.deepEqual(r.calls.filter((c) => c[0] === "stdin"), [["stdin", TEST_KEY]]);
    assert.ok(!r.calls.some((c) => c[0] !== "stdin" && c.join(" ").includes(TEST_KEY)), "the age identity appeared in a command line");
    // The Compose stack got every credential in its environment, decrypted from the example env file.
    assert.deepEqual(
      r.calls.filter((c) => c[0] === "env").map((c) => c[1]),
      ["FORGEJO_DB_PASSWORD", "RUNNER_REGISTRATION_TOKEN", "FORGEJO_TUNNEL_CREDENTIALS", "PR_AGENT_FORGEJO_TOKEN", "PR_AGENT_WEBHOOK_SECRET", "PR_AGENT_OPENAI_KEY"].map((k) => `${k}=replace-me`),
    );
  });

  it("re-run on a finished box it changes nothing: every step finds its work done (the stack is left to Compose)", () => {
    const r = bootstrap([], "done", { env: { SOPS_AGE_KEY: TEST_KEY } });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(
      mutations(r).map((c) => c.split("\t").slice(0, 2).join(" ")),
      // Cloudflare's DNS route is re-pointed at the same tunnel (one record per name), and Compose
      // compares each service with its running container and recreates only what changed.
      ["docker run", "docker run", "docker compose"],
    );
    assert.match(r.stdout, /ok: cluster initialised/);
    assert.match(r.stdout, /ok: Secret argocd\/sops-age exists/);
    assert.match(r.stdout, /ok: the root Application exists: Argo CD owns everything from here/);
  });

  it("a run that stopped half-way is finished by running it again: only the missing steps act", () => {
    const fs = box("done");
    rmSync(join(fs, "etc/containerd/config.toml"));
    const log = join(dir, "log-half");
    writeFileSync(log, "");
    const res = spawnSync("bash", [SCRIPT, "containerd", "chrony", "kubeadm"], {
      encoding: "utf8",
      env: { PATH: `${bin}:${process.env.PATH}`, HOME: dir, STUB_LOG: log, STUB_STATE: "done", BOOTSTRAP_ROOT_FS: fs },
    });
    assert.equal(res.status, 0, res.stdout + res.stderr);
    const calls = readFileSync(log, "utf8").split("\n").filter((l) => MUTATING.test(l));
    assert.deepEqual(calls.map((c) => c.split("\t").slice(0, 2).join(" ")), ["install -D", "systemctl restart"]);
    assert.match(calls[1]!, /^systemctl\trestart\tcontainerd$/);
  });
});
