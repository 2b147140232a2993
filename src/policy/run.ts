import { InternalError, UserError } from "../errors.ts";
import { isClusterScoped, NAMESPACED_KINDS } from "./lib/kinds.ts";
import { refMatches } from "./lib/util.ts";
import { ALL_RULES } from "./rules/index.ts";
import type { PolicyContext, PolicyNote, Rule, Severity, Violation, Waiver } from "./types.ts";
import type { LoadProblem, SkippedFile } from "./load.ts";

export type { Waiver } from "./types.ts";

/**
 * Exit codes of `homelab check` (and of a build's policy gate).
 * 0: no errors and no warnings; 1: at least one error; 3: warnings only;
 * 4: nothing was checked (the input held no Kubernetes object), which must never pass as clean.
 */
export const POLICY_EXIT = { clean: 0, errors: 1, warningsOnly: 3, nothingChecked: 4 } as const;

/** What the runner itself reports about waivers. Listed with the rules in the docs and the JSON. */
export const WAIVER_RULES = [
  {
    id: "waiver-expired",
    title: "Waivers expire",
    severity: "error",
    why: "A waiver is a promise to fix something by a date. Once the date has passed the exception no longer applies and the underlying violation is reported again.",
    fix: "Fix the violation and delete the waiver, or, if the reason still holds, extend `expires` in a reviewed commit.",
  },
  {
    id: "waiver-invalid",
    title: "Waivers name a real rule, exact objects and a near date",
    severity: "error",
    why: "A waiver for a rule id that does not exist, or with a date that is not a date, silently waives nothing; one for `Deployment *` waives the rule in every namespace, and one that expires in 2099 is a permanent exception in disguise.",
    fix: "Use a rule id from `homelab check --list-rules`, an object `Kind namespace/name` with the namespace written out (`*` only within the name), and a YYYY-MM-DD date at most a year ahead. A permanent exception belongs on an allowlist or in an annotation, with its reason.",
  },
  {
    id: "waiver-unused",
    title: "Waivers match something",
    severity: "warning",
    why: "A waiver that matches no violation is stale: the problem was fixed or the object renamed. Left in place it would hide the next problem on that object.",
    fix: "Delete the waiver.",
  },
] as const satisfies readonly Pick<Rule, "id" | "title" | "severity" | "why" | "fix">[];

/** How far ahead a waiver may expire: waivers are promises to fix, not permanent exceptions. */
export const MAX_WAIVER_DAYS = 365;

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Why a waiver's object pattern is unacceptable, or undefined. `Kind namespace/name` with the kind
 * and namespace written out, or `Kind name` for a cluster-scoped kind; `*` only within the name.
 */
export function waiverObjectProblem(object: string): string | undefined {
  const m = /^(\S+) (\S+)$/.exec(object);
  if (!m) return `object '${object}' is not \`Kind namespace/name\` (or \`Kind name\` for a cluster-scoped kind); secret-scanner findings in files are waived in secrets/scan-waivers.yaml`;
  const [, kind, ref] = m as unknown as [string, string, string];
  if (kind.includes("*")) return `object '${object}' must name its kind exactly, without '*'`;
  const slash = ref.indexOf("/");
  if (slash < 0) {
    if (NAMESPACED_KINDS.has(kind)) return `object '${object}' needs a namespace: ${kind} lives in one, write '${kind} <namespace>/${ref}'`;
    return undefined;
  }
  if (isClusterScoped(kind)) return `object '${object}': ${kind} is cluster-scoped, write '${kind} <name>'`;
  const ns = ref.slice(0, slash);
  const name = ref.slice(slash + 1);
  if (ns === "" || ns.includes("*")) return `object '${object}' must name its namespace exactly: a waiver may not reach into every namespace`;
  if (name === "" || name.includes("/")) return `object '${object}' is not \`Kind namespace/name\``;
  return undefined;
}

export interface WaivedViolation {
  readonly violation: Violation;
  readonly waiver: Waiver;
}

/** How one rule fared. */
export interface RuleOutcome {
  readonly id: string;
  readonly title: string;
  readonly severity: Severity;
  readonly why: string;
  readonly fix: string;
  readonly needsModel: boolean;
  readonly status: "ran" | "skipped";
  /** Violations left after waivers. */
  readonly violations: number;
  readonly waived: number;
}

