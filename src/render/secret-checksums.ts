/**
 * Pods restart when the encrypted Secret they read changes. A Secret that KSOPS generates at sync time
 * is updated in place, and a Deployment whose pod template did not change keeps its old pods, which
 * keep the old values (cloudflared reads its tunnel credentials once, at start). So every pod template
 * that references a declared Secret carries `checksum/secret-<name>`: a hash of the ciphertext file in
 * Git, which changes whenever a value is set or rotated.
 */
import { createHash } from "node:crypto";
import type { K8sObject } from "../model/k8s.ts";

const WORKLOADS = new Set(["Deployment", "StatefulSet", "DaemonSet"]);

/** Secret names a pod spec reads: volumes, projected volumes, envFrom and env. */
function secretsReadBy(podSpec: Record<string, unknown>): Set<string> {
  const out = new Set<string>();
  const volumes = (podSpec.volumes ?? []) as { secret?: { secretName?: string }; projected?: { sources?: { secret?: { name?: string } }[] } }[];
  for (const v of volumes) {
    if (v.secret?.secretName) out.add(v.secret.secretName);
    for (const s of v.projected?.sources ?? []) if (s.secret?.name) out.add(s.secret.name);
  }
  const containers = [...((podSpec.containers ?? []) as unknown[]), ...((podSpec.initContainers ?? []) as unknown[])] as {
    envFrom?: { secretRef?: { name?: string } }[];
    env?: { valueFrom?: { secretKeyRef?: { name?: string } } }[];
  }[];
  for (const c of containers) {
    for (const e of c.envFrom ?? []) if (e.secretRef?.name) out.add(e.secretRef.name);
    for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef?.name) out.add(e.valueFrom.secretKeyRef.name);
  }
  return out;
}

export function secretChecksum(ciphertext: string): string {
  return createHash("sha256").update(ciphertext).digest("hex").slice(0, 16);
}

/** A copy of `object` whose pod template carries the checksum of every declared Secret it reads. */
export function withSecretChecksums(object: K8sObject, ciphertexts: ReadonlyMap<string, string>): K8sObject {
  if (!WORKLOADS.has(object.kind) || ciphertexts.size === 0) return object;
  const spec = (object as { spec?: { template?: { metadata?: { annotations?: Record<string, string> }; spec?: Record<string, unknown> } } }).spec;
  const template = spec?.template;
  if (!template?.spec) return object;
  const read = [...secretsReadBy(template.spec)].filter((n) => ciphertexts.has(n)).sort();
  if (read.length === 0) return object;
  const annotations = { ...(template.metadata?.annotations ?? {}) };
  for (const n of read) annotations[`checksum/secret-${n}`] = secretChecksum(ciphertexts.get(n)!);
  return { ...object, spec: { ...spec, template: { ...template, metadata: { ...template.metadata, annotations } } } } as K8sObject;
}
