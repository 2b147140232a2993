// Behaviour the per-rule fixtures do not pin down: version gates, other topologies, custom
// allowlists, files beside the manifests, and the helpers the rules share.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { isReleaseLine, parseImage } from "../../src/policy/rules/image-pinned.ts";
import { normalizeRepoURL } from "../../src/policy/rules/argocd-sources.ts";
import { refMatches, subjectOf } from "../../src/policy/lib/util.ts";
import { pathAtLine } from "../../src/policy/lib/yaml-path.ts";
import { selectorMatches } from "../../src/policy/lib/selectors.ts";
import { DEFAULT_HOST_PATH_ALLOWLIST, DEFAULT_RBAC_ALLOWLIST, loadManifests, policyContext, runPolicies, type HomelabModel, type PolicyContext } from "../../src/policy/index.ts";
import { located, modelFor, scannerRules, TODAY } from "./helpers.ts";
import { FIXTURES } from "../helpers.ts";

function run(ctx: PolicyContext, rule: string) {
  return runPolicies(ctx, { waivers: [], today: TODAY, only: [rule] });
}

function pod(spec: Record<string, unknown>, name = "p") {
  return located({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "demo" }, spec });
}

const MODEL: HomelabModel = { nodes: 3, gitRepoURL: "https://git.example.org/me/homelab.git", allowedChartRepos: [] };

function deployment(name: string, replicas: number, extraSpec: Record<string, unknown> = {}) {
  return located({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "demo" },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "c", image: "x:1" }], ...extraSpec } } },
  });
}

function pdb(name: string, app: string, budget: Record<string, unknown>) {
  return located({ apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name, namespace: "demo" }, spec: { ...budget, selector: { matchLabels: { app } } } });
}

describe("version-dependent rules", () => {
  const sysctlPod = pod({ securityContext: { sysctls: [{ name: "net.ipv4.tcp_rmem", value: "4096 87380 6291456" }] }, containers: [] });
  it("pss-sysctls: net.ipv4.tcp_rmem became safe in 1.32", () => {
    assert.equal(run(policyContext({ objects: [sysctlPod], kubernetesVersion: "1.31" }), "pss-sysctls").violations.length, 1);
    assert.equal(run(policyContext({ objects: [sysctlPod], kubernetesVersion: "1.32" }), "pss-sysctls").violations.length, 0);
  });

  const oldPdb = located({ apiVersion: "policy/v1beta1", kind: "PodDisruptionBudget", metadata: { name: "old", namespace: "demo" }, spec: {} });
  it("policy/v1beta1 PodDisruptionBudget is deprecated on 1.24 and removed on 1.25", () => {
    const on124 = policyContext({ objects: [oldPdb], kubernetesVersion: "1.24" });
    assert.equal(run(on124, "removed-api").violations.length, 0);
    assert.deepEqual(run(on124, "deprecated-api").violations.map((v) => v.message), [
      "policy/v1beta1 PodDisruptionBudget is deprecated since Kubernetes 1.21, removed in 1.25; use policy/v1",
    ]);
    const on125 = policyContext({ objects: [oldPdb], kubernetesVersion: "1.25" });
    assert.deepEqual(run(on125, "removed-api").violations.map((v) => v.message), ["policy/v1beta1 PodDisruptionBudget was removed in Kubernetes 1.25; use policy/v1"]);
    assert.equal(run(on125, "deprecated-api").violations.length, 0);
  });
});

