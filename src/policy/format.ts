import { formatLoadProblem, type LoadProblem } from "./load.ts";
import type { PolicyReport, RuleOutcome } from "./run.ts";
import type { Severity, Violation } from "./types.ts";

/** Version of the JSON document `formatJson` writes; bumped when a field changes meaning. */
export const REPORT_FORMAT_VERSION = 1;

function where(v: Violation): string {
  return [v.file, v.source && `[${v.source}]`, v.path].filter(Boolean).join(" ");
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  // The last column (the location) is left unpadded: it is the longest and ends the line anyway.
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

const HEADINGS: Record<Severity, string> = { error: "ERRORS", warning: "WARNINGS" };

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** Human-readable report: violations grouped by severity, then how to fix them, waivers and skipped rules. */
export function formatTable(report: PolicyReport): string {
  const out: string[] = [];
  for (const severity of ["error", "warning"] as const) {
    const vs = report.violations.filter((v) => v.severity === severity);
    if (vs.length === 0) continue;
    out.push(`${HEADINGS[severity]} (${vs.length})`);
    out.push(...table(["RULE", "OBJECT", "MESSAGE", "WHERE"], vs.map((v) => [v.rule, v.subject, v.message, where(v)])).map((l) => "  " + l));
    out.push("");
  }
  const failing = report.rules.filter((r) => r.violations > 0);
  if (failing.length) {
    out.push("HOW TO FIX");
    for (const r of failing) out.push(`  ${r.id}: ${r.fix}`);
    out.push("");
  }
  if (report.waived.length) {
    out.push(`WAIVED (${report.waived.length})`);
    out.push(
      ...table(
        ["RULE", "OBJECT", "EXPIRES", "REASON"],
        report.waived.map((w) => [w.violation.rule, w.violation.subject, w.waiver.expires, w.waiver.reason]),
      ).map((l) => "  " + l),
    );
    out.push("");
  }
  if (report.notes.length) {
    out.push("NOT RUN");
    for (const n of report.notes) out.push(`  ${n.rule}: ${n.message}`);
    out.push("");
  }
  if (report.input?.problems.length) {
    out.push(`INPUT PROBLEMS (${report.input.problems.length}): these were not checked`);
    for (const p of report.input.problems) out.push(`  ${formatLoadProblem(p)}`);
    out.push("");
  }
  if (report.input?.skipped.length) {
    out.push(`SKIPPED FILES (${report.input.skipped.length})`);
    for (const s of report.input.skipped) out.push(`  ${s.file}: ${s.reason}`);
    out.push("");
  }
  out.push(summaryLine(report));
  return out.join("\n");
}

/** One line: the verdict and the counts. */
export function summaryLine(report: PolicyReport): string {
  const { errors, warnings, waived } = report.counts;
  const ran = report.rules.filter((r: RuleOutcome) => r.status === "ran" && !r.id.startsWith("waiver-")).length;
  const verdict = errors || report.input?.problems.length ? "FAILED" : warnings ? "PASSED with warnings" : "PASSED";
  const inputProblems = report.input?.problems.length ?? 0;
  const extra = [
    inputProblems ? `${plural(inputProblems, "input problem")} not checked` : "",
    waived ? `${waived} waived` : "",
    report.notes.length ? `${report.notes.length} rule(s) not run` : "",
  ].filter(Boolean);
  return `policy ${verdict}: ${plural(errors, "error")}, ${plural(warnings, "warning")}${extra.length ? ` (${extra.join(", ")})` : ""}; ${plural(ran, "rule")} over ${plural(report.objects, "object")}${report.files ? ` and ${plural(report.files, "file")}` : ""}, Kubernetes ${report.kubernetesVersion}${report.withModel ? "" : ", without the homelab model"}`;
}

/** Machine-readable report (the site's policy page reads it). Stable key order, 2-space indent. */
export function formatJson(report: PolicyReport): string {
  return JSON.stringify(
    {
      version: REPORT_FORMAT_VERSION,
      kubernetesVersion: report.kubernetesVersion,
      withModel: report.withModel,
      summary: { ...report.counts, objects: report.objects, files: report.files },
      rules: report.rules,
      violations: report.violations,
      waived: report.waived,
      notes: report.notes,
      ...(report.input && {
        input: {
          problems: report.input.problems.map((p) => ({ file: p.file, document: p.document ?? null, line: p.line ?? null, message: p.message })),
          skipped: report.input.skipped,
        },
      }),
    },
    null,
    2,
  );
}

/** Why no report could be made: the input did not load, or held nothing to check. */
export interface ReportFailure {
  /** `load`: unreadable files or broken documents; `nothing-to-check`: no Kubernetes object; `input`: anything else (config, waiver file). */
  readonly kind: "load" | "nothing-to-check" | "input";
  readonly message: string;
  /** Every load problem, for `load`. @default [] */
  readonly problems?: readonly LoadProblem[];
}

/**
 * The JSON document for a run that produced no report: same `version`, an `error` instead of
 * `summary`/`rules`/`violations`, so a tool reading stdout always gets JSON.
 */
export function formatJsonFailure(failure: ReportFailure): string {
  return JSON.stringify(
    {
      version: REPORT_FORMAT_VERSION,
      error: {
        kind: failure.kind,
        message: failure.message,
        problems: (failure.problems ?? []).map((p) => ({ file: p.file, document: p.document ?? null, line: p.line ?? null, message: p.message })),
      },
    },
    null,
    2,
  );
}
