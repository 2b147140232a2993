/**
 * The hardening of the rendered platform: admin UIs only behind Cloudflare Access, forwarding headers a
 * client cannot forge, least-privilege flows, a locked default project, a bounded sync, and an HA
 * shape that asks for a quorum only where one exists. Each block fails on the tree as it was before.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse as parseYaml } from "yaml";
import { ConfigError } from "../../src/config/load.ts";
import type { HomelabInput } from "../../src/config/schema.ts";
import type { K8sObject } from "../../src/model/k8s.ts";
import { describeAdminUi } from "../../src/platform/lib/access.ts";
import { shapeFor } from "../../src/platform/lib/topology.ts";
import { platform } from "../../src/platform/platform.ts";
import { render, type Plan } from "../../src/render/render.ts";
import { ALL_RULES, policyContext, runPolicies } from "../../src/policy/index.ts";
import { UserError } from "../../src/errors.ts";
import { config, versions } from "../helpers.ts";
import { THREE_NODES, at, find, plan } from "./render-helpers.ts";

const AUD = "a".repeat(40) + "0123456789abcdef01234567";
const ACCESS: Partial<HomelabInput> = {
  access: { teamDomain: "skypalette.cloudflareaccess.com", applications: { "argocd.skypalette.ai": { audTag: AUD } } },
};
const values = (p: Plan, app: string) => at(find(p, "Application", app, "argocd"), "spec.sources.0.helm.valuesObject") as Record<string, unknown>;
const tunnelOf = (p: Plan) => parseYaml((find(p, "ConfigMap", "cloudflared", "cloudflared") as unknown as { data: Record<string, string> }).data["config.yaml"]!) as {
  ingress: Record<string, unknown>[];
};
const policies = (p: Plan, ns: string) => p.objects.filter((o) => o.object.kind === "NetworkPolicy" && o.object.metadata.namespace === ns).map((o) => o.object);
const policy = (p: Plan, ns: string, name: string) => policies(p, ns).find((o) => o.metadata.name === name);
const configError = (patch: Partial<HomelabInput>): string => {
  try {
    config(patch);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return (e as Error).message;
  }
  assert.fail("the config was accepted");
};

describe("admin UIs: Cloudflare Access at the origin, or no public route", () => {
  const bare = plan();
  const withAccess = plan(ACCESS);

  it("without an access section Argo CD has no Ingress, the tunnel answers 404 for its host first, and ingress-nginx cannot reach it", () => {
    assert.equal(at(values(bare, "argocd"), "server.ingress.enabled"), false);
    assert.deepEqual(tunnelOf(bare).ingress[0], { hostname: "argocd.skypalette.ai", service: "http_status:404" });
    assert.equal(policy(bare, "ingress-nginx", "allow-to-argocd"), undefined);
    assert.equal(policy(bare, "argocd", "allow-from-ingress-nginx-8080"), undefined);
    const ui = platform(config(), versions()).adminUis;
    assert.deepEqual(ui.map(describeAdminUi), [
      "argocd.skypalette.ai: no public route (no Cloudflare Access application in access.applications); kubectl -n argocd port-forward svc/argocd-server 8080:80",
      "grafana.skypalette.ai: no public route (no Cloudflare Access application in access.applications); kubectl -n monitoring port-forward svc/monitoring-grafana 3000:80",
    ]);
  });

  it("with an Access application the tunnel verifies the Access token for that host before the wildcard route", () => {
    const ingress = tunnelOf(withAccess).ingress;
    const i = ingress.findIndex((r) => r.hostname === "argocd.skypalette.ai");
    const wildcard = ingress.findIndex((r) => r.hostname === "*.skypalette.ai" && r.path === undefined);
    assert.ok(i >= 0 && i < wildcard, JSON.stringify(ingress));
    assert.deepEqual(ingress[i], {
      hostname: "argocd.skypalette.ai",
      service: "https://ingress-nginx-controller.ingress-nginx.svc.cluster.local:443",
      originRequest: { matchSNItoHost: true, access: { required: true, teamName: "skypalette", audTag: [AUD] } },
    });
    assert.equal(at(values(withAccess, "argocd"), "server.ingress.enabled"), true);
    assert.ok(policy(withAccess, "ingress-nginx", "allow-to-argocd"));
  });

  it("an app marked admin gets no Ingress without Access, and one behind Access with it", () => {
    const app = { name: "pgadmin", image: "docker.io/dpage/pgadmin4", tag: "9.8.0", port: 3000, host: "pgadmin.skypalette.ai", admin: true };
    const hidden = plan({ apps: [app] });
    assert.equal(hidden.objects.some((o) => o.object.kind === "Ingress" && o.object.metadata.namespace === "pgadmin"), false);
    assert.deepEqual(tunnelOf(hidden).ingress.slice(0, 3).map((r) => r.hostname), ["argocd.skypalette.ai", "grafana.skypalette.ai", "pgadmin.skypalette.ai"]);
    const shown = plan({ apps: [app], access: { teamDomain: "skypalette.cloudflareaccess.com", applications: { "pgadmin.skypalette.ai": { audTag: AUD } } } });
    assert.ok(find(shown, "Ingress", "pgadmin", "pgadmin"));
    assert.ok(tunnelOf(shown).ingress.some((r) => r.hostname === "pgadmin.skypalette.ai" && (r.originRequest as { access?: unknown }).access));
  });

  it("public exposure without Access needs an explicit, reasoned entry, and the summary shouts it", () => {
    const reason = "Argo CD has its own SSO with hardware keys here";
    const p = platform(config({ access: { unprotected: { "argocd.skypalette.ai": { reason } } } }), versions());
    assert.deepEqual(p.adminUis.map(describeAdminUi), [
      `argocd.skypalette.ai: PUBLIC WITHOUT Cloudflare Access (access.unprotected: ${reason})`,
      "grafana.skypalette.ai: no public route (no Cloudflare Access application in access.applications); kubectl -n monitoring port-forward svc/monitoring-grafana 3000:80",
    ]);
    assert.equal(at(values(render(p), "argocd"), "server.ingress.enabled"), true);
    assert.match(configError({ access: { unprotected: { "argocd.skypalette.ai": { reason: "because" } } } }), /access\.unprotected\.argocd\.skypalette\.ai\.reason: .*real reason/);
  });

  it("bad access sections are refused with their key path", () => {
    assert.match(configError({ access: { applications: { "argocd.skypalette.ai": { audTag: AUD } } } }), /access\.teamDomain: is required/);
    assert.match(configError({ access: { teamDomain: "skypalette.example.org" } }), /access\.teamDomain: must be <team>\.cloudflareaccess\.com/);
    assert.match(configError({ access: { teamDomain: "sp.cloudflareaccess.com", applications: { "argocd.skypalette.ai": { audTag: "abc" } } } }), /audTag: must be the 64 hex digits/);
    assert.throws(
      () => platform(config({ access: { teamDomain: "sp.cloudflareaccess.com", applications: { "argcd.skypalette.ai": { audTag: AUD } } } }), versions()),
      (e: unknown) => e instanceof UserError && /access\.applications\["argcd\.skypalette\.ai"\]: argcd\.skypalette\.ai is not an admin UI/.test((e as Error).message),
    );
  });

  it("status badge off; the local admin login is a switch, and turning it off needs a named account", () => {
    const cm = (p: Plan) => at(values(p, "argocd"), "configs.cm") as Record<string, string>;
    assert.equal(cm(bare)["statusbadge.enabled"], "false");
    assert.equal(cm(bare)["admin.enabled"], "true");
    const off = plan({ components: { argocd: { subdomain: "argocd", localAdmin: false, accounts: ["ops"] } } } as Partial<HomelabInput>);
    assert.equal(cm(off)["admin.enabled"], "false");
    assert.equal(cm(off)["accounts.ops"], "login");
    assert.equal(at(values(off, "argocd"), "configs.rbac.policy\\.csv".replace("\\.", ".")), undefined);
    assert.equal((at(values(off, "argocd"), "configs.rbac") as Record<string, string>)["policy.csv"], "g, ops, role:admin\n");
    assert.match(configError({ components: { argocd: { localAdmin: false } } } as Partial<HomelabInput>), /components\.argocd\.localAdmin: cannot be false while components\.argocd\.accounts is empty/);
  });
});

describe("forwarded headers: what a client sends cannot become the Host or address an app sees", () => {
  const cfg = at(values(plan(), "ingress-nginx"), "controller.config") as Record<string, string>;
  it("real IP from CF-Connecting-IP, trusted from pod addresses only; X-Forwarded-* from the request are ignored", () => {
    assert.equal(cfg["use-forwarded-headers"], "false");
    assert.equal(cfg["compute-full-forwarded-for"], "false");
    assert.equal(cfg["enable-real-ip"], "true");
    assert.equal(cfg["forwarded-for-header"], "CF-Connecting-IP");
    assert.equal(cfg["proxy-real-ip-cidr"], "10.244.0.0/16");
  });
  it("the config cannot switch the forwarding keys back", () => {
    assert.throws(
      () => plan({ components: { ingressNginx: { config: { "use-forwarded-headers": "true" } } } } as Partial<HomelabInput>),
      (e: unknown) => e instanceof UserError && /components\.ingressNginx\.config\["use-forwarded-headers"\]: fixed by the platform/.test((e as Error).message),
    );
    assert.equal(at(values(plan({ components: { ingressNginx: { config: { "proxy-body-size": "8m" } } } } as Partial<HomelabInput>), "ingress-nginx"), "controller.config.proxy-body-size"), "8m");
  });
  it("only cloudflared's pods may connect to the controller's HTTP(S) ports", () => {
    const from = policy(plan(), "ingress-nginx", "allow-from-cloudflared") as K8sObject;
    assert.deepEqual(at(from, "spec.ingress.0.from"), [
      { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "cloudflared" } }, podSelector: { matchLabels: { "app.kubernetes.io/name": "cloudflared" } } },
    ]);
  });
});

describe("least privilege inside the cluster", () => {
  const p = plan();
  it("only the repo-server reaches Git and chart repositories", () => {
    const git = policy(p, "argocd", "allow-git-and-charts") as K8sObject;
    assert.deepEqual(at(git, "spec.podSelector"), { matchLabels: { "app.kubernetes.io/name": "argocd-repo-server" } });
  });
  it("monitoring reaches metrics ports only, never argocd-server's plain-HTTP API", () => {
    const fromMonitoring = policies(p, "argocd").filter((o) => (JSON.stringify(at(o, "spec.ingress")) ?? "").includes('"monitoring"'));
    assert.ok(fromMonitoring.length >= 5);
    for (const o of fromMonitoring) {
      const pods = at(o, "spec.podSelector.matchLabels") as Record<string, string> | undefined;
      const ports = (at(o, "spec.ingress.0.ports") as { port: number }[]).map((x) => x.port);
      assert.ok(pods && Object.keys(pods).length > 0, `${o.metadata.name} names its pods`);
      if (pods["app.kubernetes.io/name"] === "argocd-server") assert.deepEqual(ports, [8083]);
    }
  });
  it("every flow in every namespace names its ports (only deny-all has none)", () => {
    for (const o of p.objects.filter((x) => x.object.kind === "NetworkPolicy" && x.object.metadata.name !== "default-deny")) {
      const spec = o.object.spec as { ingress?: { ports?: unknown[] }[]; egress?: { ports?: unknown[] }[] };
      for (const r of [...(spec.ingress ?? []), ...(spec.egress ?? [])]) assert.ok(r.ports && r.ports.length > 0, `${o.file} allows every port`);
    }
  });
  it("the built-in default AppProject is rendered locked, and the policy rule flags an open one", () => {
    assert.deepEqual(at(find(p, "AppProject", "default", "argocd"), "spec"), {
      description: "Locked: every Application names its own project",
      sourceRepos: [],
      sourceNamespaces: [],
      destinations: [],
      clusterResourceWhitelist: [],
      namespaceResourceBlacklist: [{ group: "*", kind: "*" }],
    });
    const rule = ALL_RULES.find((r) => r.id === "argocd-default-project");
    assert.ok(rule, "argocd-default-project is registered");
    const run = (objects: typeof p.objects) => runPolicies(policyContext({ objects, files: [], kubernetesVersion: "1.34" }), { waivers: [], today: new Date("2026-12-01"), only: ["argocd-default-project"] });
    assert.deepEqual(run(p.objects).violations, []);
    const withoutDefault = p.objects.filter((o) => !(o.object.kind === "AppProject" && o.object.metadata.name === "default"));
    assert.deepEqual(run(withoutDefault).violations.map((v) => `${v.subject} ${v.path}`), ["AppProject argocd/sky-palette /metadata/name"]);
  });
});

describe("a stuck wave ends", () => {
  it("the controller terminates a sync after 15 minutes, and Applications retry", () => {
    const v = values(plan(), "argocd");
    assert.equal(at(v, "configs.params") && (at(v, "configs.params") as Record<string, string>)["controller.sync.timeout.seconds"], "900");
    assert.ok(at(find(plan(), "Application", "root", "argocd"), "spec.syncPolicy.retry.limit"));
  });
});

describe("smaller findings", () => {
  it("orphaned-resource ignores list what the runbook creates by hand, not what the chart manages", () => {
    const ignore = at(find(plan(), "AppProject", "sky-palette", "argocd"), "spec.orphanedResources.ignore") as { name: string }[];
    const names = ignore.map((i) => i.name);
    assert.ok(names.includes("forgejo-homelab"));
    assert.ok(names.includes("sops-age"));
    assert.ok(!names.includes("argocd-secret"));
  });

  it("ingress-nginx's disruption-budget values only where the chart renders a budget (more than one replica)", () => {
    const one = at(values(plan(), "ingress-nginx"), "controller") as Record<string, unknown>;
    assert.equal(one.replicaCount, 1);
    assert.ok(!("maxUnavailable" in one) && !("unhealthyPodEvictionPolicy" in one), JSON.stringify(one));
    const two = at(values(plan(TWO_NODES), "ingress-nginx"), "controller") as Record<string, unknown>;
    assert.equal(two.replicaCount, 2);
    assert.equal(two.maxUnavailable, 1);
    assert.equal(two.unhealthyPodEvictionPolicy, "AlwaysAllow");
  });

  it("new tunnel credentials restart cloudflared: the pod template carries the ciphertext's checksum", () => {
    const p = platform(config(), versions());
    const annotations = (text: string) =>
      at(find(render(p, { secretFiles: new Map([["cloudflared/cloudflared-credentials", text]]) }), "Deployment", "cloudflared", "cloudflared"), "spec.template.metadata.annotations") as Record<
        string,
        string
      >;
    const a = annotations("stringData:\n  credentials.json: ENC[AES256_GCM,data:one]\n");
    const b = annotations("stringData:\n  credentials.json: ENC[AES256_GCM,data:two]\n");
    assert.match(a["checksum/secret-cloudflared-credentials"] ?? "", /^[0-9a-f]{16}$/);
    assert.notEqual(a["checksum/secret-cloudflared-credentials"], b["checksum/secret-cloudflared-credentials"]);
    assert.equal(a["checksum/config"], b["checksum/config"]);
  });
});

const TWO_NODES: Partial<HomelabInput> = {
  nodes: [
    { name: "k8s-a", address: "192.168.1.11", roles: ["control-plane", "worker"] },
    { name: "k8s-b", address: "192.168.1.12", roles: ["worker"] },
  ],
};

describe("HA shape from the node count: 1, 2 and 3 nodes", () => {
  const shapes = [
    { nodes: 1, patch: {}, replicas: 1, spread: false, quorum: false },
    { nodes: 2, patch: TWO_NODES, replicas: 2, spread: true, quorum: false },
    { nodes: 3, patch: THREE_NODES, replicas: 2, spread: true, quorum: true },
  ];
  for (const s of shapes) {
    it(`${s.nodes} node(s): ${s.replicas} replica(s), ${s.spread ? "" : "no "}spreading, ${s.quorum ? "" : "no "}redis-ha`, () => {
      const p = plan(s.patch);
      const d = find(p, "Deployment", "cloudflared", "cloudflared");
      assert.equal(at(d, "spec.replicas"), s.replicas);
      assert.equal(at(d, "spec.template.spec.affinity") !== undefined, s.spread);
      assert.equal(at(values(p, "argocd"), "server.replicas"), s.replicas);
      assert.equal(at(values(p, "argocd"), "redis-ha.enabled"), s.quorum);
      assert.equal(at(values(p, "ingress-nginx"), "controller.replicaCount"), s.replicas);
    });
  }
  it("three control-plane nodes make a quorum; three nodes with one control plane do not", () => {
    const cp = (n: number) => Array.from({ length: 3 }, (_, i) => ({ name: `n${i}`, address: `10.0.0.${i + 1}`, roles: i < n ? (["control-plane", "worker"] as const) : (["worker"] as const) }));
    assert.equal(shapeFor(cp(3).map((x) => ({ ...x, roles: [...x.roles] }))).quorum, true);
    assert.equal(shapeFor(cp(1).map((x) => ({ ...x, roles: [...x.roles] }))).quorum, false);
    assert.equal(shapeFor(cp(1).map((x) => ({ ...x, roles: [...x.roles] }))).ha, true);
  });
});
