/**
 * Who may reach the admin UIs, and how they log in. Kept apart from the rest of the schema because it is
 * the one place that decides whether a login page faces the internet.
 *
 * Cloudflare Access puts an identity check in front of a host at Cloudflare's edge; the tunnel's own
 * cloudflared then checks the Access token again at the origin (`originRequest.access`), so a request
 * that reaches the tunnel without passing the Access policy is refused by us, not only by the edge.
 */
import { z } from "zod";

/** A fully qualified lower-case host name. */
const HOST = /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$/;
const host = z.string().regex(HOST, "must be a fully qualified lower-case host name such as argocd.example.org");

export const accessSchema = z.strictObject({
  /**
   * The Cloudflare Zero Trust team domain, `<team>.cloudflareaccess.com` (Zero Trust → Settings →
   * Team name and domain). cloudflared fetches the keys that sign Access tokens from it.
   */
  teamDomain: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.cloudflareaccess\.com$/, "must be <team>.cloudflareaccess.com, as shown under Zero Trust → Settings")
    .optional(),
  /**
   * One Access application per protected admin host, by its Application Audience (AUD) tag (Access →
   * Applications → the application → Overview). Only hosts listed here get a public route.
   * @default {}
   */
  applications: z
    .record(host, z.strictObject({ audTag: z.string().regex(/^[0-9a-f]{64}$/, "must be the 64 hex digits of the Access application's AUD tag") }))
    .default({}),
  /**
   * Admin hosts served publicly WITHOUT Cloudflare Access, each with the reason. A deliberate opt-out
   * for a UI that has its own strong login; the build summary lists every one.
   * @default {}
   */
  unprotected: z
    .record(host, z.strictObject({ reason: z.string().min(20, "give the real reason a login page may face the internet unprotected (at least 20 characters)") }))
    .default({}),
});

export const argocdSchema = z.strictObject({
  /** Host name label of the UI under the domain. */
  subdomain: z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, "must be a DNS label").default("argocd"),
  /**
   * Argo CD's built-in `admin` login. Needed for the first login; switch it off once a named account
   * below has a password (`argocd account update-password --account <name>`).
   * @default true
   */
  localAdmin: z.boolean().default(true),
  /** Named local accounts with UI login and the admin role; the operator's day-to-day login. @default [] */
  accounts: z.array(z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, "must be a DNS label")).default([]),
});

export type AccessConfig = z.output<typeof accessSchema>;

/** Cross-field checks, run from the schema's superRefine; `path` prefixes are relative to the config root. */
export function checkAccess(
  cfg: { access?: AccessConfig; components: { argocd: z.output<typeof argocdSchema> } },
  issue: (path: (string | number)[], message: string) => void,
): void {
  const a = cfg.access;
  if (a && Object.keys(a.applications).length > 0 && !a.teamDomain)
    issue(["access", "teamDomain"], "is required when access.applications lists a host: cloudflared checks Access tokens against this team");
  if (a) for (const h of Object.keys(a.unprotected)) if (h in a.applications) issue(["access", "unprotected", h], "is also listed under access.applications; a host is either protected or not");
  const argo = cfg.components.argocd;
  if (!argo.localAdmin && argo.accounts.length === 0)
    issue(["components", "argocd", "localAdmin"], "cannot be false while components.argocd.accounts is empty: nobody could log in (dex/SSO is off)");
  if (argo.accounts.includes("admin")) issue(["components", "argocd", "accounts"], "'admin' is the built-in account; pick your own name");
}
