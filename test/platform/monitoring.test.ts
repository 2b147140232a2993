/**
 * The monitoring stack and the scrape mechanism: every metrics port gets a monitor and exactly one pair of
 * NetworkPolicies (the target admits Prometheus, Prometheus may reach the target), the chart's values carry
 * the kubeadm ports, the rule-level etcd switch, storage, retention, Grafana and the alert wiring.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { stringify } from "yaml";
import { CONTROL_PLANE_METRICS } from "../../src/cluster/control-plane.ts";
import { NODE_EXPORTER, QUORUM_ETCD_ALERTS } from "../../src/platform/components/monitoring.ts";
import { coalesceValues } from "../../src/validate/helm-values.ts";
import { lockedDefaults } from "../../src/validate/chart-lock.ts";
import { platform } from "../../src/platform/platform.ts";
import { App } from "cdk8s";
import type { Construct } from "constructs";
import { Component } from "../../src/platform/lib/component.ts";
import type { PlatformContext } from "../../src/platform/lib/context.ts";
import { render, type Plan } from "../../src/render/render.ts";
import { loadSchemas, validateObjects } from "../../src/validate/kube-schema.ts";
import { config, REPO, versions } from "../helpers.ts";
import { at, find, plan, THREE_NODES } from "./render-helpers.ts";

const p = plan();
const values = (q: Plan) => at(find(q, "Application", "monitoring", "argocd"), "spec.sources.0.helm.valuesObject") as Record<string, unknown>;
const monitors = (q: Plan) => q.objects.filter((o) => o.object.kind === "ServiceMonitor" || o.object.kind === "PodMonitor").map((o) => o.object);
const policy = (q: Plan, ns: string, name: string) => q.objects.find((o) => o.object.kind === "NetworkPolicy" && o.object.metadata.namespace === ns && o.object.metadata.name === name)?.object;
const withoutMonitoring = () => {
  const { monitoring: _, ...components } = config().components;
  return components;
};

describe("scrape(): a monitor and the two policies of every metrics port", () => {
  it("renders one monitor per metrics port in the tree, in the component's namespace, on a named port", () => {
    const got = monitors(p).map((m) => [m.kind, `${m.metadata.namespace}/${m.metadata.name}`, at(m, m.kind === "PodMonitor" ? "spec.podMetricsEndpoints.0.port" : "spec.endpoints.0.port")]);
    assert.deepEqual(got.sort(), [
      ["PodMonitor", "alloy/alloy", "http-metrics"],
      ["PodMonitor", "argocd/applicationset", "metrics"],
      ["PodMonitor", "argocd/controller", "metrics"],
      ["PodMonitor", "argocd/notifications", "metrics"],
      ["PodMonitor", "argocd/repo-server", "metrics"],
      ["PodMonitor", "argocd/server", "metrics"],
      ["PodMonitor", "cert-manager/cert-manager", "http-metrics"],
      ["PodMonitor", "ingress-nginx/controller", "metrics"],
      ["PodMonitor", "loki/loki", "http-metrics"],
      ["PodMonitor", "site/site", "metrics"],
      ["PodMonitor", "velero/node-agent", "http-monitoring"],
      ["PodMonitor", "velero/velero", "http-monitoring"],
      ["ServiceMonitor", "cloudflared/cloudflared", "metrics"],
      ["ServiceMonitor", "velero/restore-drill-exporter", "metrics"],
    ]);
  });

  it("an app's monitor scrapes its metricsPath on its own pods, and nothing but Prometheus may connect", () => {
    const m = find(p, "PodMonitor", "site", "site");
    assert.deepEqual(at(m, "spec"), {
      selector: { matchLabels: { "app.kubernetes.io/name": "site" } },
      namespaceSelector: { matchNames: ["site"] },
      podMetricsEndpoints: [{ port: "metrics", path: "/metrics", scheme: "http" }],
    });
    const np = policy(p, "site", "allow-metrics-from-monitoring-site")!;
    assert.deepEqual(at(np, "spec.ingress"), [
      {
        from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } }, podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } } }],
        ports: [{ protocol: "TCP", port: 9464 }],
      },
    ]);
  });

  it("an app's metricsPort: a container port of its own, scraped there, told to the app; the Service and the Ingress route only the app's port", () => {
    const d = find(p, "Deployment", "site", "site");
    assert.deepEqual(at(d, "spec.template.spec.containers.0.ports"), [
      { name: "http", containerPort: 8080, protocol: "TCP" },
      { name: "metrics", containerPort: 9464, protocol: "TCP" },
    ]);
    assert.deepEqual((at(d, "spec.template.spec.containers.0.env") as { name: string; value?: string }[]).find((e) => e.name === "METRICS_PORT"), { name: "METRICS_PORT", value: "9464" });
    // The probes stay on the app's port (the kit answers /healthz and /readyz there too).
    assert.equal(at(d, "spec.template.spec.containers.0.readinessProbe.httpGet.port"), "http");
    assert.deepEqual(at(find(p, "Service", "site", "site"), "spec.ports"), [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }]);
    assert.deepEqual(at(find(p, "Ingress", "site", "site"), "spec.rules.0.http.paths.0.backend.service.port"), { name: "http" });
    // Only Prometheus may reach the metrics port; ingress-nginx only the app's.
    const fromIngress = p.objects.filter((o) => o.object.kind === "NetworkPolicy" && o.object.metadata.namespace === "site" && o.object.metadata.name.startsWith("allow-from-ingress-nginx"));
    assert.deepEqual(fromIngress.map((o) => at(o.object, "spec.ingress.0.ports")), [[{ protocol: "TCP", port: 8080 }]]);
    // An app that says no metrics port is scraped on its own port, and gets no METRICS_PORT.
    const q = plan({ apps: [{ name: "notes", image: "ghcr.io/me/notes", tag: "1.4.2", port: 3000, host: "notes.skypalette.ai" }] });
    assert.deepEqual(at(find(q, "PodMonitor", "notes", "notes"), "spec.podMetricsEndpoints"), [{ port: "http", path: "/metrics", scheme: "http" }]);
    const nd = find(q, "Deployment", "notes", "notes");
    assert.deepEqual((at(nd, "spec.template.spec.containers.0.ports") as { name: string }[]).map((x) => x.name), ["http"]);
    assert.equal((at(nd, "spec.template.spec.containers.0.env") as { name: string }[] | undefined)?.some((e) => e.name === "METRICS_PORT") ?? false, false);
  });

  it("Prometheus' egress is derived from the targets: exactly each target's pods and port", () => {
    const egress = p.objects
      .filter((o) => o.object.kind === "NetworkPolicy" && o.object.metadata.namespace === "monitoring" && o.object.metadata.name.startsWith("allow-scrape-"))
      .map((o) => [o.object.metadata.name, at(o.object, "spec.egress.0.to.0.podSelector.matchLabels"), at(o.object, "spec.egress.0.ports.0.port")]);
    assert.deepEqual(egress.sort(), [
      ["allow-scrape-alloy-alloy", { "app.kubernetes.io/name": "alloy" }, 12345],
      ["allow-scrape-argocd-applicationset", { "app.kubernetes.io/name": "argocd-applicationset-controller" }, 8080],
      ["allow-scrape-argocd-controller", { "app.kubernetes.io/name": "argocd-application-controller" }, 8082],
      ["allow-scrape-argocd-notifications", { "app.kubernetes.io/name": "argocd-notifications-controller" }, 9001],
      ["allow-scrape-argocd-repo-server", { "app.kubernetes.io/name": "argocd-repo-server" }, 8084],
      ["allow-scrape-argocd-server", { "app.kubernetes.io/name": "argocd-server" }, 8083],
      ["allow-scrape-cert-manager-cert-manager", { "app.kubernetes.io/instance": "cert-manager" }, 9402],
      ["allow-scrape-cloudflared-cloudflared", { "app.kubernetes.io/name": "cloudflared" }, 2000],
      ["allow-scrape-ingress-nginx-controller", { "app.kubernetes.io/component": "controller", "app.kubernetes.io/name": "ingress-nginx" }, 10254],
      ["allow-scrape-loki-loki", { "app.kubernetes.io/component": "single-binary", "app.kubernetes.io/name": "loki" }, 3100],
      ["allow-scrape-site-site", { "app.kubernetes.io/name": "site" }, 9464],
      ["allow-scrape-velero-node-agent", { name: "node-agent" }, 8085],
      ["allow-scrape-velero-restore-drill-exporter", { "app.kubernetes.io/name": "restore-drill-exporter" }, 9090],
      ["allow-scrape-velero-velero", { name: "velero" }, 8085],
    ]);
    for (const o of p.objects.filter((x) => x.object.metadata.name.startsWith("allow-scrape-")))
      assert.deepEqual(at(o.object, "spec.podSelector.matchLabels"), { "app.kubernetes.io/name": "prometheus" });
  });

  it("an app without metrics gets no monitor and no scrape flow, and says why scrape-coverage spares it", () => {
    const q = plan({ apps: [{ name: "notes", image: "ghcr.io/me/notes", tag: "1.4.2", port: 3000, host: "notes.skypalette.ai", metricsPath: false }] });
    assert.equal(monitors(q).some((m) => m.metadata.namespace === "notes"), false);
    assert.equal(policy(q, "monitoring", "allow-scrape-notes-notes"), undefined);
    assert.match(String(at(find(q, "Deployment", "notes", "notes"), "metadata.annotations.homelab/scrape-exempt")), /metricsPath: false/);
  });

  it("without the monitoring stack: policies stay, monitors and rules are not rendered", () => {
    const q = plan({ components: withoutMonitoring() });
    assert.deepEqual(monitors(q), []);
    assert.ok(policy(q, "site", "allow-metrics-from-monitoring-site"));
    assert.equal(q.objects.some((o) => o.object.metadata.namespace === "monitoring"), false);
  });

  it("monitors pass the prometheus-operator schemas", async () => {
    const objs = p.objects.filter((o) => o.object.kind === "ServiceMonitor" || o.object.kind === "PodMonitor");
    await loadSchemas(objs);
    assert.deepEqual(validateObjects(objs), []);
  });

  it("refuses a component whose folder would hold monitoring kinds before the stack's CRDs exist", () => {
    const q = platform(config(), versions());
    const storage = q.components.find((c) => c.name === "local-path-storage")!;
    // local-path-storage syncs at -5, before monitoring (-4): it must hold no rule and no monitor.
    assert.deepEqual([storage.alertGroups.length, storage.scrapeTargets.length], [0, 0]);
  });
});

/**
 * What Pod Security `restricted` asks of the pods kube-prometheus-stack renders into `monitoring`, read from
 * the merged values: a pod security context with runAsNonRoot and the RuntimeDefault seccomp profile, and
 * containers without privilege escalation and with every capability dropped. The operator gives the
 * containers it generates (Prometheus, Alertmanager, their config reloaders) that container context itself;
 * kube-state-metrics is read from its subchart's locked defaults under our values, like Grafana.
 */
