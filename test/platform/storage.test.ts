/** Persistent volumes: the local path provisioner as its own Application, volumes of the `local` type. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { at, find, plan, THREE_NODES } from "./render-helpers.ts";

describe("local-path-storage", () => {
  const p = plan();

  it("is its own Application, before anything that claims a volume", () => {
    const app = find(p, "Application", "local-path-storage", "argocd");
    // Before the monitoring stack (-4), whose Prometheus, Alertmanager and Grafana claim volumes.
    assert.equal((app.metadata.annotations as Record<string, string>)["argocd.argoproj.io/sync-wave"], "-5");
    assert.equal(at(app, "spec.source.path"), "gitops/local-path-storage");
  });

  it("makes the default StorageClass, with local volumes bound where the pod runs and kept after the claim is gone", () => {
    const sc = find(p, "StorageClass", "local-path");
    assert.equal(sc.metadata.namespace, undefined);
    assert.deepEqual(sc.metadata.annotations, { "storageclass.kubernetes.io/is-default-class": "true", defaultVolumeType: "local" });
    assert.equal(at(sc, "provisioner"), "rancher.io/local-path");
    assert.equal(at(sc, "volumeBindingMode"), "WaitForFirstConsumer");
    assert.equal(at(sc, "reclaimPolicy"), "Retain");
    // Exactly one default class in the tree.
    assert.equal(p.objects.filter((o) => o.object.kind === "StorageClass" && o.object.metadata.annotations?.["storageclass.kubernetes.io/is-default-class"] === "true").length, 1);
  });

  it("creates volumes under one folder on every node, with a pinned helper image and bounded helper pods", () => {
    const cm = find(p, "ConfigMap", "local-path-config", "local-path-storage");
    const data = cm.data as Record<string, string>;
    assert.deepEqual(JSON.parse(data["config.json"]!), { nodePathMap: [{ node: "DEFAULT_PATH_FOR_NON_LISTED_NODES", paths: ["/var/lib/homelab/volumes"] }] });
    const helper = parse(data["helperPod.yaml"]!);
    assert.equal(helper.spec.containers[0].image, "docker.io/library/busybox:1.37.0");
    assert.deepEqual(helper.spec.containers[0].resources.limits, { memory: "64Mi" });
    assert.match(data.setup!, /mkdir -m 0777 -p "\$VOL_DIR"/);
    assert.match(data.teardown!, /rm -rf "\$VOL_DIR"/);
  });

  it("runs one provisioner, non-root, with its token, probes and requests, and no public port", () => {
    for (const shape of [p, plan(THREE_NODES)]) {
      const d = find(shape, "Deployment", "local-path-provisioner", "local-path-storage");
      assert.equal(at(d, "spec.replicas"), 1);
      assert.deepEqual(at(d, "spec.strategy"), { type: "Recreate" });
      assert.equal(at(d, "spec.template.spec.automountServiceAccountToken"), true);
      const c = at(d, "spec.template.spec.containers.0") as Record<string, unknown>;
      assert.equal(c.image, "docker.io/rancher/local-path-provisioner:v0.0.31");
      assert.equal(c.ports, undefined);
      assert.deepEqual(at(c, "livenessProbe.exec.command"), ["cat", "/etc/config/config.json"]);
      assert.deepEqual(at(c, "resources"), { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "128Mi" } });
      assert.equal(at(c, "securityContext.runAsNonRoot"), true);
      assert.ok(((c.args as string[]) ?? []).includes("docker.io/library/busybox:1.37.0"));
    }
  });

  it("the namespace admits the helper pods (they mount the node's folder); pods may be created only there", () => {
    const ns = find(p, "Namespace", "local-path-storage");
    assert.equal(ns.metadata.labels?.["pod-security.kubernetes.io/enforce"], "privileged");
    const cr = find(p, "ClusterRole", "local-path-provisioner");
    for (const rule of cr.rules as { resources: string[]; verbs: string[] }[]) {
      if (rule.resources.includes("pods")) assert.deepEqual(rule.verbs, ["get", "list", "watch"]);
    }
    const role = find(p, "Role", "local-path-provisioner", "local-path-storage");
    assert.deepEqual((role.rules as { resources: string[] }[])[0]!.resources, ["pods"]);
  });

  it("every cluster-scoped kind a component renders is allowed by the AppProject", () => {
    const project = find(p, "AppProject", "sky-palette", "argocd");
    const allowed = new Set((project.spec as { clusterResourceWhitelist: { group: string; kind: string }[] }).clusterResourceWhitelist.map((e) => `${e.group}/${e.kind}`));
    const clusterScoped = p.objects.filter((o) => !o.file.startsWith("gitops/root/") && o.object.metadata.namespace === undefined);
    assert.ok(clusterScoped.some((o) => o.object.kind === "StorageClass"));
    for (const o of clusterScoped) {
      const group = o.object.apiVersion.includes("/") ? o.object.apiVersion.split("/")[0] : "";
      assert.ok(allowed.has(`${group}/${o.object.kind}`), `${o.object.kind} ${o.object.metadata.name} (${o.file}) is refused by the AppProject`);
    }
  });
});
