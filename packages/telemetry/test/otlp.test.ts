import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { otlpTracesUrl } from "../src/index.ts";
import { get, kit, listen } from "./helpers.ts";

test("with an OTLP endpoint configured, spans go there (OTLP/HTTP) and not to stdout", async () => {
  const received: { path: string; type: string; body: string }[] = [];
  const collector = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8").on("data", (c) => (body += c));
    req.on("end", () => {
      received.push({ path: req.url!, type: req.headers["content-type"]!, body });
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((r) => collector.listen(0, "127.0.0.1", r));
  const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  const { t, spans } = kit({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: `${endpoint}/` } });
  const srv = await listen(t.handler((req, res) => void res.end("ok"), { routes: ["/hello"] }));
  try {
    assert.equal(t.traceExporter, `${endpoint}/v1/traces`);
    await get(srv.port, "/hello");
    await t.flush();
    assert.equal(received.length, 1);
    assert.equal(received[0]!.path, "/v1/traces");
    assert.match(received[0]!.type, /^application\/json/);
    const sent = JSON.parse(received[0]!.body);
    const rs = sent.resourceSpans[0];
    assert.deepEqual(rs.resource.attributes.find((a: any) => a.key === "service.name").value, { stringValue: "test-app" });
    assert.equal(rs.scopeSpans[0].spans[0].name, "GET /hello");
    assert.equal(spans.lines.length, 0);
  } finally {
    await srv.close();
    collector.close();
  }
});

test("the traces URL: the signal-specific variable wins, else the base endpoint + /v1/traces, else stdout", async () => {
  assert.equal(otlpTracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://tempo:4318", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://x:1/t" }), "http://x:1/t");
  assert.equal(otlpTracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://tempo:4318" }), "http://tempo:4318/v1/traces");
  assert.equal(otlpTracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: " " }), undefined);
  const { t } = kit();
  assert.equal(t.traceExporter, "stdout");
  await t.flush();
});