function restrictedGaps(merged: unknown): string[] {
  const gaps: string[] = [];
  const pod = (path: string) => {
    const sc = at(merged, path) as { runAsNonRoot?: boolean; seccompProfile?: { type?: string } } | undefined;
    if (sc?.runAsNonRoot !== true) gaps.push(`${path} runAsNonRoot`);
    if (sc?.seccompProfile?.type !== "RuntimeDefault") gaps.push(`${path} seccompProfile`);
  };
  const container = (path: string) => {
    const sc = at(merged, path) as { allowPrivilegeEscalation?: boolean; capabilities?: { drop?: string[] } } | undefined;
    if (sc?.allowPrivilegeEscalation !== false) gaps.push(`${path} allowPrivilegeEscalation`);
    if (!sc?.capabilities?.drop?.includes("ALL")) gaps.push(`${path} capabilities`);
  };
  pod("prometheusOperator.securityContext");
  container("prometheusOperator.containerSecurityContext");
  pod("prometheus.prometheusSpec.securityContext");
  pod("alertmanager.alertmanagerSpec.securityContext");
  // Grafana: the pod, its container and the sidecars (seccomp on the containers as well).
  if (at(merged, "grafana.securityContext.runAsNonRoot") !== true) gaps.push("grafana.securityContext runAsNonRoot");
  container("grafana.containerSecurityContext");
  container("grafana.sidecar.securityContext");
  for (const c of ["grafana.containerSecurityContext", "grafana.sidecar.securityContext"])
    if (at(merged, `${c}.seccompProfile.type`) !== "RuntimeDefault") gaps.push(`${c} seccompProfile`);
  if (at(merged, "grafana.initChownData.enabled") !== false) gaps.push("grafana.initChownData runs as root");
  if (at(merged, "grafana.testFramework.enabled") !== false) gaps.push("grafana.testFramework has no seccomp profile");
  pod("kube-state-metrics.securityContext");
  container("kube-state-metrics.containerSecurityContext");
  if (at(merged, "kube-state-metrics.securityContext.enabled") !== true) gaps.push("kube-state-metrics.securityContext is off");
  // Parts that would add pods of their own with other needs stay off.
  for (const off of ["prometheusOperator.admissionWebhooks.enabled", "crds.upgradeJob.enabled", "windowsMonitoring.enabled", "thanosRuler.enabled"])
    if (at(merged, off) === true) gaps.push(`${off} is on`);
  return gaps;
}

