import type { Construct } from "constructs";
import { Component } from "../lib/component.ts";
import type { PlatformContext } from "../lib/context.ts";
import { deepMerge } from "../lib/merge.ts";
import { peer } from "../lib/network.ts";
import type { ArgoCdValues } from "../values/argo-cd.ts";
import { ROOT } from "../lib/argo.ts";
import { KSOPS_FREEFORM_VALUES } from "../../secrets/ksops.ts";

export interface ArgoCdProps {
  /** Host name label of the UI under the domain. @default "argocd" */
  readonly subdomain?: string;
  /** Values merged over ours, e.g. the KSOPS wiring of the repo-server. @default {} */
  readonly extraValues?: Record<string, unknown>;
}

/**
 * Health of child Applications, so the root app's sync waves wait for each wave to be up before the next
 * starts (cert-manager's CRDs and webhook before the objects that use them). A child counts as healthy
 * only when it is also Synced: since Argo CD 3.4 a missing resource no longer lowers app health. The
 * root app is exempt: it syncs itself, and waiting on its own health would wait on every child at once.
 */
export function applicationHealthLua(rootApp: string): string {
  return `hs = {}
hs.status = "Progressing"
hs.message = ""
if obj.metadata.name == "${rootApp}" then
  hs.status = "Healthy"
  return hs
end
if obj.status ~= nil and obj.status.health ~= nil then
  hs.status = obj.status.health.status
  if obj.status.health.message ~= nil then
    hs.message = obj.status.health.message
  end
end
if hs.status == "Healthy" and (obj.status == nil or obj.status.sync == nil or obj.status.sync.status ~= "Synced") then
  hs.status = "Progressing"
  hs.message = "waiting for the Application to be Synced"
end
return hs
`;
}

/**
 * Argo CD manages itself from its own chart: the bootstrap installs the same chart once, then this
 * Application takes over, so upgrades are a version bump in versions.yaml.
 */
export class ArgoCd extends Component {
  readonly host: string;

  constructor(scope: Construct, ctx: PlatformContext, props: ArgoCdProps = {}) {
    super(scope, "argocd", ctx, {
      wave: -3,
      layer: "gitops",
      needsApiServer: true,
      // The ApplicationSet CRD is too large for client-side apply.
      syncOptions: ["ServerSideApply=true"],
    });
    const { shape, config } = ctx;
    this.host = `${props.subdomain ?? "argocd"}.${config.domain}`;
    const replicas = shape.replicas(2);
    const pdb = { enabled: true, maxUnavailable: 1 };

    const values: ArgoCdValues = {
      global: { domain: this.host, networkPolicy: { create: false } },
      crds: { install: true, keep: true },
      configs: {
        cm: {
          "resource.customizations.health.argoproj.io_Application": applicationHealthLua(ROOT),
          "timeout.reconciliation": "180s",
          "exec.enabled": "false",
          "admin.enabled": "true",
          "statusbadge.enabled": "true",
        },
        // TLS ends at ingress-nginx; the server speaks plain HTTP inside the cluster.
        params: { "server.insecure": true },
      },
      // No SSO in a one-operator homelab; the admin password lives in the password manager.
      dex: { enabled: false },
      controller: { replicas: 1, pdb },
      server: {
        replicas,
        pdb,
        ingress: {
          enabled: true,
          ingressClassName: "nginx",
          hostname: this.host,
          annotations: {
            "cert-manager.io/cluster-issuer": config.acme.defaultIssuer,
            // Argo CD comes before ingress-nginx, which is what marks an Ingress healthy: without this the
            // argocd Application would wait on a later wave, and go unhealthy whenever ingress-nginx is down.
            "argocd.argoproj.io/ignore-healthcheck": "true",
          },
          tls: true,
        },
      },
      repoServer: { replicas, pdb },
      applicationSet: { replicas, pdb },
      "redis-ha": { enabled: shape.ha },
    };
    this.release({
      chart: "argo-cd",
      releaseName: "argocd",
      values: deepMerge(values, props.extraValues ?? {}),
      freeform: [
        ...KSOPS_FREEFORM_VALUES,
        { path: "configs.params", reason: "argocd-cmd-params-cm ConfigMap: free-form settings" },
        { path: "server.ingress.annotations", reason: "Ingress annotations, empty by default" },
      ],
    });

    // Argo CD's own pods talk to each other (server, repo-server, controller, redis).
    this.allow({ name: "within-namespace", direction: "ingress", peers: [peer.same()], ports: [] });
    this.allow({ name: "within-namespace-egress", direction: "egress", peers: [peer.same()], ports: [] });
    this.servedByIngress({ "app.kubernetes.io/name": "argocd-server" }, 8080);
    // Forgejo and the chart repositories are reached by their public names, through Cloudflare.
    this.allow({ name: "git-and-charts", direction: "egress", peers: [peer.internet()], ports: [{ port: 443 }] });
    // controller 8082, server 8083, repo-server 8084, applicationset 8080, notifications 9001.
    this.allow({
      name: "metrics-from-monitoring",
      direction: "ingress",
      peers: [peer.ns("monitoring")],
      ports: [8080, 8082, 8083, 8084, 9001].map((port) => ({ port })),
    });
  }
}
