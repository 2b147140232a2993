// The Sky Palette homelab: one box, one cluster, run like production.
// Edit this file, run `npx homelab build`, commit the re-rendered gitops/ tree.
import { defineHomelab } from "./src/config/define.ts";

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
  apps: [
    {
      // The docs/status site: built by the Forgejo runner, pushed to the Forgejo registry, deployed by ArgoCD.
      name: "site",
      image: "git.skypalette.ai/skypalette/site",
      tag: "0.1.0",
      port: 8080,
      host: "docs.skypalette.ai",
      probePath: "/healthz",
      // The server answers /readyz with 503 while it drains on SIGTERM, so the pod leaves the Service first.
      readyPath: "/readyz",
      resources: { requests: { cpu: "25m", memory: "64Mi" }, limits: { memory: "128Mi" } },
      env: { NODE_ENV: "production", LOG_LEVEL: "info" },
    },
  ],
  policy: {
    // Where the homelab's images come from: upstream projects' registries and our own Forgejo.
    allowedRegistries: ["docker.io", "ghcr.io", "quay.io", "registry.k8s.io", "git.skypalette.ai"],
  },
});
