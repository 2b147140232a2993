/**
 * The log pipeline: Loki sized for one box, Alloy's generated configuration, the flows between them,
 * and the writer of Alloy's configuration syntax.
 */
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { ALLOY_ALERTS, alloyPipeline, LEVEL_TEMPLATE } from "../../src/platform/components/alloy.ts";
import { LOKI_ALERTS } from "../../src/platform/components/loki.ts";
import { alloyConfig, block, expr, ref } from "../../src/platform/lib/alloy-syntax.ts";
import { ALLOY_EVENTS } from "../../src/platform/components/alloy-events.ts";
import { chartImages, readAppVersions } from "../../src/platform/lib/chart-images.ts";
import { platform } from "../../src/platform/platform.ts";
import { runBuild } from "../../src/build/pipeline.ts";
import { formatIssue } from "../../src/errors.ts";
import { checkHelmValues } from "../../src/validate/helm-values.ts";
import { lockedDefaults } from "../../src/validate/chart-lock.ts";
import type { Plan } from "../../src/render/render.ts";
import { config, defaultInputCopy, REPO, scratchProject, versions } from "../helpers.ts";
import { at, find, plan, THREE_NODES } from "./render-helpers.ts";

const p = plan();
const valuesOf = (app: string) => at(at(find(p, "Application", app, "argocd"), "spec.sources.0"), "helm.valuesObject") as Record<string, unknown>;
const chartDefaults = (dir: string) => parse(readFileSync(join(REPO, "charts", dir, "values.yaml"), "utf8")) as Record<string, unknown>;
const policy = (ns: string, name: string) => find(p, "NetworkPolicy", `allow-${name}`, ns).spec;

