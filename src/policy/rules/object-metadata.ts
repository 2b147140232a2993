import type { LoadedObject } from "../load.ts";
import { violation } from "../lib/util.ts";
import type { Rule, Violation } from "../types.ts";

export const objectMetadata: Rule = {
  id: "object-metadata",
  title: "Every object has metadata with a name",
  severity: "error",
  why: "The API server refuses an object without a name (or with a namespace or labels that are not strings and maps), so Argo CD's sync of the whole Application fails on it. The object is still checked with the other rules, and so is the rest of its file.",
  fix: "Give the object `metadata.name` (or `generateName` for a Helm hook), a string `namespace`, and `labels`/`annotations` as maps of strings.",
  check(ctx) {
    const out: Violation[] = [];
    for (const lo of ctx.objects as readonly LoadedObject[]) {
      if (lo.metadataProblem) out.push(violation(this, lo, "/metadata", lo.metadataProblem));
    }
    return out;
  },
};
