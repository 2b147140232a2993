import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import type { K8sObject } from "../../src/model/k8s.ts";
import { httpApi, latestCompleted, metrics, publish, restoreName, runDrill, type Clock, type DrillSettings } from "../../src/backup/restore-drill.ts";
import { loadSchemas, validateObjects } from "../../src/validate/kube-schema.ts";

interface Exchange {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly body: unknown;
}

function scenario(name: string): { about: string; exchanges: Exchange[] } {
  return JSON.parse(readFileSync(new URL(`./fixtures/api-responses/${name}.json`, import.meta.url), "utf8"));
}

/**
 * A real HTTP server that answers the drill's requests from a file of API responses, in order. Anything
 * else (another path, another verb, a request too many) gets 599 and is recorded, so the test fails.
 */
class ApiReplay {
  private server?: Server;
  private queue: Exchange[] = [];
  readonly seen: { method: string; path: string; contentType?: string; body?: unknown }[] = [];
  readonly unexpected: string[] = [];
  url = "";

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let data = "";
      req.on("data", (c) => (data += c));
      req.on("end", () => {
        const path = req.url ?? "";
        this.seen.push({ method: req.method ?? "", path, ...(req.headers["content-type"] && { contentType: req.headers["content-type"] }), ...(data && { body: JSON.parse(data) }) });
        const next = this.queue[0];
        if (req.headers.authorization !== "Bearer drill-token" || !next || next.method !== req.method || next.path !== path) {
          this.unexpected.push(`${req.method} ${path}${next ? ` (expected ${next.method} ${next.path})` : " (no more responses)"}`);
          res.writeHead(599, { "content-type": "application/json" }).end(JSON.stringify({ message: "not in the recorded exchange" }));
          return;
        }
        this.queue.shift();
        res.writeHead(next.status, { "content-type": "application/json" }).end(JSON.stringify(next.body));
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  load(exchanges: Exchange[]): void {
    this.queue = [...exchanges];
    this.seen.length = 0;
    this.unexpected.length = 0;
  }

  get remaining(): number {
    return this.queue.length;
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server!.close(() => r()));
  }
}

const SETTINGS: DrillSettings = {
  veleroNamespace: "velero",
  canaryNamespace: "backup-canary",
  scratchNamespace: "backup-drill",
  schedule: "backup-canary-daily",
  marker: { configMap: "canary-marker", key: "marker", expected: "sky-palette backup canary 7f3a9c2e" },
  deployment: "canary",
  resultConfigMap: "restore-drill-result",
  timeoutSeconds: 15,
  pollSeconds: 5,
};

/** Time that moves only when the drill waits, so timeouts are exact and the test does not sleep. */
function steppingClock(startIso: string): Clock & { waited: number[] } {
  let t = Date.parse(startIso);
  const waited: number[] = [];
  return { waited, now: () => new Date(t), sleep: async (ms) => void (waited.push(ms), (t += ms)) };
}

const replay = new ApiReplay();
before(() => replay.start());
after(() => replay.stop());

async function drill(name: string) {
  const { exchanges } = scenario(name);
  replay.load(exchanges);
  const api = httpApi(replay.url, "drill-token");
  const clock = steppingClock("2026-12-01T04:30:00Z");
  const result = await runDrill(api, SETTINGS, clock);
  return { result, api, clock, requests: replay.seen.map((r) => `${r.method} ${r.path}`) };
}

describe("restore drill against API responses served over HTTP", () => {
  test("the response files hold valid Velero objects (checked against Velero's CRD schemas)", async () => {
    const objs: { file: string; object: K8sObject }[] = [];
    for (const name of ["success", "no-completed-backup", "restore-partially-failed", "marker-changed", "data-missing"]) {
      for (const e of scenario(name).exchanges) {
        const body = e.body as { apiVersion?: string; items?: K8sObject[] };
        if (body.apiVersion !== "velero.io/v1") continue;
        for (const o of body.items ?? [body as K8sObject]) objs.push({ file: name, object: { ...o, status: undefined } as unknown as K8sObject });
      }
    }
    assert.ok(objs.length >= 20, `only ${objs.length} Velero objects found`);
    await loadSchemas(objs);
    assert.deepEqual(validateObjects(objs.map((o) => ({ ...o, object: JSON.parse(JSON.stringify(o.object)) }))).filter((i) => i.check !== "duplicate"), []);
  });

  test("success: removes a leftover scratch namespace, restores the latest completed backup, checks marker and data, cleans up", async () => {
    const { result, requests, clock } = await drill("success");
    assert.deepEqual(replay.unexpected, []);
    assert.deepEqual(requests, [
      "GET /api/v1/namespaces/velero/configmaps/restore-drill-result",
      "GET /api/v1/namespaces/backup-drill",
      "DELETE /api/v1/namespaces/backup-drill",
      "GET /api/v1/namespaces/backup-drill",
      "GET /api/v1/namespaces/backup-drill",
      "GET /apis/velero.io/v1/namespaces/velero/backups?labelSelector=velero.io%2Fschedule-name%3Dbackup-canary-daily",
      "POST /apis/velero.io/v1/namespaces/velero/restores",
      "GET /apis/velero.io/v1/namespaces/velero/restores/drill-20261201043000",
      "GET /apis/velero.io/v1/namespaces/velero/restores/drill-20261201043000",
      "GET /api/v1/namespaces/backup-drill/configmaps/canary-marker",
      "GET /apis/apps/v1/namespaces/backup-drill/deployments/canary",
      "GET /apis/apps/v1/namespaces/backup-drill/deployments/canary",
      "GET /api/v1/namespaces/backup-drill",
      "DELETE /api/v1/namespaces/backup-drill",
      "GET /api/v1/namespaces/backup-drill",
      "DELETE /apis/velero.io/v1/namespaces/velero/restores/drill-20261201043000",
    ]);
    // The Restore it creates: the newest Completed backup (the newer PartiallyFailed one is skipped), mapped into the scratch namespace.
    assert.deepEqual(replay.seen[6]!.body, {
      apiVersion: "velero.io/v1",
      kind: "Restore",
      metadata: { name: "drill-20261201043000", namespace: "velero", labels: { "app.kubernetes.io/name": "restore-drill" } },
      spec: { backupName: "backup-canary-daily-20261130021700", includedNamespaces: ["backup-canary"], namespaceMapping: { "backup-canary": "backup-drill" }, restorePVs: true },
    });
    assert.deepEqual(replay.seen[2]!.body, { kind: "DeleteOptions", apiVersion: "v1", propagationPolicy: "Background" });
    assert.deepEqual(clock.waited, [5000, 5000, 5000]);
    assert.deepEqual(result, {
      ok: true,
      stage: "done",
      message: "restored backup-canary-daily-20261130021700 into backup-drill and found the marker and the volume's data",
      startedAt: "2026-12-01T04:30:00.000Z",
      finishedAt: "2026-12-01T04:30:15.000Z",
      lastSuccessAt: "2026-12-01T04:30:15.000Z",
      backup: "backup-canary-daily-20261130021700",
      backupAgeSeconds: 94342,
      restore: "drill-20261201043000",
      checks: [
        { name: "backup", ok: true, detail: "latest completed backup backup-canary-daily-20261130021700, 26h old" },
        { name: "restore", ok: true, detail: "Restore drill-20261201043000 Completed with 1 warnings" },
        { name: "marker", ok: true, detail: "canary-marker.marker restored intact" },
        { name: "data", ok: true, detail: "canary Ready on its restored volume" },
      ],
    });
    // Then it publishes the result: one merge patch of the result ConfigMap.
    await publish(httpApi(replay.url, "drill-token"), SETTINGS, result);
    assert.equal(replay.remaining, 0);
    const patch = replay.seen.at(-1)!;
    assert.equal(`${patch.method} ${patch.path} ${patch.contentType}`, "PATCH /api/v1/namespaces/velero/configmaps/restore-drill-result application/merge-patch+json");
    assert.deepEqual(JSON.parse((patch.body as { data: Record<string, string> }).data["result.json"]!), result);
  });

  test("no completed backup: fails at the backup stage, keeps the last success, touches nothing", async () => {
    const { result, requests } = await drill("no-completed-backup");
    assert.deepEqual(replay.unexpected, []);
    assert.equal(requests.filter((r) => r.startsWith("POST") || r.startsWith("DELETE")).length, 0);
    assert.equal(result.ok, false);
    assert.equal(result.stage, "backup");
    assert.equal(result.message, "no completed backup of schedule backup-canary-daily in namespace velero");
    assert.equal(result.lastSuccessAt, "2026-11-24T04:33:10.000Z");
    assert.equal(result.backup, undefined);
    await publish(httpApi(replay.url, "drill-token"), SETTINGS, result);
    assert.equal(replay.remaining, 0);
  });

  test("a partially failed restore fails the drill, names the command to inspect it and keeps the Restore", async () => {
    const { result, requests } = await drill("restore-partially-failed");
    assert.deepEqual(replay.unexpected, []);
    assert.equal(result.stage, "restore");
    assert.equal(result.message, "Restore drill-20261201043000 ended PartiallyFailed with 2 errors (velero restore describe drill-20261201043000 --details)");
    assert.equal(requests.includes("DELETE /apis/velero.io/v1/namespaces/velero/restores/drill-20261201043000"), false);
    assert.equal(requests.at(-1), "GET /api/v1/namespaces/backup-drill");
    assert.equal(result.lastSuccessAt, undefined, "an empty stored result carries no last success");
  });

  test("a marker that does not match fails at the marker stage and still cleans up", async () => {
    const { result } = await drill("marker-changed");
    assert.deepEqual(replay.unexpected, []);
    assert.equal(replay.remaining, 0);
    assert.equal(result.stage, "marker");
    assert.equal(result.message, 'the restored marker canary-marker.marker holds "something else", expected "sky-palette backup canary 7f3a9c2e"');
    assert.deepEqual(result.checks.map((c) => [c.name, c.ok]), [["backup", true], ["restore", true], ["marker", false]]);
  });

  test("a canary that never turns Ready (no data) times out at the data stage after exactly the timeout", async () => {
    const { result, clock } = await drill("data-missing");
    assert.deepEqual(replay.unexpected, []);
    assert.equal(replay.remaining, 0);
    assert.equal(result.stage, "data");
    assert.equal(result.message, "the restored canary did not become Ready (its volume's data did not come back intact) within 15s");
    assert.deepEqual(clock.waited, [5000, 5000, 5000]);
    assert.equal(result.lastSuccessAt, "2026-11-24T04:33:10.000Z");
  });

  test("an API that refuses (RBAC) is reported with its status and message", async () => {
    replay.load([
      { method: "GET", path: "/api/v1/namespaces/velero/configmaps/restore-drill-result", status: 404, body: {} },
      { method: "GET", path: "/api/v1/namespaces/backup-drill", status: 403, body: { kind: "Status", apiVersion: "v1", status: "Failure", message: 'namespaces "backup-drill" is forbidden: User "system:serviceaccount:velero:restore-drill" cannot get resource "namespaces"', reason: "Forbidden", code: 403 } },
      { method: "GET", path: "/api/v1/namespaces/backup-drill", status: 403, body: { message: "forbidden" } },
    ]);
    const result = await runDrill(httpApi(replay.url, "drill-token"), SETTINGS, steppingClock("2026-12-01T04:30:00Z"));
    assert.equal(result.stage, "backup");
    assert.equal(result.message, 'reading namespace backup-drill: the API answered 403 (namespaces "backup-drill" is forbidden: User "system:serviceaccount:velero:restore-drill" cannot get resource "namespaces")');
    assert.deepEqual(result.checks.map((c) => c.name), ["backup", "cleanup"]);
  });
});

describe("restore drill helpers", () => {
  test("latestCompleted picks the newest Completed backup of the schedule only", () => {
    const b = (name: string, schedule: string, phase: string, at: string) => ({ metadata: { name, labels: { "velero.io/schedule-name": schedule } }, status: { phase, completionTimestamp: at } });
    const items = [b("a", "s", "Completed", "2026-01-01T00:00:00Z"), b("b", "s", "Failed", "2026-01-03T00:00:00Z"), b("c", "other", "Completed", "2026-01-04T00:00:00Z"), b("d", "s", "Completed", "2026-01-02T00:00:00Z")];
    assert.equal((latestCompleted(items, "s")!.metadata as { name: string }).name, "d");
    assert.equal(latestCompleted([], "s"), undefined);
  });

  test("restoreName is the start time, valid as an object name", () => {
    assert.equal(restoreName(new Date("2026-12-01T04:30:09.123Z")), "drill-20261201043009");
  });

  test("metrics: the stored result as Prometheus gauges; before the first drill only the presence gauge", () => {
    assert.equal(metrics(undefined), "# HELP homelab_restore_drill_result_present 1 when a restore drill has stored a result.\n# TYPE homelab_restore_drill_result_present gauge\nhomelab_restore_drill_result_present 0\n");
    assert.equal(metrics("not json"), metrics(""));
    const text = metrics(JSON.stringify({ ok: false, stage: "data", startedAt: "2026-12-01T04:30:00.000Z", finishedAt: "2026-12-01T04:45:00.000Z", lastSuccessAt: "2026-11-24T04:33:10.000Z", backupAgeSeconds: 94342 }));
    assert.deepEqual(text.split("\n").filter((l) => l && !l.startsWith("#")), [
      "homelab_restore_drill_result_present 1",
      "homelab_restore_drill_last_run_timestamp_seconds 1796100300",
      "homelab_restore_drill_success 0",
      "homelab_restore_drill_last_success_timestamp_seconds 1795494790",
      "homelab_restore_drill_backup_age_seconds 94342",
      "homelab_restore_drill_duration_seconds 900",
    ]);
  });
});

describe("restore drill program as shipped", () => {
  test("keeps to TypeScript that Node can strip, and imports only Node's built-ins (decision 0013)", async () => {
    const { spawnSync } = await import("node:child_process");
    const file = new URL("../../src/backup/restore-drill.ts", import.meta.url).pathname;
    const src = readFileSync(file, "utf8");
    assert.deepEqual([...src.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]), ["node:fs", "node:http"]);
    const tsc = new URL("../../node_modules/typescript/bin/tsc", import.meta.url).pathname;
    const r = spawnSync(process.execPath, [tsc, "--noEmit", "--erasableSyntaxOnly", "--strict", "--module", "nodenext", "--target", "es2022", "--types", "node", "--skipLibCheck", file], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });
});
