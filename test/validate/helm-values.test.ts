import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test, type TestContext } from "node:test";
import YAML from "yaml";
import type { Issue } from "../../src/errors.ts";
import { checkHelmValues, coalesceValues, editDistance, suggest } from "../../src/validate/helm-values.ts";
import { CHARTS } from "../helpers.ts";

/** The pinned chart's real defaults from the committed chart lock. */
function chart(_t: TestContext, folder: string): { values: unknown; schema?: unknown } | undefined {
  const dir = join(CHARTS, LOCKED[folder] ?? assert.fail(`no locked chart ${folder}`));
  const values: unknown = YAML.parse(readFileSync(join(dir, "values.yaml"), "utf8"), { merge: true });
  const schemaPath = join(dir, "values.schema.json");
  return existsSync(schemaPath) ? { values, schema: JSON.parse(readFileSync(schemaPath, "utf8")) } : { values };
}

/** Chart → its folder in the lock (grafana is kube-prometheus-stack's vendored subchart). */
const LOCKED: Record<string, string> = {
  "alloy": "alloy-1.11.1",
  "argo-cd": "argo-cd-10.1.1",
  "cert-manager": "cert-manager-v1.21.1",
  "grafana": "kube-prometheus-stack-88.5.3/charts/grafana",
  "ingress-nginx": "ingress-nginx-4.15.1",
  "kube-prometheus-stack": "kube-prometheus-stack-88.5.3",
  "loki-community": "loki-18.11.0",
  "velero": "velero-12.1.0",
};

const brief = (issues: Issue[]) => issues.map((i) => [i.path, i.message]);

