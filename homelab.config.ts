// The Sky Palette homelab: one box, one cluster, run like production.
// Edit this file, run `npx homelab build`, commit the re-rendered gitops/ tree.
import { defineHomelab, pinnedImage } from "./src/config/define.ts";

export default defineHomelab({
  name: "sky-palette",
  domain: "skypalette.ai",
  kubernetesVersion: "1.34",
  nodes: [{ name: "k8s-worker-3090", address: "192.168.1.253", roles: ["control-plane", "worker"] }],
  network: { podCIDR: "10.244.0.0/16", serviceCIDR: "10.96.0.0/12" },
  git: {
    url: "https://git.skypalette.ai",
    repo: "skypalette/homelab",
    branch: "main",
    path: "gitops",
  },
  tunnels: {
    cluster: { name: "skypalette-cluster" },
    forgejo: { name: "skypalette-forgejo", hostname: "git.skypalette.ai" },
  },
  acme: { email: "ops@skypalette.ai", defaultIssuer: "letsencrypt-production" },
  components: {
    // Alerts reach the phone through this ntfy topic; its access token is secrets/monitoring/ntfy.sops.yaml.
    monitoring: { ntfy: { topic: "sky-palette-alerts" } },
  },
  apps: [
    {
      // The docs/status site: built by the Forgejo runner, pushed to the Forgejo registry, deployed by ArgoCD.
      name: "site",
      // Image and tag from versions.yaml: the `site` workflow pushes each build and bumps the tag there.
      ...pinnedImage(import.meta.url, "site"),
      port: 8080,
      // /metrics on a port of its own (the telemetry kit's metrics listener): scraped by Prometheus, not
      // routed by the Service or the Ingress, so not public.
      metricsPort: 9464,
      host: "docs.skypalette.ai",
      probePath: "/healthz",
      // The server answers /readyz with 503 while it drains on SIGTERM, so the pod leaves the Service first.
      readyPath: "/readyz",
      // The site workflow rebuilds and rolls out the site every week even when nothing changed (its pages
      // document the live homelab); a day of slack over that, and the AppStale alert says the pipeline is broken.
      maxBuildAgeDays: 8,
      // The live status panel (/status) reads Prometheus' API.
      readsPrometheus: true,
      resources: { requests: { cpu: "25m", memory: "64Mi" }, limits: { memory: "128Mi" } },
      env: { NODE_ENV: "production", LOG_LEVEL: "info" },
    },
  ],
  backup: {
    // Off-host, S3-compatible object storage; its access key is in secrets/velero/velero-s3.sops.yaml.
    storage: { endpoint: "https://s3.eu-central-003.backblazeb2.com", bucket: "skypalette-homelab-backups", region: "eu-central-003" },
    // Defaults: the whole cluster daily (kept 30 days), every app with storage every 6 hours (kept a
    // week), a restore drill of the canary every Sunday.
  },
  policy: {
    // Where the homelab's images come from: upstream projects' registries and our own Forgejo.
    allowedRegistries: ["docker.io", "ghcr.io", "quay.io", "registry.k8s.io", "git.skypalette.ai"],
  },
});
