import assert from "node:assert/strict";
import { test } from "node:test";
import { trace } from "@opentelemetry/api";
import { DURATION_BUCKETS, UNMATCHED, routeMatcher } from "../src/index.ts";
import { get, kit, listen } from "./helpers.ts";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT = "00f067aa0ba902b7";

test("a thousand distinct paths give one route label; unknown methods one method label", async () => {
  const { t } = kit();
  const srv = await listen(t.handler((req, res) => void res.end("x"), { routes: ["/users/:id", "/static/*"], accessLog: false }));
  try {
    for (let i = 0; i < 1000; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => get(srv.port, `/users/${i + j}?q=${i + j}`)));
    }
    await get(srv.port, "/static/a/b/c.css");
    await get(srv.port, "/nowhere/1");
    await get(srv.port, "/nowhere/2");
    // Node itself answers 400 to a method its parser does not know; the ones it knows beyond the usual are OTHER.
    await get(srv.port, "/users/1", { method: "PROPFIND" });
    const series = (await t.http.duration.get()).values.filter((v) => v.metricName === "http_server_request_duration_seconds_count");
    const labels = series.map((s) => `${s.labels.method} ${s.labels.route} ${s.labels.status_code} = ${s.value}`).sort();
    assert.deepEqual(labels, ["GET /static/* 200 = 1", "GET /users/:id 200 = 1000", `GET ${UNMATCHED} 200 = 2`, "OTHER /users/:id 200 = 1"]);
  } finally {
    await srv.close();
    await t.flush();
  }
});

test("route templates: exact, :param, trailing *, first match wins, query ignored", () => {
  const m = routeMatcher(["/", "/healthz", "/users/:id", "/assets/*", "/*"]);
  assert.equal(m("/"), "/");
  assert.equal(m("/healthz?x=1"), "/healthz");
  assert.equal(m("/users/42"), "/users/:id");
  assert.equal(m("/users/"), "/*"); // an empty segment is no :id
  assert.equal(m("/assets/a/b.css"), "/assets/*");
  assert.equal(m("/other/deep/path"), "/*");
  assert.equal(routeMatcher(["/a"])("/b"), UNMATCHED);
  assert.throws(() => routeMatcher(["a"]), /must start with "\/"/);
  assert.throws(() => routeMatcher(["/*/x"]), /only be the last segment/);
});

test("/metrics: default process metrics and the RED histogram with its buckets, labelled by service", async () => {
  const { t } = kit();
  const srv = await listen(t.handler((req, res) => void res.writeHead(req.url === "/boom" ? 503 : 200).end(), { routes: ["/*"], accessLog: false }));
  try {
    await get(srv.port, "/page");
    await get(srv.port, "/boom");
    const r = await get(srv.port, "/metrics");
    assert.equal(r.status, 200);
    assert.match(r.headers["content-type"]!, /^text\/plain; version=0\.0\.4/);
    for (const name of ["process_cpu_user_seconds_total", "process_resident_memory_bytes", "nodejs_heap_size_used_bytes", "nodejs_eventloop_lag_seconds", "http_server_active_requests"]) {
      assert.match(r.body, new RegExp(`^${name}\\{[^}]*service="test-app"`, "m"), name);
    }
    for (const le of DURATION_BUCKETS) {
      assert.match(r.body, new RegExp(`^http_server_request_duration_seconds_bucket\\{le="${le}",[^}]*route="/\\*",status_code="503"`, "m"), `bucket ${le}`);
    }
    assert.match(r.body, /^http_server_request_duration_seconds_count\{[^}]*method="GET",route="\/\*",status_code="200"[^}]*\} 1$/m);
  } finally {
    await srv.close();
    await t.flush();
  }
});

