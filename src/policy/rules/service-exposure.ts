import { arr, ofKind, rec, violation } from "../lib/util.ts";
import type { Rule, Violation } from "../types.ts";

export const serviceExposure: Rule = {
  id: "service-exposure",
  title: "No NodePort, LoadBalancer or externalIPs Services",
  severity: "error",
  why: "All traffic enters through the Cloudflare tunnel and ingress-nginx. A NodePort, LoadBalancer or external IP opens a second door on the node that skips TLS, the tunnel and its access rules.",
  fix: "Use a ClusterIP Service behind an Ingress (or reach it with `kubectl port-forward` for admin access).",
  check(ctx) {
    const out: Violation[] = [];
    for (const svc of ofKind(ctx.objects, "Service")) {
      const spec = rec(svc.object.spec);
      if (spec.type === "NodePort" || spec.type === "LoadBalancer") out.push(violation(this, svc, "/spec/type", `Service is of type ${spec.type}`));
      if (arr(spec.externalIPs).length) out.push(violation(this, svc, "/spec/externalIPs", `Service claims external IPs ${arr(spec.externalIPs).join(", ")}`));
    }
    return out;
  },
};