describe("kube-prometheus-stack", () => {
  const v = values(p);

  it("selects monitors and rules of every namespace, not only the release's", () => {
    for (const k of ["ruleSelectorNilUsesHelmValues", "serviceMonitorSelectorNilUsesHelmValues", "podMonitorSelectorNilUsesHelmValues", "probeSelectorNilUsesHelmValues", "scrapeConfigSelectorNilUsesHelmValues"])
      assert.equal(at(v, `prometheus.prometheusSpec.${k}`), false, k);
  });

  it("scrapes the kubeadm control plane at the ports src/cluster/control-plane.ts binds", () => {
    const cp = CONTROL_PLANE_METRICS;
    assert.deepEqual(at(v, "kubeControllerManager.service"), { enabled: true, port: 10257, targetPort: 10257 });
    assert.deepEqual(at(v, "kubeControllerManager.serviceMonitor"), { enabled: true, https: true, insecureSkipVerify: true });
    assert.deepEqual(at(v, "kubeScheduler.service"), { enabled: true, port: 10259, targetPort: 10259 });
    assert.deepEqual(at(v, "kubeEtcd.service"), { enabled: true, port: 2381, targetPort: 2381 });
    assert.equal(at(v, "kubeEtcd.serviceMonitor.scheme"), "http");
    assert.deepEqual(at(v, "kubeProxy.service"), { enabled: true, port: 10249, targetPort: 10249 });
    // Prometheus may reach those ports on the node, and the kubelet and node-exporter.
    const np = policy(p, "monitoring", "allow-prometheus-to-nodes")!;
    assert.deepEqual(at(np, "spec.egress.0.to"), [{ ipBlock: { cidr: "192.168.1.253/32" } }]);
    assert.deepEqual(
      (at(np, "spec.egress.0.ports") as { port: number }[]).map((x) => x.port).sort((a, b) => a - b),
      [2381, 6443, 9100, 10249, 10250, 10257, 10259].filter((x) => [cp.etcd.port, cp.kubeProxy.port, cp.controllerManager.port, cp.scheduler.port, 6443, 9100, 10250].includes(x)),
    );
  });

  it("node-exporter alone is Pod Security privileged, in a namespace of its own; monitoring is restricted", () => {
    const ns = (name: string) => find(p, "Namespace", name).metadata.labels!;
    assert.equal(ns("monitoring")["pod-security.kubernetes.io/enforce"], "restricted");
    assert.equal(ns(NODE_EXPORTER)["pod-security.kubernetes.io/enforce"], "privileged");
    assert.equal(NODE_EXPORTER, "node-exporter");
    // The chart puts the DaemonSet, its Service and ServiceMonitor there; Argo CD may write there.
    assert.equal(at(v, "prometheus-node-exporter.namespaceOverride"), NODE_EXPORTER);
    const project = find(p, "AppProject", "sky-palette", "argocd");
    assert.ok((at(project, "spec.destinations") as { namespace: string }[]).some((d) => d.namespace === NODE_EXPORTER));
    // The namespace is part of the monitoring Application (its folder) and denies everything by default.
    const inNs = p.objects.filter((o) => o.object.metadata.namespace === NODE_EXPORTER || (o.object.kind === "Namespace" && o.object.metadata.name === NODE_EXPORTER));
    assert.deepEqual(inNs.map((o) => [o.file.split("/")[1], o.object.kind, o.object.metadata.name]).sort(), [
      ["monitoring", "Namespace", NODE_EXPORTER],
      ["monitoring", "NetworkPolicy", "default-deny"],
    ]);
    assert.deepEqual(at(policy(p, NODE_EXPORTER, "default-deny"), "spec"), { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    // Nothing else is privileged for it any more: every other namespace of the tree is restricted or says why not.
    const privileged = p.objects.filter((o) => o.object.kind === "Namespace" && o.object.metadata.labels?.["pod-security.kubernetes.io/enforce"] === "privileged").map((o) => o.object.metadata.name).sort();
    assert.deepEqual(privileged, ["alloy", "local-path-storage", NODE_EXPORTER, "velero"]);
  });

  it("a component owns a second namespace only where alsoIn says its chart writes", () => {
    class Part extends Component {
      constructor(scope: Construct, ctx: PlatformContext, listed: boolean) {
        super(scope, "parted", ctx, { wave: 1, layer: "platform", ...(listed && { alsoIn: [{ namespace: "parted-agent", reason: "the agent's subchart" }] }) });
        this.partNamespace("parted-agent", "baseline");
      }
    }
    const ctx = platform(config(), versions()).ctx;
    assert.throws(() => new Part(new App(), ctx, false), /component parted: namespace parted-agent must be listed in alsoIn/);
    const ok = new Part(new App(), ctx, true);
    const ns = ok.toJson().find((o: { kind: string; metadata: { name: string } }) => o.kind === "Namespace" && o.metadata.name === "parted-agent");
    assert.equal(ns.metadata.labels["pod-security.kubernetes.io/enforce"], "baseline");
  });

  it("every pod left in monitoring meets Pod Security restricted with the chart's locked defaults and our values", async () => {
    const locked = (await lockedDefaults(REPO, versions())).found.get("kube-prometheus-stack")!;
    const merged = coalesceValues((await locked.defaults()).values, v);
    assert.deepEqual(restrictedGaps(merged), []);
    // The check is real: Grafana's chown init container (root) or the chart's test pod would break the level.
    assert.deepEqual(restrictedGaps(coalesceValues(merged, { grafana: { initChownData: { enabled: true } } })), ["grafana.initChownData runs as root"]);
    assert.deepEqual(restrictedGaps(coalesceValues(merged, { grafana: { testFramework: { enabled: true } } })), ["grafana.testFramework has no seccomp profile"]);
    assert.deepEqual(restrictedGaps(coalesceValues(merged, { prometheus: { prometheusSpec: { securityContext: { runAsNonRoot: false } } } })), ["prometheus.prometheusSpec.securityContext runAsNonRoot"]);
    assert.deepEqual(restrictedGaps(coalesceValues(merged, { "kube-state-metrics": { securityContext: { enabled: false } } })), ["kube-state-metrics.securityContext is off"]);
    assert.deepEqual(restrictedGaps(coalesceValues(merged, { "kube-state-metrics": { containerSecurityContext: { capabilities: { drop: [] } } } })), ["kube-state-metrics.containerSecurityContext capabilities"]);
  });

  it("one control-plane node: the quorum etcd alerts are dropped at the rule level; three: they are back", () => {
    const disabled = (q: Plan) => at(values(q), "defaultRules.disabled") as Record<string, boolean>;
    const one = disabled(p);
    for (const a of QUORUM_ETCD_ALERTS) assert.equal(one[a], true, a);
    assert.deepEqual(QUORUM_ETCD_ALERTS.slice().sort(), ["etcdHighNumberOfLeaderChanges", "etcdInsufficientMembers", "etcdMembersDown", "etcdNoLeader"]);
    const three = disabled(plan(THREE_NODES));
    for (const a of QUORUM_ETCD_ALERTS) assert.equal(three[a], undefined, a);
    // The etcd rule group itself stays on in both shapes: only the quorum alerts move.
    assert.equal(at(values(p), "defaultRules.rules"), undefined);
    // Our own tested rules replace the chart's of the same meaning, in both shapes.
    for (const a of ["Watchdog", "TargetDown", "NodeClockSkewDetected"]) assert.equal(three[a], true, a);
  });

  it("sizes storage and retention for one box, on the local-path class, with requests and a memory limit everywhere", () => {
    const spec = at(v, "prometheus.prometheusSpec") as Record<string, unknown>;
    assert.equal(spec.retention, "15d");
    assert.equal(spec.retentionSize, "8GB");
    assert.deepEqual(at(spec, "storageSpec.volumeClaimTemplate.spec"), { storageClassName: "local-path", accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "10Gi" } } });
    assert.equal(at(v, "alertmanager.alertmanagerSpec.storage.volumeClaimTemplate.spec.storageClassName"), "local-path");
    assert.deepEqual(at(v, "grafana.persistence"), { enabled: true, type: "pvc", size: "1Gi" });
    for (const path of [
      "prometheus.prometheusSpec.resources",
      "alertmanager.alertmanagerSpec.resources",
      "prometheusOperator.resources",
      "prometheusOperator.prometheusConfigReloader.resources",
      "grafana.resources",
      "grafana.sidecar.resources",
      "kube-state-metrics.resources",
      "prometheus-node-exporter.resources",
    ]) {
      const r = at(v, path) as { requests?: { cpu?: string; memory?: string }; limits?: { memory?: string } };
      assert.ok(r?.requests?.cpu && r.requests.memory && r.limits?.memory, path);
    }
  });

  it("Grafana: admin from the encrypted Secret, fixed data source uids, dashboard sidecar on, no public route without Access", () => {
    assert.deepEqual(at(v, "grafana.admin"), { existingSecret: "grafana-admin", userKey: "admin-user", passwordKey: "admin-password" });
    assert.equal(at(v, "grafana.sidecar.datasources.uid"), "prometheus");
    assert.deepEqual(at(v, "grafana.additionalDataSources"), [{ name: "Loki", uid: "loki", type: "loki", url: "http://loki.loki.svc.cluster.local:3100", access: "proxy", editable: false }]);
    assert.deepEqual(at(v, "grafana.sidecar.dashboards"), { enabled: true, label: "grafana_dashboard", labelValue: "1", searchNamespace: "monitoring" });
    assert.equal(p.objects.some((o) => o.object.kind === "Ingress" && o.object.metadata.namespace === "monitoring"), false);
    const declared = platform(config(), versions()).components.find((c) => c.name === "monitoring")!.secrets;
    assert.deepEqual(declared.map((s) => [s.name, s.keys]), [["ntfy", ["token"]], ["grafana-admin", ["admin-user", "admin-password"]]]);
    // Grafana may reach Loki's port, and only Prometheus and Alertmanager inside the namespace.
    assert.deepEqual(at(policy(p, "monitoring", "allow-grafana-to-loki"), "spec.egress.0.ports"), [{ protocol: "TCP", port: 3100 }]);
  });

  it("Alertmanager sends to ntfy with the token mounted from the encrypted Secret, never in the values", () => {
    assert.deepEqual(at(v, "alertmanager.alertmanagerSpec.secrets"), ["ntfy"]);
    const receivers = at(v, "alertmanager.config.receivers") as { name: string; webhook_configs?: { url: string; http_config: unknown }[] }[];
    const critical = receivers.find((r) => r.name === "ntfy-critical")!;
    assert.match(critical.webhook_configs![0]!.url, /^https:\/\/ntfy\.sh\/sky-palette-alerts\?/);
    assert.deepEqual(critical.webhook_configs![0]!.http_config, { authorization: { type: "Bearer", credentials_file: "/etc/alertmanager/secrets/ntfy/token" } });
    assert.doesNotMatch(JSON.stringify(v), /replace-me/);
  });

  it("remote_write: off by default; with a URL, Prometheus sends there with basic auth from the encrypted Secret", () => {
    assert.deepEqual(at(v, "prometheus.prometheusSpec.remoteWrite"), []);
    assert.equal(policy(p, "monitoring", "allow-remote-write"), undefined);
    const components = { ...config().components, monitoring: { ...config().components.monitoring!, remoteWrite: { url: "https://prometheus-prod.grafana.net/api/prom/push" } } };
    const q = platform(config({ components }), versions());
    const rw = at(values(render(q)), "prometheus.prometheusSpec.remoteWrite");
    assert.deepEqual(rw, [
      {
        url: "https://prometheus-prod.grafana.net/api/prom/push",
        basicAuth: { username: { name: "remote-write", key: "username" }, password: { name: "remote-write", key: "password" } },
      },
    ]);
    assert.deepEqual(q.components.find((c) => c.name === "monitoring")!.secrets.map((s) => s.name), ["ntfy", "grafana-admin", "remote-write"]);
  });

  it("bad monitoring sections are refused with their key path", () => {
    const bad = (monitoring: unknown) => {
      try {
        config({ components: { ...config().components, monitoring } as never });
        return "";
      } catch (e) {
        return (e as Error).message + JSON.stringify((e as { problems?: unknown }).problems);
      }
    };
    assert.match(bad({ ntfy: { topic: "has spaces" } }), /components\.monitoring\.ntfy\.topic.*ntfy topic/);
    assert.match(bad({ ntfy: { topic: "ok", server: "http://ntfy.sh" } }), /components\.monitoring\.ntfy\.server.*https/);
    assert.match(bad({ ntfy: { topic: "ok" }, remoteWrite: { url: "http://example.org/push" } }), /components\.monitoring\.remoteWrite\.url.*https/);
    assert.match(bad({ ntfy: { topic: "ok" }, retention: { time: "15 days", size: "8GiB" } }), /components\.monitoring\.retention\.time/);
    assert.match(bad({ ntfy: {} }), /components\.monitoring\.ntfy\.topic/);
  });
});

