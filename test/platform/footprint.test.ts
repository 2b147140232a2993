/** `homelab footprint`: requests and limits per container from pod specs and from charts' merged values. */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import type { HomelabInput } from "../../src/config/schema.ts";
import type { LocatedObject } from "../../src/model/k8s.ts";
import type { HelmRelease } from "../../src/platform/lib/component.ts";
import { footprint, type Footprint, type FootprintComponent } from "../../src/platform/lib/footprint.ts";
import { platform } from "../../src/platform/platform.ts";
import { render } from "../../src/render/render.ts";
import { CHARTS, config, defaultInputCopy, homelab, REPO, versions } from "../helpers.ts";
import { THREE_NODES } from "./render-helpers.ts";

const Mi = 1024 ** 2;
const Gi = 1024 ** 3;
const chartValues = (folder: string): unknown => parse(readFileSync(join(CHARTS, folder, "values.yaml"), "utf8"));
const DEFAULTS = new Map<string, unknown>([
  ["argo-cd", chartValues("argo-cd-10.1.1")],
  ["cert-manager", chartValues("cert-manager-v1.21.1")],
  ["ingress-nginx", chartValues("ingress-nginx-4.15.1")],
  ["kube-prometheus-stack", chartValues("kube-prometheus-stack-88.5.3")],
  ["loki", chartValues("loki-18.11.0")],
  ["alloy", chartValues("alloy-1.11.1")],
  ["velero", chartValues("velero-12.1.0")],
]);

function ofConfig(patch: Partial<HomelabInput> = {}): Footprint {
  const cfg = config(patch);
  const p = platform(cfg, versions());
  const folders = new Map(render(p).folders.map((f) => [f.name, f.objects]));
  return footprint({
    config: cfg,
    components: p.components.map((c) => ({ name: c.name, layer: c.props.layer, ...(c.helm && { helm: c.helm }), objects: folders.get(c.name) ?? [] })),
    chartDefaults: DEFAULTS,
  });
}

function chartOnly(helm: HelmRelease, patch: Partial<HomelabInput> = {}): Footprint {
  return footprint({ config: config(patch), components: [{ name: "x", layer: "platform", helm, objects: [] }], chartDefaults: DEFAULTS });
}

const row = (f: Footprint, component: string, container: string) => {
  const r = f.containers.find((c) => c.component === component && c.container === container);
  assert.ok(r, `no row ${component}/${container}: ${f.containers.map((c) => `${c.component}/${c.container}`).join(", ")}`);
  return r;
};

describe("footprint of the default config", () => {
  const f = ofConfig();

  it("lists every long-running container with its replicas and where its resources come from", () => {
    assert.deepEqual(
      f.containers.map((c) => `${c.component}/${c.container} ×${c.replicas} ${c.requests.cpu}/${c.requests.memory}/${c.limits.memory} ${c.source}`),
      [
        "argocd/application-controller ×1 100m/384Mi/1Gi values",
        "argocd/server ×1 25m/96Mi/256Mi values",
        "argocd/repo-server ×1 50m/128Mi/1Gi values",
        "argocd/applicationset-controller ×1 10m/48Mi/128Mi values",
        "argocd/notifications-controller ×1 10m/32Mi/128Mi values",
        "argocd/redis ×1 10m/32Mi/128Mi values",
        "cert-manager/controller ×1 10m/64Mi/256Mi values",
        "cert-manager/webhook ×1 10m/32Mi/128Mi values",
        "cert-manager/cainjector ×1 10m/64Mi/256Mi values",
        "local-path-storage/local-path-provisioner ×1 10m/32Mi/128Mi manifest",
        "monitoring/prometheus ×1 100m/512Mi/1536Mi values",
        "monitoring/alertmanager ×1 10m/48Mi/128Mi values",
        "monitoring/config-reloader ×2 5m/16Mi/48Mi values",
        "monitoring/operator ×1 20m/64Mi/192Mi values",
        "monitoring/grafana ×1 50m/128Mi/256Mi values",
        "monitoring/grafana-sidecars ×2 10m/64Mi/128Mi values",
        "monitoring/kube-state-metrics ×1 10m/64Mi/192Mi values",
        "monitoring/node-exporter ×1 10m/32Mi/64Mi values",
        "ingress-nginx/controller ×1 100m/128Mi/512Mi values",
        "cloudflared/cloudflared ×1 10m/64Mi/256Mi manifest",
        "loki/loki ×1 100m/256Mi/1Gi values",
        "alloy/alloy ×1 50m/128Mi/512Mi values",
        "alloy/config-reloader ×1 10m/50Mi/64Mi values",
        "velero/restore-drill-exporter ×1 5m/32Mi/96Mi manifest",
        "velero/velero ×1 50m/128Mi/512Mi values",
        "velero/node-agent ×1 50m/128Mi/1Gi values",
        "backup-canary/canary ×1 5m/8Mi/32Mi manifest",
        "site/site ×1 25m/64Mi/128Mi manifest",
      ],
    );
  });

  it("totals the platform and the apps apart, against the node's capacity and the 4 GiB budget", () => {
    // Velero adds 105m, 288Mi and 1632Mi of limits.
    assert.deepEqual(f.totals.platform, { cpuRequests: 850, memoryRequests: (2546 + 288) * Mi, cpuLimits: 0, memoryLimits: (8544 + 1632) * Mi, withoutMemoryLimit: 0 });
    // The site and the backup canary.
    assert.deepEqual(f.totals.apps, { cpuRequests: 30, memoryRequests: 72 * Mi, cpuLimits: 0, memoryLimits: 160 * Mi, withoutMemoryLimit: 0 });
    assert.equal(f.totals.all.memoryRequests, (2546 + 288 + 72) * Mi);
    assert.equal(f.components.find((c) => c.name === "monitoring")!.totals.memoryRequests, 1008 * Mi);
    assert.deepEqual(f.capacity, { cpu: 6000, memory: 24 * Gi });
    assert.deepEqual(f.budget, { memory: 4 * Gi, written: "4Gi" });
    assert.equal(f.components.find((c) => c.name === "argocd")!.totals.memoryRequests, 720 * Mi);
    assert.deepEqual(f.problems, []);
  });
});

