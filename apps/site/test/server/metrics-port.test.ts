import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { get, makeSite, type TestSite } from "./helpers.ts";

const MAIN = join(import.meta.dirname, "../../src/server/main.ts");

let site: TestSite;
before(async () => {
  site = await makeSite();
});
after(() => site.cleanup());

/** The server's entry as the image runs it (through tsx here), until its "listening" line. */
async function serve(env: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN], {
    env: { PATH: process.env.PATH, NODE_ENV: "production", HOST: "127.0.0.1", SITE_ROOT: site.root, PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr!.on("data", (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  const listening = await new Promise<Record<string, any>>((resolve, reject) => {
    child.stdout!.on("data", (d) => {
      out += d;
      const line = out.split("\n").find((l) => l.includes('"site server listening"'));
      if (line) resolve(JSON.parse(line));
    });
    void exited.then((code) => reject(new Error(`exited ${code}: ${err}`)));
  });
  return { child, listening, exited, err: () => err };
}

test("with METRICS_PORT the public port answers /metrics with the 404 page; the metrics port serves it, /healthz and /readyz", async () => {
  const s = await serve({ METRICS_PORT: "0" });
  try {
    const { port, metrics_port: metricsPort } = s.listening;
    assert.ok(metricsPort > 0 && metricsPort !== port, JSON.stringify(s.listening));
    const pub = await get(port, "/metrics");
    assert.equal(pub.status, 404);
    assert.match(pub.body.toString(), /<title>Not found<\/title>/, "the site's own 404 page");
    assert.doesNotMatch(pub.body.toString(), /http_server_request_duration_seconds/);
    // The kubelet's probes still answer on the app's port (the Deployment probes `http`).
    assert.equal((await get(port, "/healthz")).status, 200);
    assert.equal((await get(port, "/readyz")).status, 200);
    const m = await get(metricsPort, "/metrics");
    assert.equal(m.status, 200);
    assert.match(m.body.toString(), /^http_server_request_duration_seconds_count\{[^}]*route="\/\*",status_code="404"[^}]*service="site"/m);
    assert.equal((await get(metricsPort, "/healthz")).status, 200);
    assert.equal((await get(metricsPort, "/index.html")).status, 404, "the metrics port serves no page");
    s.child.kill("SIGTERM");
    assert.equal(await s.exited, 0, s.err());
  } finally {
    s.child.kill("SIGKILL");
  }
});

test("without METRICS_PORT (npm start, apps that do not say one) /metrics is on the app's port; a bad METRICS_PORT is refused by name", async () => {
  const s = await serve({});
  try {
    assert.equal(s.listening.metrics_port, s.listening.port);
    const m = await get(s.listening.port, "/metrics");
    assert.equal(m.status, 200);
    assert.match(m.body.toString(), /^# TYPE http_server_request_duration_seconds histogram$/m);
  } finally {
    s.child.kill("SIGKILL");
  }
  const bad = spawn(process.execPath, ["--import", "tsx", MAIN], { env: { PATH: process.env.PATH, SITE_ROOT: site.root, PORT: "0", METRICS_PORT: "ninety" }, stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  bad.stderr!.on("data", (d) => (err += d));
  const code = await new Promise((r) => bad.on("exit", r));
  assert.equal(code, 1);
  assert.match(err, /METRICS_PORT must be a port number, got "ninety"/);
});