describe("loki", () => {
  const v = valuesOf("loki");
  it("is the pinned grafana-community chart, one binary on the filesystem, one tenant, one replica", () => {
    const app = find(p, "Application", "loki", "argocd");
    assert.equal(at(app, "spec.sources.0.repoURL"), "https://grafana-community.github.io/helm-charts");
    assert.equal(at(app, "spec.sources.0.targetRevision"), "18.11.0");
    assert.equal(at(v, "deploymentMode"), "Monolithic");
    assert.equal(at(v, "loki.auth_enabled"), false);
    assert.deepEqual(at(v, "loki.commonConfig"), { replication_factor: 1 });
    assert.deepEqual(at(v, "loki.storage"), { type: "filesystem" });
    assert.deepEqual(at(v, "loki.schemaConfig.configs"), [
      { from: "2025-01-01", store: "tsdb", object_store: "filesystem", schema: "v13", index: { prefix: "index_", period: "24h" } },
    ]);
    assert.equal(at(v, "singleBinary.replicas"), 1);
    assert.deepEqual([at(v, "write.replicas"), at(v, "read.replicas"), at(v, "backend.replicas")], [0, 0, 0]);
  });
  it("keeps 14 days on a 20Gi local-path volume; the compactor applies the retention", () => {
    assert.deepEqual(at(v, "singleBinary.persistence"), { enabled: true, size: "20Gi", storageClass: "local-path" });
    assert.equal(at(v, "loki.limits_config.retention_period"), "336h");
    assert.equal(at(v, "loki.limits_config.max_query_lookback"), "336h");
    assert.deepEqual(at(v, "loki.compactor"), {
      working_directory: "/var/loki/compactor",
      compaction_interval: "10m",
      retention_enabled: true,
      retention_delete_delay: "2h",
      delete_request_store: "filesystem",
    });
  });
  it("turns off the chart's memcached caches (8 GiB by default), the gateway, the canary and the test pod", () => {
    const d = chartDefaults("loki-18.11.0");
    // What we switch off is what the chart really ships.
    assert.equal(at(d, "chunksCache.enabled"), true);
    assert.equal(at(d, "chunksCache.allocatedMemory"), 8192);
    assert.equal(at(d, "resultsCache.enabled"), true);
    assert.equal(at(d, "gateway.enabled"), true);
    assert.equal(at(d, "lokiCanary.enabled"), true);
    for (const key of ["chunksCache.enabled", "resultsCache.enabled", "memcachedExporter.enabled", "gateway.enabled", "lokiCanary.enabled", "test.enabled", "sidecar.rules.enabled", "singleBinary.sidecar"])
      assert.equal(at(v, key), false, key);
    assert.deepEqual(at(v, "loki.query_range"), { cache_results: true, results_cache: { cache: { embedded_cache: { enabled: true, max_size_mb: 64, ttl: "1h" } } } });
    assert.equal(at(v, "loki.analytics.reporting_enabled"), false);
  });
  it("has requests and a memory limit, and no API token", () => {
    assert.deepEqual(at(v, "singleBinary.resources"), { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "1Gi" } });
    assert.equal(at(v, "serviceAccount.automountServiceAccountToken"), false);
  });
  it("admits Alloy's pods and Grafana on 3100, monitoring's scrape, and its own ring", () => {
    const pods = { matchLabels: { "app.kubernetes.io/name": "loki", "app.kubernetes.io/component": "single-binary" } };
    assert.deepEqual(policy("loki", "push-from-alloy"), {
      podSelector: pods,
      policyTypes: ["Ingress"],
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "alloy" } }, podSelector: { matchLabels: { "app.kubernetes.io/name": "alloy" } } }], ports: [{ protocol: "TCP", port: 3100 }] }],
    });
    assert.deepEqual(at(policy("loki", "query-from-grafana"), "ingress.0.from"), [
      { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } }, podSelector: { matchLabels: { "app.kubernetes.io/name": "grafana" } } },
    ]);
    // Prometheus' scrape, through the component base's scrape(): a PodMonitor and exactly this port.
    assert.deepEqual(at(policy("loki", "metrics-from-monitoring-loki"), "ingress.0"), {
      from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } }, podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } } }],
      ports: [{ protocol: "TCP", port: 3100 }],
    });
    assert.deepEqual(at(find(p, "PodMonitor", "loki", "loki"), "spec"), {
      selector: { matchLabels: { "app.kubernetes.io/name": "loki", "app.kubernetes.io/component": "single-binary" } },
      namespaceSelector: { matchNames: ["loki"] },
      podMetricsEndpoints: [{ port: "http-metrics", path: "/metrics", scheme: "http" }],
    });
    assert.deepEqual(at(policy("loki", "self-egress"), "egress.0.ports"), [{ protocol: "TCP", port: 7946 }, { protocol: "TCP", port: 9095 }, { protocol: "TCP", port: 3100 }]);
    // Loki itself talks to nothing outside: no API server, no internet.
    const egress = p.objects.filter((o) => o.object.kind === "NetworkPolicy" && o.object.metadata.namespace === "loki" && (o.object.spec as { policyTypes: string[] }).policyTypes.includes("Egress"));
    assert.deepEqual(egress.map((o) => o.object.metadata.name).sort(), ["allow-dns", "allow-self-egress", "default-deny"]);
  });
});