describe("footprint of a chart's containers", () => {
  it("reads the chart's default where we set nothing, and reports its missing memory limit", () => {
    // ingress-nginx's values.yaml requests 100m/90Mi for the controller and sets no limit.
    const f = chartOnly({ chart: "ingress-nginx", values: {}, containers: [{ name: "controller", values: "controller.resources" }] });
    const r = row(f, "x", "controller");
    assert.equal(r.source, "chart default");
    assert.deepEqual(r.requests, { cpu: "100m", memory: "90Mi" });
    assert.deepEqual(r.limits, {});
    assert.deepEqual(f.problems.map((p) => p.message), ["chart ingress-nginx (the chart's default): no limits.memory"]);
  });

  it("merges ours over the chart's default key by key", () => {
    const f = chartOnly({ chart: "ingress-nginx", values: { controller: { resources: { limits: { memory: "300Mi" } } } }, containers: [{ name: "controller", values: "controller.resources" }] });
    const r = row(f, "x", "controller");
    assert.equal(r.source, "values");
    assert.deepEqual(r.requests, { cpu: "100m", memory: "90Mi" });
    assert.deepEqual(r.limits, { memory: "300Mi" });
    assert.deepEqual(f.problems, []);
    assert.equal(f.totals.platform.memoryRequests, 90 * Mi);
  });

  it("shows none for a container neither the chart nor we size, and names each missing field", () => {
    const f = chartOnly({ chart: "argo-cd", values: {}, containers: [{ name: "server", values: "server.resources", replicas: 2 }] });
    const r = row(f, "x", "server");
    assert.equal(r.source, "none");
    assert.equal(r.replicas, 2);
    assert.deepEqual(f.problems, [
      { component: "x", container: "server", message: "chart argo-cd (no resources in the chart's defaults or ours): no requests.cpu, requests.memory, limits.memory" },
    ]);
  });

  it("refuses a values path the chart does not have", () => {
    const f = chartOnly({ chart: "argo-cd", values: {}, containers: [{ name: "server", values: "sever.resources" }] });
    assert.deepEqual(f.containers, []);
    assert.deepEqual(f.problems.map((p) => p.message), ["chart argo-cd: sever.resources is not a values path of the chart (its parent is not a map in values.yaml)"]);
  });

  it("reports a release that does not list its containers", () => {
    const f = chartOnly({ chart: "cert-manager", values: {} });
    assert.match(f.problems[0]!.message, /^chart cert-manager: its containers are not listed \(HelmRelease\.containers\)/);
  });

  it("lists redis-ha's containers instead of redis with a quorum", () => {
    const f = ofConfig(THREE_NODES);
    const argo = f.containers.filter((c) => c.component === "argocd").map((c) => `${c.container} ×${c.replicas}`);
    assert.deepEqual(argo, ["application-controller ×1", "server ×2", "repo-server ×2", "applicationset-controller ×2", "notifications-controller ×1", "redis-ha ×3", "redis-ha haproxy ×3"]);
  });

  it("counts a per-node container once on each schedulable node", () => {
    const nodes = THREE_NODES.nodes!;
    const f = chartOnly(
      { chart: "ingress-nginx", values: { controller: { resources: { limits: { memory: "128Mi" } } } }, containers: [{ name: "controller", values: "controller.resources", replicas: "per-node" }] },
      { nodes },
    );
    assert.equal(row(f, "x", "controller").replicas, 3);
    assert.equal(f.totals.platform.memoryRequests, 270 * Mi);
    assert.equal(f.totals.platform.cpuRequests, 300);
    assert.equal(f.capacity.memory, 72 * Gi);
  });
});

