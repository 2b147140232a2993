import { isPlainObject } from "../../model/k8s.ts";

/** Deep-merges plain objects; lists and scalars from `over` replace those in `base` (Helm's own rule). */
export function deepMerge<T extends Record<string, unknown>>(base: T, over: Record<string, unknown>): T {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const cur = out[k];
    out[k] = isPlainObject(cur) && isPlainObject(v) ? deepMerge(cur, v) : v;
  }
  return out as T;
}
