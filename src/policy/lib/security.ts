import type { LocatedObject } from "../../model/k8s.ts";
import type { HostAccessAllowance, PolicyContext } from "../types.ts";
import type { ContainerAt, PodSpecAt } from "./pods.ts";
import { rec, refMatches, subjectOf, trimTrailingSlashes } from "./util.ts";

type InheritedField = "runAsNonRoot" | "runAsUser" | "seccompProfile";

/** A container's value for a field the pod-level securityContext provides a default for. */
export function effectiveSecurity(c: ContainerAt, field: InheritedField): { value: unknown; from: "container" | "pod" | "unset" } {
  const own = rec(c.container.securityContext);
  if (own[field] !== undefined) return { value: own[field], from: "container" };
  const pod = rec(c.pod.spec.securityContext);
  if (pod[field] !== undefined) return { value: pod[field], from: "pod" };
  return { value: undefined, from: "unset" };
}

/**
 * Reports a pod-level default once when no container overrides it, instead of once per container:
 * the fix is one line in the pod's securityContext.
 */
export function perPodOrContainer(
  pod: PodSpecAt,
  containers: readonly ContainerAt[],
  field: InheritedField,
  ok: (value: unknown) => boolean,
): { at: "pod"; path: string } | { at: "containers"; failing: ContainerAt[] } | undefined {
  const failing = containers.filter((c) => !ok(effectiveSecurity(c, field).value));
  if (failing.length === 0) return undefined;
  const anyOverride = containers.some((c) => rec(c.container.securityContext)[field] !== undefined);
  if (failing.length === containers.length && !anyOverride) return { at: "pod", path: `${pod.path}/securityContext/${field}` };
  return { at: "containers", failing };
}

/** The host-access allowances that apply to an object. */
export function hostAllowances(ctx: PolicyContext, lo: LocatedObject): HostAccessAllowance[] {
  const ref = subjectOf(lo.object);
  return ctx.hostPathAllowlist.filter((a) => refMatches(a.object, ref));
}

/** Whether `path` is one of the allowed paths. Exact: allowing `/` must not allow everything. */
export function pathAllowed(path: string, allowed: readonly string[]): boolean {
  const p = normalize(path);
  return allowed.some((a) => normalize(a) === p);
}

function normalize(p: string): string {
  const trimmed = trimTrailingSlashes(p);
  return trimmed === "" ? "/" : trimmed.replace(/\/+/g, "/");
}