describe("apps that read Prometheus (the site's live status)", () => {
  it("get PROMETHEUS_URL and exactly one flow each way to Prometheus' API port", () => {
    const env = at(find(p, "Deployment", "site", "site"), "spec.template.spec.containers.0.env") as { name: string; value?: string }[];
    assert.deepEqual(env.find((e) => e.name === "PROMETHEUS_URL"), { name: "PROMETHEUS_URL", value: "http://monitoring-prometheus.monitoring.svc.cluster.local:9090" });
    assert.deepEqual(at(policy(p, "site", "allow-to-prometheus"), "spec.egress"), [
      {
        to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } }, podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } } }],
        ports: [{ protocol: "TCP", port: 9090 }],
      },
    ]);
    const from = policy(p, "monitoring", "allow-prometheus-from-site")!;
    assert.deepEqual(at(from, "spec.podSelector.matchLabels"), { "app.kubernetes.io/name": "prometheus" });
    assert.deepEqual(at(from, "spec.ingress.0.from"), [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "site" } }, podSelector: { matchLabels: { "app.kubernetes.io/name": "site" } } }]);
    // An app that does not ask gets neither.
    const q = plan({ apps: [{ name: "notes", image: "ghcr.io/me/notes", tag: "1.4.2", port: 3000, host: "notes.skypalette.ai" }] });
    assert.equal(policy(q, "notes", "allow-to-prometheus"), undefined);
    assert.equal(policy(q, "monitoring", "allow-prometheus-from-notes"), undefined);
  });

  it("without the monitoring stack get nothing; their own PROMETHEUS_URL is refused", () => {
    const app = { name: "notes", image: "ghcr.io/me/notes", tag: "1.4.2", port: 3000, host: "notes.skypalette.ai", readsPrometheus: true };
    const q = plan({ apps: [app], components: withoutMonitoring() });
    assert.equal(policy(q, "notes", "allow-to-prometheus"), undefined);
    assert.equal((at(find(q, "Deployment", "notes", "notes"), "spec.template.spec.containers.0.env") as unknown[] | undefined)?.length ?? 0, 0);
    assert.throws(() => config({ apps: [{ ...app, env: { PROMETHEUS_URL: "http://x" } }] }), /apps\[0\]\.env\.PROMETHEUS_URL: is set by readsPrometheus/);
  });
});

