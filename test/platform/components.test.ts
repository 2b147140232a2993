import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { at, find, plan } from "./render-helpers.ts";
import { toYaml } from "../../src/render/render.ts";

const p = plan();
/** The default config plus a Cloudflare Access application for Argo CD's UI. */
const AUD = "0123456789abcdef".repeat(4);
const withAccess = plan({ access: { teamDomain: "skypalette.cloudflareaccess.com", applications: { "argocd.skypalette.ai": { audTag: AUD } } } });
const valuesOf = (q: typeof p, app: string) => at(at(find(q, "Application", app, "argocd"), "spec.sources.0"), "helm.valuesObject") as Record<string, unknown>;
const values = (app: string) => at(at(find(p, "Application", app, "argocd"), "spec.sources.0"), "helm.valuesObject") as Record<string, unknown>;

describe("namespaces", () => {
  it("every component namespace enforces Pod Security restricted and is created before its objects", () => {
    for (const ns of ["argocd", "cert-manager", "ingress-nginx", "cloudflared", "site"]) {
      const o = find(p, "Namespace", ns);
      assert.equal(o.metadata.labels?.["pod-security.kubernetes.io/enforce"], "restricted", ns);
      assert.equal(o.metadata.labels?.["pod-security.kubernetes.io/enforce-version"], "v1.34", ns);
      assert.equal(o.metadata.annotations?.["argocd.argoproj.io/sync-wave"], "-1", ns);
      assert.equal(o.metadata.namespace, undefined, `${ns}: a Namespace is cluster-scoped`);
    }
  });
  it("every namespace denies all traffic by default and allows DNS", () => {
    for (const ns of ["argocd", "cert-manager", "ingress-nginx", "cloudflared", "site"]) {
      assert.deepEqual(find(p, "NetworkPolicy", "default-deny", ns).spec, { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
      const dns = find(p, "NetworkPolicy", "allow-dns", ns);
      assert.deepEqual(at(dns, "spec.egress.0.ports"), [{ port: 53, protocol: "UDP" }, { port: 53, protocol: "TCP" }]);
    }
  });
});

describe("argocd", () => {
  const app = find(p, "Application", "argocd", "argocd");
  it("manages itself from its pinned chart, with automated sync, selfHeal, prune and retry", () => {
    assert.deepEqual(at(app, "spec.sources.0.chart"), "argo-cd");
    assert.deepEqual(at(app, "spec.sources.0.repoURL"), "https://argoproj.github.io/argo-helm");
    assert.deepEqual(at(app, "spec.sources.0.targetRevision"), "10.1.1");
    assert.deepEqual(at(app, "spec.sources.1"), { repoURL: "https://git.skypalette.ai/skypalette/homelab.git", targetRevision: "main", path: "gitops/argocd" });
    assert.deepEqual(at(app, "spec.syncPolicy.automated"), { prune: true, selfHeal: true });
    assert.ok((at(app, "spec.syncPolicy.syncOptions") as string[]).includes("ServerSideApply=true"));
    assert.deepEqual(at(app, "spec.syncPolicy.retry"), { limit: 10, backoff: { duration: "10s", factor: 2, maxDuration: "5m" } });
    assert.equal(app.metadata.finalizers, undefined, "deleting the argocd Application must not delete Argo CD");
  });
  it("serves the UI at argocd.<domain> through nginx with a cert-manager certificate once Cloudflare Access protects it", () => {
    assert.equal(at(values("argocd"), "server.ingress.enabled"), false, "no public route without an access section");
    const v = valuesOf(withAccess, "argocd");
    assert.deepEqual(at(v, "server.ingress"), {
      enabled: true,
      ingressClassName: "nginx",
      hostname: "argocd.skypalette.ai",
      annotations: { "cert-manager.io/cluster-issuer": "letsencrypt-production", "argocd.argoproj.io/ignore-healthcheck": "true" },
      tls: true,
    });
    assert.equal(at(v, "configs.params")?.constructor, Object);
    assert.equal((at(v, "configs.params") as Record<string, unknown>)["server.insecure"], true);
  });
  it("child Applications count as healthy only when Synced too; the root app never waits on itself", () => {
    const lua = (at(values("argocd"), "configs.cm") as Record<string, string>)["resource.customizations.health.argoproj.io_Application"] ?? "";
    assert.match(lua, /if obj\.metadata\.name == "root" then\n  hs\.status = "Healthy"\n  return hs\nend/);
    assert.match(lua, /hs\.status = obj\.status\.health\.status/);
    assert.match(lua, /if hs\.status == "Healthy" and \(obj\.status == nil or obj\.status\.sync == nil or obj\.status\.sync\.status ~= "Synced"\) then\n  hs\.status = "Progressing"/);
  });
  it("admits ingress-nginx to argocd-server (when routed) and cert-manager's solver, and monitoring to each part's metrics port", () => {
    assert.deepEqual(at(find(withAccess, "NetworkPolicy", "allow-from-ingress-nginx-8080", "argocd"), "spec.podSelector"), { matchLabels: { "app.kubernetes.io/name": "argocd-server" } });
    assert.deepEqual(at(find(withAccess, "NetworkPolicy", "allow-acme-solver-from-ingress-nginx", "argocd"), "spec.ingress.0.ports"), [{ protocol: "TCP", port: 8089 }]);
    const metrics = (part: string) => {
      const np = find(p, "NetworkPolicy", `allow-metrics-from-monitoring-${part}`, "argocd");
      return [(at(np, "spec.podSelector.matchLabels") as Record<string, string>)["app.kubernetes.io/name"], (at(np, "spec.ingress.0.ports") as { port: number }[]).map((x) => x.port)];
    };
    assert.deepEqual(
      ["controller", "server", "repo-server", "applicationset", "notifications"].map(metrics),
      [
        ["argocd-application-controller", [8082]],
        ["argocd-server", [8083]],
        ["argocd-repo-server", [8084]],
        ["argocd-applicationset-controller", [8080]],
        ["argocd-notifications-controller", [9001]],
      ],
    );
  });
  it("the root app-of-apps watches gitops/root and the project admits only our repo and the pinned chart repos", () => {
    const root = find(p, "Application", "root", "argocd");
    assert.deepEqual(at(root, "spec.source"), { repoURL: "https://git.skypalette.ai/skypalette/homelab.git", targetRevision: "main", path: "gitops/root" });
    const proj = find(p, "AppProject", "sky-palette", "argocd");
    assert.deepEqual(at(proj, "spec.sourceRepos"), [
      "https://git.skypalette.ai/skypalette/homelab.git",
      "https://argoproj.github.io/argo-helm",
      "https://charts.jetstack.io",
      "https://grafana-community.github.io/helm-charts",
      "https://grafana.github.io/helm-charts",
      "https://kubernetes.github.io/ingress-nginx",
      "https://prometheus-community.github.io/helm-charts",
      "https://vmware-tanzu.github.io/helm-charts",
    ]);
    // kube-system: the monitoring chart's Services that select the kubeadm static pods; node-exporter: its
    // subchart's namespace of its own.
    assert.deepEqual(
      (at(proj, "spec.destinations") as { namespace: string }[]).map((d) => d.namespace),
      ["alloy", "argocd", "backup-canary", "cert-manager", "cloudflared", "ingress-nginx", "kube-system", "local-path-storage", "loki", "monitoring", "node-exporter", "site", "velero"],
    );
  });
  it("orders the first bootstrap with sync waves: Argo CD, cert-manager (CRDs), ingress, tunnel, apps", () => {
    const wave = (n: string) => Number(find(p, "Application", n, "argocd").metadata.annotations?.["argocd.argoproj.io/sync-wave"]);
    assert.deepEqual(["argocd", "cert-manager", "ingress-nginx", "cloudflared", "site"].map(wave), [-3, -2, -1, 0, 1]);
    assert.equal(find(p, "AppProject", "sky-palette", "argocd").metadata.annotations?.["argocd.argoproj.io/sync-wave"], "-10");
  });
});

describe("cert-manager", () => {
  it("installs its CRDs from the chart, with server-side apply", () => {
    assert.deepEqual(at(values("cert-manager"), "crds"), { enabled: true, keep: true });
    assert.ok((at(find(p, "Application", "cert-manager", "argocd"), "spec.syncPolicy.syncOptions") as string[]).includes("ServerSideApply=true"));
  });
  for (const [name, server] of [
    ["letsencrypt-staging", "https://acme-staging-v02.api.letsencrypt.org/directory"],
    ["letsencrypt-production", "https://acme-v02.api.letsencrypt.org/directory"],
  ] as const) {
    it(`ClusterIssuer ${name} solves HTTP-01 through the nginx class after the webhook is up`, () => {
      const ci = find(p, "ClusterIssuer", name);
      assert.equal(ci.metadata.namespace, undefined);
      assert.deepEqual(ci.spec, {
        acme: {
          server,
          email: "ops@skypalette.ai",
          privateKeySecretRef: { name: `${name}-account-key` },
          solvers: [{ http01: { ingress: { ingressClassName: "nginx" } } }],
        },
      });
      assert.equal(ci.metadata.annotations?.["argocd.argoproj.io/sync-wave"], "1");
      assert.equal(ci.metadata.annotations?.["argocd.argoproj.io/sync-options"], "SkipDryRunOnMissingResource=true");
    });
  }
});

describe("ingress-nginx", () => {
  const v = values("ingress-nginx");
  it("is reachable only through the tunnel and takes the client address from CF-Connecting-IP, from pods only", () => {
    assert.deepEqual(at(v, "controller.service"), { type: "ClusterIP" });
    assert.equal(at(v, "controller.config.use-forwarded-headers"), "false");
    assert.equal(at(v, "controller.config.enable-real-ip"), "true");
    assert.equal(at(v, "controller.config.forwarded-for-header"), "CF-Connecting-IP");
    assert.equal(at(v, "controller.config.proxy-real-ip-cidr"), "10.244.0.0/16");
    assert.equal(at(v, "controller.config.allow-snippet-annotations"), "false");
  });
  it("exposes metrics and is the default ingress class", () => {
    assert.deepEqual(at(v, "controller.metrics"), { enabled: true });
    assert.deepEqual(at(v, "controller.ingressClassResource"), { name: "nginx", default: true });
  });
  it("accepts traffic from cloudflared only, on 443 (and 80 for ACME challenges)", () => {
    const np = find(p, "NetworkPolicy", "allow-from-cloudflared", "ingress-nginx");
    assert.deepEqual(at(np, "spec.ingress"), [
      {
        from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "cloudflared" } }, podSelector: { matchLabels: { "app.kubernetes.io/name": "cloudflared" } } }],
        ports: [{ protocol: "TCP", port: 80 }, { protocol: "TCP", port: 443 }],
      },
    ]);
  });
  it("may reach exactly the Ingress backends: one flow per namespace, the backend port and the solver port", () => {
    const flows = p.objects
      .filter((o) => o.object.kind === "NetworkPolicy" && o.object.metadata.namespace === "ingress-nginx" && o.object.metadata.name.startsWith("allow-to-"))
      .map((o) => [o.object.metadata.name, at(o.object, "spec.egress.0.to.0.namespaceSelector.matchLabels"), (at(o.object, "spec.egress.0.ports") as { port: number }[]).map((x) => x.port)]);
    // Argo CD's UI has no public route without Cloudflare Access, so nginx gets no flow to it.
    assert.deepEqual(flows, [["allow-to-site", { "kubernetes.io/metadata.name": "site" }, [8080, 8089]]]);
  });
});