test("/healthz is up while the process is; /readyz follows readiness and its checks", async () => {
  const { t } = kit();
  const srv = await listen(t.handler((req, res) => void res.end(), { routes: ["/*"] }));
  let dbUp = true;
  try {
    t.addReadinessCheck(() => dbUp);
    assert.equal((await get(srv.port, "/healthz")).status, 200);
    assert.equal((await get(srv.port, "/readyz")).status, 200);
    dbUp = false;
    assert.equal((await get(srv.port, "/readyz")).status, 503);
    dbUp = true;
    t.addReadinessCheck(() => {
      throw new Error("probe exploded");
    });
    assert.equal((await get(srv.port, "/readyz")).status, 503);
    const head = await get(srv.port, "/healthz", { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.body, "");
    assert.equal((await get(srv.port, "/healthz", { method: "POST" })).status, 405);
    t.setReady(false);
    assert.equal((await get(srv.port, "/healthz")).status, 200);
  } finally {
    await srv.close();
    await t.flush();
  }
});

test("each request is a server span continuing the caller's trace; its log lines carry the trace and span ids", async () => {
  const { t, logs, spans } = kit();
  const srv = await listen(
    t.handler(
      (req, res) => {
        t.logger.info({ step: "inside" }, "handling");
        res.end("ok");
      },
      { routes: ["/docs/*"] },
    ),
  );
  try {
    await get(srv.port, "/docs/a.html", { headers: { traceparent: `00-${TRACE_ID}-${PARENT}-01` } });
    await get(srv.port, "/docs/b.html");
    await t.flush(); // exports the batched spans
    const [inside1, access1, inside2, access2] = logs.lines;
    assert.equal(inside1!.step, "inside");
    assert.equal(inside1!.trace_id, TRACE_ID);
    assert.equal(access1!.msg, "request");
    assert.equal(access1!.trace_id, TRACE_ID);
    assert.equal(access1!.span_id, inside1!.span_id);
    assert.deepEqual([access1!.route, access1!.status, access1!.path], ["/docs/*", 200, "/docs/a.html"]);
    // A request without a traceparent starts a new trace, still with ids on every line.
    assert.match(inside2!.trace_id, /^[0-9a-f]{32}$/);
    assert.notEqual(inside2!.trace_id, TRACE_ID);
    assert.equal(access2!.trace_id, inside2!.trace_id);
    const s = spans.lines.find((x) => x.trace_id === TRACE_ID)!;
    assert.equal(s.span, "GET /docs/*");
    assert.equal(s.parent_span_id, PARENT);
    assert.equal(s.span_id, access1!.span_id);
    assert.equal(s.service, "test-app");
    assert.equal(s.attributes["http.route"], "/docs/*");
    assert.equal(s.attributes["http.response.status_code"], 200);
    assert.equal(spans.lines.length, 2);
  } finally {
    await srv.close();
  }
});

test("a handler that throws answers 500, and the error is logged with its trace and recorded on the span", async () => {
  const { t, logs, spans } = kit();
  const srv = await listen(
    t.handler(
      async () => {
        throw new Error("kaboom");
      },
      { routes: ["/*"] },
    ),
  );
  try {
    const r = await get(srv.port, "/x");
    assert.equal(r.status, 500);
    await t.flush();
    const err = logs.lines.find((l) => l.msg === "request handler failed")!;
    assert.equal(err.err.message, "kaboom");
    assert.match(err.trace_id, /^[0-9a-f]{32}$/);
    assert.equal(spans.lines[0]!.status.code, 2);
    assert.equal(spans.lines[0]!.events[0].name, "exception");
  } finally {
    await srv.close();
  }
});

test("outside a request a line has no trace ids; inside a span started by the app it has that span's", async () => {
  const { t, logs } = kit();
  try {
    t.logger.info("boot");
    t.tracer.startActiveSpan("job", (span) => {
      t.logger.info("in job");
      span.end();
    });
    assert.equal(logs.lines[0]!.trace_id, undefined);
    assert.match(logs.lines[1]!.trace_id, /^[0-9a-f]{32}$/);
    assert.equal(trace.getActiveSpan(), undefined);
  } finally {
    await t.flush();
  }
});
