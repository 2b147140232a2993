// The default homelab (homelab.config.ts as shipped) rendered in memory and checked like `homelab build` does.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { platform } from "../../src/platform/platform.ts";
import { render } from "../../src/render/render.ts";
import { checkPolicies, formatTable, modelFromPlatform } from "../../src/policy/index.ts";
import { config, versions } from "../helpers.ts";
import { TODAY } from "./helpers.ts";

describe("the default config", () => {
  it("passes the policy with zero errors and zero warnings", (t) => {
    const p = platform(config(), versions());
    const plan = render(p);
    const report = checkPolicies(
      {
        objects: plan.objects,
        files: plan.files.filter((f) => !plan.objects.some((o) => o.file === f.path)),
        model: modelFromPlatform(p),
        kubernetesVersion: p.ctx.config.kubernetesVersion,
      },
      { waivers: p.ctx.config.policy.waivers, today: TODAY },
    );
    t.diagnostic(`${report.counts.errors} error(s), ${report.counts.warnings} warning(s), ${report.notes.length} rule(s) not run over ${report.objects} objects`);
    assert.deepEqual(report.violations, [], formatTable(report));
    assert.equal(report.counts.waived, 0, "the default config needs no waivers");
    assert.ok(report.withModel);
    // Every rule runs: the monitoring stack exists, so scrape-coverage checks that every workload is
    // scraped, and the components' alerts carry their promtool tests, so alert-unit-tests runs.
    assert.deepEqual(report.notes.map((n) => n.rule).sort(), []);
  });
});