export interface PolicyReport {
  readonly kubernetesVersion: string;
  /** Whether the homelab model was available (false for foreign manifests). */
  readonly withModel: boolean;
  readonly objects: number;
  /** Files without Kubernetes objects that the rules read (kustomizations, generators, encrypted Secrets, host files). */
  readonly files: number;
  /** Their paths, so a summary can say what they are. */
  readonly filePaths?: readonly string[];
  readonly rules: readonly RuleOutcome[];
  /** Unwaived violations, errors first, then by rule, file, subject and path. */
  readonly violations: readonly Violation[];
  readonly waived: readonly WaivedViolation[];
  /** Rules that did not run, and why. */
  readonly notes: readonly PolicyNote[];
  readonly counts: { readonly errors: number; readonly warnings: number; readonly waived: number };
  /**
   * `check <paths>`: files that could not be loaded (the rest was checked) and files passed over
   * whole (not YAML, binary, Helm templates, configuration files). @default none
   */
  readonly input?: { readonly problems: readonly LoadProblem[]; readonly skipped: readonly SkippedFile[] };
}

export interface RunOptions {
  readonly waivers: readonly Waiver[];
  /** The day waivers are judged against; pass it in so runs are reproducible. */
  readonly today: Date;
  /** Run only these rule ids. @default every rule */
  readonly only?: readonly string[];
  /** The rule set. @default ALL_RULES */
  readonly rules?: readonly Rule[];
  /** File the waivers were written in, for messages. @default "homelab.config.ts" */
  readonly waiverSource?: string;
}

/** `YYYY-MM-DD` of a date, in UTC. */
export function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

function validDay(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && isoDay(d) === s;
}

const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1 };

