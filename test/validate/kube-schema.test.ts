import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { before, describe, test } from "node:test";
import YAML from "yaml";
import type { Issue } from "../../src/errors.ts";
import type { K8sObject, LocatedObject } from "../../src/model/k8s.ts";
import { loadSchemas, registerSchema, validateObjects, type SchemaValidateFn } from "../../src/validate/kube-schema.ts";

function fixture(name: string): LocatedObject[] {
  const text = readFileSync(new URL(`./fixtures/kube/${name}`, import.meta.url), "utf8");
  return YAML.parseAllDocuments(text).map((d) => ({ file: name, object: d.toJS() as K8sObject }));
}

/** Loads models first, as the build does, then validates. */
async function check(objs: LocatedObject[]): Promise<Issue[]> {
  await loadSchemas(objs);
  return validateObjects(objs);
}

const brief = (issues: Issue[]) => issues.map((i) => [i.subject, i.check, i.path, i.message]);

describe("validateObjects", () => {
  before(async () => {
    // Warm the model cache once so single tests stay quick.
    await loadSchemas([...fixture("good.yaml"), ...fixture("bad/schema-types.yaml")]);
  });

  test("accepts realistic objects of every kind the platform renders", async () => {
    const objs = fixture("good.yaml");
    assert.equal(objs.length, 23);
    assert.deepEqual(brief(await check(objs)), []);
  });

  test("reports type, enum and required-field errors with their paths", async () => {
    assert.deepEqual(brief(await check(fixture("bad/schema-types.yaml"))), [
      ["Deployment site/site", "schema", "/spec/replicas", "must be integer"],
      ["Deployment site/site", "schema", "/spec/template/spec/containers/0", "must have required property name"],
      [
        "Deployment site/site",
        "schema",
        "/spec/template/spec/containers/0/imagePullPolicy",
        'must be equal to one of the allowed values: "Always", "IfNotPresent", "Never"',
      ],
      ["Service site/site", "schema", "/spec/ports/0/port", "must be integer"],
      // IntOrString given a map: one finding, not one per oneOf branch.
      ["Service site/site", "schema", "/spec/ports/0/targetPort", "must be string or integer"],
    ]);
  });

  test("reports unknown fields at any depth, also beside a type error, but not inside free-form values", async () => {
    const issues = await check(fixture("bad/unknown-fields.yaml"));
    assert.deepEqual(brief(issues), [
      ["Deployment site/site", "unknown-field", "/metadata/lables", "unknown field (not in the schema)"],
      ["Deployment site/site", "unknown-field", "/spec/replica", "unknown field (not in the schema)"],
      ["Deployment site/site", "unknown-field", "/spec/template/spec/containers/0/ports/0/protocl", "unknown field (not in the schema)"],
      ["Deployment site/site", "unknown-field", "/spec/template/spec/containers/0/livenessProbe/httpGet/paht", "unknown field (not in the schema)"],
      ["Deployment site/worker", "schema", "/spec/replicas", "must be integer"],
      ["Deployment site/worker", "unknown-field", "/spec/replica", "unknown field (not in the schema)"],
      ["Application argocd/site", "unknown-field", "/spec/source/helm/valuesObjekt", "unknown field (not in the schema)"],
      [
        "CustomResourceDefinition widgets.example.org",
        "unknown-field",
        "/spec/versions/0/schema/openAPIV3Schema/properties/spec/propertiez",
        "unknown field (not in the schema)",
      ],
    ]);
    assert.ok(issues.every((i) => i.file === "bad/unknown-fields.yaml"));
  });

  test("treats maps as maps: any key under labels, data, resource lists and selectors", async () => {
    const objs: LocatedObject[] = [
      {
        file: "m.yaml",
        object: {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: "m", namespace: "ns", labels: { anything: "goes" }, annotations: { "any.thing/at-all": "x" } },
          data: { "whatever.key": "v", another: "w" },
        },
      },
      {
        file: "m.yaml",
        object: {
          apiVersion: "v1",
          kind: "LimitRange",
          metadata: { name: "m", namespace: "ns" },
          spec: { limits: [{ type: "Container", max: { cpu: "2", memory: "1Gi", "example.org/gpu": "1" } }] },
        },
      },
    ];
    assert.deepEqual(brief(await check(objs)), []);
  });

  test("enforces scope, name, label and annotation rules", async () => {
    assert.deepEqual(brief(await check(fixture("bad/structure.yaml"))), [
      [
        "Namespace default/a.b",
        "structure",
        "/metadata/name",
        `name "a.b" must be an RFC 1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit)`,
      ],
      ["Namespace default/a.b", "structure", "/metadata/namespace", "Namespace is cluster-scoped and must not carry a namespace"],
      [
        "ConfigMap Site_Config",
        "structure",
        "/metadata/name",
        `name "Site_Config" must be an RFC 1123 subdomain (lowercase letters, digits, '-' and '.', starting and ending with a letter or digit)`,
      ],
      ["ConfigMap Site_Config", "structure", "/metadata/namespace", "ConfigMap is namespaced and needs metadata.namespace"],
      [
        "Service site/1web",
        "structure",
        "/metadata/name",
        `name "1web" must be an RFC 1035 label (lowercase letters, digits and '-', starting with a letter, ending with a letter or digit)`,
      ],
      [
        "Service site/1web",
        "structure",
        "/metadata/labels/bad key",
        `label key "bad key": name part "bad key" must consist of letters, digits, '-', '_' or '.', starting and ending with a letter or digit`,
      ],
      [
        "Service site/1web",
        "structure",
        "/metadata/labels/app.kubernetes.io~1name",
        `label value "-starts-with-dash": must be empty or consist of letters, digits, '-', '_' or '.', starting and ending with a letter or digit`,
      ],
      ["Service site/1web", "structure", "/metadata/labels/too-long", `label value "${"a".repeat(64)}": must be at most 63 characters`],
      [
        "Service site/1web",
        "structure",
        "/metadata/annotations/Example.org~1upper",
        `annotation key "Example.org/upper": prefix "Example.org" must be an RFC 1123 subdomain (lowercase letters, digits, '-' and '.', starting and ending with a letter or digit)`,
      ],
      [
        "Service site/1web",
        "structure",
        "/metadata/annotations/example.org~1",
        `annotation key "example.org/": name part "" must be 1 to 63 characters`,
      ],
      ["ClusterIssuer cert-manager/letsencrypt", "structure", "/metadata/namespace", "ClusterIssuer is cluster-scoped and must not carry a namespace"],
      ["CustomResourceDefinition widget.example.org", "structure", "/metadata/name", `a CustomResourceDefinition must be named "widgets.example.org"`],
      ["ServiceAccount site/<unnamed>", "structure", "/metadata/name", "metadata.name is missing"],
    ]);
  });

  test("accepts RBAC names with colons, which are path segments rather than DNS names", async () => {
    const objs: LocatedObject[] = [
      { file: "r.yaml", object: { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: "system:homelab:reader" }, rules: [] } },
      { file: "r.yaml", object: { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: "a/b" }, rules: [] } },
    ];
    assert.deepEqual(brief(await check(objs)), [["ClusterRole a/b", "structure", "/metadata/name", `name "a/b" may not contain '/' or '%'`]]);
  });

  test("reports an object defined twice, naming both files", async () => {
    const cm = (ns: string, name: string): K8sObject => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: ns }, data: {} });
    const objs: LocatedObject[] = [
      { file: "gitops/site/a.yaml", object: cm("site", "settings") },
      { file: "gitops/site/b.yaml", object: cm("site", "settings") },
      // Same name in another namespace, or as another kind: distinct objects.
      { file: "gitops/other/a.yaml", object: cm("other", "settings") },
      { file: "gitops/site/c.yaml", object: { apiVersion: "v1", kind: "Secret", metadata: { name: "settings", namespace: "site" } } },
    ];
    assert.deepEqual(await check(objs), [
      {
        file: "gitops/site/b.yaml",
        subject: "ConfigMap site/settings",
        path: "",
        message: "defined twice: in gitops/site/a.yaml and in gitops/site/b.yaml",
        check: "duplicate",
      },
    ]);
  });

  test("knows no schema for unbundled kinds (a Velero kind the homelab does not use), nested types or odd apiVersions", async () => {
    const objs: LocatedObject[] = [
      { file: "x.yaml", object: { apiVersion: "velero.io/v1", kind: "DataUpload", metadata: { name: "daily", namespace: "velero" } } },
      { file: "x.yaml", object: { apiVersion: "v1", kind: "PodSpec", metadata: { name: "p", namespace: "ns" } } },
      { file: "x.yaml", object: { apiVersion: "../../v1", kind: "Pod", metadata: { name: "p", namespace: "ns" } } },
    ];
    assert.deepEqual(
      (await check(objs)).map((i) => [i.check, i.message]),
      [
        ["schema", "no schema known for velero.io/v1 DataUpload"],
        ["schema", "no schema known for v1 PodSpec"],
        ["schema", "no schema known for ../../v1 Pod"],
      ],
    );
  });

  test("uses registered schemas, with unknown-field detection and scope", async () => {
    // A hand-written validator in the shape ajv and crd-generate produce.
    const validateWidget: SchemaValidateFn = Object.assign(
      (data: unknown): boolean => {
        const d = data as Record<string, any>;
        const errors: { instancePath: string; keyword: string; message: string }[] = [];
        void d.apiVersion;
        void d.kind;
        void d.metadata?.name;
        void d.metadata?.namespace;
        const spec = d.spec;
        if (spec !== undefined && !Number.isInteger(spec.size)) errors.push({ instancePath: "/spec/size", keyword: "type", message: "must be integer" });
        validateWidget.errors = errors.length ? errors : null;
        return errors.length === 0;
      },
      { errors: null },
    );
    registerSchema("example.org/v1", "Widget", validateWidget);
    registerSchema("example.org/v1", "ClusterWidget", validateWidget, { clusterScoped: true });
    const objs: LocatedObject[] = [
      { file: "w.yaml", object: { apiVersion: "example.org/v1", kind: "Widget", metadata: { name: "ok", namespace: "ns" }, spec: { size: 1 } } },
      { file: "w.yaml", object: { apiVersion: "example.org/v1", kind: "Widget", metadata: { name: "bad" }, spec: { size: "big", colour: "red" } } },
      { file: "w.yaml", object: { apiVersion: "example.org/v1", kind: "ClusterWidget", metadata: { name: "c", namespace: "ns" }, spec: { size: 2 } } },
    ];
    assert.deepEqual(brief(await check(objs)), [
      ["Widget bad", "schema", "/spec/size", "must be integer"],
      ["Widget bad", "unknown-field", "/spec/colour", "unknown field (not in the schema)"],
      ["Widget bad", "structure", "/metadata/namespace", "Widget is namespaced and needs metadata.namespace"],
      ["ClusterWidget ns/c", "structure", "/metadata/namespace", "ClusterWidget is cluster-scoped and must not carry a namespace"],
    ]);
  });

  test("treats a node the validator enumerated as a map even if it also read single keys", async () => {
    // Reads `limits.max` and counts keys with Reflect.ownKeys, which no per-key read accompanies.
    const validateQuota: SchemaValidateFn = Object.assign(
      (data: unknown): boolean => {
        const d = data as Record<string, any>;
        void [d.apiVersion, d.kind, d.metadata?.name, d.metadata?.namespace];
        const limits = d.spec?.limits;
        const ok = limits === undefined || (limits.max !== undefined && Reflect.ownKeys(limits).length <= 3);
        validateQuota.errors = ok ? null : [{ instancePath: "/spec/limits", keyword: "maxProperties", message: "must have at most 3 keys" }];
        return ok;
      },
      { errors: null },
    );
    registerSchema("example.org/v1", "Quota", validateQuota);
    const quota = (limits: Record<string, number>): LocatedObject => ({
      file: "q.yaml",
      object: { apiVersion: "example.org/v1", kind: "Quota", metadata: { name: "q", namespace: "ns" }, spec: { limits } },
    });
    assert.deepEqual(brief(await check([quota({ max: 3, cpu: 1, memory: 2 })])), []);
    assert.deepEqual(brief(await check([quota({ max: 3, cpu: 1, memory: 2, disk: 4 })])), [
      ["Quota ns/q", "schema", "/spec/limits", "must have at most 3 keys"],
    ]);
  });

  test("leaves its input untouched and copes with frozen objects", async () => {
    const obj = {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", namespace: "site" },
      spec: { ports: [{ port: 80, targetPort: "http", nmae: "x" }] },
    };
    const deepFreeze = (o: object): object => {
      for (const v of Object.values(o)) if (typeof v === "object" && v !== null) deepFreeze(v);
      return Object.freeze(o);
    };
    const before = JSON.stringify(obj);
    const issues = await check([{ file: "s.yaml", object: deepFreeze(obj) as K8sObject }]);
    assert.deepEqual(brief(issues), [["Service site/web", "unknown-field", "/spec/ports/0/nmae", "unknown field (not in the schema)"]]);
    assert.equal(JSON.stringify(obj), before);
  });
});