describe("alloy", () => {
  const v = valuesOf("alloy");
  it("runs as a DaemonSet with the generated configuration, no clustering, no usage reports", () => {
    assert.equal(at(v, "controller.type"), "daemonset");
    // A ConfigMap of our own: the chart would pass `configMap.content` through Helm's tpl, which would
    // execute the pipeline's Go template.
    assert.deepEqual(at(v, "alloy.configMap"), { create: false, name: "alloy-config", key: "config.alloy" });
    assert.equal((find(p, "ConfigMap", "alloy-config", "alloy").data as Record<string, string>)["config.alloy"], alloyPipeline({ cluster: "sky-palette", lokiUrl: "http://loki.loki.svc.cluster.local:3100" }));
    assert.equal(at(v, "alloy.configMap.content"), undefined);
    assert.ok(!JSON.stringify(v).includes("{{"), "no Helm value of ours may look like a template to the chart's tpl");
    assert.equal(at(v, "alloy.clustering.enabled"), false);
    assert.equal(at(v, "alloy.enableReporting"), false);
    assert.equal(at(v, "crds.create"), false);
  });
  it("mounts only the pod log folder, read-only, and its own data folder on the node", () => {
    assert.deepEqual(at(v, "alloy.mounts"), {
      varlog: false,
      dockercontainers: false,
      extra: [
        { name: "pod-logs", mountPath: "/var/log/pods", readOnly: true },
        { name: "alloy-data", mountPath: "/var/lib/alloy" },
      ],
    });
    assert.deepEqual(at(v, "controller.volumes.extra"), [
      { name: "pod-logs", hostPath: { path: "/var/log/pods", type: "Directory" } },
      { name: "alloy-data", hostPath: { path: "/var/lib/alloy", type: "DirectoryOrCreate" } },
    ]);
    assert.equal(at(v, "alloy.storagePath"), "/var/lib/alloy/data");
    assert.deepEqual(at(v, "alloy.securityContext"), {
      runAsUser: 0,
      runAsNonRoot: false,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
    // hostPath needs the privileged level; the namespace holds nothing else.
    assert.equal(find(p, "Namespace", "alloy").metadata.labels?.["pod-security.kubernetes.io/enforce"], "privileged");
  });
  it("grants only what the two sources read, replacing the chart's secrets/configmaps/nodes grants", () => {
    const d = chartDefaults("alloy-1.11.1");
    assert.ok((at(d, "rbac.rules") as { resources: string[] }[]).some((r) => r.resources.includes("secrets")), "the chart's default reads secrets");
    assert.deepEqual(at(v, "rbac.rules"), [
      { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] },
      { apiGroups: [""], resources: ["events"], verbs: ["get", "list", "watch"] },
    ]);
    assert.deepEqual(at(v, "rbac.clusterRules"), []);
  });
  it("has requests and memory limits on both containers", () => {
    assert.deepEqual(at(v, "alloy.resources"), { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "512Mi" } });
    assert.deepEqual(at(v, "configReloader.resources"), { requests: { cpu: "10m", memory: "50Mi" }, limits: { memory: "64Mi" } });
  });
  it("reaches Loki's pods on 3100 and the API server; monitoring reaches its metrics port", () => {
    assert.deepEqual(policy("alloy", "push-to-loki"), {
      podSelector: { matchLabels: { "app.kubernetes.io/name": "alloy" } },
      policyTypes: ["Egress"],
      egress: [
        {
          to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "loki" } }, podSelector: { matchLabels: { "app.kubernetes.io/name": "loki", "app.kubernetes.io/component": "single-binary" } } }],
          ports: [{ protocol: "TCP", port: 3100 }],
        },
      ],
    });
    assert.deepEqual(at(policy("alloy", "kube-apiserver"), "egress.0.ports"), [{ protocol: "TCP", port: 6443 }, { protocol: "TCP", port: 443 }]);
    assert.deepEqual(at(policy("alloy", "metrics-from-monitoring-alloy"), "ingress.0.ports"), [{ protocol: "TCP", port: 12345 }]);
    assert.deepEqual(at(find(p, "PodMonitor", "alloy", "alloy"), "spec.podMetricsEndpoints"), [{ port: "http-metrics", path: "/metrics", scheme: "http" }]);
  });
});

/**
 * How many copies of each Kubernetes event reach Loki: every Alloy configuration in the tree that runs
 * the events source, times the pods that run it (a DaemonSet's on every schedulable node).
 */
function eventCopies(q: Plan, schedulableNodes: number): number {
  let copies = 0;
  for (const cm of q.objects.filter((o) => o.object.kind === "ConfigMap" && o.object.metadata.name === "alloy-config")) {
    const ns = cm.object.metadata.namespace!;
    const text = (cm.object as unknown as { data: Record<string, string> }).data["config.alloy"]!;
    const sources = text.split("\n").filter((l) => l.startsWith("loki.source.kubernetes_events ")).length;
    const v = at(find(q, "Application", ns, "argocd"), "spec.sources.0.helm.valuesObject");
    const pods = at(v, "controller.type") === "daemonset" ? schedulableNodes : (at(v, "controller.replicas") as number);
    copies += sources * pods;
  }
  return copies;
}