describe("ha-shape on three nodes", () => {
  const ctx = (objects: ReturnType<typeof located>[]) => policyContext({ objects, model: MODEL });
  it("allows a budget that keeps one of two pods, since the other can move", () => {
    assert.deepEqual(run(ctx([deployment("web", 2), pdb("web", "web", { minAvailable: 1 })]), "ha-shape").violations, []);
  });
  it("still refuses a budget that allows no eviction at all", () => {
    const r = run(ctx([deployment("web", 2), pdb("web", "web", { minAvailable: 2 })]), "ha-shape");
    assert.deepEqual(r.violations.map((v) => v.message), ["blocks draining a node: allows 0 of 2 pod(s) of Deployment web to be evicted, needs 1"]);
  });
  it("counts a DaemonSet's pods by the node count", () => {
    const ds = located({
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "agent", namespace: "demo" },
      spec: { selector: { matchLabels: { app: "agent" } }, template: { metadata: { labels: { app: "agent" } }, spec: { containers: [] } } },
    });
    assert.deepEqual(run(ctx([ds, pdb("agent", "agent", { maxUnavailable: "34%" })]), "ha-shape").violations, []);
    const single = policyContext({ objects: [ds, pdb("agent", "agent", { minAvailable: 1 })], model: { ...MODEL, nodes: 1 } });
    assert.equal(run(single, "ha-shape").violations.length, 1);
  });
  it("lets three replicas with per-node anti-affinity fit three nodes, not four", () => {
    const anti = { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: { app: "web" } } }] } } };
    assert.deepEqual(run(ctx([deployment("web", 3, anti)]), "ha-shape").violations, []);
    assert.deepEqual(run(ctx([deployment("web", 4, anti)]), "ha-shape").violations.map((v) => v.message), [
      "4 replicas with required per-node anti-affinity on 3 node(s): 1 stay Pending",
    ]);
  });
});

describe("allowlists", () => {
  const agent = located({
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name: "agent", namespace: "ops" },
    spec: {
      selector: { matchLabels: { app: "agent" } },
      template: {
        metadata: { labels: { app: "agent" } },
        spec: {
          hostPID: true,
          hostNetwork: true,
          containers: [{ name: "a", image: "x:1", ports: [{ containerPort: 9200 }], volumeMounts: [{ name: "h", mountPath: "/state" }] }],
          volumes: [{ name: "h", hostPath: { path: "/var/lib/agent/state" } }],
        },
      },
    },
  });
  const allowance = { object: "DaemonSet ops/agent", reason: "test", paths: ["/var/lib/agent/state"], namespaces: ["pid", "network"] as const, ports: [9200] };
  it("a custom host-access allowance admits exactly its paths, namespaces and ports", () => {
    const allow = policyContext({ objects: [agent], hostPathAllowlist: [allowance] });
    assert.deepEqual(run(allow, "pss-host-path").violations, []);
    assert.deepEqual(run(allow, "pss-host-namespaces").violations, []);
    // A parent folder admits nothing below it; the port is a host port on the host network.
    const parent = policyContext({ objects: [agent], hostPathAllowlist: [{ ...allowance, paths: ["/var/lib/agent"], ports: [] }] });
    assert.deepEqual(run(parent, "pss-host-path").violations.map((v) => v.message), ["volume 'h' mounts host path '/var/lib/agent/state' (allowed here: /var/lib/agent)"]);
    assert.deepEqual(run(parent, "pss-host-namespaces").violations.map((v) => v.message), ["container 'a' listens on the node's port 9200 (host network)"]);
    // Read-only allowances refuse a writable mount.
    const ro = policyContext({ objects: [agent], hostPathAllowlist: [{ ...allowance, readOnly: true }] });
    assert.deepEqual(run(ro, "pss-host-path").violations.map((v) => [v.path, v.message]), [
      ["/spec/template/spec/containers/0/volumeMounts/0/readOnly", "container 'a' mounts host path '/var/lib/agent/state' (volume 'h') writable; the allowlist admits it read-only"],
    ]);
  });

  // The review's case: a look-alike of node-exporter in `default` asking for the whole node.
  const lookalike = located({
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name: "totally-not-node-exporter", namespace: "default" },
    spec: {
      selector: { matchLabels: { app: "x" } },
      template: {
        metadata: { labels: { app: "x" } },
        spec: { hostPID: true, hostNetwork: true, containers: [{ name: "x", image: "x:1", ports: [{ containerPort: 22, hostPort: 22 }] }], volumes: [{ name: "root", hostPath: { path: "/" } }] },
      },
    },
  });
  const hostRules = (ctx: PolicyContext) => ["pss-host-path", "pss-host-namespaces"].flatMap((r) => run(ctx, r).violations.map((v) => v.path));
  const everything = ["/spec/template/spec/volumes/0/hostPath", "/spec/template/spec/containers/0/ports/0/hostPort", "/spec/template/spec/hostNetwork", "/spec/template/spec/hostPID"];
  it("foreign input gets no allowlist, and the homelab's admits only its own agents by exact name", () => {
    assert.deepEqual(policyContext({ objects: [lookalike] }).hostPathAllowlist, []);
    assert.deepEqual(hostRules(policyContext({ objects: [lookalike] })), everything);
    assert.deepEqual(hostRules(policyContext({ objects: [lookalike], model: MODEL })), everything);
    assert.deepEqual(hostRules(policyContext({ objects: [lookalike], hostPathAllowlist: DEFAULT_HOST_PATH_ALLOWLIST })), everything);
    const real = located({ ...lookalike.object, metadata: { name: "node-exporter", namespace: "node-exporter" } });
    assert.deepEqual(hostRules(policyContext({ objects: [real], model: MODEL })), ["/spec/template/spec/containers/0/ports/0/hostPort"], "port 22 is not node-exporter's");
    // Its former namespace, `monitoring`, is restricted now: nothing is allowed there.
    const former = located({ ...lookalike.object, metadata: { name: "node-exporter", namespace: "monitoring" } });
    assert.deepEqual(hostRules(policyContext({ objects: [former], model: MODEL })), everything);
    assert.deepEqual(hostRules(policyContext({ objects: [real] })), everything, "without the model the homelab allowlist does not apply");
  });

  it("Argo CD's wildcard role is allowed only with the homelab's RBAC allowlist", () => {
    const role = located({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: "argocd-application-controller" }, rules: [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }] });
    assert.equal(run(policyContext({ objects: [role], model: MODEL }), "rbac-least-privilege").violations.length, 0);
    assert.equal(run(policyContext({ objects: [role], rbacAllowlist: DEFAULT_RBAC_ALLOWLIST }), "rbac-least-privilege").violations.length, 0);
    assert.equal(run(policyContext({ objects: [role] }), "rbac-least-privilege").violations.length, 3);
    assert.equal(run(policyContext({ objects: [role], model: MODEL, rbacAllowlist: [] }), "rbac-least-privilege").violations.length, 3);
  });
});

