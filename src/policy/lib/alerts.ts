import type { LocatedObject } from "../../model/k8s.ts";
import { arr, ofKind, rec, str, type Obj } from "./util.ts";

/** One alerting rule of a PrometheusRule, with its path. */
export interface AlertAt {
  readonly owner: LocatedObject;
  readonly alert: string;
  readonly rule: Obj;
  readonly path: string;
}

export function alertsOf(objects: readonly LocatedObject[]): AlertAt[] {
  const out: AlertAt[] = [];
  for (const lo of ofKind(objects, "PrometheusRule")) {
    arr(rec(lo.object.spec).groups).forEach((g, gi) => {
      arr(rec(g).rules).forEach((r, ri) => {
        const rule = rec(r);
        const alert = str(rule.alert);
        if (alert !== undefined) out.push({ owner: lo, alert, rule, path: `/spec/groups/${gi}/rules/${ri}` });
      });
    });
  }
  return out;
}