describe("Kubernetes events with several nodes", () => {
  const three = plan(THREE_NODES);
  const vOf = (app: string) => at(find(three, "Application", app, "argocd"), "spec.sources.0.helm.valuesObject") as Record<string, unknown>;

  it("reach Loki once in both shapes: the node's Alloy on one node, one Deployment of its own on three", () => {
    assert.equal(eventCopies(p, 1), 1);
    assert.equal(eventCopies(three, 3), 1);
    assert.equal(three.objects.some((o) => o.object.metadata.namespace === ALLOY_EVENTS), true);
    assert.equal(p.objects.some((o) => o.object.metadata.namespace === ALLOY_EVENTS), false, "one node needs no second Alloy");
    // The per-node Alloy keeps the pod logs and loses the events, and the right to read them.
    const daemon = (find(three, "ConfigMap", "alloy-config", "alloy").data as Record<string, string>)["config.alloy"]!;
    assert.ok(daemon.includes('loki.source.file "pod_logs"'));
    assert.ok(!daemon.includes("kubernetes_events"));
    assert.deepEqual(at(vOf("alloy"), "rbac.rules"), [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] }]);
    // The events collector runs the events source and nothing from the nodes.
    const events = (find(three, "ConfigMap", "alloy-config", ALLOY_EVENTS).data as Record<string, string>)["config.alloy"]!;
    assert.equal(events, alloyPipeline({ cluster: "sky-palette", lokiUrl: "http://loki.loki.svc.cluster.local:3100", sources: { pods: false, events: true } }));
    assert.ok(!events.includes("discovery.kubernetes") && !events.includes("loki.source.file"));
    assert.throws(() => alloyPipeline({ cluster: "c", lokiUrl: "http://l", sources: { pods: false, events: false } }), /no source/);
  });

  it("the events collector: one replica, events only, no host access, restricted, Loki and the scrape admitted", () => {
    const v = vOf(ALLOY_EVENTS);
    assert.equal(at(v, "controller.type"), "deployment");
    assert.equal(at(v, "controller.replicas"), 1);
    assert.equal(at(v, "fullnameOverride"), ALLOY_EVENTS);
    assert.deepEqual(at(v, "rbac.rules"), [{ apiGroups: [""], resources: ["events"], verbs: ["get", "list", "watch"] }]);
    assert.deepEqual(at(v, "controller.volumes.extra"), [{ name: "alloy-data", emptyDir: {} }]);
    assert.equal(JSON.stringify(v).includes("hostPath"), false);
    assert.equal(at(v, "alloy.securityContext.runAsNonRoot"), true);
    assert.equal(at(v, "alloy.securityContext.runAsUser"), 473);
    assert.equal(find(three, "Namespace", ALLOY_EVENTS).metadata.labels?.["pod-security.kubernetes.io/enforce"], "restricted");
    const pods = { "app.kubernetes.io/name": ALLOY_EVENTS };
    assert.deepEqual(at(find(three, "NetworkPolicy", "allow-push-to-loki", ALLOY_EVENTS), "spec.podSelector.matchLabels"), pods);
    const lokiIn = at(find(three, "NetworkPolicy", "allow-push-from-alloy", "loki"), "spec.ingress.0.from") as unknown[];
    assert.deepEqual(lokiIn, [
      { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "alloy" } }, podSelector: { matchLabels: { "app.kubernetes.io/name": "alloy" } } },
      { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ALLOY_EVENTS } }, podSelector: { matchLabels: pods } },
    ]);
    assert.equal((at(find(p, "NetworkPolicy", "allow-push-from-alloy", "loki"), "spec.ingress.0.from") as unknown[]).length, 1, "one node: only the node's Alloy");
    assert.deepEqual(at(find(three, "PodMonitor", ALLOY_EVENTS, ALLOY_EVENTS), "spec.selector.matchLabels"), pods);
    assert.ok(find(three, "NetworkPolicy", `allow-scrape-${ALLOY_EVENTS}-${ALLOY_EVENTS}`, "monitoring"));
  });

  it("its values pass the locked alloy chart's check, and its images are the per-node Alloy's", async () => {
    const c = platform(config(THREE_NODES), versions()).components.find((x) => x.name === ALLOY_EVENTS)!;
    const locked = await (await lockedDefaults(REPO, versions())).found.get("alloy")!.defaults();
    assert.deepEqual(checkHelmValues({ chart: "alloy", version: "1.11.1", values: c.helm!.values, defaults: locked.values, freeform: c.helm!.freeform ?? [] }), []);
    const images = chartImages({ chart: "alloy", appVersions: await readAppVersions(locked.dir), defaults: locked.values, values: c.helm!.values, containers: c.helm!.containers! });
    assert.deepEqual(images.problems, []);
    assert.deepEqual(images.images.map((i) => i.image), ["docker.io/grafana/alloy:v1.18.1", "quay.io/prometheus-operator/prometheus-config-reloader:v0.91.0@sha256:7d9e4eea5f1139e602508871f422b0116c60e87c662f3dcd234d5ab60cd0d8c1"]);
  });

  describe("the whole build of the three-node shape", () => {
    let dir = "";
    before(() => {
      dir = scratchProject("homelab-three-nodes-", { ...defaultInputCopy(), ...THREE_NODES });
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it("validates: schemas, chart values and images, policy, with the events collector in it", async () => {
      const r = await runBuild({ root: dir, configPath: join(dir, "homelab.config.ts"), versionsPath: join(dir, "versions.yaml"), promtool: false });
      assert.deepEqual(r.issues.map(formatIssue), []);
      assert.equal(r.policy.counts.errors, 0);
      assert.ok(r.platform.components.some((c) => c.name === ALLOY_EVENTS));
      assert.ok(r.plan.folders.some((f) => f.name === ALLOY_EVENTS));
    });
  });
});

