/**
 * Both Cloudflare tunnels, from the config's `tunnels` section: the cluster tunnel's Cloudflare side (its
 * wildcard DNS route; its connector runs in the cluster, src/platform/components/cloudflared.ts) and the
 * git tunnel's connector configuration for the Compose stack's cloudflared.
 */
import type { HomelabConfig } from "../config/schema.ts";
import { FORGEJO_HTTP_PORT } from "./compose.ts";

export interface TunnelRoute {
  /** Tunnel name (`cloudflared tunnel create <name>`). */
  readonly tunnel: string;
  /** The DNS name Cloudflare routes to it (`cloudflared tunnel route dns <tunnel> <hostname>`). */
  readonly hostname: string;
}

/** What the Cloudflare side must have: one tunnel per route, each with its proxied DNS record. */
export function tunnelRoutes(config: HomelabConfig): TunnelRoute[] {
  return [
    { tunnel: config.tunnels.cluster.name, hostname: `*.${config.domain}` },
    { tunnel: config.tunnels.forgejo.name, hostname: config.tunnels.forgejo.hostname },
  ];
}

/**
 * The git tunnel's connector: `git.<domain>` to Forgejo's HTTP port on the bridge network, anything else
 * 404. The credentials come from the environment (TUNNEL_CRED_CONTENTS), never from a file here.
 */
export function forgejoTunnelConfig(config: HomelabConfig): Record<string, unknown> {
  return {
    tunnel: config.tunnels.forgejo.name,
    "no-autoupdate": true,
    ingress: [
      { hostname: config.tunnels.forgejo.hostname, service: `http://forgejo:${FORGEJO_HTTP_PORT}` },
      { service: "http_status:404" },
    ],
  };
}
