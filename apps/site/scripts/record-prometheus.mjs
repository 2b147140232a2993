#!/usr/bin/env node
// Records the answers of a real Prometheus (Debian's `prometheus` package) to the queries of the live
// status panel, for the status tests' local HTTP server. Run once by hand; the tests never start Prometheus.
//   node apps/site/scripts/record-prometheus.mjs
// A small exporter serves the series below; Prometheus scrapes it every second and evaluates two alert
// rules (one firing, one still pending); the answers are written verbatim to test/fixtures/prometheus/.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const OUT = join(dirname(fileURLToPath(import.meta.url)), "../test/fixtures/prometheus");
const now = Math.floor(Date.now() / 1000);
const day = 86400;
const metrics = `# TYPE argocd_app_info gauge
argocd_app_info{name="root",namespace="argocd",project="sky-palette",sync_status="Synced",health_status="Healthy"} 1
argocd_app_info{name="cert-manager",namespace="argocd",project="sky-palette",sync_status="Synced",health_status="Healthy"} 1
argocd_app_info{name="site",namespace="argocd",project="sky-palette",sync_status="OutOfSync",health_status="Progressing"} 1
# TYPE certmanager_certificate_expiration_timestamp_seconds gauge
certmanager_certificate_expiration_timestamp_seconds{name="site-tls",namespace="site",issuer_name="letsencrypt-production"} ${now + 60 * day}
certmanager_certificate_expiration_timestamp_seconds{name="argocd-tls",namespace="argocd",issuer_name="letsencrypt-production"} ${now + 5 * day}
# TYPE velero_backup_last_successful_timestamp gauge
velero_backup_last_successful_timestamp{schedule="velero-daily"} ${now - 3 * 3600}
`;
const rules = `groups:
  - name: recorded
    rules:
      - alert: ArgoCdAppOutOfSync
        expr: argocd_app_info{sync_status!="Synced"} == 1
        labels: { severity: warning }
        annotations: { summary: "An Argo CD Application is out of sync" }
      - alert: CertificateExpiringSoon
        expr: certmanager_certificate_expiration_timestamp_seconds - time() < 14 * 86400
        for: 1h
        labels: { severity: warning }
        annotations: { summary: "A certificate expires within 14 days" }
`;

const exporter = createServer((_, res) => res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(metrics));
await new Promise((r) => exporter.listen(0, "127.0.0.1", r));
const dir = mkdtempSync(join(tmpdir(), "record-prometheus-"));
writeFileSync(join(dir, "rules.yml"), rules);
writeFileSync(
  join(dir, "prometheus.yml"),
  `global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: [rules.yml]
scrape_configs:
  - job_name: recorded
    static_configs: [{ targets: ["127.0.0.1:${exporter.address().port}"] }]
`,
);
const port = 19090;
const prom = spawn("prometheus", [`--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: "ignore" });
const base = `http://127.0.0.1:${port}`;
try {
  await new Promise((r) => setTimeout(r, 12000));
  const version = (await (await fetch(`${base}/api/v1/status/buildinfo`)).json()).data.version;
  const record = async (name, path) => {
    const res = await fetch(base + path);
    const body = JSON.parse(await res.text());
    writeFileSync(join(OUT, `${name}.json`), `${JSON.stringify({ recorded: { from: `Prometheus ${version} (Debian package)`, path, status: res.status, at: new Date().toISOString() }, body }, null, 2)}\n`);
  };
  mkdirSync(OUT, { recursive: true });
  await record("argocd", `/api/v1/query?query=${encodeURIComponent("argocd_app_info")}`);
  await record("certificates", `/api/v1/query?query=${encodeURIComponent("certmanager_certificate_expiration_timestamp_seconds")}`);
  await record("backups", `/api/v1/query?query=${encodeURIComponent("velero_backup_last_successful_timestamp")}`);
  await record("alerts", "/api/v1/alerts");
  await record("empty", `/api/v1/query?query=${encodeURIComponent("velero_backup_last_successful_timestamp{schedule=\"none\"}")}`);
  await record("bad-query", `/api/v1/query?query=${encodeURIComponent("argocd_app_info{")}`);
  console.log(`recorded Prometheus ${version} into ${OUT}`);
} finally {
  prom.kill("SIGTERM");
  exporter.close();
  await new Promise((r) => setTimeout(r, 500));
  rmSync(dir, { recursive: true, force: true });
}
