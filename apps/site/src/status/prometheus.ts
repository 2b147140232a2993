/**
 * The live status figures, read from Prometheus' HTTP API on the server side: Argo CD's sync and health
 * per Application, certificate expiry, the last successful backup per schedule, and the alerts firing now.
 * Every figure says where it came from; a query that fails or finds nothing says so, and Prometheus being
 * unreachable is a result like any other, never an exception that breaks the page.
 */

/** The queries the panel runs, by name. The recorded test responses are keyed by these exact strings. */
export const QUERIES = {
  argocd: "argocd_app_info",
  certificates: "certmanager_certificate_expiration_timestamp_seconds",
  backups: "velero_backup_last_successful_timestamp",
} as const;

/** Prometheus' `/api/v1/alerts`: the rule manager's own view of pending and firing alerts. */
export const ALERTS_PATH = "/api/v1/alerts";

export type Labels = Readonly<Record<string, string>>;

/** One figure: found, empty (the metric is not there) or failed (with Prometheus' or the network's words). */
export type Figure<T> = { readonly state: "ok"; readonly items: readonly T[] } | { readonly state: "empty" } | { readonly state: "failed"; readonly error: string };

export interface AppStatus {
  readonly name: string;
  readonly sync: string;
  readonly health: string;
}

export interface CertificateStatus {
  readonly name: string;
  readonly namespace: string;
  /** Seconds since the epoch. */
  readonly expires: number;
}

export interface BackupStatus {
  readonly schedule: string;
  /** Seconds since the epoch. */
  readonly at: number;
}

export interface FiringAlert {
  readonly name: string;
  readonly severity: string;
  readonly since: string;
  readonly summary: string;
  readonly labels: Labels;
}

export type StatusReport =
  | { readonly configured: false }
  | { readonly configured: true; readonly url: string; readonly checkedAt: Date; readonly reachable: false; readonly error: string }
  | {
      readonly configured: true;
      readonly url: string;
      readonly checkedAt: Date;
      readonly reachable: true;
      readonly argocd: Figure<AppStatus>;
      readonly certificates: Figure<CertificateStatus>;
      readonly backups: Figure<BackupStatus>;
      readonly alerts: Figure<FiringAlert>;
    };

interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** A transport failure: Prometheus could not be asked at all. */
class Unreachable extends Error {}

async function getJson(base: string, path: string, timeoutMs: number): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(new URL(path, base.endsWith("/") ? base : `${base}/`), { signal: AbortSignal.timeout(timeoutMs), headers: { accept: "application/json" } });
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    const why = err.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : (err.cause?.code ?? err.cause?.message ?? err.message);
    throw new Unreachable(why);
  }
  const text = await res.text();
  let body: { status?: string; error?: string; errorType?: string; data?: unknown };
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`HTTP ${res.status}, not a Prometheus API answer`);
  }
  if (body.status !== "success") throw new Error(`${body.errorType ?? `HTTP ${res.status}`}: ${body.error ?? "no error message"}`);
  return body.data;
}

async function instantQuery(base: string, query: string, timeoutMs: number): Promise<VectorSample[]> {
  const data = (await getJson(base, `api/v1/query?query=${encodeURIComponent(query)}`, timeoutMs)) as { resultType?: string; result?: VectorSample[] };
  if (data?.resultType !== "vector" || !Array.isArray(data.result)) throw new Error(`expected an instant vector, got ${data?.resultType ?? "nothing"}`);
  return data.result;
}

async function figure<T>(run: () => Promise<T[]>): Promise<Figure<T>> {
  try {
    const items = await run();
    return items.length ? { state: "ok", items } : { state: "empty" };
  } catch (e) {
    if (e instanceof Unreachable) throw e;
    return { state: "failed", error: (e as Error).message };
  }
}

export interface ReadOptions {
  readonly url: string;
  /** Per request. @default 2000 */
  readonly timeoutMs?: number;
  /** @default now */
  readonly now?: () => Date;
}

/** Runs every query (in parallel) and gathers the report. */
export async function readStatus(o: ReadOptions): Promise<StatusReport> {
  const t = o.timeoutMs ?? 2000;
  const checkedAt = (o.now ?? (() => new Date()))();
  const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
  try {
    const [argocd, certificates, backups, alerts] = await Promise.all([
      figure(async () =>
        (await instantQuery(o.url, QUERIES.argocd, t))
          .map((s) => ({ name: s.metric.name ?? "?", sync: s.metric.sync_status ?? "unknown", health: s.metric.health_status ?? "unknown" }))
          .sort(byName),
      ),
      figure(async () =>
        (await instantQuery(o.url, QUERIES.certificates, t))
          .map((s) => ({ name: s.metric.name ?? "?", namespace: s.metric.namespace ?? "?", expires: Number(s.value[1]) }))
          .sort((a, b) => a.expires - b.expires),
      ),
      figure(async () => (await instantQuery(o.url, QUERIES.backups, t)).map((s) => ({ schedule: s.metric.schedule ?? "?", at: Number(s.value[1]) })).sort((a, b) => a.schedule.localeCompare(b.schedule))),
      figure(async () => {
        const data = (await getJson(o.url, ALERTS_PATH.slice(1), t)) as { alerts?: { labels: Record<string, string>; annotations?: Record<string, string>; state: string; activeAt?: string }[] };
        if (!Array.isArray(data?.alerts)) throw new Error("the alerts answer has no list of alerts");
        return data.alerts
          .filter((a) => a.state === "firing")
          .map((a) => ({ name: a.labels.alertname ?? "?", severity: a.labels.severity ?? "none", since: a.activeAt ?? "", summary: a.annotations?.summary ?? "", labels: a.labels }))
          .sort(byName);
      }),
    ]);
    return { configured: true, url: o.url, checkedAt, reachable: true, argocd, certificates, backups, alerts };
  } catch (e) {
    if (e instanceof Unreachable) return { configured: true, url: o.url, checkedAt, reachable: false, error: e.message };
    throw e;
  }
}