describe("alert-unit-tests", () => {
  it("is skipped with a note when the model lists no tested alerts", () => {
    const rule = located({ apiVersion: "monitoring.coreos.com/v1", kind: "PrometheusRule", metadata: { name: "r", namespace: "demo" }, spec: { groups: [{ name: "g", rules: [{ alert: "A", expr: "vector(1)" }] }] } });
    const r = run(policyContext({ objects: [rule], model: MODEL }), "alert-unit-tests");
    assert.deepEqual(r.notes, [{ rule: "alert-unit-tests", message: "skipped: the homelab model lists no promtool-tested alerts" }]);
    assert.deepEqual(r.violations, []);
    assert.equal(run(policyContext({ objects: [rule], model: { ...MODEL, testedAlerts: new Set() } }), "alert-unit-tests").violations.length, 1);
  });
});

describe("no-plaintext-secrets beyond objects", () => {
  it("names every field holding a PEM private-key header, in lists and maps at any depth, in document order", () => {
    const pem = "-----BEGIN EC PRIVATE KEY-----";
    const cm = located({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "keys", namespace: "demo" }, data: { "b.pem": pem, "a.txt": "x" }, extra: { list: ["x", { k: pem }, [pem]] } });
    const paths = run(policyContext({ objects: [cm] }), "no-plaintext-secrets")
      .violations.filter((v) => v.message.includes("[private-key-header]"))
      .map((v) => v.path);
    assert.deepEqual(paths, ["/data/b.pem", "/extra/list/1/k", "/extra/list/2/0"]);
  });
  it("scans host files and names the line", () => {
    const files = [
      { path: "hosts/box/compose.yaml", content: "services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: Xq7#mK2v!Lp9wZ4r\n" },
      { path: "hosts/box/chrony.conf", content: "server time.cloudflare.com iburst\n" },
    ];
    const r = run(policyContext({ objects: [], files }), "no-plaintext-secrets");
    assert.deepEqual(r.violations.map((v) => [v.subject, v.file, v.path]), [["hosts/box/compose.yaml", "hosts/box/compose.yaml", "line 4"]]);
    // The scanner's own message and rule, never the value itself.
    assert.match(r.violations[0]!.message, /"POSTGRES_PASSWORD".*Xq7#… \(16 chars\) \[[a-z-]+\]/);
    assert.doesNotMatch(r.violations[0]!.message, /mK2v/);
  });
  it("honours the scanner's own waivers", () => {
    const files = [{ path: "hosts/box/compose.yaml", content: "environment:\n  POSTGRES_PASSWORD: Xq7#mK2v!Lp9wZ4r\n" }];
    const found = run(policyContext({ objects: [], files }), "no-plaintext-secrets").violations;
    assert.equal(found.length, 1);
    const waivers = scannerRules(found[0]!.message).map((rule) => ({ rule, path: "hosts/*/compose.yaml", reason: "a throwaway value for the local test database" }));
    assert.ok(waivers.length > 0);
    assert.deepEqual(run(policyContext({ objects: [], files, secretScanWaivers: waivers }), "no-plaintext-secrets").violations, []);
    const elsewhere = waivers.map((w) => ({ ...w, path: "hosts/*/other.yaml" }));
    assert.equal(run(policyContext({ objects: [], files, secretScanWaivers: elsewhere }), "no-plaintext-secrets").violations.length, 1);
  });
  it("points findings in Helm output back at the chart template", () => {
    const text = [
      "---",
      "# Source: shop/templates/secret.yaml",
      "apiVersion: v1",
      "kind: Secret",
      "metadata: {name: db, namespace: shop}",
      "data: {password: aHVudGVyMg==}",
      "---",
      "# Source: shop/templates/app.yaml",
      "apiVersion: argoproj.io/v1alpha1",
      "kind: Application",
      "metadata: {name: grafana, namespace: argocd}",
      "spec:",
      "  source:",
      "    repoURL: https://grafana-community.github.io/helm-charts",
      "    chart: grafana",
      "    targetRevision: 12.11.1",
      "    helm:",
      "      values: |",
      "        adminPassword: q7V!x2mK9#pL4wZs",
      "",
    ].join("\n");
    const { objects } = loadManifests(["-"], { stdin: text });
    const r = run(policyContext({ objects }), "no-plaintext-secrets");
    assert.deepEqual(r.violations.map((v) => [v.subject, v.source, v.path]), [
      ["Application argocd/grafana", "shop/templates/app.yaml", "/spec/source/helm/values"],
      ["Secret shop/db", "shop/templates/secret.yaml", "/data/password"],
    ]);
  });

  it("accepts real sops-encrypted Secrets", (t) => {
    const dir = join(FIXTURES, "sops", "flux");
    const { objects, otherFiles } = loadManifests(["algorithms/age.yaml", "global/secret.yaml", "patches/merge1.yaml"], { cwd: dir });
    // Encrypted files are files for the scanner, as in the build, not objects.
    assert.deepEqual(objects, []);
    assert.deepEqual(otherFiles.map((f) => f.path), ["algorithms/age.yaml", "global/secret.yaml", "patches/merge1.yaml"]);
    assert.deepEqual(run(policyContext({ objects, files: otherFiles }), "no-plaintext-secrets").violations, []);
  });
});

