import assert from "node:assert/strict";
import { test } from "node:test";
import { get, kit, listen } from "./helpers.ts";

test("listenMetrics: /metrics, /healthz and /readyz on a port of their own; with metricsEndpoint false the app's port leaves /metrics to the app", async () => {
  const { t, logs } = kit();
  const srv = await listen(t.handler((req, res) => void res.writeHead(404).end(`app: ${req.url}`), { routes: ["/*"], metricsEndpoint: false }));
  const metrics = await t.listenMetrics(0, "127.0.0.1");
  try {
    assert.notEqual(metrics.port, srv.port);
    await get(srv.port, "/page");
    // The public port: /metrics is an ordinary path of the app (its 404 here), the probes still answer.
    const pub = await get(srv.port, "/metrics");
    assert.deepEqual([pub.status, pub.body], [404, "app: /metrics"]);
    assert.equal((await get(srv.port, "/healthz")).status, 200);
    assert.equal((await get(srv.port, "/readyz")).status, 200);
    // The metrics port: the registry, the probes, nothing else.
    const m = await get(metrics.port, "/metrics");
    assert.equal(m.status, 200);
    assert.match(m.body, /^http_server_request_duration_seconds_count\{[^}]*route="\/\*",status_code="404"[^}]*\} 2$/m);
    assert.match(m.body, /^process_resident_memory_bytes\{service="test-app"/m);
    assert.equal((await get(metrics.port, "/healthz")).status, 200);
    assert.equal((await get(metrics.port, "/readyz")).status, 200);
    assert.equal((await get(metrics.port, "/page")).status, 404);
    assert.equal((await get(metrics.port, "/metrics", { method: "POST" })).status, 405);
    t.setReady(false);
    assert.equal((await get(metrics.port, "/readyz")).status, 503);
    // Scrapes and probes on the metrics port are not requests of the app: no access lines, not counted.
    assert.deepEqual(logs.lines.filter((l) => l.msg === "request").map((l) => l.path).sort(), ["/healthz", "/metrics", "/page", "/readyz"]);
  } finally {
    await srv.close();
    await t.flush();
  }
});

test("without metricsEndpoint: false, the app's port serves /metrics in front of the app (apps that do not say a metrics port)", async () => {
  const { t } = kit();
  const srv = await listen(t.handler((req, res) => void res.writeHead(404).end("app"), { routes: ["/*"] }));
  try {
    const r = await get(srv.port, "/metrics");
    assert.equal(r.status, 200);
    assert.match(r.body, /^# TYPE http_server_request_duration_seconds histogram$/m);
  } finally {
    await srv.close();
    await t.flush();
  }
});
