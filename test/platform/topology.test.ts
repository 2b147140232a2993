import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { shapeFor } from "../../src/platform/lib/topology.ts";
import { REPO } from "../helpers.ts";
import { THREE_NODES, at, find, plan } from "./render-helpers.ts";

const one = plan();
const three = plan(THREE_NODES);
const values = (p: ReturnType<typeof plan>, app: string) => at(find(p, "Application", app, "argocd"), "spec.sources.0.helm.valuesObject");

describe("HA shape", () => {
  it("one node: one replica, no anti-affinity, PDBs that never block a drain", () => {
    const s = shapeFor([{ name: "a", address: "10.0.0.1", roles: ["control-plane", "worker"] }]);
    assert.equal(s.ha, false);
    assert.equal(s.replicas(3), 1);
    assert.equal(s.affinity({ a: "b" }), undefined);
    assert.deepEqual(s.spread({ a: "b" }), []);
    assert.deepEqual(s.pdb({ a: "b" }), { maxUnavailable: 1, selector: { matchLabels: { a: "b" } }, unhealthyPodEvictionPolicy: "AlwaysAllow" });
  });
  it("control-plane-only nodes do not count as schedulable", () => {
    const s = shapeFor([
      { name: "cp", address: "10.0.0.1", roles: ["control-plane"] },
      { name: "w", address: "10.0.0.2", roles: ["worker"] },
    ]);
    assert.equal(s.schedulableNodes, 1);
    assert.equal(s.ha, false);
  });
  it("three nodes: several replicas, spread over hosts", () => {
    const s = shapeFor(THREE_NODES.nodes!.map((n) => ({ ...n, roles: [...n.roles] })));
    assert.equal(s.ha, true);
    assert.equal(s.replicas(2), 2);
    assert.equal(s.replicas(5), 3);
    assert.equal(s.replicas(1), 2, "HA never runs a single copy");
  });
  it("renders the single-node shape for Sky Palette", () => {
    assert.equal(at(find(one, "Deployment", "site", "site"), "spec.replicas"), 1);
    assert.equal(at(find(one, "Deployment", "site", "site"), "spec.template.spec.affinity"), undefined);
    assert.equal(at(values(one, "ingress-nginx"), "controller.replicaCount"), 1);
    assert.equal(at(values(one, "argocd"), "redis-ha.enabled"), false);
    assert.equal(at(values(one, "cert-manager"), "webhook.replicaCount"), 1);
  });
  it("renders the HA shape for three nodes", () => {
    const d = find(three, "Deployment", "cloudflared", "cloudflared");
    assert.equal(at(d, "spec.replicas"), 2);
    assert.deepEqual(at(d, "spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution.0.topologyKey"), "kubernetes.io/hostname");
    assert.equal((at(d, "spec.template.spec.topologySpreadConstraints") as unknown[]).length, 1);
    assert.equal(at(values(three, "ingress-nginx"), "controller.replicaCount"), 2);
    assert.ok(at(values(three, "ingress-nginx"), "controller.affinity"));
    assert.equal(at(values(three, "argocd"), "redis-ha.enabled"), true);
    assert.equal(at(values(three, "argocd"), "server.replicas"), 2);
    // The API server flow lists every node.
    const api = find(three, "NetworkPolicy", "allow-kube-apiserver", "cert-manager");
    assert.deepEqual((at(api, "spec.egress.0.to") as { ipBlock: { cidr: string } }[]).map((t) => t.ipBlock.cidr), [
      "192.168.1.11/32",
      "192.168.1.12/32",
      "192.168.1.13/32",
      "10.96.0.1/32",
    ]);
  });
  it("only control-plane nodes count as API server and webhook callers", () => {
    const mixed = plan({
      nodes: [
        { name: "cp", address: "192.168.1.21", roles: ["control-plane"] },
        { name: "w1", address: "192.168.1.22", roles: ["worker"] },
        { name: "w2", address: "192.168.1.23", roles: ["worker"] },
      ],
    });
    const api = find(mixed, "NetworkPolicy", "allow-kube-apiserver", "argocd");
    assert.deepEqual((at(api, "spec.egress.0.to") as { ipBlock: { cidr: string } }[]).map((t) => t.ipBlock.cidr), ["192.168.1.21/32", "10.96.0.1/32"]);
    const hook = find(mixed, "NetworkPolicy", "allow-webhook-from-apiserver", "cert-manager");
    assert.deepEqual(at(hook, "spec.ingress.0.from"), [{ ipBlock: { cidr: "192.168.1.21/32" } }]);
    assert.equal(at(find(mixed, "Deployment", "site", "site"), "spec.replicas"), 2, "two workers make the HA shape");
  });
});

// One golden render per component, in the HA shape (the single-node shape is the committed gitops/ tree,
// which `homelab build --check` compares). Refresh with UPDATE_GOLDEN=1 after an intended change.
describe("golden renders (three nodes)", () => {
  const dir = join(REPO, "test/platform/golden");
  const folders = [...new Set(three.files.map((f) => f.path.split("/")[1]!))].sort();
  for (const folder of folders) {
    it(`${folder} matches test/platform/golden/${folder}.yaml`, () => {
      const text = three.files
        .filter((f) => f.path.startsWith(`gitops/${folder}/`) || f.path === `gitops/root/application-${folder}.yaml`)
        .map((f) => `# ${f.path}\n${f.content}`)
        .join("---\n");
      const file = join(dir, `${folder}.yaml`);
      if (process.env.UPDATE_GOLDEN === "1") {
        mkdirSync(dir, { recursive: true });
        writeFileSync(file, text);
      }
      assert.ok(existsSync(file), `missing golden file ${file}; run with UPDATE_GOLDEN=1`);
      assert.equal(text, readFileSync(file, "utf8"));
    });
  }
});
