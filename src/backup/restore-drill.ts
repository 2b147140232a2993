/**
 * The restore drill: proves that a backup restores, not only that backups are written.
 *
 * `run` (the weekly CronJob): takes the latest completed backup of the canary namespace, restores it into
 * a scratch namespace through a namespace mapping, checks the restored marker ConfigMap and that the
 * restored canary pod turns Ready (its readiness probe compares the restored volume's file with the
 * marker), deletes the scratch namespace and writes the result into a ConfigMap.
 * `serve`: a tiny exporter that reads that ConfigMap (mounted as a file) and serves it as Prometheus
 * metrics, so the alerts see a failed or missing drill.
 *
 * This file runs unchanged in the drill's container (docs/decisions/0013-restore-drill-image.md): Node
 * strips the types, so it uses only erasable TypeScript syntax and imports nothing but Node's built-ins.
 * Every API call goes through `Api`, which the tests point at a local HTTP server replaying API responses.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";

export interface DrillSettings {
  readonly veleroNamespace: string;
  readonly canaryNamespace: string;
  readonly scratchNamespace: string;
  /** The Velero Schedule that backs up the canary namespace. */
  readonly schedule: string;
  /** The marker object and the value it must hold after the restore. */
  readonly marker: { readonly configMap: string; readonly key: string; readonly expected: string };
  /** The canary Deployment; it is Ready only when its restored volume holds the marker. */
  readonly deployment: string;
  /** The ConfigMap in Velero's namespace the result is written to. */
  readonly resultConfigMap: string;
  /** How long the restore and the canary's readiness may take, each. */
  readonly timeoutSeconds: number;
  readonly pollSeconds: number;
}

export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** What a drill found; also the JSON stored in the result ConfigMap. */
export interface DrillResult {
  readonly ok: boolean;
  /** Where it stopped: `backup`, `restore`, `marker`, `data`, `cleanup` or `done`. */
  readonly stage: string;
  readonly message: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  /** The last successful drill, carried over from earlier results. */
  readonly lastSuccessAt?: string;
  readonly backup?: string;
  /** Age of the restored backup when the drill started, in seconds. */
  readonly backupAgeSeconds?: number;
  readonly restore?: string;
  readonly checks: readonly Check[];
}

/** A Kubernetes API answer: the status and the parsed JSON body. */
export interface ApiResponse {
  readonly status: number;
  readonly body: unknown;
}

export interface Api {
  request(method: string, path: string, body?: unknown, contentType?: string): Promise<ApiResponse>;
}