describe("checkHelmValues against ingress-nginx 4.15.1", () => {
  const run = (t: TestContext, values: unknown, freeform: { path: string; reason: string }[] = []) => {
    const c = chart(t, "ingress-nginx");
    if (!c) return undefined;
    return checkHelmValues({ chart: "ingress-nginx", version: "4.15.1", values, defaults: c.values, freeform });
  };

  test("accepts values that exist, with free-form maps allowed explicitly", (t) => {
    const issues = run(
      t,
      {
        controller: {
          replicaCount: 1,
          config: { "use-forwarded-headers": "true", "proxy-body-size": "64m" },
          service: { type: "ClusterIP" },
          admissionWebhooks: { enabled: true },
          metrics: { enabled: true, serviceMonitor: { enabled: true } },
          tolerations: [{ key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" }],
          extraArgs: { "enable-ssl-passthrough": "" },
        },
      },
      [
        { path: "controller.config", reason: "ingress-nginx ConfigMap options" },
        { path: "controller.extraArgs", reason: "controller command-line flags" },
      ],
    );
    if (issues) assert.deepEqual(issues, []);
  });

  test("names a misspelled key and suggests the sibling that was meant", (t) => {
    const issues = run(t, { contoller: { replicaCount: 2 }, controller: { replicaCont: 2, replicas: 2, metrics: { enabeld: true } } });
    if (!issues) return;
    assert.deepEqual(issues, [
      {
        subject: "chart ingress-nginx@4.15.1",
        path: "/contoller",
        message: "unknown key contoller: the chart has no such value at the top level; did you mean controller?",
        check: "helm-values",
      },
      {
        subject: "chart ingress-nginx@4.15.1",
        path: "/controller/replicaCont",
        message: "unknown key controller.replicaCont: the chart has no such value under controller; did you mean controller.replicaCount?",
        check: "helm-values",
      },
      {
        subject: "chart ingress-nginx@4.15.1",
        path: "/controller/replicas",
        message: "unknown key controller.replicas: the chart has no such value under controller; did you mean controller.replicaCount?",
        check: "helm-values",
      },
      {
        subject: "chart ingress-nginx@4.15.1",
        path: "/controller/metrics/enabeld",
        message: "unknown key controller.metrics.enabeld: the chart has no such value under controller.metrics; did you mean controller.metrics.enabled?",
        check: "helm-values",
      },
    ]);
  });

  test("requires an allowance with a reason for keys set in a free-form map", (t) => {
    const values = { controller: { config: { "use-forwarded-headers": "true" } } };
    const without = run(t, values);
    if (!without) return;
    assert.deepEqual(brief(without), [
      [
        "/controller/config",
        "controller.config is a free-form map in the chart (its default is {}); allow it in freeform with a reason to set keys below it",
      ],
    ]);
    assert.deepEqual(brief(run(t, values, [{ path: "controller.config", reason: "  " }])!), [
      ["/controller/config", "free-form allowance for controller.config needs a reason"],
      [
        "/controller/config",
        "controller.config is a free-form map in the chart (its default is {}); allow it in freeform with a reason to set keys below it",
      ],
    ]);
    assert.deepEqual(run(t, values, [{ path: "controller.config", reason: "ConfigMap options" }]), []);
    // An allowance covers its own subtree only.
    assert.deepEqual(brief(run(t, { controller: { config: { a: "1" }, replicaCont: 1 } }, [{ path: "controller.config", reason: "r" }])!), [
      ["/controller/replicaCont", "unknown key controller.replicaCont: the chart has no such value under controller; did you mean controller.replicaCount?"],
    ]);
  });

  test("reports values whose shape clashes with the chart's defaults", (t) => {
    const issues = run(t, { controller: { service: "ClusterIP", replicaCount: "2", hostNetwork: "false", image: { tag: { v: 1 } }, affinity: [] } });
    if (!issues) return;
    assert.deepEqual(brief(issues), [
      ["/controller/service", "controller.service is a map in the chart's defaults; Helm would ignore this string"],
      ["/controller/replicaCount", "controller.replicaCount is a number in the chart's defaults, not a string"],
      ["/controller/hostNetwork", "controller.hostNetwork is a boolean in the chart's defaults, not a string"],
      ["/controller/image/tag", "controller.image.tag is a string in the chart's defaults, not a map"],
    ]);
  });
});

describe("checkHelmValues against argo-cd 10.1.1", () => {
  test("checks keys containing dots and allowances for a single such key", (t) => {
    const c = chart(t, "argo-cd");
    if (!c) return;
    const input = (values: unknown, freeform: { path: string; reason: string }[] = []) =>
      checkHelmValues({ chart: "argo-cd", version: "10.1.1", values, defaults: c.values, freeform });
    const values = {
      configs: {
        cm: { "timeout.reconciliation": "60s", "kustomize.buildOptions": "--enable-alpha-plugins --enable-exec" },
        params: { "server.insecure": true },
      },
    };
    assert.deepEqual(brief(input(values)), [
      ["/configs/cm/kustomize.buildOptions", "unknown key configs.cm.kustomize\\.buildOptions: the chart has no such value under configs.cm"],
      // configs.params holds only create/annotations by default: its argocd-cmd-params-cm keys are free-form.
      ["/configs/params/server.insecure", "unknown key configs.params.server\\.insecure: the chart has no such value under configs.params"],
    ]);
    assert.deepEqual(
      input(values, [
        { path: "configs.cm.kustomize\\.buildOptions", reason: "argocd-cm key, documented by Argo CD" },
        { path: "configs.params.server\\.insecure", reason: "argocd-cmd-params-cm key, documented by Argo CD" },
      ]),
      [],
    );
  });

  test("does not compare lists index by index, but catches a near miss of an example element's key", (t) => {
    const c = chart(t, "argo-cd");
    if (!c) return;
    const rules = (r: unknown) =>
      checkHelmValues({ chart: "argo-cd", version: "10.1.1", values: { server: { httproute: { rules: r } } }, defaults: c.values });
    // More elements than the default, and a key the example does not show: both fine.
    assert.deepEqual(rules([{ matches: [{ path: { type: "Exact", value: "/" } }] }, { matches: [], backendRefs: [] }]), []);
    assert.deepEqual(brief(rules([{ matchs: [] }])), [
      ["/server/httproute/rules/0/matchs", "unknown key server.httproute.rules[0].matchs: the chart has no such value under server.httproute.rules[0]; did you mean server.httproute.rules[0].matches?"],
    ]);
  });
});

describe("checkHelmValues against cert-manager v1.21.1 (with values.schema.json)", () => {
  const run = (t: TestContext, values: unknown) => {
    const c = chart(t, "cert-manager");
    if (!c) return undefined;
    assert.ok(c.schema !== undefined, "cert-manager ships a values.schema.json");
    return checkHelmValues({ chart: "cert-manager", version: "v1.21.1", values, defaults: c.values, schema: c.schema });
  };

  test("accepts keys the chart documents only in its schema", (t) => {
    const issues = run(t, { crds: { enabled: true }, image: { tag: "v1.21.1" }, podDisruptionBudget: { enabled: true, minAvailable: 1 }, replicaCount: 1 });
    if (issues) assert.deepEqual(issues, []);
  });

  test("reports schema type errors and an unknown key only once", (t) => {
    const issues = run(t, { crds: { enabled: "yes" }, replicaCount: "2", prometheus: { servicemonitor: { enabeld: true } } });
    if (!issues) return;
    // Where the schema describes a value, its type is the schema's call, not the defaults'.
    assert.deepEqual(brief(issues), [
      [
        "/prometheus/servicemonitor/enabeld",
        "unknown key prometheus.servicemonitor.enabeld: the chart has no such value under prometheus.servicemonitor; did you mean prometheus.servicemonitor.enabled?",
      ],
      ["/crds/enabled", "values.schema.json: must be boolean (is string)"],
      ["/replicaCount", "values.schema.json: must be number (is string)"],
    ]);
  });

  test("the chart's own defaults pass its schema", (t) => {
    const c = chart(t, "cert-manager");
    if (!c) return;
    assert.deepEqual(checkHelmValues({ chart: "cert-manager", version: "v1.21.1", values: {}, defaults: c.values, schema: c.schema }), []);
  });
});

describe("checkHelmValues schema check", () => {
  test("validates the merged values, where null removes a chart default (velero 12.1.0 dependencies/oneOf)", (t) => {
    const c = chart(t, "velero");
    if (!c) return;
    const run = (values: unknown) => checkHelmValues({ chart: "velero", version: "12.1.0", values, defaults: c.values, schema: c.schema });
    assert.deepEqual(run({ deployNodeAgent: true }), []);
    const issues = run({ deployNodeAgent: true, nodeAgent: null });
    assert.equal(issues.length, 1);
    assert.equal(issues[0]!.path, "");
    assert.match(issues[0]!.message, /^values\.schema\.json: must match exactly one of the allowed shapes: .*must have key "nodeAgent"/);
  });

  test("every pinned chart accepts its own defaults as values (no false positives)", (t) => {
    for (const folder of ["loki-community", "kube-prometheus-stack", "alloy", "grafana", "ingress-nginx", "argo-cd", "cert-manager", "velero"]) {
      const c = chart(t, folder);
      if (!c) return;
      assert.deepEqual(checkHelmValues({ chart: folder, version: "x", values: c.values, defaults: c.values, schema: c.schema }), [], folder);
    }
  });

  const schema = {
    $schema: "http://json-schema.org/draft-07/schema#",
    type: "object",
    additionalProperties: false,
    $defs: { port: { type: "integer", minimum: 1, maximum: 65535 } },
    properties: {
      port: { $ref: "#/$defs/port" },
      mode: { enum: ["a", "b"] },
      name: { type: "string", pattern: "^[a-z]+$", maxLength: 5 },
      tags: { type: "array", items: { type: "string" }, uniqueItems: true },
      tls: { type: "object", required: ["secret"], properties: { secret: { type: "string" } } },
      extra: { type: ["object", "null"], additionalProperties: { type: "string" } },
      either: { anyOf: [{ type: "string" }, { type: "boolean" }] },
    },
    dependencies: { tls: ["port"] },
  };
  const defaults = { port: 80, mode: "a", name: "x", tags: [], tls: { secret: "s" }, extra: null, either: true };

  test("interprets the draft-07 keywords charts use", () => {
    const run = (values: unknown) =>
      brief(checkHelmValues({ chart: "demo", version: "1.0.0", values, defaults, schema, freeform: [{ path: "extra", reason: "string map" }] }));
    assert.deepEqual(run({ port: 8080, mode: "b", name: "abc", tags: ["x", "y"], extra: { k: "v" }, either: "s" }), []);
    assert.deepEqual(
      run({ port: 0, mode: "c", name: "ABCDEFG", tags: ["x", "x", 3], tls: { other: 1 }, extra: { k: 1 }, either: 3 }),
      [
        ["/tls/other", "unknown key tls.other: the chart has no such value under tls"],
        ["/port", "values.schema.json: must be >= 1"],
        ["/mode", `values.schema.json: must be one of "a", "b"`],
        ["/name", "values.schema.json: must match ^[a-z]+$"],
        ["/name", "values.schema.json: must be at most 5 characters"],
        ["/tags/2", "values.schema.json: must be string (is integer)"],
        ["/tags", "values.schema.json: must not contain duplicates"],
        ["/extra/k", "values.schema.json: must be string (is integer)"],
        ["/either", "values.schema.json: must match one of the allowed shapes: must be string (is integer) | must be boolean (is integer)"],
      ],
    );
    // null deletes the chart's value before the schema sees the merged values.
    assert.deepEqual(run({ tls: { secret: null } }), [["/tls", `values.schema.json: must have key "secret"`]]);
    assert.deepEqual(run({ port: null }), [["", `values.schema.json: must have key "port" when "tls" is set`]]);
    assert.deepEqual(run({ tls: null, port: null }), []);
  });

  test("reports keywords it does not evaluate instead of passing silently", () => {
    const issues = checkHelmValues({
      chart: "demo",
      version: "1.0.0",
      values: {},
      defaults: { a: "x" },
      schema: { type: "object", properties: { a: { type: "string", $dynamicRef: "#meta" } } },
    });
    assert.deepEqual(brief(issues), [
      ["", `values.schema.json uses "$dynamicRef" (at #/properties/a), which this check does not evaluate; the schema check is incomplete`],
    ]);
  });
});

describe("helpers", () => {
  test("coalesceValues merges maps, replaces lists and scalars, and deletes on null", () => {
    assert.deepEqual(
      coalesceValues({ a: { b: 1, c: 2 }, l: [1, 2], s: "x", gone: { deep: true } }, { a: { c: 3, d: 4 }, l: [9], s: "y", gone: null }),
      { a: { b: 1, c: 3, d: 4 }, l: [9], s: "y" },
    );
  });

  test("editDistance counts adjacent transpositions as one edit", () => {
    assert.equal(editDistance("enabled", "enabled"), 0);
    assert.equal(editDistance("enabeld", "enabled"), 1);
    assert.equal(editDistance("replicaCont", "replicaCount"), 1);
    assert.equal(editDistance("", "abc"), 3);
  });

  test("suggest picks one clear candidate or none", () => {
    assert.equal(suggest("replicaCont", ["replicaCount", "revisionHistoryLimit"]), "replicaCount");
    assert.equal(suggest("ReplicaCount", ["replicaCount"]), "replicaCount");
    assert.equal(suggest("replicas", ["replicaCount", "resources"]), "replicaCount");
    assert.equal(suggest("completelyDifferent", ["replicaCount", "resources"]), undefined);
    // Two equally close siblings: no guess.
    assert.equal(suggest("nam", ["name", "nas"]), undefined);
  });
});
