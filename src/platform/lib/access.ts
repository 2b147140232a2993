/**
 * How an admin UI is reached. One function decides it for every component, from the `access` section:
 *
 * - `access`: a Cloudflare Access application protects the host; cloudflared verifies the Access token
 *   at the origin as well (`originRequest.access`), so the route exists only with that check.
 * - `unprotected`: the operator opted the host into public exposure, with a reason.
 * - `none` (the default): no public route at all; the tunnel answers 404 for the host and the UI is
 *   reached with `kubectl port-forward`.
 */
import type { HomelabConfig } from "../../config/schema.ts";

export type AdminRoute =
  | { readonly host: string; readonly mode: "access"; readonly teamName: string; readonly audTag: string }
  | { readonly host: string; readonly mode: "unprotected"; readonly reason: string }
  | { readonly host: string; readonly mode: "none" };

/** An admin UI a component serves: its host, and how to reach it without a public route. */
export interface AdminUi {
  readonly component: string;
  readonly route: AdminRoute;
  /** `kubectl port-forward` target, e.g. `svc/argocd-server 8080:80`. */
  readonly portForward: string;
}

export function adminRoute(config: HomelabConfig, host: string): AdminRoute {
  const a = config.access;
  const app = a?.applications[host];
  if (app && a?.teamDomain) return { host, mode: "access", teamName: a.teamDomain.split(".")[0]!, audTag: app.audTag };
  const open = a?.unprotected[host];
  if (open) return { host, mode: "unprotected", reason: open.reason };
  return { host, mode: "none" };
}

/** A route is public in both the protected and the opted-out case. */
export function isPublic(r: AdminRoute): boolean {
  return r.mode !== "none";
}

/** One line for the build summary. */
export function describeAdminUi(ui: AdminUi): string {
  const r = ui.route;
  switch (r.mode) {
    case "access":
      return `${r.host}: public behind Cloudflare Access (team ${r.teamName}), token verified by cloudflared`;
    case "unprotected":
      return `${r.host}: PUBLIC WITHOUT Cloudflare Access (access.unprotected: ${r.reason})`;
    case "none":
      return `${r.host}: no public route (no Cloudflare Access application in access.applications); kubectl -n ${ui.component} port-forward ${ui.portForward}`;
  }
}

/** Hosts named under `access` that no component serves as an admin UI: almost certainly a typo. */
export function unknownAccessHosts(config: HomelabConfig, uis: readonly AdminUi[]): { path: string; host: string }[] {
  const known = new Set(uis.map((u) => u.route.host));
  const a = config.access;
  if (!a) return [];
  return [
    ...Object.keys(a.applications).map((host) => ({ path: `access.applications["${host}"]`, host })),
    ...Object.keys(a.unprotected).map((host) => ({ path: `access.unprotected["${host}"]`, host })),
  ].filter((x) => !known.has(x.host));
}
