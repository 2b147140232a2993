import { formatLoadProblem, type LoadProblem } from "./load.ts";
import type { PolicyReport, RuleOutcome } from "./run.ts";
import type { Severity, Violation } from "./types.ts";

/** Version of the JSON document `formatJson` writes; bumped when a field changes meaning. */
export const REPORT_FORMAT_VERSION = 1;

function where(v: Violation): string {
  return [v.file, v.source && `[${v.source}]`, v.path].filter(Boolean).join(" ");
}

/** Reports are read in terminals and CI logs: every line fits this many columns. */
export const TABLE_WIDTH = 120;

/** `text` in lines of at most `width` characters, broken between words (a longer word is cut). */
export function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  let cur = "";
  for (let word of text.split(/\s+/).filter(Boolean)) {
    if (cur && cur.length + 1 + word.length <= width) {
      cur += ` ${word}`;
      continue;
    }
    if (cur) lines.push(cur);
    // A path or URL longer than the column: cut after a '/' (else a '-', '.' or '_') in the column, else hard.
    while (word.length > width) {
      const head = word.slice(0, width);
      const slash = head.lastIndexOf("/");
      const other = Math.max(head.lastIndexOf("-"), head.lastIndexOf("."), head.lastIndexOf("_"));
      const cut = slash > width / 3 ? slash : other > width / 3 ? other : -1;
      const at = cut >= 0 ? cut + 1 : width;
      lines.push(word.slice(0, at));
      word = word.slice(at);
    }
    cur = word;
  }
  if (cur || lines.length === 0) lines.push(cur);
  return lines;
}

/** `first` then its continuation lines indented by `hang`, all within TABLE_WIDTH. */
function hanging(first: string, indent: string, hang: string): string[] {
  return wrapText(first, TABLE_WIDTH - indent.length).flatMap((l, i) => (i === 0 ? [indent + l] : wrapText(l, TABLE_WIDTH - hang.length).map((x) => hang + x)));
}

function table(header: readonly string[], rows: readonly (readonly string[])[], indent = "  "): string[] {
  const gap = 2;
  const natural = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const widths = [...natural];
  const budget = TABLE_WIDTH - indent.length - gap * (header.length - 1);
  // Narrow the widest column a character at a time until the table fits; the first (rule id) is kept.
  for (let total = widths.reduce((a, b) => a + b, 0); total > budget; total--) {
    let widest = -1;
    for (let i = 1; i < widths.length; i++) if (widths[i]! > Math.max(12, header[i]!.length) && (widest < 0 || widths[i]! > widths[widest]!)) widest = i;
    if (widest < 0) break;
    widths[widest]!--;
  }
  const line = (cells: readonly string[]): string[] => {
    const wrapped = cells.map((c, i) => wrapText(c, widths[i]!));
    const height = Math.max(...wrapped.map((w) => w.length));
    return Array.from({ length: height }, (_, n) =>
      (indent + wrapped.map((w, i) => (i === cells.length - 1 ? (w[n] ?? "") : (w[n] ?? "").padEnd(widths[i]!))).join(" ".repeat(gap))).trimEnd(),
    );
  };
  return [...line(header), ...rows.flatMap(line)];
}

/** What the files a report covers are, by name: `6 kustomizations, 1 KSOPS generator`. */
export function describeFiles(paths: readonly string[]): string {
  const kinds = new Map<string, number>();
  for (const p of paths) {
    const base = p.slice(p.lastIndexOf("/") + 1);
    const kind = base === "kustomization.yaml" ? "kustomization" : base === "secret-generator.yaml" ? "KSOPS generator" : /\.sops\./.test(base) ? "encrypted Secret" : p.startsWith("hosts/") ? "host file" : "other file";
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  return [...kinds].map(([k, n]) => plural(n, k)).join(", ");
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
    out.push(...table(["RULE", "OBJECT", "MESSAGE", "WHERE"], vs.map((v) => [v.rule, v.subject, v.message, where(v)])));
    out.push("");
  }
  const failing = report.rules.filter((r) => r.violations > 0);
  if (failing.length) {
    out.push("HOW TO FIX");
    for (const r of failing) out.push(...hanging(`${r.id}: ${r.fix}`, "  ", "    "));
    out.push("");
  }
  if (report.waived.length) {
    out.push(`WAIVED (${report.waived.length})`);
    out.push(
      ...table(
        ["RULE", "OBJECT", "EXPIRES", "REASON"],
        report.waived.map((w) => [w.violation.rule, w.violation.subject, w.waiver.expires, w.waiver.reason]),
      ),
    );
    out.push("");
  }
  if (report.notes.length) {
    out.push("NOT RUN");
    for (const n of report.notes) out.push(...hanging(`${n.rule}: ${n.message}`, "  ", "    "));
    out.push("");
  }
  if (report.input?.problems.length) {
    out.push(`INPUT PROBLEMS (${report.input.problems.length}): these were not checked`);
    for (const p of report.input.problems) out.push(...hanging(formatLoadProblem(p), "  ", "    "));
    out.push("");
  }
  if (report.input?.skipped.length) {
    out.push(`SKIPPED FILES (${report.input.skipped.length})`);
    for (const s of report.input.skipped) out.push(...hanging(`${s.file}: ${s.reason}`, "  ", "    "));
    out.push("");
  }
  out.push(...hanging(summaryLine(report), "", "  "));
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
  return `policy ${verdict}: ${plural(errors, "error")}, ${plural(warnings, "warning")}${extra.length ? ` (${extra.join(", ")})` : ""}; ${plural(ran, "rule")} over ${plural(report.objects, "object")}${report.files ? ` and ${plural(report.files, "other file")}${report.filePaths?.length ? ` (${describeFiles(report.filePaths)})` : ""}` : ""}, Kubernetes ${report.kubernetesVersion}${report.withModel ? "" : ", without the homelab model"}`;
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
