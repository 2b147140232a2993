/**
 * The live status page, mounted by the site's server at `/status`. It asks Prometheus on the server side
 * (the browser never talks to the cluster) and keeps the answer for a short while, so a burst of visitors
 * costs Prometheus one round of queries. Without a Prometheus URL, or with Prometheus unreachable, the page
 * says exactly that; the rest of the site is static and unaffected.
 */
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import { html, table, type Html } from "../generate/html.ts";
import { page } from "../generate/layout.ts";
import type { Provenance } from "../generate/model.ts";
import { readStatus, type Figure, type StatusReport } from "./prometheus.ts";

export { readStatus, QUERIES, ALERTS_PATH, type StatusReport } from "./prometheus.ts";

/** The environment variable naming Prometheus' base URL, e.g. `http://prometheus.monitoring.svc:9090`. */
export const PROMETHEUS_URL_ENV = "PROMETHEUS_URL";
export const STATUS_PATH = "/status";

export interface StatusOptions {
  /** Prometheus' base URL. @default process.env.PROMETHEUS_URL; unset: the panel says it is off */
  readonly prometheusUrl?: string;
  /** The generated site, for its provenance.json. */
  readonly publicDir: string;
  /** How long an answer is reused. @default 15000 */
  readonly cacheMs?: number;
  /** Per Prometheus request. @default 2000 */
  readonly timeoutMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

export type StatusHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

interface SiteInfo {
  readonly siteName: string;
  readonly provenance: Provenance;
}

function siteInfo(publicDir: string): SiteInfo {
  try {
    const j = JSON.parse(readFileSync(join(publicDir, "provenance.json"), "utf8")) as Provenance & { siteName?: string };
    const { siteName, ...provenance } = j;
    return { siteName: siteName ?? "homelab", provenance };
  } catch {
    const unknown = "unknown (provenance.json missing)";
    return { siteName: "homelab", provenance: { commit: unknown, builtAt: unknown, imageTag: unknown, gitopsRevision: unknown } };
  }
}

/** The request handler for `/status` (GET and HEAD). */
export function createStatusHandler(o: StatusOptions): StatusHandler {
  const url = (o.prometheusUrl ?? process.env[PROMETHEUS_URL_ENV] ?? "").trim();
  const cacheMs = o.cacheMs ?? 15_000;
  const now = o.now ?? Date.now;
  let cached: { at: number; report: Promise<StatusReport> } | undefined;
  let info: SiteInfo | undefined;

  const report = (): Promise<StatusReport> => {
    if (!url) return Promise.resolve({ configured: false });
    const t = now();
    // One round of queries at a time: visitors arriving while it runs share it.
    if (!cached || t - cached.at >= cacheMs) {
      const p = readStatus({ url, ...(o.timeoutMs !== undefined && { timeoutMs: o.timeoutMs }), now: () => new Date(t) }).catch(
        (e: Error): StatusReport => ({ configured: true, url, checkedAt: new Date(t), reachable: false, error: `reading the answer failed: ${e.message}` }),
      );
      cached = { at: t, report: p };
    }
    return cached.report;
  };

  return async (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" }).end("method not allowed\n");
      return;
    }
    info ??= siteInfo(o.publicDir);
    const r = await report();
    const body = page({ title: "Live status", path: STATUS_PATH, body: statusBody(r, now()), siteName: info.siteName, provenance: info.provenance });
    res.writeHead(200, {
      "content-type": "text/html; charset=utf-8",
      "content-length": Buffer.byteLength(body),
      // Live figures: never from a cache the server does not control.
      "cache-control": "no-store",
    });
    res.end(req.method === "HEAD" ? undefined : body);
  };
}

function ago(seconds: number): string {
  const s = Math.round(Math.abs(seconds));
  const text = s >= 86400 ? `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h` : s >= 3600 ? `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min` : s >= 60 ? `${Math.floor(s / 60)} min` : `${s} s`;
  return seconds >= 0 ? `${text} ago` : `in ${text}`;
}

const iso = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");

function section<T>(id: string, title: string, f: Figure<T>, empty: string, render: (items: readonly T[]) => Html): Html {
  const inner =
    f.state === "ok"
      ? render(f.items)
      : f.state === "empty"
        ? html`<p class="empty">${empty}</p>`
        : html`<p class="unreachable">The query failed: ${f.error}</p>`;
  return html`<section id="${id}" data-state="${f.state}"><h2>${title}</h2>${inner}</section>`;
}

function state(ok: boolean, text: string): Html {
  return html`<span class="status-state ${ok ? "ok" : "bad"}">${text}</span>`;
}

export function statusBody(r: StatusReport, nowMs: number): Html {
  if (!r.configured)
    return html`<h1>Live status</h1><p class="unreachable" id="prometheus" data-state="off">Live status is off: this server has no Prometheus URL (set <code>${PROMETHEUS_URL_ENV}</code>). Every other page of the site is generated from the config and works without it.</p>`;
  const head = html`<h1>Live status</h1><p>Read from Prometheus at <code>${r.url}</code> at <time datetime="${r.checkedAt.toISOString()}">${r.checkedAt.toISOString()}</time>; answers are reused for a few seconds.</p>`;
  if (!r.reachable)
    return html`${head}<p class="unreachable" id="prometheus" data-state="unreachable"><strong>Prometheus is unreachable</strong> (${r.error}), so the live figures are unknown right now. Nothing below is guessed; the rest of the site does not depend on it.</p>`;
  const now = nowMs / 1000;
  return html`${head}<p id="prometheus" data-state="reachable">Prometheus answered.</p>
${section("argocd", "Argo CD: sync and health", r.argocd, "No Argo CD metrics (argocd_app_info): Argo CD is not scraped yet.", (apps) =>
    table(["Application", "sync", "health"], apps.map((a) => [html`<code>${a.name}</code>`, state(a.sync === "Synced", a.sync), state(a.health === "Healthy", a.health)]), ""),
  )}
${section("certificates", "Certificates", r.certificates, "No certificate metrics (certmanager_certificate_expiration_timestamp_seconds): cert-manager is not scraped yet.", (certs) =>
    table(["certificate", "expires", ""], certs.map((c) => [html`<code>${c.namespace}/${c.name}</code>`, iso(c.expires), state(c.expires - now > 14 * 86400, ago(now - c.expires))]), ""),
  )}
${section("backups", "Last successful backup", r.backups, "No backup metrics (velero_backup_last_successful_timestamp): no backup has succeeded, or Velero is not scraped.", (bs) =>
    table(["schedule", "last success", ""], bs.map((b) => [html`<code>${b.schedule}</code>`, iso(b.at), state(now - b.at < 26 * 3600, ago(now - b.at))]), ""),
  )}
${section("alerts", "Firing alerts", r.alerts, "No alert is firing.", (alerts) =>
    table(["alert", "severity", "since", "summary"], alerts.map((a) => [html`<code>${a.name}</code>`, html`<span class="severity ${a.severity}">${a.severity}</span>`, a.since, a.summary]), ""),
  )}`;
}
