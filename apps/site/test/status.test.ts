/**
 * The live status panel against a real local HTTP server that answers with recorded Prometheus API
 * responses (test/fixtures/prometheus/, recorded from Debian's Prometheus 2.42): figures read and cached,
 * failures and an unreachable Prometheus said plainly.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createStatusHandler, QUERIES, readStatus } from "../src/status/index.ts";
import { AT, recorded, RecordedPrometheus } from "./recorded-prometheus.ts";

let prom: RecordedPrometheus;
let url: string;
const site = mkdtempSync(join(tmpdir(), "site-status-"));
writeFileSync(join(site, "provenance.json"), JSON.stringify({ siteName: "test homelab", commit: "c0ffee", builtAt: "2026-12-01T00:00:00Z", imageTag: "0.1.0-test", gitopsRevision: "beef" }));

before(async () => {
  prom = new RecordedPrometheus();
  url = await prom.start();
});
after(async () => {
  await prom.stop();
  rmSync(site, { recursive: true, force: true });
});

/** Serves one handler on a real socket and GETs `/status` from it. */
async function get(handler: ReturnType<typeof createStatusHandler>, method = "GET"): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  try {
    return await new Promise((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port: (server.address() as AddressInfo).port, path: "/status", method }, (res) => {
        let body = "";
        res.setEncoding("utf8").on("data", (c) => (body += c)).on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      });
      req.on("error", reject).end();
    });
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

describe("readStatus against recorded Prometheus answers", () => {
  it("reads sync and health, certificate expiry, the last backup and only the firing alerts", async () => {
    const r = await readStatus({ url, now: () => new Date(AT) });
    assert.ok(r.configured && r.reachable);
    assert.equal(r.argocd.state, "ok");
    assert.deepEqual(r.argocd.state === "ok" && r.argocd.items, [
      { name: "cert-manager", sync: "Synced", health: "Healthy" },
      { name: "root", sync: "Synced", health: "Healthy" },
      { name: "site", sync: "OutOfSync", health: "Progressing" },
    ]);
    assert.ok(r.certificates.state === "ok");
    assert.deepEqual(r.certificates.items.map((c) => `${c.namespace}/${c.name}`), ["argocd/argocd-tls", "site/site-tls"]);
    const days = (r.certificates.items[0]!.expires * 1000 - AT) / 86400_000;
    assert.ok(days > 4.9 && days < 5.1, String(days));
    assert.ok(r.backups.state === "ok");
    assert.equal(r.backups.items[0]!.schedule, "velero-daily");
    // The pending CertificateExpiringSoon is not firing yet.
    assert.ok(r.alerts.state === "ok");
    assert.deepEqual(r.alerts.items.map((a) => [a.name, a.severity, a.labels.name]), [["ArgoCdAppOutOfSync", "warning", "site"]]);
  });

  it("reports a query Prometheus refuses in its own words, and keeps the other figures", async () => {
    prom.override.set("backups", "bad-query");
    try {
      const r = await readStatus({ url });
      assert.ok(r.configured && r.reachable);
      assert.deepEqual(r.backups, { state: "failed", error: 'bad_data: invalid parameter "query": 1:17: parse error: unexpected end of input inside braces' });
      assert.equal(r.argocd.state, "ok");
    } finally {
      prom.override.clear();
    }
  });

  it("says a figure is empty when the metric has no series", async () => {
    prom.override.set("backups", "empty");
    try {
      const r = await readStatus({ url });
      assert.ok(r.configured && r.reachable);
      assert.deepEqual(r.backups, { state: "empty" });
    } finally {
      prom.override.clear();
    }
  });

  it("names the queries it runs exactly as recorded", () => {
    const paths = [...recorded.values()].map((r) => r.recorded.path);
    for (const q of Object.values(QUERIES)) assert.ok(paths.includes(`/api/v1/query?query=${encodeURIComponent(q)}`), q);
  });
});

describe("the /status handler", () => {
  it("renders the figures in the site's frame, with provenance and no inline script or style", async () => {
    const res = await get(createStatusHandler({ prometheusUrl: url, publicDir: site, now: () => AT }));
    assert.equal(res.status, 200);
    assert.equal(res.headers["cache-control"], "no-store");
    assert.match(res.body, /<p id="prometheus" data-state="reachable">/);
    assert.match(res.body, /<code>site<\/code><\/td><td><span class="status-state bad">OutOfSync<\/span>/);
    assert.match(res.body, /<code>argocd\/argocd-tls<\/code><\/td><td>[^<]+<\/td><td><span class="status-state bad">in 4 d 23 h<\/span>/);
    assert.match(res.body, /<code>velero-daily<\/code>.*?<span class="status-state ok">3 h 0 min ago<\/span>/s);
    assert.match(res.body, /<code>ArgoCdAppOutOfSync<\/code>/);
    assert.doesNotMatch(res.body, /CertificateExpiringSoon/);
    for (const v of ["c0ffee", "0.1.0-test", "beef", "test homelab"]) assert.ok(res.body.includes(v), v);
    assert.doesNotMatch(res.body, /<script|<style|\sstyle=/);
  });

  it("asks Prometheus once per cache period, however many visitors come", async () => {
    let t = AT;
    const handler = createStatusHandler({ prometheusUrl: url, publicDir: site, cacheMs: 10_000, now: () => t });
    prom.hits = [];
    await Promise.all([get(handler), get(handler), get(handler)]);
    await get(handler);
    assert.equal(prom.hits.length, 4, prom.hits.join(" ")); // one round: three queries and the alerts
    t += 10_000;
    await get(handler);
    assert.equal(prom.hits.length, 8);
  });

  it("says so when Prometheus is unreachable, and still answers", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const res = await get(createStatusHandler({ prometheusUrl: `http://127.0.0.1:${port}`, publicDir: site }));
    assert.equal(res.status, 200);
    assert.match(res.body, /data-state="unreachable"><strong>Prometheus is unreachable<\/strong> \(ECONNREFUSED\)/);
    assert.doesNotMatch(res.body, /<section id="argocd"/);
  });

  it("gives up on a Prometheus that does not answer within the timeout", async () => {
    prom.hang = true;
    try {
      const started = Date.now();
      const res = await get(createStatusHandler({ prometheusUrl: url, publicDir: site, timeoutMs: 300 }));
      assert.match(res.body, /Prometheus is unreachable<\/strong> \(no answer within 300 ms\)/);
      assert.ok(Date.now() - started < 5000);
    } finally {
      prom.hang = false;
      prom.server.closeAllConnections();
    }
  });

  it("says live status is off without a Prometheus URL", async () => {
    const res = await get(createStatusHandler({ prometheusUrl: "", publicDir: site }));
    assert.match(res.body, /data-state="off">Live status is off/);
  });

  it("answers HEAD without a body and refuses other methods", async () => {
    const handler = createStatusHandler({ prometheusUrl: "", publicDir: site });
    const head = await get(handler, "HEAD");
    assert.equal(head.status, 200);
    assert.equal(head.body, "");
    assert.equal((await get(handler, "POST")).status, 405);
  });
});
