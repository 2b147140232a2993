import { InternalError } from "../../errors.ts";
import { validateObjects } from "../../validate/kube-schema.ts";
import type { Rule, Violation } from "../types.ts";

/** Checks of the build's validator that apply to any manifest: types and required fields, unknown fields. */
const CHECKS = new Set(["schema", "unknown-field"]);

export const schema: Rule = {
  id: "schema",
  title: "Objects match the Kubernetes schema of their kind",
  severity: "error",
  why: "The API server refuses an object whose fields have the wrong type (`spec: 7`, `rules: \"x\"`) or are unknown to its kind (kubectl validates strictly), so every other rule's verdict on it is moot.",
  fix: "Correct the field named in the message to the type its kind's schema says. Kinds without a known schema (custom resources whose models are not bundled) are not checked.",
  check(ctx) {
    const out: Violation[] = [];
    // One call per object keeps each finding with the object and file it came from.
    for (const lo of ctx.objects) {
      let issues;
      try {
        issues = validateObjects([lo]);
      } catch (err) {
        // The models are ES modules: `check` loads them (loadSchemas) before the rules run; a caller
        // that did not gets no schema verdict rather than a crash.
        if (err instanceof InternalError) continue;
        throw err;
      }
      for (const i of issues) {
        // No schema known: a custom resource whose CRD is not bundled; nothing to say about it.
        if (!CHECKS.has(i.check) || i.message.startsWith("no schema known")) continue;
        out.push({ rule: this.id, severity: this.severity, subject: i.subject, file: lo.file, ...((lo as { source?: string }).source !== undefined && { source: (lo as { source?: string }).source! }), path: i.path || "/", message: `${i.message} [${i.check}]` });
      }
    }
    return out;
  },
};