export function compareViolations(a: Violation, b: Violation): number {
  return (
    SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
    cmp(a.rule, b.rule) ||
    cmp(a.file ?? "", b.file ?? "") ||
    cmp(a.subject, b.subject) ||
    cmp(a.path ?? "", b.path ?? "")
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Runs the rules over the context, applies waivers and returns everything found. */
export function runPolicies(ctx: PolicyContext, opts: RunOptions): PolicyReport {
  const rules = opts.rules ?? ALL_RULES;
  const known = new Set(rules.map((r) => r.id));
  const unknown = (opts.only ?? []).filter((id) => !known.has(id));
  if (unknown.length) throw new UserError(`unknown rule id${unknown.length > 1 ? "s" : ""} ${unknown.map((u) => `'${u}'`).join(", ")}; known: ${[...known].sort().join(", ")}`);
  const selected = opts.only?.length ? rules.filter((r) => opts.only!.includes(r.id)) : rules;

  const notes: PolicyNote[] = [];
  const found: Violation[] = [];
  const skipped = new Set<string>();
  for (const rule of selected) {
    const reason = rule.needsModel && !ctx.model ? "skipped: needs the homelab model (run `homelab check` without paths in the homelab repository)" : rule.skip?.(ctx);
    if (reason) {
      notes.push({ rule: rule.id, message: reason });
      skipped.add(rule.id);
      continue;
    }
    try {
      found.push(...rule.check(ctx));
    } catch (err) {
      throw new InternalError(`policy rule ${rule.id} crashed: ${(err as Error).stack ?? String(err)}`);
    }
  }

  const source = opts.waiverSource ?? "homelab.config.ts";
  const today = isoDay(opts.today);
  const meta = (id: (typeof WAIVER_RULES)[number]["id"]) => WAIVER_RULES.find((w) => w.id === id)!;
  const latest = isoDay(new Date(Date.parse(`${today}T00:00:00Z`) + MAX_WAIVER_DAYS * DAY_MS));
  const waiverProblems: Violation[] = [];
  const active: { waiver: Waiver; index: number; used: boolean }[] = [];
  opts.waivers.forEach((w, index) => {
    // `--rule X` judges X's waivers only: other rules' waivers are neither used nor wrong this time.
    if (opts.only?.length && !opts.only.includes(w.rule)) return;
    const subject = `Waiver ${w.rule} ${w.object}`;
    const at = { subject, file: source, path: `/policy/waivers/${index}` };
    const invalid = (path: string, message: string) => waiverProblems.push({ rule: "waiver-invalid", severity: meta("waiver-invalid").severity, ...at, path, message });
    if (!known.has(w.rule)) {
      invalid(at.path, `waiver names unknown rule '${w.rule}'`);
      return;
    }
    if (!validDay(w.expires)) {
      invalid(`${at.path}/expires`, `waiver expiry '${w.expires}' is not a YYYY-MM-DD date`);
      return;
    }
    const objectProblem = waiverObjectProblem(w.object);
    if (objectProblem) {
      invalid(`${at.path}/object`, `waiver ${objectProblem}`);
      return;
    }
    if (w.expires > latest) {
      invalid(`${at.path}/expires`, `waiver expires on ${w.expires}, more than ${MAX_WAIVER_DAYS} days after today (${today}); set a date by ${latest} and renew it in a reviewed commit if the reason still holds`);
      return;
    }
    if (w.expires < today) {
      waiverProblems.push({
        rule: "waiver-expired",
        severity: meta("waiver-expired").severity,
        ...at,
        path: `${at.path}/expires`,
        message: `waiver expired on ${w.expires} (reason given: ${w.reason})`,
      });
      return;
    }
    // A waiver for a rule that did not run this time can be neither used nor unused.
    if (selected.some((r) => r.id === w.rule) && !skipped.has(w.rule)) active.push({ waiver: w, index, used: false });
  });

  const violations: Violation[] = [];
  const waived: WaivedViolation[] = [];
  for (const v of found) {
    const hit = active.find((a) => a.waiver.rule === v.rule && refMatches(a.waiver.object, v.subject));
    if (hit) {
      hit.used = true;
      waived.push({ violation: v, waiver: hit.waiver });
    } else violations.push(v);
  }
  for (const a of active) {
    if (!a.used)
      waiverProblems.push({
        rule: "waiver-unused",
        severity: meta("waiver-unused").severity,
        subject: `Waiver ${a.waiver.rule} ${a.waiver.object}`,
        file: source,
        path: `/policy/waivers/${a.index}`,
        message: `waiver matches no ${a.waiver.rule} violation; delete it`,
      });
  }
  violations.push(...waiverProblems);
  violations.sort(compareViolations);
  waived.sort((a, b) => compareViolations(a.violation, b.violation));

  const outcomes: RuleOutcome[] = selected.map((r) => ({
    id: r.id,
    title: r.title,
    severity: r.severity,
    why: r.why,
    fix: r.fix,
    needsModel: r.needsModel ?? false,
    status: skipped.has(r.id) ? "skipped" : "ran",
    violations: violations.filter((v) => v.rule === r.id).length,
    waived: waived.filter((w) => w.violation.rule === r.id).length,
  }));
  for (const w of WAIVER_RULES) {
    const n = violations.filter((v) => v.rule === w.id).length;
    if (n) outcomes.push({ ...w, needsModel: false, status: "ran", violations: n, waived: 0 });
  }

  return {
    kubernetesVersion: ctx.kubernetesVersion,
    withModel: ctx.model !== undefined,
    objects: ctx.objects.length,
    files: ctx.files?.length ?? 0,
    filePaths: (ctx.files ?? []).map((f) => f.path),
    rules: outcomes,
    violations,
    waived,
    notes,
    counts: {
      errors: violations.filter((v) => v.severity === "error").length,
      warnings: violations.filter((v) => v.severity === "warning").length,
      waived: waived.length,
    },
  };
}

/** 0 clean, 1 errors, 3 warnings only; `failOnWarning` turns warnings into a failure (1). */
export function exitCodeFor(report: PolicyReport, opts: { failOnWarning?: boolean } = {}): number {
  if (report.counts.errors > 0 || (report.input?.problems.length ?? 0) > 0) return POLICY_EXIT.errors;
  if (report.counts.warnings > 0) return opts.failOnWarning ? POLICY_EXIT.errors : POLICY_EXIT.warningsOnly;
  return POLICY_EXIT.clean;
}
