import { appSpecs, sourcesOf } from "../lib/argocd.ts";
import { arr, ofKind, rec, str, trimTrailingSlashes, violation } from "../lib/util.ts";
import type { Rule, Violation } from "../types.ts";

/** An exact chart version: no ranges, wildcards or `latest`. */
const EXACT_VERSION = /^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

/** Normalized repository URL: scheme-insensitive host case, no trailing slash or `.git`. */
export function normalizeRepoURL(url: string): string {
  let u = trimTrailingSlashes(url.trim()).replace(/\.git$/, "");
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/]+)(.*)$/i.exec(u);
  if (m) u = m[1]!.toLowerCase() + m[2]!.toLowerCase() + m[3];
  return u;
}

export const argocdSources: Rule = {
  id: "argocd-sources",
  title: "ArgoCD installs from our repository and pinned chart versions only",
  severity: "error",
  why: "What runs must be what Git says: an Application that follows another Git repository or an unpinned chart changes the cluster without a commit here.",
  fix: "Point `repoURL` at our Git repository, or at a Helm repository listed in versions.yaml with an exact `targetRevision` (the chart version); keep AppProject `sourceRepos` to those too.",
  needsModel: true,
  check(ctx) {
    const model = ctx.model!;
    const ours = normalizeRepoURL(model.gitRepoURL);
    const charts = new Set(model.allowedChartRepos.map(normalizeRepoURL));
    const out: Violation[] = [];
    for (const app of appSpecs(ctx.objects)) {
      for (const { source, path } of sourcesOf(app)) {
        const repo = str(source.repoURL);
        if (!repo) {
          out.push(violation(this, app.owner, `${path}/repoURL`, "source has no repoURL"));
          continue;
        }
        const norm = normalizeRepoURL(repo);
        if (norm === ours) continue;
        if (!charts.has(norm)) {
          out.push(violation(this, app.owner, `${path}/repoURL`, `source '${repo}' is neither our repository (${model.gitRepoURL}) nor an allowed chart repository`));
          continue;
        }
        if (str(source.chart) === undefined) {
          out.push(violation(this, app.owner, `${path}/chart`, `source '${repo}' is a chart repository but names no chart`));
          continue;
        }
        const rev = str(source.targetRevision) ?? "";
        if (!EXACT_VERSION.test(rev))
          out.push(violation(this, app.owner, `${path}/targetRevision`, `chart '${String(source.chart)}' is not pinned to an exact version (targetRevision '${rev}')`));
      }
    }
    for (const proj of ofKind(ctx.objects, "AppProject")) {
      arr(rec(proj.object.spec).sourceRepos).forEach((r, i) => {
        if (r === "*") out.push(violation(this, proj, `/spec/sourceRepos/${i}`, "AppProject allows every source repository ('*')"));
      });
    }
    return out;
  },
};
