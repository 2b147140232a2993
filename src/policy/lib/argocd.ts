import type { LocatedObject } from "../../model/k8s.ts";
import { arr, rec, type Obj } from "./util.ts";

/** An Application spec inside an Application or an ApplicationSet template, with its path. */
export interface AppSpecAt {
  readonly owner: LocatedObject;
  readonly spec: Obj;
  readonly path: string;
}

export function appSpecs(objects: readonly LocatedObject[]): AppSpecAt[] {
  const out: AppSpecAt[] = [];
  for (const lo of objects) {
    if (!lo.object.apiVersion.startsWith("argoproj.io/")) continue;
    if (lo.object.kind === "Application") out.push({ owner: lo, spec: rec(lo.object.spec), path: "/spec" });
    else if (lo.object.kind === "ApplicationSet") out.push({ owner: lo, spec: rec(rec(rec(lo.object.spec).template).spec), path: "/spec/template/spec" });
  }
  return out;
}

/** Every source of an Application spec (`source` and `sources[]`), with its path. */
export function sourcesOf(app: AppSpecAt): { source: Obj; path: string }[] {
  const out: { source: Obj; path: string }[] = [];
  if (app.spec.source !== undefined) out.push({ source: rec(app.spec.source), path: `${app.path}/source` });
  arr(app.spec.sources).forEach((s, i) => out.push({ source: rec(s), path: `${app.path}/sources/${i}` }));
  return out;
}
