/** A plain Kubernetes object as it appears in rendered YAML. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** An object together with the rendered file it lives in (path relative to the repo root). */
export interface LocatedObject {
  readonly file: string;
  readonly object: K8sObject;
}

/** `Kind namespace/name` or `Kind name` for cluster-scoped objects; used in every message. */
export function objectRef(o: Pick<K8sObject, "kind" | "metadata">): string {
  const ns = o.metadata?.namespace;
  const name = o.metadata?.name ?? "<unnamed>";
  return ns ? `${o.kind} ${ns}/${name}` : `${o.kind} ${name}`;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