describe("the clean estate", () => {
  it("passes every rule with the model, and every rule runs", () => {
    const dir = join(import.meta.dirname, "fixtures", "clean");
    const { objects } = loadManifests(["estate.yaml"], { cwd: dir });
    const r = runPolicies(policyContext({ objects, model: modelFor(dir)!, kubernetesVersion: "1.34" }), { waivers: [], today: TODAY });
    assert.deepEqual(r.notes, []);
    assert.deepEqual(r.violations, []);
    assert.ok(r.rules.every((o) => o.status === "ran"));
  });
});

describe("shared helpers", () => {
  it("isReleaseLine tells release lines from releases, PostgreSQL's two-part versions included", () => {
    const lines: [string, string][] = [["alpine:3", "3"], ["redis:7.2", "7.2"], ["node:20-alpine", "20-alpine"], ["postgres:16", "16"], ["docker.io/library/postgres:16-alpine", "16-alpine"], ["x/app:v1.4", "v1.4"]];
    for (const [image, tag] of lines) assert.equal(isReleaseLine(image, tag), true, image);
    const releases: [string, string][] = [["nginx:1.27.3", "1.27.3"], ["postgres:16.4", "16.4"], ["docker.io/library/postgres:16.4-alpine3.20", "16.4-alpine3.20"], ["app:20250101", "20250101"], ["registry:5000/postgres:17.2", "17.2"]];
    for (const [image, tag] of releases) assert.equal(isReleaseLine(image, tag), false, image);
  });
  it("parseImage splits tags and digests, not registry ports", () => {
    assert.deepEqual(parseImage("registry:5000/a/b"), {});
    assert.deepEqual(parseImage("registry:5000/a/b:1.2"), { tag: "1.2" });
    assert.deepEqual(parseImage("a/b:1.2@sha256:abc"), { tag: "1.2", digest: "sha256:abc" });
  });
  it("refMatches treats * as any run of characters within a name or namespace, over the whole reference", () => {
    assert.equal(refMatches("Deployment monitoring/*", "Deployment monitoring/grafana"), true);
    assert.equal(refMatches("Deployment monitoring/*", "StatefulSet monitoring/loki"), false);
    assert.equal(refMatches("Deployment monitoring/graf*", "Deployment monitoring/grafana"), true);
    assert.equal(refMatches("ClusterRole argocd-*", "ClusterRole argocd-server"), true);
    // `*` never crosses the namespace separator or the space after the kind.
    assert.equal(refMatches("DaemonSet *node-exporter", "DaemonSet monitoring/kps-prometheus-node-exporter"), false);
    assert.equal(refMatches("Deployment *", "Deployment monitoring/grafana"), false);
    assert.equal(refMatches("* monitoring/grafana", "Deployment monitoring/grafana"), true);
    assert.equal(refMatches("*", "Deployment monitoring/grafana"), false);
    assert.equal(refMatches("ClusterRole a.b", "ClusterRole aXb"), false, "dots are literal");
  });
  it("subjectOf names Helm hooks that only have generateName", () => {
    assert.equal(subjectOf(located({ apiVersion: "batch/v1", kind: "Job", metadata: { generateName: "migrate-", namespace: "db" } }).object), "Job db/migrate-*");
  });
  it("normalizeRepoURL ignores host case, a trailing slash and .git", () => {
    assert.equal(normalizeRepoURL("HTTPS://Git.Example.org/Me/Repo.git/"), "https://git.example.org/Me/Repo");
  });
  it("selectorMatches treats unknown operators as matching nothing", () => {
    assert.equal(selectorMatches({ matchExpressions: [{ key: "a", operator: "Gt", values: ["1"] }] }, { a: "2" }), false);
    assert.equal(selectorMatches({}, { a: "1" }), true);
  });
  it("pathAtLine finds the field a line belongs to", () => {
    const text = JSON.stringify({ spec: { containers: [{ name: "a", env: [{ name: "X", value: "y" }] }] } }, null, 2);
    const line = text.split("\n").findIndex((l) => l.includes('"value"')) + 1;
    assert.equal(pathAtLine(text, line), "/spec/containers/0/env/0/value");
    assert.equal(pathAtLine("a:\n  b.c/d: 1\n", 2), "/a/b.c~1d");
  });
});

