// The default homelab (homelab.config.ts as shipped) rendered in memory and checked like `homelab build` does.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { platform } from "../../src/platform/platform.ts";
import { render } from "../../src/render/render.ts";
import { checkPolicies, formatTable, modelFromConfig } from "../../src/policy/index.ts";
import { config, versions } from "../helpers.ts";
import { TODAY } from "./helpers.ts";

describe("the default config", () => {
  it("passes the policy with zero errors", (t) => {
    const cfg = config();
    const v = versions();
    const plan = render(platform(cfg, v));
    const report = checkPolicies(
      { objects: plan.objects, files: plan.files.filter((f) => !plan.objects.some((o) => o.file === f.path)), model: modelFromConfig(cfg, v), kubernetesVersion: cfg.kubernetesVersion },
      { waivers: cfg.policy.waivers, today: TODAY },
    );
    const errors = report.violations.filter((x) => x.severity === "error");
    // Scrape coverage can only pass once the monitoring component renders ServiceMonitors/PodMonitors;
    // until then its findings are real but expected, and everything else must be clean.
    const monitoring = plan.objects.some((o) => o.object.kind === "ServiceMonitor" || o.object.kind === "PodMonitor");
    const blocking = monitoring ? errors : errors.filter((x) => x.rule !== "scrape-coverage");
    t.diagnostic(`${errors.length} error(s), ${report.counts.warnings} warning(s), ${report.notes.length} rule(s) not run over ${report.objects} objects`);
    if (!monitoring) t.diagnostic(`no ServiceMonitor/PodMonitor rendered yet: ${errors.length - blocking.length} scrape-coverage finding(s) tolerated`);
    assert.deepEqual(blocking, [], formatTable(report));
    assert.ok(report.withModel);
  });
});
