import type { LoadedObject } from "../load.ts";
import { violation } from "../lib/util.ts";
import type { Rule, Violation } from "../types.ts";

export const yamlBooleans: Rule = {
  id: "yaml-booleans",
  title: "Booleans spelled true or false",
  severity: "warning",
  why: "kubectl apply and Argo CD read manifests as YAML 1.1, where unquoted `on`, `off`, `yes`, `no`, `y` and `n` are booleans; kustomize, editors and most linters read YAML 1.2, where they are strings. The same file then means two things: `privileged: on` is true on the cluster, and a label value `yes` is no string at all. The checks read what the cluster reads (true), and flag the spelling.",
  fix: "Write `true` or `false`; quote the value (`\"on\"`) when a string is meant.",
  check(ctx) {
    const out: Violation[] = [];
    for (const lo of ctx.objects as readonly LoadedObject[]) {
      for (const b of lo.yaml11Booleans ?? [])
        out.push(violation(this, lo, b.path, `'${b.text}' is the boolean ${b.value} to kubectl and Argo CD (YAML 1.1) but the string "${b.text}" to YAML 1.2 tools; write ${b.value}, or quote it if a string is meant`));
    }
    return out;
  },
};