describe("cloudflared", () => {
  const tunnel = (q: typeof p) => parse((find(q, "ConfigMap", "cloudflared", "cloudflared").data as Record<string, string>)["config.yaml"]!);
  it("routes *.<domain> to ingress-nginx over verified TLS, ACME challenges over HTTP, and 404 for anything else", () => {
    assert.deepEqual(tunnel(p), {
      tunnel: "skypalette-cluster",
      "credentials-file": "/etc/cloudflared/creds/credentials.json",
      metrics: "0.0.0.0:2000",
      "no-autoupdate": true,
      ingress: [
        // Argo CD's UI without Cloudflare Access: the tunnel itself answers 404.
        { hostname: "argocd.skypalette.ai", service: "http_status:404" },
        { hostname: "grafana.skypalette.ai", service: "http_status:404" },
        {
          hostname: "*.skypalette.ai",
          path: "^/\\.well-known/acme-challenge/",
          service: "http://ingress-nginx-controller.ingress-nginx.svc.cluster.local:80",
        },
        {
          hostname: "*.skypalette.ai",
          service: "https://ingress-nginx-controller.ingress-nginx.svc.cluster.local:443",
          originRequest: { matchSNItoHost: true },
        },
        { service: "http_status:404" },
      ],
    });
    assert.ok(new RegExp(tunnel(p).ingress[2].path).test("/.well-known/acme-challenge/abc"));
    assert.ok(!new RegExp(tunnel(p).ingress[2].path).test("/.well-known/acme-challengeX"));
  });
  it("skips TLS verification only while certificates come from the untrusted staging issuer", () => {
    const staging = plan({ acme: { email: "ops@skypalette.ai", defaultIssuer: "letsencrypt-staging" } });
    assert.deepEqual(tunnel(staging).ingress[3].originRequest, { matchSNItoHost: true, noTLSVerify: true });
  });
  it("reads its credentials from the encrypted Secret and runs locked down", () => {
    const d = find(p, "Deployment", "cloudflared", "cloudflared");
    assert.deepEqual(at(d, "spec.template.spec.volumes.1"), { name: "creds", secret: { secretName: "cloudflared-credentials" } });
    assert.equal(at(d, "spec.template.spec.containers.0.image"), "docker.io/cloudflare/cloudflared:2025.11.1");
    assert.deepEqual(at(d, "spec.template.spec.containers.0.args"), ["tunnel", "--config", "/etc/cloudflared/config/config.yaml", "run"]);
    assert.deepEqual(at(d, "spec.template.spec.containers.0.readinessProbe.httpGet"), { path: "/ready", port: "metrics" });
    assert.equal(at(d, "spec.template.spec.containers.0.securityContext.readOnlyRootFilesystem"), true);
    assert.match(String(at(d, "spec.template.metadata.annotations.checksum/config")), /^[0-9a-f]{16}$/);
  });
  it("may dial Cloudflare on 7844 (UDP and TCP) and ingress-nginx on 80, nothing else", () => {
    const np = find(p, "NetworkPolicy", "allow-tunnel-to-cloudflare", "cloudflared");
    assert.deepEqual(at(np, "spec.egress.0.ports"), [
      { protocol: "UDP", port: 7844 },
      { protocol: "TCP", port: 7844 },
      { protocol: "TCP", port: 443 },
    ]);
    assert.deepEqual(at(np, "spec.egress.0.to.0.ipBlock.cidr"), "0.0.0.0/0");
  });
});

