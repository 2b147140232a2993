import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { App } from "cdk8s";
import { platform } from "../../src/platform/platform.ts";
import { render } from "../../src/render/render.ts";
import { config, defaultInputCopy, versions } from "../helpers.ts";

/** The default config plus `n` small apps: every app is its own chart. */
function manyApps(n: number) {
  const input = defaultInputCopy();
  const apps = Array.from({ length: n }, (_, i) => ({ name: `extra-${i}`, image: `git.skypalette.ai/x/extra-${i}`, tag: "1.0.0", port: 8080, host: `extra-${i}.skypalette.ai` }));
  return platform(config({ apps: [...(input.apps ?? []), ...apps] }), versions());
}

describe("render synthesises the cdk8s App once", () => {
  it("resolves and validates the App once, not once per chart (that grew with charts x objects)", () => {
    const p = manyApps(5);
    const statics = App as unknown as { _synthChart: (c: unknown) => unknown[] };
    const original = statics._synthChart;
    let calls = 0;
    statics._synthChart = function (this: unknown, c: unknown) {
      calls++;
      return original.call(this, c);
    };
    try {
      render(p);
    } finally {
      statics._synthChart = original;
    }
    assert.ok(p.components.length > 6, "one chart per component");
    assert.equal(calls, 1);
  });

  it("gives every chart exactly what cdk8s's own Chart.toJson() gives, in the same order", () => {
    const p = manyApps(3);
    const plan = render(p);
    for (const chart of [p.root, ...p.components]) {
      const dir = `${p.ctx.config.git.path}/${chart.node.id}/`;
      const ours = plan.objects.filter((o) => o.file.startsWith(dir) && !o.file.slice(dir.length).includes("/")).map((o) => `${o.object.kind}/${o.object.metadata.namespace ?? ""}/${o.object.metadata.name}`);
      const theirs = (chart.toJson() as { kind: string; metadata: { name: string; namespace?: string } }[]).map((o) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`);
      assert.ok(theirs.length > 0, chart.node.id);
      assert.deepEqual(ours, theirs, chart.node.id);
    }
  });
});
