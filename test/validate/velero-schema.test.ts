import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import YAML from "yaml";
import type { K8sObject, LocatedObject } from "../../src/model/k8s.ts";
import { loadSchemas, validateObjects } from "../../src/validate/kube-schema.ts";

function fixture(name: string): LocatedObject[] {
  const text = readFileSync(new URL(`./fixtures/velero/${name}`, import.meta.url), "utf8");
  return YAML.parseAllDocuments(text).map((d) => ({ file: name, object: d.toJS() as K8sObject }));
}

async function check(name: string): Promise<(string | undefined)[][]> {
  const objs = fixture(name);
  await loadSchemas(objs);
  return validateObjects(objs).map((i) => [i.subject, i.check, i.path, i.message]);
}

describe("Velero objects against Velero's CRD schemas", () => {
  test("accepts a storage location, a schedule and a restore as the homelab writes them", async () => {
    assert.equal(fixture("good.yaml").length, 3);
    assert.deepEqual(await check("good.yaml"), []);
  });

  test("reports wrong types, enums and missing required fields with their paths", async () => {
    assert.deepEqual(await check("bad/schema-types.yaml"), [
      ["Schedule velero/cluster-daily", "schema", "/spec", "must have required property schedule"],
      ["Schedule velero/cluster-daily", "schema", "/spec/paused", "must be boolean"],
      ["Schedule velero/cluster-daily", "schema", "/spec/template/ttl", "must be string"],
      ["BackupStorageLocation velero/default", "schema", "/spec/accessMode", 'must be equal to one of the allowed values: "ReadOnly", "ReadWrite"'],
      ["BackupStorageLocation velero/default", "schema", "/spec/objectStorage", "must have required property bucket"],
    ]);
  });

  test("rejects unknown fields at any depth but leaves the free-form config map alone", async () => {
    assert.deepEqual(await check("bad/unknown-fields.yaml"), [
      ["Schedule velero/cluster-daily", "unknown-field", "/spec/template/tll", "unknown field (not in the schema)"],
      ["Schedule velero/cluster-daily", "unknown-field", "/spec/template/includedNamespace", "unknown field (not in the schema)"],
      ["Schedule velero/cluster-daily", "unknown-field", "/spec/template/labelSelector/matchLabel", "unknown field (not in the schema)"],
      ["BackupStorageLocation velero/default", "unknown-field", "/spec/objectStorage/region", "unknown field (not in the schema)"],
    ]);
  });

  test("a Velero object needs its namespace like any namespaced kind", async () => {
    const objs: LocatedObject[] = [{ file: "x.yaml", object: { apiVersion: "velero.io/v1", kind: "Schedule", metadata: { name: "s" }, spec: { schedule: "@daily", template: {} } } as K8sObject }];
    await loadSchemas(objs);
    assert.deepEqual(validateObjects(objs).map((i) => [i.check, i.path, i.message]), [["structure", "/metadata/namespace", "Schedule is namespaced and needs metadata.namespace"]]);
  });
});