describe("apps", () => {
  it("the site becomes Deployment, Service, Ingress with cert-manager TLS, PDB and NetworkPolicies", () => {
    const d = find(p, "Deployment", "site", "site");
    assert.equal(at(d, "spec.template.spec.containers.0.image"), "git.skypalette.ai/skypalette/site:0.1.0");
    assert.deepEqual(at(d, "spec.template.spec.containers.0.securityContext"), {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
    assert.equal(at(d, "spec.template.spec.automountServiceAccountToken"), false);
    const ing = find(p, "Ingress", "site", "site");
    assert.equal(ing.metadata.annotations?.["cert-manager.io/cluster-issuer"], "letsencrypt-production");
    assert.deepEqual(at(ing, "spec.tls"), [{ hosts: ["docs.skypalette.ai"], secretName: "site-tls" }]);
    assert.deepEqual(at(find(p, "Service", "site", "site"), "spec.ports"), [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }]);
    assert.deepEqual(at(find(p, "NetworkPolicy", "allow-from-ingress-nginx-8080", "site"), "spec.ingress.0.ports"), [{ protocol: "TCP", port: 8080 }]);
  });
  it("a new app is a few lines of config", () => {
    const q = plan({
      apps: [{ name: "notes", image: "ghcr.io/me/notes", tag: "sha256:" + "a".repeat(64), port: 3000, host: "notes.skypalette.ai", env: { A: "1" } }],
    });
    const d = find(q, "Deployment", "notes", "notes");
    assert.equal(at(d, "spec.template.spec.containers.0.image"), `ghcr.io/me/notes@sha256:${"a".repeat(64)}`);
    assert.deepEqual(at(d, "spec.template.spec.containers.0.env"), [{ name: "A", value: "1" }]);
    assert.equal(find(q, "Application", "notes", "argocd").metadata.annotations?.["argocd.argoproj.io/sync-wave"], "1");
    // One probe path for all three probes unless readyPath says otherwise.
    for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) assert.equal(at(d, `spec.template.spec.containers.0.${probe}.httpGet.path`), "/healthz", probe);
  });
  it("an app that drains on shutdown has its own readiness path; startup and liveness keep the probe path", () => {
    const d = find(p, "Deployment", "site", "site");
    assert.equal(at(d, "spec.template.spec.containers.0.readinessProbe.httpGet.path"), "/readyz");
    assert.equal(at(d, "spec.template.spec.containers.0.livenessProbe.httpGet.path"), "/healthz");
    assert.equal(at(d, "spec.template.spec.containers.0.startupProbe.httpGet.path"), "/healthz");
  });
});

