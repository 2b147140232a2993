import { arr, rec, str, stringMap } from "./util.ts";

/**
 * Whether a Kubernetes label selector (`matchLabels` + `matchExpressions`) selects `labels`.
 * An empty selector selects everything, as in NetworkPolicy `podSelector: {}`.
 */
export function selectorMatches(selector: unknown, labels: Readonly<Record<string, string>>): boolean {
  const sel = rec(selector);
  for (const [k, v] of Object.entries(stringMap(sel.matchLabels))) if (labels[k] !== v) return false;
  for (const raw of arr(sel.matchExpressions)) {
    const e = rec(raw);
    const key = str(e.key) ?? "";
    const values = arr(e.values).filter((x): x is string => typeof x === "string");
    const has = Object.hasOwn(labels, key);
    const val = labels[key];
    switch (e.operator) {
      case "In":
        if (!has || !values.includes(val!)) return false;
        break;
      case "NotIn":
        if (has && values.includes(val!)) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      default:
        // An operator we do not know selects nothing: safer than pretending coverage.
        return false;
    }
  }
  return true;
}

/** Service-style selector (a plain map): selects when every pair is present in `labels`. */
export function mapSelectorMatches(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** True when a label selector has no terms at all. */
export function selectorIsEmpty(selector: unknown): boolean {
  const sel = rec(selector);
  return Object.keys(stringMap(sel.matchLabels)).length === 0 && arr(sel.matchExpressions).length === 0;
}
