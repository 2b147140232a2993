import { ofKind, rec, stringMap, violation } from "../lib/util.ts";
import type { Rule, Violation } from "../types.ts";

/** Hook annotations whose delete policy removes the Job after it ran. */
const HOOK_DELETE = ["helm.sh/hook-delete-policy", "argocd.argoproj.io/hook-delete-policy"] as const;

export const jobCleanup: Rule = {
  id: "job-cleanup",
  title: "Finished Jobs are cleaned up",
  severity: "warning",
  why: "A finished Job and its pods stay until someone deletes them: backup, restore-drill and migration jobs pile up, keep their logs' Secrets mounted and clutter every listing. A CronJob keeps its history only as far as its limits say.",
  fix: "Give a Job `ttlSecondsAfterFinished` (or a Helm/Argo CD hook delete policy); give a CronJob explicit `successfulJobsHistoryLimit` and `failedJobsHistoryLimit`, or `ttlSecondsAfterFinished` in its jobTemplate.",
  check(ctx) {
    const out: Violation[] = [];
    for (const job of ofKind(ctx.objects, "Job")) {
      const annotations = stringMap(job.object.metadata.annotations);
      if (HOOK_DELETE.some((k) => annotations[k]?.trim())) continue;
      if (typeof rec(job.object.spec).ttlSecondsAfterFinished !== "number")
        out.push(violation(this, job, "/spec/ttlSecondsAfterFinished", "Job has no ttlSecondsAfterFinished, so it and its pods stay after it finished"));
    }
    for (const cron of ofKind(ctx.objects, "CronJob")) {
      const spec = rec(cron.object.spec);
      if (typeof rec(rec(spec.jobTemplate).spec).ttlSecondsAfterFinished === "number") continue;
      for (const limit of ["successfulJobsHistoryLimit", "failedJobsHistoryLimit"] as const)
        if (typeof spec[limit] !== "number")
          out.push(violation(this, cron, `/spec/${limit}`, `CronJob sets no ${limit} (nor a ttlSecondsAfterFinished in its jobTemplate): say how many finished Jobs to keep`));
    }
    return out;
  },
};
