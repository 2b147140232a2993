import type { LocatedObject } from "../../model/k8s.ts";
import { scanFiles, scanObject, waiverCovers, type Waiver } from "../../secrets/scan.ts";
import { appSpecs, sourcesOf } from "../lib/argocd.ts";
import { allContainers } from "../lib/pods.ts";
import { credentialName, isReferenceValue, PRIVATE_KEY_PEM } from "../lib/secret-names.ts";
import { arr, ofKind, ptr, rec, str, subjectOf, violation } from "../lib/util.ts";
import { pathFinder } from "../lib/yaml-path.ts";
import type { Rule, Violation } from "../types.ts";

/** The scanner picks its parser by extension; objects are handed to it as JSON, which it reads as YAML. */
function scanPath(file: string): string {
  return /\.(ya?ml|json)$/i.test(file) ? file : `${file}.yaml`;
}

/** Helm's template name, when the object came from `helm template` output, and the document it was read from. */
function sourceOf(lo: LocatedObject & { source?: string; document?: number }): { source?: string; document?: number } {
  return { ...(lo.document !== undefined && { document: lo.document }), ...(lo.source !== undefined && { source: lo.source }) };
}

function describe(f: { rule: string; message: string }): string {
  return `${f.message} [${f.rule}]`;
}

export const noPlaintextSecrets: Rule = {
  id: "no-plaintext-secrets",
  title: "No plaintext Secret, nothing sensitive in Helm values or host files",
  severity: "error",
  why: "Git keeps everything forever and the repository is read by CI, the docs site and every clone: a secret that reaches it in plaintext is leaked. Secrets live SOPS-encrypted and KSOPS decrypts them inside the cluster.",
  fix: "Move the value into secrets/<app>/<name>.sops.yaml (SOPS, age) and reference the Secret (existingSecret, secretKeyRef, envFrom) instead of writing it inline. A false positive goes in secrets/scan-waivers.yaml with a reason.",
  check(ctx) {
    const found: Violation[] = [];
    const add = (v: Omit<Violation, "rule" | "severity">) => found.push({ rule: this.id, severity: this.severity, ...v });
    const waivers = ctx.secretScanWaivers ?? [];
    const helmValues = appSpecs(ctx.objects).flatMap((app) =>
      sourcesOf(app).flatMap(({ source, path }) => {
        const values = str(rec(source.helm).values);
        return values ? [{ app, values, path: `${path}/helm/values` }] : [];
      }),
    );
    for (const lo of ctx.objects) {
      // Helm values given as a YAML string are scanned below as the file they are, with line numbers.
      const opaque = new Set(helmValues.filter((h) => h.app.owner === lo).map((h) => h.path));
      // The object is walked as it is; only one that needs the file checks (a sops block) is printed and scanned as text.
      const walked = scanObject(scanPath(lo.file), lo.object, waivers);
      let findings: { path: string; rule: string; message: string }[];
      if (walked) findings = walked;
      else {
        const text = JSON.stringify(lo.object, null, 2);
        const pathAt = pathFinder(text);
        findings = scanFiles([{ path: scanPath(lo.file), content: text }], waivers).map((f) => ({ ...f, path: pathAt(f.line) ?? "/" }));
      }
      for (const f of findings) if (!opaque.has(f.path)) add({ subject: subjectOf(lo.object), file: lo.file, ...sourceOf(lo), path: f.path, message: describe(f) });
    }
    for (const h of helmValues) {
      const pathAt = pathFinder(h.values);
      for (const f of scanFiles([{ path: scanPath(h.app.owner.file), content: h.values }], waivers)) {
        const inner = pathAt(f.line);
        add({ subject: subjectOf(h.app.owner.object), file: h.app.owner.file, ...sourceOf(h.app.owner), path: h.path, message: `Helm values line ${f.line}${inner ? ` (${inner})` : ""}: ${describe(f)}` });
      }
    }
    for (const f of scanFiles(ctx.files ?? [], waivers)) add({ subject: f.file, file: f.file, path: `line ${f.line}`, message: describe(f) });
    found.push(...byName(this, ctx.objects, waivers));
    return mergeSameField(found);
  },
};

/**
 * Credentials recognised by the name of their slot (ConfigMap keys, literal env values) and private
 * keys by their PEM header, whatever the value looks like: the scanner only sees random-looking values.
 */
function byName(rule: Pick<Rule, "id" | "severity">, objects: readonly LocatedObject[], waivers: readonly Waiver[]): Violation[] {
  const out: Violation[] = [];
  const waived = (scanRule: string, lo: LocatedObject, text: string) => waivers.some((w) => waiverCovers(w, scanRule, lo.file, text));
  for (const cm of ofKind(objects, "ConfigMap")) {
    for (const field of ["data", "binaryData"] as const) {
      for (const [k, v] of Object.entries(rec(rec(cm.object)[field]))) {
        const what = credentialName(k);
        if (what && typeof v === "string" && !isReferenceValue(v) && !waived("credential-name", cm, `${k}: ${v}`))
          out.push(violation(rule, cm, ptr(field, k), `ConfigMap key ${JSON.stringify(k)} is named like ${what} and holds a value; credentials belong in an encrypted Secret [credential-name]`));
      }
    }
  }
  for (const c of allContainers(objects)) {
    arr(c.container.env).forEach((e, i) => {
      const name = str(rec(e).name);
      const value = rec(e).value;
      const what = name ? credentialName(name) : undefined;
      if (what && typeof value === "string" && !isReferenceValue(value) && !waived("credential-name", c.pod.owner, `${name}: ${value}`))
        out.push(violation(rule, c.pod.owner, `${c.path}/env/${i}/value`, `env ${name} of container '${c.name}' is named like ${what} and set to a literal; read it from a Secret (valueFrom.secretKeyRef) [credential-name]`));
    });
  }
  for (const lo of objects) {
    // A Secret's data is the scanner's plaintext-secret-object finding already.
    if (lo.object.kind === "Secret") continue;
    for (const path of pemPaths(lo.object, []))
      if (!waived("private-key-header", lo, "PRIVATE KEY"))
        out.push(violation(rule, lo, ptr(...path), "holds a PEM private key header; whatever follows it, a private key belongs in an encrypted Secret [private-key-header]"));
  }
  return out;
}

/**
 * The paths of strings holding a PEM private-key header, in document order. The path so far is shared down
 * the walk (pushed and popped) and copied only for a hit: a copy and a list per value were most of the
 * rule's time on a 1000-app build.
 */
function pemPaths(v: unknown, at: (string | number)[], out: (string | number)[][] = []): (string | number)[][] {
  if (typeof v === "string") {
    if (PRIVATE_KEY_PEM.test(v)) out.push([...at]);
  } else if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      at.push(i);
      pemPaths(v[i], at, out);
      at.pop();
    }
  } else if (v !== null && typeof v === "object") {
    for (const k of Object.keys(v)) {
      at.push(k);
      pemPaths((v as Record<string, unknown>)[k], at, out);
      at.pop();
    }
  }
  return out;
}

/** Several scanner rules often flag the same value (a token that is also high-entropy): report the field once. */
function mergeSameField(vs: readonly Violation[]): Violation[] {
  const byField = new Map<string, Violation>();
  for (const v of vs) {
    const key = `${v.file}\u0000${v.subject}\u0000${v.path}`;
    const prev = byField.get(key);
    byField.set(key, prev ? { ...prev, message: `${prev.message}; ${v.message}` } : v);
  }
  return [...byField.values()];
}