describe("rendering", () => {
  it("is deterministic: two renders are byte-identical", () => {
    assert.deepEqual(plan().files, p.files);
  });
  it("puts one folder per Application, each with a kustomization listing its files", () => {
    const apps = p.objects.filter((o) => o.object.kind === "Application").map((o) => o.object.metadata.name).sort();
    const folders = [...new Set(p.files.map((f) => f.path.split("/")[1]))].sort();
    assert.deepEqual(folders, apps);
    const k = parse(p.files.find((f) => f.path === "gitops/site/kustomization.yaml")!.content);
    assert.deepEqual(k.resources, p.files.filter((f) => f.path.startsWith("gitops/site/") && !f.path.endsWith("kustomization.yaml")).map((f) => f.path.slice("gitops/site/".length)));
  });
  it("quotes strings YAML 1.1 readers (kubectl, Argo CD) would take for booleans", () => {
    assert.equal(toYaml({ a: "on", b: "yes", c: "y", d: "off", e: "true" }), 'a: "on"\nb: "yes"\nc: "y"\nd: "off"\ne: "true"\n');
  });
  it("never stamps a namespace on cluster-scoped objects", () => {
    for (const o of p.objects) if (["Namespace", "ClusterIssuer"].includes(o.object.kind)) assert.equal(o.object.metadata.namespace, undefined, o.file);
  });
});
