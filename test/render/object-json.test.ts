/**
 * The render takes each object's JSON in one pass over its plain data (`objectJson` in src/render/render.ts)
 * instead of cdk8s's resolve-then-sanitize: the same JSON, keys in the same order, and cdk8s's own `toJson`
 * for whatever is not plain data.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ApiObject, App, Chart, JsonPatch, Lazy } from "cdk8s";
import { platform } from "../../src/platform/platform.ts";
import { objectJson, render } from "../../src/render/render.ts";
import { config, defaultInputCopy, versions } from "../helpers.ts";
import { THREE_NODES } from "../platform/render-helpers.ts";

/** The JSON text keeps key order, which the YAML is written in. */
const same = (a: unknown, b: unknown, what: string) => {
  assert.deepEqual(a, b, what);
  assert.equal(JSON.stringify(a), JSON.stringify(b), what);
};

function apiObjects(chart: Chart): ApiObject[] {
  return chart.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject);
}

describe("each object's JSON in one pass", () => {
  it("is cdk8s's toJson for every rendered object, without falling back to it", () => {
    const apps = [...(defaultInputCopy().apps ?? []), ...Array.from({ length: 3 }, (_, i) => ({ name: `extra-${i}`, image: `git.skypalette.ai/x/app-${i}`, tag: "1.0.0", port: 8080, host: `extra-${i}.skypalette.ai` }))];
    let objects = 0;
    for (const patch of [{}, THREE_NODES, { apps } as never]) {
      const p = platform(config(patch), versions());
      // The App resolved and validated as the render does it first.
      render(p);
      for (const chart of [p.root, ...p.components]) {
        for (const x of apiObjects(chart)) {
          let fellBack = false;
          const fast = objectJson(x, (o) => {
            fellBack = true;
            return o.toJson();
          });
          assert.equal(fellBack, false, x.node.path);
          same(fast, x.toJson(), x.node.path);
          objects++;
        }
      }
    }
    assert.ok(objects > 400, `${objects} objects`);
  });

  it("drops empty metadata maps and lists, nulls in maps, keeps list positions, sorts keys, puts apiVersion, kind and metadata first", () => {
    const app = new App();
    const chart = new Chart(app, "c", { labels: { z: "1" } });
    const x = new ApiObject(chart, "o", {
      spec: { b: [1, null, { d: null, c: [] }], a: {}, "B": undefined },
      kind: "Thing",
      metadata: { name: "n", annotations: {}, finalizers: [], generateName: "g-", labels: { b: "2", a: "1" } },
      apiVersion: "example.com/v1",
      data: { "x.json": "{}" },
    } as never);
    let fellBack = false;
    const fast = objectJson(x, (o) => {
      fellBack = true;
      return o.toJson();
    });
    assert.equal(fellBack, false);
    same(fast, x.toJson(), "object");
    assert.deepEqual(Object.keys(fast as object), ["apiVersion", "kind", "metadata", "data", "spec"]);
  });

  it("leaves to cdk8s what a resolver replaces or its patches change, with cdk8s's result", () => {
    const cases: [string, (c: Chart) => ApiObject][] = [
      ["a Lazy", (c) => new ApiObject(c, "lazy", { apiVersion: "v1", kind: "ConfigMap", data: { a: Lazy.any({ produce: () => "late" }) } } as never)],
      ["a value with resolve()", (c) => new ApiObject(c, "token", { apiVersion: "v1", kind: "ConfigMap", data: { a: { resolve: () => "resolved" } } } as never)],
      ["an IntOrString-like class", (c) => new ApiObject(c, "union", { apiVersion: "v1", kind: "Service", spec: { port: new (class Port { constructor(readonly value: number) {} })(80) } } as never)],
      ["a JSON patch", (c) => {
        const o = new ApiObject(c, "patched", { apiVersion: "v1", kind: "ConfigMap", data: { a: "1" } });
        o.addJsonPatch(JsonPatch.add("/data/b", "2"));
        return o;
      }],
      ["a hole in a list", (c) => new ApiObject(c, "holes", { apiVersion: "v1", kind: "ConfigMap", spec: { list: [1, , 3] } } as never)],
      ["an own resolver", (c) => {
        (App.of(c) as App).resolvers.push({ resolve: (ctx) => (ctx.value === "x" ? ctx.replaceValue("y") : undefined) });
        return new ApiObject(c, "own", { apiVersion: "v1", kind: "ConfigMap", data: { a: "x" } } as never);
      }],
    ];
    for (const [what, make] of cases) {
      const chart = new Chart(new App(), "c");
      const x = make(chart);
      let fellBack = false;
      const fast = objectJson(x, (o) => {
        fellBack = true;
        return o.toJson();
      });
      assert.equal(fellBack, true, what);
      same(fast, x.toJson(), what);
    }
  });
});