describe("footprint of plain objects", () => {
  const ds = (resources: unknown): LocatedObject => ({
    file: "x/daemonset.yaml",
    object: {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "agent", namespace: "x" },
      spec: {
        template: {
          metadata: { labels: { a: "b" } },
          spec: {
            initContainers: [
              { name: "setup", image: "i", resources: { requests: { cpu: "1", memory: "1Gi" }, limits: { memory: "1Gi" } } },
              { name: "shipper", image: "i", restartPolicy: "Always", resources: { requests: { cpu: "5m", memory: "16Mi" }, limits: { memory: "32Mi" } } },
            ],
            containers: [{ name: "agent", image: "i", resources }],
          },
        },
      },
    },
  });
  const of = (objects: LocatedObject[], patch: Partial<HomelabInput> = {}, layer = "platform") =>
    footprint({ config: config(patch), components: [{ name: "x", layer, objects } as FootprintComponent], chartDefaults: DEFAULTS });

  it("reads DaemonSets once per schedulable node, counts sidecars and leaves one-shot init containers out", () => {
    const f = of([ds({ requests: { cpu: "0.5", memory: "100Mi" }, limits: { cpu: "1", memory: "200Mi" } })], {
      nodes: [
        { name: "cp", address: "192.168.1.10", roles: ["control-plane"] },
        { name: "w1", address: "192.168.1.11", roles: ["worker"], capacity: { cpu: "4", memory: "8Gi" } },
        { name: "w2", address: "192.168.1.12", roles: ["worker"], capacity: { cpu: "2", memory: "4Gi" } },
      ],
    });
    assert.deepEqual(f.containers.map((c) => `${c.container} ×${c.replicas}`), ["shipper ×2", "agent ×2"]);
    assert.deepEqual(f.totals.platform, { cpuRequests: 1010, memoryRequests: 232 * Mi, cpuLimits: 2000, memoryLimits: 464 * Mi, withoutMemoryLimit: 0 });
    // The control-plane-only node runs no workloads: its capacity does not count.
    assert.deepEqual(f.capacity, { cpu: 6000, memory: 12 * Gi });
    assert.deepEqual(f.nodes.map((n) => `${n.name} ${n.cpu} ${n.memory} ${n.schedulable}`), ["cp 6 24Gi false", "w1 4 8Gi true", "w2 2 4Gi true"]);
  });

  it("reports a container without resources, and one with a limit only counts the limit as its request", () => {
    const f = of([ds(undefined), ds({ limits: { cpu: "250m", memory: "64Mi" } })]);
    assert.deepEqual(f.problems.map((p) => `${p.container}: ${p.message}`), ["agent: DaemonSet agent: no requests.cpu, requests.memory, limits.memory"]);
    assert.equal(f.totals.platform.memoryRequests, (16 + 16 + 64) * Mi);
    assert.equal(f.totals.platform.withoutMemoryLimit, 1);
  });

  it("fails when the platform's memory requests pass the budget, but not for apps", () => {
    const big = ds({ requests: { cpu: "100m", memory: "3Gi" }, limits: { memory: "3Gi" } });
    assert.deepEqual(of([big]).problems, []);
    const over = of([big], { footprint: { platformMemoryBudget: "3Gi" } });
    assert.deepEqual(over.problems.map((p) => p.message), ["the platform's memory requests, 3.02Gi, exceed its budget of 3Gi (footprint.platformMemoryBudget): the box is for the apps"]);
    assert.deepEqual(of([big], { footprint: { platformMemoryBudget: "3Gi" } }, "apps").problems, []);
  });

  it("fails when the requests do not fit the nodes", () => {
    const f = of([ds({ requests: { cpu: "7", memory: "1Gi" }, limits: { memory: "1Gi" } })]);
    assert.deepEqual(f.problems.map((p) => p.message), ["CPU requests of 7.005 exceed the 6 cores the nodes offer (nodes[].capacity.cpu): some pods would never be scheduled"]);
  });
});

describe("homelab footprint", () => {
  it("prints the default config's footprint as JSON and exits 0", () => {
    const r = homelab(["footprint", "--format", "json"]);
    assert.equal(r.code, 0, r.stderr);
    const f = JSON.parse(r.stdout) as Footprint;
    assert.equal(f.totals.platform.memoryRequests, (2546 + 288) * Mi);
    assert.equal(f.containers.length, 28);
    assert.deepEqual(f.problems, []);
  });

  it("prints the table with totals, and exits 1 with the problem over budget", () => {
    const dir = mkdtempSync(join(tmpdir(), "footprint-"));
    try {
      const input = defaultInputCopy();
      const file = join(dir, "homelab.config.mjs");
      writeFileSync(file, `export default ${JSON.stringify({ ...input, footprint: { platformMemoryBudget: "2Gi" } })};\n`);
      const r = homelab(["footprint", "--config", file], { cwd: REPO });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout, /^argocd +chart argo-cd +application-controller +1 +100m +- +384Mi +1Gi +values$/m);
      assert.match(r.stdout, /^platform +850m +- +2\.77Gi +9\.94Gi$/m);
      assert.match(r.stdout, /Platform memory requests: 2\.77Gi of its 2Gi budget \(138%\)/);
      assert.match(r.stdout, /PROBLEMS \(1\):\n {2}- the platform's memory requests, 2\.77Gi, exceed its budget of 2Gi/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses an unknown --format with exit 2", () => {
    const r = homelab(["footprint", "--format", "yaml"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--format must be table or json, not 'yaml'/);
  });
});
