import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { platform } from "../../src/platform/platform.ts";
import { deepMerge } from "../../src/platform/lib/merge.ts";
import { loadChartDefaults } from "../../src/validate/chart-cache.ts";
import { checkHelmValues } from "../../src/validate/helm-values.ts";
import { CHARTS, config, versions } from "../helpers.ts";

async function check(component: string, mutate: (values: Record<string, unknown>) => Record<string, unknown>) {
  const p = platform(config(), versions());
  const c = p.components.find((x) => x.name === component)!;
  const pin = p.ctx.versions.charts[c.helm!.chart]!;
  const found = await loadChartDefaults({ name: c.helm!.chart, repo: pin.repo, version: pin.version }, { cacheDirs: [CHARTS], download: false });
  assert.ok(!("missing" in found), `chart ${c.helm!.chart} not in ${CHARTS}`);
  return checkHelmValues({
    chart: c.helm!.chart,
    version: pin.version,
    values: mutate(c.helm!.values),
    defaults: found.values,
    ...(found.schema !== undefined ? { schema: found.schema } : {}),
    freeform: c.helm!.freeform ?? [],
  });
}

describe("the components' Helm values against the pinned charts", () => {
  for (const name of ["argocd", "cert-manager", "ingress-nginx"]) {
    it(`${name}: every key we set exists in the chart's defaults`, async (t) => {
      assert.deepEqual(await check(name, (v) => v), []);
    });
  }
  it("a misspelled key in a component fails, with a suggestion", async (t) => {
    const issues = await check("ingress-nginx", (v) => deepMerge(v, { controller: { replicaCont: 2 } }));
    assert.equal(issues.length, 1);
    assert.equal(issues[0]!.path, "/controller/replicaCont");
    assert.match(issues[0]!.message, /did you mean controller\.replicaCount\?/);
  });
  it("a key below a free-form map needs the map to be declared free-form", async (t) => {
    const issues = await check("cert-manager", (v) => deepMerge(v, { webhook: { podLabels: { team: "x" } } }));
    assert.equal(issues.length, 1, JSON.stringify(issues));
    assert.equal(issues[0]!.path, "/webhook/podLabels");
    assert.match(issues[0]!.message, /free-form/);
  });
});
