import { arr, namespaceOf, ofKind, ptr, rec, str, stringMap, violation } from "../lib/util.ts";
import type { Rule, Violation } from "../types.ts";

const ISSUER_ANNOTATIONS = ["cert-manager.io/cluster-issuer", "cert-manager.io/issuer"] as const;

export const ingressCertManager: Rule = {
  id: "ingress-cert-manager",
  title: "Every Ingress gets its certificate from cert-manager",
  severity: "error",
  why: "cert-manager owns every certificate: it renews them before they expire. A hand-made TLS Secret expires silently, and an Ingress without TLS serves plain HTTP behind the tunnel.",
  fix: "Add a `cert-manager.io/cluster-issuer` annotation and a `tls` block listing every host with a secretName cert-manager will create; delete hand-made `kubernetes.io/tls` Secrets.",
  check(ctx) {
    const out: Violation[] = [];
    const secrets = new Set(ofKind(ctx.objects, "Secret").map((s) => `${namespaceOf(s.object) ?? ""}/${s.object.metadata.name}`));
    const clusterIssuers = new Set(ofKind(ctx.objects, "ClusterIssuer").map((i) => i.object.metadata.name));
    for (const ing of ofKind(ctx.objects, "Ingress")) {
      const annotations = stringMap(ing.object.metadata.annotations);
      const issuerKey = ISSUER_ANNOTATIONS.find((k) => annotations[k]?.trim());
      if (!issuerKey) out.push(violation(this, ing, "/metadata/annotations", "Ingress has no cert-manager.io/cluster-issuer (or issuer) annotation"));
      else if (issuerKey === "cert-manager.io/cluster-issuer" && clusterIssuers.size && !clusterIssuers.has(annotations[issuerKey]!))
        out.push(violation(this, ing, ptr("metadata", "annotations", issuerKey), `ClusterIssuer '${annotations[issuerKey]}' is not defined (have: ${[...clusterIssuers].join(", ")})`));
      const spec = rec(ing.object.spec);
      const tls = arr(spec.tls).map(rec);
      if (tls.length === 0) {
        out.push(violation(this, ing, "/spec/tls", "Ingress has no tls block, so it serves plain HTTP"));
        continue;
      }
      const ns = namespaceOf(ing.object) ?? "";
      tls.forEach((t, i) => {
        const secretName = str(t.secretName);
        if (!secretName) out.push(violation(this, ing, `/spec/tls/${i}/secretName`, `tls entry ${i} has no secretName for cert-manager to fill`));
        else if (secrets.has(`${ns}/${secretName}`))
          out.push(violation(this, ing, `/spec/tls/${i}/secretName`, `tls secret '${secretName}' is a hand-made Secret in this input; let cert-manager create it`));
      });
      const tlsHosts = tls.flatMap((t) => arr(t.hosts).filter((h): h is string => typeof h === "string"));
      arr(spec.rules).forEach((r, i) => {
        const host = str(rec(r).host);
        if (host && !tlsHosts.some((h) => hostCovered(h, host)))
          out.push(violation(this, ing, `/spec/rules/${i}/host`, `host '${host}' is not listed in any tls entry`));
      });
    }
    for (const s of ofKind(ctx.objects, "Secret")) {
      if (rec(s.object).type === "kubernetes.io/tls")
        out.push(violation(this, s, "/type", "hand-made TLS Secret; certificates come from cert-manager Certificates or Ingress annotations"));
    }
    return out;
  },
};

function hostCovered(pattern: string, host: string): boolean {
  if (pattern === host) return true;
  // A wildcard covers exactly one label, as in X.509.
  return pattern.startsWith("*.") && host.endsWith(pattern.slice(1)) && !host.slice(0, -pattern.length + 1).includes(".");
}
