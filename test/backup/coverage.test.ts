/** The build's backup coverage: every claim backed up with its data or exempt with a reason; hostPath refused. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import YAML from "yaml";
import { backupCoverageIssues } from "../../src/backup/coverage.ts";
import { backupPlan } from "../../src/backup/plan.ts";
import type { HomelabInput } from "../../src/config/schema.ts";
import type { K8sObject, LocatedObject } from "../../src/model/k8s.ts";
import { platform } from "../../src/platform/platform.ts";
import { modelFromPlatform } from "../../src/policy/model.ts";
import { backupCoverage } from "../../src/policy/rules/backup-coverage.ts";
import type { PolicyContext } from "../../src/policy/types.ts";
import { render } from "../../src/render/render.ts";
import { config, versions } from "../helpers.ts";

const NOTES = { name: "notes", image: "ghcr.io/me/notes", tag: "1.4.2", port: 3000, host: "notes.skypalette.ai", storage: { size: "2Gi", mountPath: "/var/lib/notes" } };

function input(backup: Record<string, unknown> | undefined): Partial<HomelabInput> {
  const base = config();
  return { apps: [...(structuredClone(base.apps) as never[]), NOTES as never], backup: backup === undefined ? undefined : ({ ...(structuredClone(base.backup) as object), ...backup } as never) };
}

function build(patch: Partial<HomelabInput>) {
  const cfg = config(patch);
  const p = platform(cfg, versions());
  return { p, objects: render(p).objects, plan: backupPlan(cfg) };
}

const brief = (issues: ReturnType<typeof backupCoverageIssues>) => issues.map((i) => [i.subject, i.path, i.message]);

describe("backup coverage at build time", () => {
  it("the default config and a stateful app with the default policies: every claim covered", () => {
    const { objects, plan } = build(input({}));
    assert.equal(objects.filter((o) => o.object.kind === "PersistentVolumeClaim").length, 2);
    assert.deepEqual(backupCoverageIssues(plan, objects), []);
  });

  it("fails a claim when the config declares no backup at all, and says what to add", () => {
    const cfg = config(input(undefined));
    const objects = render(platform(cfg, versions())).objects;
    assert.deepEqual(brief(backupCoverageIssues(backupPlan(cfg), objects)), [
      [
        "PersistentVolumeClaim notes/notes-data",
        "/metadata",
        'claim not backed up: homelab.config.ts declares no `backup`, so nothing backs it up. Add `backup.policies: [{ namespace: "notes" }]`, or exempt it with `backup.exemptions: [{ claim: "notes/notes-data", reason: "…" }]`',
      ],
    ]);
  });

  it("fails a claim whose namespace is backed up without its volumes' data", () => {
    const { objects, plan } = build(input({ cluster: { excludedNamespaces: ["notes"] }, policies: [{ namespace: "notes", volumes: false }] }));
    assert.deepEqual(brief(backupCoverageIssues(plan, objects)).map((i) => i[2]!.split(".")[0]), ["claim not backed up: no backup schedule backs up namespace notes with its volumes' data"]);
    // Leaving out the pods leaves out the data too: file-system backup reads volumes through their pods.
    const noPods = build(input({ cluster: { excludedNamespaces: ["notes"] }, policies: [{ namespace: "notes", excludedResources: ["pods"] }] }));
    assert.equal(backupCoverageIssues(noPods.plan, noPods.objects).length, 1);
  });

  it("an exemption with its reason is enough; an exemption naming no claim is an error", () => {
    const ok = build(input({ cluster: { volumes: false }, exemptions: [{ claim: "notes/notes-data", reason: "a cache the app rebuilds on start" }] }));
    // The canary still needs its data backed up: the cluster schedule no longer takes volumes, its own does.
    assert.deepEqual(backupCoverageIssues(ok.plan, ok.objects), []);
    const stale = build(input({ exemptions: [{ claim: "notes/old-data", reason: "left over from an earlier version" }] }));
    assert.deepEqual(brief(backupCoverageIssues(stale.plan, stale.objects)), [["backup.exemptions[0]", "/claim", "notes/old-data names no volume claim of this homelab; remove the exemption"]]);
  });

  it("refuses volumes file-system backup cannot read (bad fixture), with what to do instead", () => {
    const text = readFileSync(new URL("./fixtures/coverage/bad-hostpath.yaml", import.meta.url), "utf8");
    const objects: LocatedObject[] = YAML.parseAllDocuments(text).map((d) => ({ file: "bad-hostpath.yaml", object: d.toJS() as K8sObject }));
    const { plan } = build(input({}));
    assert.deepEqual(brief(backupCoverageIssues(plan, objects)), [
      [
        "PersistentVolume notes-by-hand",
        "/spec/hostPath",
        "a hostPath PersistentVolume cannot be backed up (Velero's file-system backup does not read hostPath volumes); give the app `storage: { size, mountPath }` instead: a claim on the local-path StorageClass, whose `local` volumes file-system backup reads (docs/decisions/0003-local-path-volumes.md)",
      ],
      [
        "PersistentVolumeClaim notes/notes-data",
        "/metadata/annotations/volumeType",
        "asks the local path provisioner for a hostPath volume, which Velero's file-system backup cannot read; remove the annotation (the StorageClass makes `local` volumes)",
      ],
      ["StorageClass local-path", "/metadata/annotations", "makes hostPath volumes (the provisioner's default), which Velero's file-system backup cannot read; set the annotation `defaultVolumeType: local`"],
      [
        "Deployment notes/notes",
        "/spec/template/spec/volumes/0/hostPath",
        "volume 'data' is a hostPath volume in a backed-up namespace: its data would silently be missing from every backup; give the app `storage: { size, mountPath }` instead: a claim on the local-path StorageClass, whose `local` volumes file-system backup reads (docs/decisions/0003-local-path-volumes.md)",
      ],
    ]);
  });

  it("the platform's own StorageClass makes `local` volumes (decision 0003), which the check accepts", () => {
    const { objects, plan } = build(input({}));
    const sc = objects.find((o) => o.object.kind === "StorageClass")!;
    assert.equal(sc.object.metadata.annotations?.defaultVolumeType, "local");
    const broken = structuredClone(sc);
    delete (broken.object.metadata.annotations as Record<string, string>).defaultVolumeType;
    assert.equal(backupCoverageIssues(plan, [broken]).length, 1);
  });

  it("the policy rule backup-coverage judges with the same plan: covered by it, or not", () => {
    const verdict = (patch: Partial<HomelabInput>) => {
      const { p, objects } = build(patch);
      // The rendered Schedules are left out so that only the model's answer (the plan) decides.
      const ctx = { objects: objects.filter((o) => o.object.kind !== "Schedule"), model: modelFromPlatform(p) } as unknown as PolicyContext;
      return backupCoverage.check(ctx).map((v) => `${v.subject} ${v.message}`);
    };
    assert.deepEqual(verdict(input({})), []);
    assert.deepEqual(verdict(input({ cluster: { excludedNamespaces: ["notes"] }, policies: [{ namespace: "notes", volumes: false }] })), [
      "PersistentVolumeClaim notes/notes-data claim covered by no backup schedule and not annotated homelab/backup-exempt",
    ]);
  });
});
