import { isPlainObject, objectRef, type K8sObject, type LocatedObject } from "../../model/k8s.ts";
import type { Rule, Violation } from "../types.ts";

export type Obj = Record<string, unknown>;

/** The record at `v`, or an empty one: rules read foreign input without trusting its shape. */
export function rec(v: unknown): Obj {
  return isPlainObject(v) ? v : {};
}

export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** String-valued entries of a labels/annotations map; anything else is ignored. */
export function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(rec(v))) if (typeof x === "string") out[k] = x;
  return out;
}

/** `objectRef`, tolerant of Helm hooks that only carry `generateName`. */
export function subjectOf(o: K8sObject): string {
  const md = rec(o.metadata);
  if (typeof md.name !== "string" && typeof md.generateName === "string") {
    return objectRef({ kind: o.kind, metadata: { ...o.metadata, name: `${md.generateName}*` } });
  }
  return objectRef(o);
}

export function namespaceOf(o: K8sObject): string | undefined {
  return str(rec(o.metadata).namespace);
}

/** API group of an apiVersion: `apps/v1` → `apps`, `v1` → `` (core). */
export function apiGroup(apiVersion: string): string {
  const i = apiVersion.indexOf("/");
  return i < 0 ? "" : apiVersion.slice(0, i);
}

export function violation(rule: Pick<Rule, "id" | "severity">, at: LocatedObject & { source?: string; document?: number }, path: string, message: string): Violation {
  return {
    rule: rule.id,
    severity: rule.severity,
    subject: subjectOf(at.object),
    file: at.file,
    ...(at.document !== undefined && { document: at.document }),
    ...(at.source !== undefined && { source: at.source }),
    path,
    message,
  };
}

/** JSON pointer segment escaping (`/` and `~` in annotation keys). */
export function ptr(...segments: (string | number)[]): string {
  return segments.map((s) => "/" + String(s).replaceAll("~", "~0").replaceAll("/", "~1")).join("");
}

/**
 * Matches an object reference against a pattern where `*` stands for any run of characters within
 * the kind, namespace or name, never across the space or the `/` (`Deployment monitoring/*`,
 * `ClusterRole argocd-*`): `Deployment *` cannot reach into every namespace. Whole-string, case-sensitive.
 */
export function refMatches(pattern: string, ref: string): boolean {
  const re = new RegExp("^" + pattern.split("*").map(escapeRegExp).join("[^/ ]*") + "$");
  return re.test(ref);
}

/** `s` without trailing `/`s. A loop: `/\/+$/` rescans a long run of slashes from each of them. */
export function trimTrailingSlashes(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 47) end--;
  return s.slice(0, end);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export function ofKind(objects: readonly LocatedObject[], ...kinds: string[]): LocatedObject[] {
  return objects.filter((o) => kinds.includes(o.object.kind));
}

/**
 * `items` by namespace, each list in input order, for rules that judge references within a namespace:
 * filtering every pod or Service of the input for each reference grew with apps × apps (a million
 * comparisons at 1000 apps).
 */
export function byNamespace<T>(items: readonly T[], nsOf: (x: T) => string | undefined): (n: string | undefined) => readonly T[] {
  const map = new Map<string | undefined, T[]>();
  for (const x of items) {
    const key = nsOf(x);
    const list = map.get(key);
    if (list) list.push(x);
    else map.set(key, [x]);
  }
  return (n) => map.get(n) ?? [];
}