describe("rules that look within a namespace, indexed by namespace", () => {
  const MON = { apiVersion: "monitoring.coreos.com/v1" };
  const workload = (ns: string, app: string) =>
    located({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: app, namespace: ns },
      spec: { selector: { matchLabels: { app } }, template: { metadata: { labels: { app } }, spec: { containers: [{ name: "c", image: "x:1", ports: [{ name: "http", containerPort: 80 }] }] } } },
    });
  const service = (ns: string, app: string, labels: Record<string, string> = { app }) =>
    located({ apiVersion: "v1", kind: "Service", metadata: { name: app, namespace: ns, labels }, spec: { selector: { app }, ports: [{ port: 80, targetPort: "http" }] } });
  const monitor = (kind: "PodMonitor" | "ServiceMonitor", ns: string, app: string, namespaceSelector?: Record<string, unknown>) =>
    located({ ...MON, kind, metadata: { name: `${app}-${ns}`, namespace: ns }, spec: { selector: { matchLabels: { app } }, ...(namespaceSelector && { namespaceSelector }) } });

  it("scrape-coverage: a monitor covers its own namespace, the namespaces it lists, or every one with any", () => {
    const objects = [
      workload("own", "a"),
      monitor("PodMonitor", "own", "a"),
      workload("listed", "b"),
      monitor("PodMonitor", "mon", "b", { matchNames: ["listed", "listed"] }),
      workload("anywhere", "c"),
      service("anywhere", "c", { scrape: "c" }),
      located({ ...MON, kind: "ServiceMonitor", metadata: { name: "all", namespace: "mon" }, spec: { selector: { matchLabels: { scrape: "c" } }, namespaceSelector: { any: true } } }),
      // Same labels as a covered workload, another namespace: not covered.
      workload("elsewhere", "a"),
      workload("elsewhere", "b"),
      // A Service in another namespace does not bring its monitor here.
      workload("nosvc", "c"),
    ];
    const r = runPolicies(policyContext({ objects, model: { ...MODEL, monitoring: true } as HomelabModel }), { waivers: [], today: TODAY, only: ["scrape-coverage"] });
    assert.deepEqual(r.violations.map((v) => `${v.subject}`).sort(), ["Deployment elsewhere/a", "Deployment elsewhere/b", "Deployment nosvc/c"]);
  });

  it("dangling-references: Services, backends, monitors and policy peers are looked for in their own namespace only", () => {
    const objects = [
      workload("one", "a"),
      service("one", "a"),
      // Selects pods only in namespace two, where none carries app: a; its targetPort name is not judged then.
      located({ apiVersion: "v1", kind: "Service", metadata: { name: "a", namespace: "two" }, spec: { selector: { app: "a" }, ports: [{ port: 80, targetPort: "nope" }] } }),
      located({ apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: { name: "i", namespace: "three" }, spec: { rules: [{ http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "a", port: { number: 80 } } } }] } }] } }),
      monitor("PodMonitor", "two", "a"),
      monitor("PodMonitor", "mon", "a", { matchNames: ["one"] }),
      located({
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: "np", namespace: "two" },
        spec: {
          podSelector: { matchLabels: { app: "a" } },
          ingress: [{ from: [{ podSelector: { matchLabels: { app: "a" } } }, { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "one" } }, podSelector: { matchLabels: { app: "a" } } }] }],
        },
      }),
    ];
    const r = runPolicies(policyContext({ objects, wholeNamespaces: true }), { waivers: [], today: TODAY, only: ["dangling-references"] });
    assert.deepEqual(
      r.violations.map((v) => `${v.subject} ${v.path}`).sort(),
      [
        "Ingress three/i /spec/rules/0/http/paths/0/backend/service/name",
        "NetworkPolicy two/np /spec/ingress/0/from/0/podSelector",
        "NetworkPolicy two/np /spec/podSelector",
        "PodMonitor two/a-two /spec/selector",
      ],
    );
  });
});