describe("the generated Alloy configuration", () => {
  const text = alloyPipeline({ cluster: "sky-palette", lokiUrl: "http://loki.loki.svc.cluster.local:3100" });
  it("discovers the pods of its own node and builds each container's log path", () => {
    assert.ok(
      text.includes(`discovery.kubernetes "pods" {
  role = "pod"
  selectors {
    role  = "pod"
    field = "spec.nodeName=" + sys.env("HOSTNAME")
  }
}`),
      text,
    );
    assert.ok(
      text.includes(`  rule {
    source_labels = ["__meta_kubernetes_pod_uid", "__meta_kubernetes_pod_container_name"]
    separator     = "/"
    target_label  = "__path__"
    replacement   = "/var/log/pods/*$1/*.log"
  }`),
      text,
    );
  });
  it("parses JSON lines: a bounded level label, trace and span ids, pod and node as structured metadata, no file name label", () => {
    const process = text.slice(text.indexOf('loki.process "pod_logs"'), text.indexOf("// One node, one Alloy"));
    assert.equal(
      process,
      `loki.process "pod_logs" {
  forward_to = [loki.write.default.receiver]
  stage.cri { }
  stage.json {
    expressions = {
      level    = "level || severity || lvl",
      trace_id = "trace_id || traceId || traceID",
      span_id  = "span_id || spanId",
    }
  }
  stage.template {
    source   = "level"
    template = ${JSON.stringify(LEVEL_TEMPLATE)}
  }
  stage.labels {
    values = {
      level = "",
    }
  }
  stage.structured_metadata {
    values = {
      trace_id = "",
      span_id  = "",
      pod      = "",
      node     = "",
    }
  }
  stage.label_drop {
    values = ["filename", "pod", "node"]
  }
}

`,
    );
  });
  it("maps every level spelling onto six values and nothing else", () => {
    // The Go template, read as the list of what it emits: exactly the six bounded values.
    assert.deepEqual([...LEVEL_TEMPLATE.matchAll(/}}([a-z]+){{/g)].map((m) => m[1]), ["trace", "debug", "info", "warn", "error", "fatal"]);
    assert.match(LEVEL_TEMPLATE, /eq \$l "warn" "warning" "40"/);
    assert.match(LEVEL_TEMPLATE, /^\{\{ if \.Value \}\}/, "a line without a level sets no label");
  });
  it("labels every stream with only bounded labels", () => {
    const targets = [...text.matchAll(/target_label\s+= "([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(targets, ["namespace", "pod", "container", "node", "app", "job", "__path__"]);
    // pod and node become structured metadata and are dropped as labels before the write.
    assert.match(text, /stage\.label_drop \{\n    values = \["filename", "pod", "node"\]/);
  });
  it("ships Kubernetes events and writes to Loki with the cluster label", () => {
    assert.ok(text.includes(`loki.source.kubernetes_events "events" {
  job_name   = "kubernetes/events"
  log_format = "json"
  forward_to = [loki.write.default.receiver]
}`));
    assert.ok(text.endsWith(`loki.write "default" {
  endpoint {
    url = "http://loki.loki.svc.cluster.local:3100/loki/api/v1/push"
  }
  external_labels = {
    cluster = "sky-palette",
  }
}
`));
  });
});

describe("the Alloy syntax writer", () => {
  it("quotes and escapes strings, writes references bare, aligns attributes", () => {
    const out = alloyConfig([block("c", "d", []), block("a.b", 'x"y', [["s", 'he said "hi"\n'], ["n", 3], ["flag", true], ["to", [ref("c.d.receiver")]], block("inner", undefined, [["m", { "odd-key": "v", ok: 1 }]])])]);
    assert.equal(
      out,
      `c "d" { }

a.b "x\\"y" {
  s    = "he said \\"hi\\"\\n"
  n    = 3
  flag = true
  to   = [c.d.receiver]
  inner {
    m = {
      "odd-key" = "v",
      ok        = 1,
    }
  }
}
`,
    );
  });
  it("refuses a reference to a component the file does not declare, and a component declared twice", () => {
    const write = block("loki.write", "default", []);
    assert.equal(alloyConfig([block("a.b", "x", [["forward_to", [ref("loki.write.default.receiver")]]]), write]).includes("forward_to = [loki.write.default.receiver]"), true);
    assert.throws(
      () => alloyConfig([block("a.b", "x", [block("inner", undefined, [["forward_to", [ref("loki.write.other.receiver")]]])]), write]),
      /Alloy reference loki\.write\.other\.receiver names no component of this configuration \(declared: a\.b\.x, loki\.write\.default\)/,
    );
    assert.throws(() => alloyConfig([write, write]), /Alloy component loki\.write "default" is declared twice/);
  });
  it("refuses names and references that are not Alloy identifiers", () => {
    assert.throws(() => alloyConfig([block("bad name", undefined, [])]), /invalid Alloy block name: bad name/);
    assert.throws(() => alloyConfig([block("a", undefined, [["bad-attr", 1]])]), /invalid Alloy attribute name: bad-attr/);
    assert.throws(() => ref("not a ref"), /not an Alloy reference: not a ref/);
    assert.throws(() => alloyConfig([block("a", undefined, [["n", Number.NaN]])]), /Alloy has no literal for NaN/);
    assert.equal(alloyConfig([block("a", undefined, [["e", expr('"x" + sys.env("Y")')]])]), 'a {\n  e = "x" + sys.env("Y")\n}\n');
  });
});

describe("log pipeline alerts", () => {
  it("cover Loki's errors, refused lines and compactor, and Alloy's health, drops and failed pushes", () => {
    assert.deepEqual(LOKI_ALERTS.map((r) => [r.alert, r.severity, r.runbook]), [
      ["LokiRequestErrors", "warning", "loki"],
      ["LokiDiscardingSamples", "warning", "loki"],
      ["LokiCompactorNotRunning", "warning", "loki"],
    ]);
    assert.deepEqual(ALLOY_ALERTS.map((r) => [r.alert, r.severity, r.runbook]), [
      ["AlloyComponentUnhealthy", "warning", "alloy"],
      ["AlloyLogsDropped", "warning", "alloy"],
      ["AlloyLokiRequestsFailing", "warning", "alloy"],
    ]);
  });
});
