/**
 * What the API server would refuse in a Kubernetes Secret, checked before the values are encrypted:
 * after encryption nobody can see that a `data` value is not base64 until ArgoCD fails to apply it.
 */
import { Branch, getItem } from "./tree.ts";

/** The key rule of Secrets and ConfigMaps (IsConfigMapKey in Kubernetes' validation). */
export function secretKeyProblem(key: string): string | undefined {
  if (key.length === 0) return "must not be empty";
  if (key.length > 253) return `is ${key.length} characters long; at most 253 are allowed`;
  if (!/^[-._a-zA-Z0-9]+$/.test(key)) return "may contain only letters, digits, '-', '_' and '.'";
  if (key === "." || key === "..") return `must not be '${key}'`;
  if (key.startsWith("..")) return "must not start with '..'";
  return undefined;
}

/** Standard base64 with padding, as the API server decodes `data` values. */
export function isBase64(s: string): boolean {
  return s.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(s);
}

export function isK8sSecret(doc: Branch | undefined): boolean {
  return !!doc && getItem(doc, "kind")?.value === "Secret" && getItem(doc, "apiVersion")?.value === "v1";
}

/** Problems of a plaintext Secret document, each naming its field; empty when it would be accepted. */
export function secretProblems(doc: Branch): string[] {
  if (!isK8sSecret(doc)) return [];
  const out: string[] = [];
  for (const field of ["data", "stringData"] as const) {
    const v = getItem(doc, field)?.value;
    if (v === undefined || v === null) continue;
    if (!(v instanceof Branch)) {
      out.push(`${field} must be a map of key to value`);
      continue;
    }
    for (const it of v.items) {
      if (typeof it.key !== "string") continue;
      const where = `${field}.${it.key}`;
      const bad = secretKeyProblem(it.key);
      if (bad) out.push(`${where}: the key ${bad}`);
      if (typeof it.value !== "string") {
        if (it.value !== null) out.push(`${where}: must be a string (quote it)`);
        continue;
      }
      if (field === "data" && !isBase64(it.value)) {
        out.push(`${where}: data values must be base64; to store the text as it is, use stringData.${it.key}`);
      }
    }
  }
  return out;
}