describe("the rendered Alertmanager configuration (real amtool)", () => {
  const dir = mkdtempSync(join(tmpdir(), "homelab-rendered-am-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  /** The `alertmanager.config` of the monitoring Application, exactly as gitops/ carries it. */
  const rendered = (q: Plan, name: string) => {
    const file = join(dir, name);
    writeFileSync(file, stringify(at(values(q), "alertmanager.config"), { lineWidth: 0 }));
    return file;
  };
  const amtool = (args: string[]) => spawnSync("amtool", args, { encoding: "utf8" });
  const routes = (file: string, labels: Record<string, string>, receiver: string) =>
    amtool(["config", "routes", "test", `--config.file=${file}`, `--verify.receivers=${receiver}`, ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)]);
  const withHeartbeat = () => {
    const monitoring = { ...config().components.monitoring!, ntfy: { ...config().components.monitoring!.ntfy, heartbeatUrl: "https://hc-ping.com/00000000-0000-0000-0000-000000000000" } };
    return render(platform(config({ components: { ...config().components, monitoring } }), versions()));
  };

  it("passes amtool check-config, default config and with a heartbeat", () => {
    for (const f of [rendered(p, "default.yaml"), rendered(withHeartbeat(), "heartbeat.yaml")]) {
      const r = amtool(["check-config", f]);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /SUCCESS/);
    }
  });

  it("routes each severity, the chart's helpers and the Watchdog where they belong, and nowhere else", () => {
    const f = rendered(withHeartbeat(), "routes.yaml");
    for (const [labels, receiver] of [
      [{ alertname: "NodeDiskFillingUp", severity: "critical", instance: "192.168.1.253:9100" }, "ntfy-critical"],
      [{ alertname: "TargetDown", severity: "warning", namespace: "cloudflared" }, "ntfy-warning"],
      [{ alertname: "KubeCPUOvercommit", severity: "info" }, "null"],
      [{ alertname: "InfoInhibitor", severity: "none" }, "null"],
      [{ alertname: "Watchdog", severity: "info" }, "heartbeat"],
      [{ alertname: "etcdDatabaseQuotaLowSpace" }, "ntfy-warning"],
    ] as const) {
      const ok = routes(f, labels, receiver);
      assert.equal(ok.status, 0, `${JSON.stringify(labels)}: ${ok.stdout}${ok.stderr}`);
      const other = receiver === "ntfy-critical" ? "ntfy-warning" : "ntfy-critical";
      assert.notEqual(routes(f, labels, other).status, 0, `${JSON.stringify(labels)} must not reach ${other}`);
    }
    // Without a heartbeat URL (the default config) the Watchdog goes nowhere rather than to the phone.
    assert.equal(routes(rendered(p, "default-routes.yaml"), { alertname: "Watchdog", severity: "info" }, "null").status, 0);
  });
});
