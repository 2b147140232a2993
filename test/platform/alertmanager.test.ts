/** Alertmanager → ntfy: the real amtool checks the configuration and proves where each alert goes. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { stringify } from "yaml";
import { alertmanagerConfig, ntfyUrl, RECEIVERS, type NtfyTarget } from "../../src/platform/lib/alertmanager.ts";
import { platform } from "../../src/platform/platform.ts";
import { config, versions } from "../helpers.ts";

const TOKEN_FILE = "/etc/alertmanager/secrets/ntfy-credentials/token";
const TARGET: NtfyTarget = { server: "https://ntfy.sh/", topic: "skypalette-alerts", tokenFile: TOKEN_FILE, heartbeatUrl: "https://hc-ping.com/00000000-0000-0000-0000-000000000000" };
const dir = mkdtempSync(join(tmpdir(), "homelab-amtool-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, t: NtfyTarget): string {
  const file = join(dir, name);
  writeFileSync(file, stringify(alertmanagerConfig(t), { lineWidth: 0 }));
  return file;
}
const amtool = (args: string[]) => spawnSync("amtool", args, { encoding: "utf8" });
/** `amtool config routes test`: the receivers an alert with these labels reaches. */
function routesTo(file: string, labels: Record<string, string>, expect: string) {
  return amtool(["config", "routes", "test", `--config.file=${file}`, `--verify.receivers=${expect}`, ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)]);
}

describe("Alertmanager configuration for ntfy", () => {
  const file = write("with-heartbeat.yaml", TARGET);

  it("passes amtool check-config", () => {
    const r = amtool(["check-config", file]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /SUCCESS/);
    assert.match(r.stdout, /4 receivers/);
  });

  it("a broken configuration fails amtool check-config (the check can fail)", () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, stringify({ ...alertmanagerConfig(TARGET), receivers: [] }));
    assert.notEqual(amtool(["check-config", bad]).status, 0);
  });

  for (const [labels, receiver] of [
    [{ alertname: "CloudflaredTunnelDown", severity: "critical" }, RECEIVERS.critical],
    [{ alertname: "CertificateNotReady", severity: "warning", namespace: "site" }, RECEIVERS.warning],
    [{ alertname: "Something", severity: "info" }, RECEIVERS.none],
    // The chart's InfoInhibitor helper.
    [{ alertname: "InfoInhibitor", severity: "none" }, RECEIVERS.none],
    [{ alertname: "Watchdog", severity: "none" }, RECEIVERS.heartbeat],
    // An alert without a severity is not lost: it reaches the phone as a warning.
    [{ alertname: "FromAChart" }, RECEIVERS.warning],
  ] as const) {
    it(`amtool routes ${JSON.stringify(labels)} to ${receiver}, and to nothing else`, () => {
      const r = routesTo(file, labels, receiver);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.equal(r.stdout.trim(), receiver);
      const wrong = routesTo(file, labels, receiver === RECEIVERS.warning ? RECEIVERS.critical : RECEIVERS.warning);
      assert.notEqual(wrong.status, 0, "the route test must fail for another receiver");
    });
  }

  it("every alert the components declare reaches the receiver of its severity, with the labels its fires case expects", () => {
    const p = platform(config(), versions());
    const rules = p.components.flatMap((c) => c.alertGroups.flatMap((g) => g.rules));
    assert.ok(rules.length >= 14);
    for (const r of rules) {
      const labels = { alertname: r.alert, ...r.tests.fires.labels, ...r.labels, severity: r.severity };
      // The Watchdog is the heartbeat, whatever its severity.
      const expected = r.alert === "Watchdog" ? RECEIVERS.heartbeat : r.severity === "info" ? RECEIVERS.none : RECEIVERS[r.severity];
      const res = routesTo(file, labels, expected);
      assert.equal(res.status, 0, `${r.alert}: ${res.stdout}${res.stderr}`);
    }
  });

  it("without a heartbeat URL the Watchdog is dropped, not sent to the phone every minute", () => {
    const { heartbeatUrl: _, ...rest } = TARGET;
    const f = write("no-heartbeat.yaml", rest);
    assert.equal(amtool(["check-config", f]).status, 0);
    assert.equal(routesTo(f, { alertname: "Watchdog" }, RECEIVERS.none).status, 0);
  });

  it("ntfy gets priority and tags by severity, a templated title and message with the runbook link, and resolved notifications", () => {
    const url = new URL(ntfyUrl(TARGET, "critical"));
    assert.equal(`${url.origin}${url.pathname}`, "https://ntfy.sh/skypalette-alerts");
    assert.equal(url.searchParams.get("tpl"), "1");
    assert.equal(url.searchParams.get("p"), "5");
    assert.equal(url.searchParams.get("ta"), "rotating_light");
    assert.match(url.searchParams.get("t")!, /Resolved: /);
    assert.match(url.searchParams.get("m")!, /Runbook: \{\{\.annotations\.runbook_url\}\}/);
    assert.equal(new URL(ntfyUrl(TARGET, "warning")).searchParams.get("p"), "3");
    const receivers = alertmanagerConfig(TARGET).receivers as { name: string; webhook_configs?: { send_resolved: boolean }[] }[];
    for (const r of receivers.filter((x) => x.name.startsWith("ntfy-"))) assert.equal(r.webhook_configs![0]!.send_resolved, true);
  });

  it("reads the token from the mounted Secret: no credential in the configuration", () => {
    const text = stringify(alertmanagerConfig(TARGET));
    assert.match(text, /credentials_file: \/etc\/alertmanager\/secrets\/ntfy-credentials\/token/);
    assert.doesNotMatch(text, /\bcredentials:|password|tk_/);
  });
});
