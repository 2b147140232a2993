/**
 * The build's backup coverage check: every volume claim the homelab renders is backed up with its data by
 * a schedule of the backup plan, or exempt with a reason (`backup.exemptions`, rendered as the
 * `homelab/backup-exempt` annotation that the policy rule `backup-coverage` reads too). Volumes that
 * Velero's file-system backup cannot read (hostPath) are refused, with what to do instead.
 */
import type { Issue } from "../errors.ts";
import { objectRef, type LocatedObject } from "../model/k8s.ts";
import { POLICY_ANNOTATIONS } from "../policy/annotations.ts";
import { claims } from "../policy/rules/backup-coverage.ts";
import { coversWithData, type BackupPlan } from "./plan.ts";

type Obj = Record<string, unknown>;
const rec = (v: unknown): Obj => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {});

const INSTEAD = "give the app `storage: { size, mountPath }` instead: a claim on the local-path StorageClass, whose `local` volumes file-system backup reads (docs/decisions/0003-local-path-volumes.md)";

/** Pod templates of the workload kinds, with their JSON path. */
function podSpecs(o: Obj): { path: string; spec: Obj }[] {
  const spec = rec(o.spec);
  switch (o.kind) {
    case "Pod":
      return [{ path: "/spec", spec }];
    case "CronJob":
      return [{ path: "/spec/jobTemplate/spec/template/spec", spec: rec(rec(rec(rec(spec.jobTemplate).spec).template).spec) }];
    case "Deployment":
    case "StatefulSet":
    case "DaemonSet":
    case "ReplicaSet":
    case "Job":
      return [{ path: "/spec/template/spec", spec: rec(rec(spec.template).spec) }];
    default:
      return [];
  }
}

/** Whether some schedule of the plan backs up claims of `namespace` with their data. */
export function coveredByPlan(plan: BackupPlan | undefined, namespace: string): boolean {
  return plan?.schedules.some((s) => coversWithData(s, namespace)) ?? false;
}

export function backupCoverageIssues(plan: BackupPlan | undefined, objects: readonly LocatedObject[]): Issue[] {
  const issues: Issue[] = [];
  const push = (lo: LocatedObject, path: string, message: string) =>
    issues.push({ file: lo.file, subject: objectRef(lo.object), path, message, check: "backup-coverage" });
  const found = new Set<string>();

  for (const c of claims(objects)) {
    for (const name of c.names) found.add(`${c.namespace}/${name}`);
    if (c.exemption) continue;
    if (coveredByPlan(plan, c.namespace)) continue;
    const what = c.owner.object.kind === "StatefulSet" ? `claims ${c.names.join(", ")}` : "claim";
    const why = plan
      ? `no backup schedule backs up namespace ${c.namespace} with its volumes' data`
      : "homelab.config.ts declares no `backup`, so nothing backs it up";
    push(c.owner, c.path, `${what} not backed up: ${why}. Add \`backup.policies: [{ namespace: "${c.namespace}" }]\`, or exempt it with \`backup.exemptions: [{ claim: "${c.namespace}/${c.names[0]}", reason: "…" }]\``);
  }
  // An exemption for a claim that no longer exists would silently exempt the next claim of that name.
  plan?.config.exemptions.forEach((e, i) => {
    if (!found.has(e.claim))
      issues.push({ file: "homelab.config.ts", subject: `backup.exemptions[${i}]`, path: "/claim", message: `${e.claim} names no volume claim of this homelab; remove the exemption`, check: "backup-coverage" });
  });

  for (const lo of objects) {
    const o = lo.object as unknown as Obj;
    const md = rec(o.metadata);
    if (o.kind === "PersistentVolume" && rec(o.spec).hostPath !== undefined)
      push(lo, "/spec/hostPath", `a hostPath PersistentVolume cannot be backed up (Velero's file-system backup does not read hostPath volumes); ${INSTEAD}`);
    if (o.kind === "PersistentVolumeClaim" && rec(md.annotations).volumeType === "hostPath")
      push(lo, "/metadata/annotations/volumeType", `asks the local path provisioner for a hostPath volume, which Velero's file-system backup cannot read; remove the annotation (the StorageClass makes \`local\` volumes)`);
    if (o.kind === "StorageClass" && o.provisioner === "rancher.io/local-path" && rec(md.annotations).defaultVolumeType !== "local")
      push(lo, "/metadata/annotations", "makes hostPath volumes (the provisioner's default), which Velero's file-system backup cannot read; set the annotation `defaultVolumeType: local`");
    // A DaemonSet's host folders are the node's own files (logs, metrics), not data an app keeps; other
    // workloads that write into a host folder would lose that data from every backup without a word.
    const ns = typeof md.namespace === "string" ? md.namespace : "";
    if (o.kind === "DaemonSet" || !coveredByPlan(plan, ns) || rec(md.annotations)[POLICY_ANNOTATIONS.backupExempt]) continue;
    for (const { path, spec } of podSpecs(o)) {
      (Array.isArray(spec.volumes) ? spec.volumes : []).forEach((v, i) => {
        const vol = rec(v);
        if (vol.hostPath !== undefined)
          push(lo, `${path}/volumes/${i}/hostPath`, `volume '${String(vol.name)}' is a hostPath volume in a backed-up namespace: its data would silently be missing from every backup; ${INSTEAD}`);
      });
    }
  }
  return issues;
}
