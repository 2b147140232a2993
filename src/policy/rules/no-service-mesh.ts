import { allContainers, allPodSpecs } from "../lib/pods.ts";
import { apiGroup, ptr, str, stringMap, violation } from "../lib/util.ts";
import type { Rule, Violation } from "../types.ts";

/** API groups of the common meshes (Istio, Linkerd, SMI, Kuma, Consul Connect, Open Service Mesh). */
const MESH_GROUPS = /(^|\.)(istio\.io|linkerd\.io|smi-spec\.io|kuma\.io|consul\.hashicorp\.com|openservicemesh\.io)$/;
/** Annotation and label keys that ask a mesh to inject or configure a sidecar. */
const MESH_KEYS = /^(([a-z0-9-]+\.)*istio\.io\/|([a-z0-9-]+\.)*linkerd\.io\/|kuma\.io\/|consul\.hashicorp\.com\/connect-|openservicemesh\.io\/|istio-injection$)/;
/**
 * Keys whose value turns injection off, with the values that do. Charts set these to keep a mesh
 * away (a namespace labelled `istio-injection: disabled`, a Job with `sidecar.istio.io/inject: "false"`):
 * saying no to a mesh is what this rule asks for, not a violation of it.
 */
const OPT_OUTS: readonly [RegExp, RegExp][] = [
  [/^istio-injection$/, /^disabled$/],
  [/^sidecar\.istio\.io\/inject$/, /^(false|f|0)$/i],
  [/^istio\.io\/dataplane-mode$/, /^none$/],
  [/^linkerd\.io\/inject$/, /^disabled$/],
  [/^kuma\.io\/sidecar-injection$/, /^(disabled|false)$/],
  [/^consul\.hashicorp\.com\/connect-inject$/, /^false$/],
  [/^openservicemesh\.io\/sidecar-injection$/, /^(disabled|false|no)$/],
];

function meshKey(key: string, value: string): boolean {
  return MESH_KEYS.test(key) && !OPT_OUTS.some(([k, v]) => k.test(key) && v.test(value.trim()));
}

const MESH_CONTAINERS = new Set(["istio-proxy", "istio-init", "linkerd-proxy", "linkerd-init", "envoy-sidecar", "consul-dataplane", "kuma-sidecar"]);
const MESH_IMAGES = /(istio\/proxyv2|linkerd\/proxy|kumahq\/kuma-dp|hashicorp\/consul-dataplane)/;

export const noServiceMesh: Rule = {
  id: "no-service-mesh",
  title: "No service mesh",
  severity: "error",
  why: "A service mesh is out of scope by design: at one node its sidecars, certificates and control plane cost more than they protect. Stray mesh annotations mean a chart expects a mesh that is not there.",
  fix: "Remove the mesh resources, injection labels/annotations and sidecar containers; use NetworkPolicies for isolation and TLS at the ingress. Labels and annotations that turn injection off (`istio-injection: disabled`, `sidecar.istio.io/inject: \"false\"`, `linkerd.io/inject: disabled`) are fine.",
  check(ctx) {
    const out: Violation[] = [];
    for (const lo of ctx.objects) {
      if (MESH_GROUPS.test(apiGroup(lo.object.apiVersion)))
        out.push(violation(this, lo, "/apiVersion", `${lo.object.kind} of ${lo.object.apiVersion} is a service mesh resource`));
      for (const where of ["labels", "annotations"] as const) {
        for (const [key, value] of Object.entries(stringMap(lo.object.metadata[where])))
          if (meshKey(key, value)) out.push(violation(this, lo, ptr("metadata", where, key), `${where.slice(0, -1)} '${key}' configures a service mesh`));
      }
    }
    for (const pod of allPodSpecs(ctx.objects)) {
      for (const [where, map] of [["labels", pod.labels], ["annotations", pod.annotations]] as const) {
        for (const [key, value] of Object.entries(map))
          if (meshKey(key, value)) out.push(violation(this, pod.owner, pod.metadataPath + ptr(where, key), `pod ${where.slice(0, -1)} '${key}' configures a service mesh`));
      }
    }
    for (const c of allContainers(ctx.objects)) {
      const image = str(c.container.image) ?? "";
      if (MESH_CONTAINERS.has(c.name) || MESH_IMAGES.test(image))
        out.push(violation(this, c.pod.owner, c.path, `container '${c.name}' (${image || "no image"}) is a service mesh sidecar`));
    }
    return out;
  },
};
