import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { Agent, request } from "node:http";
import { join } from "node:path";
import { connect } from "node:net";
import { test } from "node:test";
import { ROOT_CONTEXT, SpanKind, trace } from "@opentelemetry/api";
import { SamplingDecision, TraceIdRatioBasedSampler } from "@opentelemetry/sdk-trace";
import { BatchedLines, kitSampler } from "../src/index.ts";
import { startTracing } from "../src/tracing.ts";
import { get, kit, listen, sink } from "./helpers.ts";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";

test("the access line has the keys of a pino line inside the span, in pino's order, and the bytes of a Content-Length given to writeHead", async () => {
  const { t, logs } = kit();
  const srv = await listen(
    t.handler(
      (req, res) => {
        // The fast way a static server answers: headers straight to writeHead, as a flat array.
        res.writeHead(200, ["content-type", "text/plain", "content-length", "5"]).end("hello");
      },
      { routes: ["/*"] },
    ),
  );
  try {
    await get(srv.port, "/a%20b?q=1");
    const line = logs.raw.find((l) => l.includes('"msg":"request"'))!;
    const parsed = JSON.parse(line);
    assert.deepEqual(Object.keys(parsed), ["level", "time", "service", "version", "trace_id", "span_id", "trace_flags", "method", "path", "route", "status", "ms", "bytes", "msg"]);
    assert.deepEqual([parsed.level, parsed.service, parsed.version, parsed.method, parsed.path, parsed.route, parsed.status, parsed.bytes], ["info", "test-app", "1.2.3", "GET", "/a%20b", "/*", 200, 5]);
    assert.match(parsed.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.match(parsed.trace_id, /^[0-9a-f]{32}$/);
    // The same line through pino itself, inside the span, differs only in the values that vary.
    t.tracer.startActiveSpan("x", (span) => {
      t.logger.info({ method: "GET", path: "/a%20b", route: "/*", status: 200, ms: 0.1, bytes: 5 }, "request");
      span.end();
    });
    assert.deepEqual(Object.keys(JSON.parse(logs.raw.at(-1)!)), Object.keys(parsed));
    // The logger's level applies: at warn, no access lines.
    t.logger.level = "warn";
    await get(srv.port, "/quiet");
    assert.equal(logs.lines.filter((l) => l.path === "/quiet").length, 0);
  } finally {
    await srv.close();
    await t.flush();
  }
});

test("traceRatio: a route's new traces are kept at its ratio, yet every request's line has trace ids; a sampled caller is followed", async () => {
  const { t, logs, spans } = kit();
  const srv = await listen(t.handler((req, res) => void res.end("ok"), { routes: ["/static/*", "/api"], traceRatio: { "/static/*": 0 } }));
  try {
    for (let i = 0; i < 20; i++) await get(srv.port, `/static/${i}.css`);
    await get(srv.port, "/static/followed.css", { headers: { traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` } });
    await get(srv.port, "/api");
    await t.flush();
    const access = logs.lines.filter((l) => l.msg === "request");
    assert.equal(access.length, 22);
    for (const l of access) assert.match(`${l.trace_id} ${l.span_id}`, /^[0-9a-f]{32} [0-9a-f]{16}$/, JSON.stringify(l));
    const unsampled = access.filter((l) => /^\/static\/\d+\.css$/.test(l.path));
    assert.deepEqual(new Set(unsampled.map((l) => l.trace_flags)), new Set(["00"]));
    assert.equal(new Set(unsampled.map((l) => l.trace_id)).size, 20, "each request its own trace");
    assert.deepEqual(spans.lines.map((s) => s.span).sort(), ["GET /api", "GET /static/*"]);
    assert.equal(spans.lines.find((s) => s.span === "GET /static/*")!.trace_id, TRACE_ID);
    assert.throws(() => t.handler(() => undefined, { routes: ["/x"], traceRatio: { "/x": 2 } }), /trace ratio of route "\/x" must be between 0 and 1/);
  } finally {
    await srv.close();
  }
});

test("OTEL_TRACES_SAMPLER overrides the kit's sampler; an unknown one or a bad ratio is refused by name", () => {
  const decide = (env: NodeJS.ProcessEnv, traceId = "ffffffffffffffffffffffffffffffff") =>
    kitSampler(env).sampler.shouldSample(ROOT_CONTEXT, traceId, "GET /*", SpanKind.SERVER, { "http.route": "/*" }, []).decision;
  assert.equal(decide({}), SamplingDecision.RECORD_AND_SAMPLED);
  assert.equal(decide({ OTEL_TRACES_SAMPLER: "always_off" }), SamplingDecision.NOT_RECORD);
  assert.equal(decide({ OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "0" }), SamplingDecision.NOT_RECORD);
  assert.equal(decide({ OTEL_TRACES_SAMPLER: "parentbased_always_on" }), SamplingDecision.RECORD_AND_SAMPLED);
  assert.throws(() => kitSampler({ OTEL_TRACES_SAMPLER: "sometimes" }), /OTEL_TRACES_SAMPLER "sometimes" is not one of always_on/);
  assert.throws(() => kitSampler({ OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "1.5" }), /OTEL_TRACES_SAMPLER_ARG must be a ratio between 0 and 1, got "1.5"/);
  assert.equal(trace.getActiveSpan(), undefined);
});

test("stdout lines are batched: all lines of one event-loop turn go out in one write at its end", async () => {
  const writes: string[] = [];
  const lines = new BatchedLines({ write: (s) => writes.push(s) });
  for (let i = 0; i < 100; i++) lines.write(`{"n":${i}}\n`);
  assert.equal(writes.length, 0, "nothing written during the turn");
  await new Promise((r) => setImmediate(r));
  assert.equal(writes.length, 1);
  assert.equal(writes[0]!.split("\n").filter(Boolean).length, 100);
  lines.write("last\n");
  lines.flushSync();
  assert.deepEqual(writes.slice(1), ["last\n"]);
});

test("a process that logs and exits at once loses no line (the batch is written on exit)", () => {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(import.meta.dirname, "fixtures", "log-and-exit.ts")], { encoding: "utf8" });
  assert.equal(r.status, 3, r.stderr);
  const lines = r.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.n), Array.from({ length: 5000 }, (_, i) => i));
});

test("a new trace of a sampled-down route is decided without the SDK, exactly as TraceIdRatioBasedSampler decides on the same id; a kept one is the SDK's span with that id", async () => {
  const spans = sink();
  const tracing = startTracing({ service: "t", env: {}, write: (l) => spans.write(l) });
  try {
    tracing.setRouteRatio("/r", 0.3);
    const reference = new TraceIdRatioBasedSampler(0.3);
    let notKept = 0;
    for (let i = 0; i < 4000; i++) {
      const ids = tracing.unsampledRoot("/r");
      if (ids) {
        notKept++;
        assert.match(`${ids.traceId} ${ids.spanId}`, /^[0-9a-f]{32} [0-9a-f]{16}$/);
        assert.equal(ids.traceFlags, 0);
        assert.equal(reference.shouldSample(ROOT_CONTEXT, ids.traceId).decision, SamplingDecision.NOT_RECORD, ids.traceId);
      } else {
        // Kept: the SDK's next root span has the trace id decided on, so its sampler keeps it too.
        const span = tracing.tracer.startSpan("GET /r", { attributes: { "http.route": "/r" } }, ROOT_CONTEXT);
        assert.ok(span.isRecording());
        assert.equal(reference.shouldSample(ROOT_CONTEXT, span.spanContext().traceId).decision, SamplingDecision.RECORD_AND_SAMPLED);
        span.end();
      }
    }
    // 70 % not kept, give or take five standard deviations (about 29 each).
    assert.ok(notKept > 2650 && notKept < 2950, String(notKept));
    // A route without a ratio keeps every trace: the SDK decides, and does.
    assert.equal(tracing.unsampledRoot("/other"), undefined);
    tracing.setRouteRatio("/r", 1);
    assert.equal(tracing.unsampledRoot("/r"), undefined);
  } finally {
    await tracing.shutdown();
  }
  // An operator's OTEL_TRACES_SAMPLER decides every span itself.
  const overridden = startTracing({ service: "t", env: { OTEL_TRACES_SAMPLER: "always_on" }, write: () => undefined });
  try {
    overridden.setRouteRatio("/r", 0);
    assert.equal(overridden.unsampledRoot("/r"), undefined);
  } finally {
    await overridden.shutdown();
  }
});

test("asyncContext false: the route's handler runs outside an async context, yet the lines it logs synchronously carry its request's span", async () => {
  const { t, logs } = kit();
  let later: Promise<void> = Promise.resolve();
  const handler = t.handler(
    (req, res) => {
      t.logger.info({ path: req.url, in_context: trace.getActiveSpan() !== undefined }, "handled");
      later = new Promise((done) =>
        setImmediate(() => {
          t.logger.info({ path: req.url }, "later");
          done();
        }),
      );
      res.end("ok");
    },
    { routes: ["/static/*", "/*"], asyncContext: { "/static/*": false }, traceRatio: { "/static/*": 0 } },
  );
  const srv = await listen(handler);
  try {
    await get(srv.port, "/static/a.css");
    await later;
    await get(srv.port, "/page");
    await later;
    const line = (path: string, msg: string) => logs.lines.find((l) => l.path === path && l.msg === msg)!;
    for (const path of ["/static/a.css", "/page"]) {
      const access = line(path, "request");
      assert.match(access.trace_id, /^[0-9a-f]{32}$/);
      assert.deepEqual([line(path, "handled").trace_id, line(path, "handled").span_id], [access.trace_id, access.span_id], path);
    }
    assert.equal(line("/static/a.css", "handled").in_context, false);
    assert.equal(line("/page", "handled").in_context, true);
    // Only the synchronous part: after it, the route without a context has no span; the other keeps it.
    assert.equal(line("/static/a.css", "later").trace_id, undefined);
    assert.equal(line("/page", "later").trace_id, line("/page", "request").trace_id);
    // Outside any request, no ids.
    t.logger.info("idle");
    assert.equal(logs.lines.at(-1)!.trace_id, undefined);
    assert.throws(() => t.handler(() => undefined, { routes: ["/x"], asyncContext: { "/y": false } }), /asyncContext names route "\/y", which is not one of the handler's routes \(\/x\)/);
  } finally {
    await srv.close();
    await t.flush();
  }
});

test("asyncContext false: a handler that throws still answers 500 and its error line carries the span", async () => {
  const { t, logs } = kit();
  const srv = await listen(
    t.handler(
      () => {
        throw new Error("boom");
      },
      { routes: ["/*"], asyncContext: false },
    ),
  );
  try {
    const r = await get(srv.port, "/x");
    assert.equal(r.status, 500);
    const access = logs.lines.find((l) => l.msg === "request")!;
    const failed = logs.lines.find((l) => l.msg === "request handler failed")!;
    assert.equal(access.status, 500);
    assert.deepEqual([failed.trace_id, failed.span_id], [access.trace_id, access.span_id]);
  } finally {
    await srv.close();
    await t.flush();
  }
});

function callWith(port: number, path: string, agent: Agent | false): Promise<{ status: number; connection?: string }> {
  return new Promise((resolve, reject) => {
    request({ host: "127.0.0.1", port, path, agent }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode!, connection: res.headers.connection }));
    })
      .on("error", reject)
      .end();
  });
}

test("serve(): the kit's handler tracks its own requests (no listeners of the drainer's), and a request answered at once during the drain closes its connection", async () => {
  const { t } = kit();
  let release: () => void = () => undefined;
  const srv = await listen(
    t.handler(
      (req, res) => {
        if (req.url === "/slow") release = () => res.end("slow");
        else res.end("fast");
      },
      { routes: ["/*"] },
    ),
  );
  const serving = t.serve(srv.server, { signals: [], exit: false, gracePeriodMs: 20_000 });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    assert.equal(srv.server.listenerCount("request"), 1);
    // A kept-alive connection, open before the drain begins.
    assert.equal((await callWith(srv.port, "/a", agent)).connection, "keep-alive");
    const slow = callWith(srv.port, "/slow", false);
    while (serving.inFlight() < 1) await new Promise((r) => setTimeout(r, 5));
    const stopped = serving.shutdown("test");
    // Answered synchronously, on the kept-alive connection: served, and its connection closed after it.
    const during = await callWith(srv.port, "/b", agent);
    assert.deepEqual(during, { status: 200, connection: "close" });
    release();
    assert.equal((await slow).status, 200);
    assert.equal(await stopped, true);
  } finally {
    agent.destroy();
    release();
    // Whatever failed above, leave nothing listening.
    srv.server.closeAllConnections();
    srv.server.close();
    await t.flush();
  }
});

test("pipelined requests whose connection closes before their turn are not left in flight (node:http never closes their responses)", async () => {
  const { t, logs } = kit();
  const srv = await listen(t.handler((_req, res) => void setTimeout(() => res.end("late"), 100), { routes: ["/*"] }));
  const serving = t.serve(srv.server, { signals: [], exit: false });
  try {
    const s = connect(srv.port, "127.0.0.1");
    await new Promise((r) => s.once("connect", r));
    s.on("error", () => undefined);
    s.write(Array.from({ length: 5 }, (_, i) => `GET /p${i} HTTP/1.1\r\nHost: x\r\n\r\n`).join(""));
    while (serving.inFlight() < 5) await new Promise((r) => setTimeout(r, 5));
    s.destroy();
    for (let i = 0; i < 40 && serving.inFlight() > 0; i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal(serving.inFlight(), 0);
    assert.equal(t.http.active, 0);
    const lines = logs.lines.filter((l) => l.msg === "request");
    assert.deepEqual(lines.map((l) => l.status), [499, 499, 499, 499, 499]);
  } finally {
    srv.server.closeAllConnections();
    srv.server.close();
    await t.flush();
  }
});