/** The in-cluster API with the pod's service account token (its CA comes from NODE_EXTRA_CA_CERTS). */
export function httpApi(baseUrl: string, bearer: string): Api {
  return {
    async request(method, path, body, contentType = "application/json") {
      const res = await fetch(new URL(path, baseUrl), {
        method,
        headers: { authorization: `Bearer ${bearer}`, accept: "application/json", ...(body !== undefined && { "content-type": contentType }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON: keep the text for the message
      }
      return { status: res.status, body: parsed };
    },
  };
}

/** A failed step: the drill stops, cleans up and reports it. */
class DrillFailure extends Error {
  readonly stage: string;
  constructor(stage: string, message: string) {
    super(message);
    this.stage = stage;
  }
}

type Obj = Record<string, unknown>;
const rec = (v: unknown): Obj => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

function apiError(what: string, r: ApiResponse): string {
  const msg = str(rec(r.body).message) ?? (typeof r.body === "string" ? r.body.slice(0, 200) : "");
  return `${what}: the API answered ${r.status}${msg ? ` (${msg})` : ""}`;
}

const VELERO = "/apis/velero.io/v1";
/** Restore phases after which Velero does no more work on it. */
const FINAL_PHASES = new Set(["Completed", "PartiallyFailed", "Failed", "FailedValidation"]);

/** `drill-<yyyymmddhhmmss>`: unique per run and sortable. */
export function restoreName(now: Date): string {
  return `drill-${now.toISOString().replace(/[-:T]/g, "").slice(0, 14)}`;
}

/** The newest backup of `schedule` that Velero completed, or undefined. */
export function latestCompleted(items: readonly unknown[], schedule: string): Obj | undefined {
  return items
    .map(rec)
    .filter((b) => rec(rec(b.metadata).labels)["velero.io/schedule-name"] === schedule && rec(b.status).phase === "Completed")
    .sort((a, b) => String(rec(b.status).completionTimestamp ?? "").localeCompare(String(rec(a.status).completionTimestamp ?? "")))[0];
}

export interface Clock {
  now(): Date;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = { now: () => new Date(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };

/** Runs one drill. Never throws for a failed drill: the failure is the result. */
export async function runDrill(api: Api, s: DrillSettings, clock: Clock = realClock): Promise<DrillResult> {
  const startedAt = clock.now();
  const checks: Check[] = [];
  const previous = await readPrevious(api, s);
  let backup: string | undefined;
  let backupAgeSeconds: number | undefined;
  let restore: string | undefined;
  let outcome: { ok: boolean; stage: string; message: string } = { ok: false, stage: "backup", message: "" };
  const poll = async <T>(stage: string, what: string, probe: () => Promise<T | undefined>): Promise<T> => {
    const deadline = clock.now().getTime() + s.timeoutSeconds * 1000;
    for (;;) {
      const v = await probe();
      if (v !== undefined) return v;
      if (clock.now().getTime() >= deadline) throw new DrillFailure(stage, `${what} within ${s.timeoutSeconds}s`);
      await clock.sleep(s.pollSeconds * 1000);
    }
  };
  const scratchPath = `/api/v1/namespaces/${s.scratchNamespace}`;
  try {
    // A scratch namespace left by an interrupted drill would mix old objects into this restore.
    await removeScratch(api, s, "backup", poll);

    const list = await api.request("GET", `${VELERO}/namespaces/${s.veleroNamespace}/backups?labelSelector=${encodeURIComponent(`velero.io/schedule-name=${s.schedule}`)}`);
    if (list.status !== 200) throw new DrillFailure("backup", apiError(`listing the backups of schedule ${s.schedule}`, list));
    const latest = latestCompleted(Array.isArray(rec(list.body).items) ? (rec(list.body).items as unknown[]) : [], s.schedule);
    if (!latest) throw new DrillFailure("backup", `no completed backup of schedule ${s.schedule} in namespace ${s.veleroNamespace}`);
    backup = str(rec(latest.metadata).name)!;
    const completed = Date.parse(String(rec(latest.status).completionTimestamp));
    backupAgeSeconds = Number.isNaN(completed) ? undefined : Math.round((startedAt.getTime() - completed) / 1000);
    checks.push({ name: "backup", ok: true, detail: `latest completed backup ${backup}${backupAgeSeconds !== undefined ? `, ${Math.round(backupAgeSeconds / 3600)}h old` : ""}` });

    outcome = { ok: false, stage: "restore", message: "" };
    restore = restoreName(startedAt);
    const created = await api.request("POST", `${VELERO}/namespaces/${s.veleroNamespace}/restores`, {
      apiVersion: "velero.io/v1",
      kind: "Restore",
      metadata: { name: restore, namespace: s.veleroNamespace, labels: { "app.kubernetes.io/name": "restore-drill" } },
      spec: {
        backupName: backup,
        includedNamespaces: [s.canaryNamespace],
        namespaceMapping: { [s.canaryNamespace]: s.scratchNamespace },
        restorePVs: true,
      },
    });
    if (created.status !== 201) throw new DrillFailure("restore", apiError(`creating Restore ${restore}`, created));
    const phase = await poll("restore", `Restore ${restore} did not finish`, async () => {
      const r = await api.request("GET", `${VELERO}/namespaces/${s.veleroNamespace}/restores/${restore}`);
      if (r.status !== 200) throw new DrillFailure("restore", apiError(`reading Restore ${restore}`, r));
      const st = rec(rec(r.body).status);
      const p = str(st.phase);
      return p && FINAL_PHASES.has(p) ? { phase: p, errors: Number(st.errors ?? 0), warnings: Number(st.warnings ?? 0), reason: (st.validationErrors as unknown[] | undefined)?.join("; ") ?? str(st.failureReason) } : undefined;
    });
    if (phase.phase !== "Completed")
      throw new DrillFailure("restore", `Restore ${restore} ended ${phase.phase}${phase.errors ? ` with ${phase.errors} errors` : ""}${phase.reason ? `: ${phase.reason}` : ""} (velero restore describe ${restore} --details)`);
    checks.push({ name: "restore", ok: true, detail: `Restore ${restore} Completed${phase.warnings ? ` with ${phase.warnings} warnings` : ""}` });

    outcome = { ok: false, stage: "marker", message: "" };
    const cm = await api.request("GET", `${scratchPath}/configmaps/${s.marker.configMap}`);
    if (cm.status === 404) throw new DrillFailure("marker", `the marker ConfigMap ${s.marker.configMap} was not restored into ${s.scratchNamespace}`);
    if (cm.status !== 200) throw new DrillFailure("marker", apiError(`reading the restored marker ${s.marker.configMap}`, cm));
    const value = rec(rec(cm.body).data)[s.marker.key];
    if (value !== s.marker.expected)
      throw new DrillFailure("marker", `the restored marker ${s.marker.configMap}.${s.marker.key} holds ${JSON.stringify(value)}, expected ${JSON.stringify(s.marker.expected)}`);
    checks.push({ name: "marker", ok: true, detail: `${s.marker.configMap}.${s.marker.key} restored intact` });

    outcome = { ok: false, stage: "data", message: "" };
    // The canary is Ready only when the file on its restored volume equals the marker: the volume's data came back.
    await poll("data", `the restored ${s.deployment} did not become Ready (its volume's data did not come back intact)`, async () => {
      const d = await api.request("GET", `/apis/apps/v1/namespaces/${s.scratchNamespace}/deployments/${s.deployment}`);
      if (d.status === 404) throw new DrillFailure("data", `the Deployment ${s.deployment} was not restored into ${s.scratchNamespace}`);
      if (d.status !== 200) throw new DrillFailure("data", apiError(`reading the restored Deployment ${s.deployment}`, d));
      return Number(rec(rec(d.body).status).availableReplicas ?? 0) >= 1 ? true : undefined;
    });
    checks.push({ name: "data", ok: true, detail: `${s.deployment} Ready on its restored volume` });
    outcome = { ok: true, stage: "done", message: `restored ${backup} into ${s.scratchNamespace} and found the marker and the volume's data` };
  } catch (err) {
    if (!(err instanceof DrillFailure)) throw err;
    checks.push({ name: err.stage, ok: false, detail: err.message });
    outcome = { ok: false, stage: err.stage, message: err.message };
  }

  // Clean up whatever happened, so the next drill starts from nothing; a failed cleanup fails the drill.
  try {
    await removeScratch(api, s, "cleanup", poll);
    if (outcome.ok && restore) await api.request("DELETE", `${VELERO}/namespaces/${s.veleroNamespace}/restores/${restore}`);
  } catch (err) {
    if (!(err instanceof DrillFailure)) throw err;
    checks.push({ name: "cleanup", ok: false, detail: err.message });
    if (outcome.ok) outcome = { ok: false, stage: "cleanup", message: err.message };
  }
  const finishedAt = clock.now().toISOString();
  const lastSuccessAt = outcome.ok ? finishedAt : previous?.lastSuccessAt;
  return {
    ...outcome,
    startedAt: startedAt.toISOString(),
    finishedAt,
    ...(lastSuccessAt !== undefined && { lastSuccessAt }),
    ...(backup !== undefined && { backup }),
    ...(backupAgeSeconds !== undefined && { backupAgeSeconds }),
    ...(restore !== undefined && { restore }),
    checks,
  };
}

async function removeScratch(api: Api, s: DrillSettings, stage: string, poll: <T>(stage: string, what: string, probe: () => Promise<T | undefined>) => Promise<T>): Promise<void> {
  const path = `/api/v1/namespaces/${s.scratchNamespace}`;
  const first = await api.request("GET", path);
  if (first.status === 404) return;
  if (first.status !== 200) throw new DrillFailure(stage, apiError(`reading namespace ${s.scratchNamespace}`, first));
  const del = await api.request("DELETE", path, { kind: "DeleteOptions", apiVersion: "v1", propagationPolicy: "Background" });
  if (del.status !== 200 && del.status !== 202 && del.status !== 404) throw new DrillFailure(stage, apiError(`deleting namespace ${s.scratchNamespace}`, del));
  await poll(stage, `namespace ${s.scratchNamespace} was not deleted`, async () => ((await api.request("GET", path)).status === 404 ? true : undefined));
}

async function readPrevious(api: Api, s: DrillSettings): Promise<Partial<DrillResult> | undefined> {
  const r = await api.request("GET", `/api/v1/namespaces/${s.veleroNamespace}/configmaps/${s.resultConfigMap}`);
  const raw = r.status === 200 ? str(rec(rec(r.body).data)["result.json"]) : undefined;
  if (!raw) return undefined;
  try {
    return rec(JSON.parse(raw)) as Partial<DrillResult>;
  } catch {
    return undefined;
  }
}

/** Writes the result where the exporter reads it (a merge patch of one ConfigMap key). */
export async function publish(api: Api, s: DrillSettings, result: DrillResult): Promise<void> {
  const r = await api.request(
    "PATCH",
    `/api/v1/namespaces/${s.veleroNamespace}/configmaps/${s.resultConfigMap}`,
    { data: { "result.json": JSON.stringify(result) } },
    "application/merge-patch+json",
  );
  if (r.status !== 200) throw new Error(apiError(`writing the result to ConfigMap ${s.resultConfigMap}`, r));
}

const seconds = (iso: string | undefined): number | undefined => {
  const t = iso ? Date.parse(iso) : Number.NaN;
  return Number.isNaN(t) ? undefined : t / 1000;
};

/** Prometheus' text format for a stored result; nothing but the `up`-like info line before the first drill. */
export function metrics(raw: string | undefined): string {
  const lines: string[] = [];
  const gauge = (name: string, help: string, value: number | undefined) => {
    if (value === undefined) return;
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${value}`);
  };
  let r: Partial<DrillResult> = {};
  try {
    r = raw ? (rec(JSON.parse(raw)) as Partial<DrillResult>) : {};
  } catch {
    r = {};
  }
  gauge("homelab_restore_drill_result_present", "1 when a restore drill has stored a result.", r.finishedAt ? 1 : 0);
  if (r.finishedAt) {
    gauge("homelab_restore_drill_last_run_timestamp_seconds", "When the last restore drill finished.", seconds(r.finishedAt));
    gauge("homelab_restore_drill_success", "1 when the last restore drill restored the canary with its data, else 0.", r.ok === true ? 1 : 0);
    gauge("homelab_restore_drill_last_success_timestamp_seconds", "When a restore drill last succeeded.", seconds(r.lastSuccessAt));
    gauge("homelab_restore_drill_backup_age_seconds", "Age of the backup the last drill restored, when it started.", typeof r.backupAgeSeconds === "number" ? r.backupAgeSeconds : undefined);
    const start = seconds(r.startedAt);
    const end = seconds(r.finishedAt);
    gauge("homelab_restore_drill_duration_seconds", "How long the last restore drill took.", start !== undefined && end !== undefined ? end - start : undefined);
  }
  return lines.join("\n") + "\n";
}

/** The exporter: `/metrics` from the mounted result file, `/healthz` for the probes. */
export function serve(resultFile: string, port: number): Server {
  const server = createServer((req, res) => {
    if (req.url === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
      return;
    }
    if (req.url !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    let raw: string | undefined;
    try {
      raw = readFileSync(resultFile, "utf8");
    } catch {
      raw = undefined;
    }
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(metrics(raw));
  });
  server.keepAliveTimeout = 5000;
  server.headersTimeout = 10000;
  server.requestTimeout = 10000;
  server.listen(port);
  // Kubernetes sends SIGTERM first: stop accepting and let open scrapes finish.
  process.once("SIGTERM", () => {
    server.close(() => process.exit(0));
    server.closeIdleConnections();
  });
  return server;
}

/** Settings from the environment the CronJob sets. */
export function settingsFromEnv(env: NodeJS.ProcessEnv): DrillSettings {
  const need = (k: string): string => {
    const v = env[k];
    if (!v) throw new Error(`restore-drill: environment variable ${k} is not set`);
    return v;
  };
  return {
    veleroNamespace: need("VELERO_NAMESPACE"),
    canaryNamespace: need("CANARY_NAMESPACE"),
    scratchNamespace: need("SCRATCH_NAMESPACE"),
    schedule: need("CANARY_SCHEDULE"),
    marker: { configMap: need("MARKER_CONFIGMAP"), key: need("MARKER_KEY"), expected: need("MARKER_VALUE") },
    deployment: need("CANARY_DEPLOYMENT"),
    resultConfigMap: need("RESULT_CONFIGMAP"),
    timeoutSeconds: Number(env.TIMEOUT_SECONDS ?? "900"),
    pollSeconds: Number(env.POLL_SECONDS ?? "5"),
  };
}

async function main(argv: readonly string[]): Promise<number> {
  const mode = argv[0];
  if (mode === "serve") {
    serve(process.env.RESULT_FILE ?? "/result/result.json", Number(process.env.PORT ?? "9090"));
    return -1;
  }
  if (mode !== "run") {
    process.stderr.write("usage: restore-drill run | serve\n");
    return 2;
  }
  const s = settingsFromEnv(process.env);
  const tokenFile = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  const api = httpApi(process.env.KUBERNETES_API ?? "https://kubernetes.default.svc", readFileSync(tokenFile, "utf8").trim());
  const result = await runDrill(api, s);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  await publish(api, s, result);
  return result.ok ? 0 : 1;
}

// Run only as the container's program, not when a test imports this file.
if (process.argv[1] && /restore-drill\.ts$/.test(process.argv[1])) {
  main(process.argv.slice(2)).then(
    (code) => {
      if (code >= 0) process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`restore-drill: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
