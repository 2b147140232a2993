import type { K8sObject } from "../../src/model/k8s.ts";
import { platform } from "../../src/platform/platform.ts";
import { render, type Plan } from "../../src/render/render.ts";
import type { HomelabInput } from "../../src/config/schema.ts";
import { config, versions } from "../helpers.ts";

export function plan(patch: Partial<HomelabInput> = {}): Plan {
  return render(platform(config(patch), versions()));
}

export function find(p: Plan, kind: string, name: string, namespace?: string): K8sObject {
  const hit = p.objects.find(
    (o) => o.object.kind === kind && o.object.metadata.name === name && (namespace === undefined || o.object.metadata.namespace === namespace),
  );
  if (!hit) throw new Error(`no ${kind} ${namespace ?? "*"}/${name} rendered`);
  return hit.object;
}

/** Walks a path like `spec.template.spec.containers.0.image`. */
export function at(o: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>((cur, k) => (cur == null ? undefined : (cur as Record<string, unknown>)[k]), o);
}

export const THREE_NODES: Partial<HomelabInput> = {
  nodes: [
    { name: "k8s-a", address: "192.168.1.11", roles: ["control-plane", "worker"] },
    { name: "k8s-b", address: "192.168.1.12", roles: ["control-plane", "worker"] },
    { name: "k8s-c", address: "192.168.1.13", roles: ["control-plane", "worker"] },
  ],
};
