/**
 * Alert rules as code. A component declares its alerts next to its objects (`Component.alerts()`), each
 * with its severity, the text that reaches the phone, a runbook page under docs/runbooks/ and two
 * `promtool test rules` cases: one where it fires with the expected labels, one where it stays quiet.
 * This module turns them into a PrometheusRule, into promtool's rule groups and unit-test files, and
 * parses every expression with Prometheus' own lezer grammar so a typo fails the build by the rule's name.
 */
import { parser } from "@prometheus-io/lezer-promql";
import type { Issue } from "../../errors.ts";
import type { K8sObject } from "../../model/k8s.ts";
import type { PlatformContext } from "./context.ts";
import { querySyntax, syntaxError } from "./query-syntax.ts";

/** `critical` wakes the operator, `warning` waits for the day, `info` only shows in Grafana. */
export type Severity = "critical" | "warning" | "info";

/** One input series of a promtool test, in promtool's expanding notation (`0+1x10`, `1x30`, `_`). */
export interface SeriesInput {
  readonly series: string;
  readonly values: string;
}

export interface FiresCase {
  readonly series: readonly SeriesInput[];
  /** Evaluation time, e.g. `20m`. */
  readonly at: string;
  /** Labels of the firing alert beyond `severity` and the rule's own labels (those are added). */
  readonly labels: Readonly<Record<string, string>>;
  /** Expanded annotations, needed only where summary or description are templates. */
  readonly annotations?: Readonly<Partial<Record<"summary" | "description", string>>>;
}

export interface QuietCase {
  readonly series: readonly SeriesInput[];
  readonly at: string;
}

export interface AlertRule {
  /** The alert's name, unique in its group; also the heading of its section in the runbook page. */
  readonly alert: string;
  /** PromQL; parsed at build time. */
  readonly expr: string;
  /** How long the condition must hold. @default fires at the first evaluation */
  readonly for?: string;
  readonly severity: Severity;
  /** One line: the notification's title. */
  readonly summary: string;
  /** What is wrong and what it breaks; may use `{{ $labels.x }}` and `{{ $value }}`. */
  readonly description: string;
  /** Page `docs/runbooks/<runbook>.md`; it must have a `## <alert>` section. */
  readonly runbook: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** Both cases are required: a rule that was never run against sample series is a guess. */
  readonly tests: { readonly fires: FiresCase; readonly quiet: QuietCase };
}

/** A named group of a component's alerts; one PrometheusRule object. */
export interface AlertGroup {
  readonly component: string;
  /** `<component>-<group>`: the PrometheusRule's name and the rule group's name. */
  readonly name: string;
  readonly rules: readonly AlertRule[];
}

/** Folder of the runbook pages, relative to the repository root. */
export const RUNBOOK_DIR = "docs/runbooks";

/** The browsable page of a runbook section in the homelab's own Forgejo repository. */
export function runbookUrl(ctx: PlatformContext, rule: Pick<AlertRule, "alert" | "runbook">): string {
  const { url, repo, branch } = ctx.config.git;
  return `${url.replace(/\/$/, "")}/${repo}/src/branch/${branch}/${RUNBOOK_DIR}/${rule.runbook}.md#${rule.alert.toLowerCase()}`;
}

function annotations(ctx: PlatformContext, r: AlertRule): Record<string, string> {
  return { summary: r.summary, description: r.description, runbook_url: runbookUrl(ctx, r) };
}

/** Prometheus' rule group (what `promtool check rules` reads and the PrometheusRule's `spec.groups[]` holds). */
export function ruleGroup(ctx: PlatformContext, g: AlertGroup): Record<string, unknown> {
  return {
    name: g.name,
    rules: g.rules.map((r) => ({
      alert: r.alert,
      expr: r.expr,
      ...(r.for !== undefined && { for: r.for }),
      labels: { ...r.labels, severity: r.severity },
      annotations: annotations(ctx, r),
    })),
  };
}

export function prometheusRule(ctx: PlatformContext, g: AlertGroup, labels: Record<string, string>): K8sObject {
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: { name: g.name, namespace: g.component, labels },
    spec: { groups: [ruleGroup(ctx, g)] },
  } as K8sObject;
}

/**
 * promtool's unit-test file for one group, the rule file named `ruleFile` beside it. Each alert gets two
 * tests of its own, so the input series of one case cannot make another alert's case pass.
 */
export function promtoolTests(ctx: PlatformContext, g: AlertGroup, ruleFile: string): Record<string, unknown> {
  const tests = g.rules.flatMap((r) => {
    const ann = annotations(ctx, r);
    const expected = { summary: r.tests.fires.annotations?.summary ?? ann.summary, description: r.tests.fires.annotations?.description ?? ann.description, runbook_url: ann.runbook_url };
    return [
      {
        name: `${r.alert} fires`,
        interval: "1m",
        input_series: r.tests.fires.series.map((s) => ({ series: s.series, values: s.values })),
        alert_rule_test: [
          {
            eval_time: r.tests.fires.at,
            alertname: r.alert,
            exp_alerts: [{ exp_labels: { ...r.tests.fires.labels, ...r.labels, severity: r.severity }, exp_annotations: expected }],
          },
        ],
      },
      {
        name: `${r.alert} stays quiet`,
        interval: "1m",
        input_series: r.tests.quiet.series.map((s) => ({ series: s.series, values: s.values })),
        alert_rule_test: [{ eval_time: r.tests.quiet.at, alertname: r.alert, exp_alerts: [] }],
      },
    ];
  });
  return { rule_files: [ruleFile], evaluation_interval: "1m", tests };
}

/** The PromQL parser with its shared verdicts (query-syntax.ts). */
const PROMQL = querySyntax(parser, "StringLiteral");

/** Position of the first syntax error in a PromQL expression, or undefined when it parses. */
export function promqlSyntaxError(expr: string): number | undefined {
  return syntaxError(PROMQL, expr);
}

/**
 * What the build checks without promtool: every expression parses, every alert has both test cases and
 * a runbook section, names are unique within a group. `runbookPage(page)` returns the page's text, or undefined when missing.
 */
export function checkAlertGroups(groups: readonly AlertGroup[], runbookPage: (page: string) => string | undefined): Issue[] {
  const issues: Issue[] = [];
  for (const g of groups) {
    // Unique within a group; every app's group has its own AppDown, scoped to its namespace.
    const seen = new Set<string>();
    const subject = `PrometheusRule ${g.component}/${g.name}`;
    g.rules.forEach((r, i) => {
      const path = `/spec/groups/0/rules/${i}`;
      const issue = (message: string, check: string, sub = "") => issues.push({ subject, path: path + sub, message: `alert ${r.alert}: ${message}`, check });
      const err = promqlSyntaxError(r.expr);
      if (err !== undefined) issue(`PromQL syntax error at character ${err + 1} of '${r.expr}'`, "promql", "/expr");
      if (seen.has(r.alert)) issue(`declared twice in group ${g.name}`, "alert-rules", "/alert");
      seen.add(r.alert);
      const tests = r.tests as Partial<AlertRule["tests"]> | undefined;
      if (!tests?.fires?.series?.length) issue("has no unit-test case where it fires (tests.fires with input series)", "alert-tests");
      if (!tests?.quiet) issue("has no unit-test case where it stays quiet (tests.quiet)", "alert-tests");
      for (const [key, text] of [["summary", r.summary], ["description", r.description]] as const) {
        if (text.includes("{{") && tests?.fires && !tests.fires.annotations?.[key])
          issue(`${key} is a template: give its expanded text in tests.fires.annotations.${key}`, "alert-tests");
      }
      const page = runbookPage(r.runbook);
      if (page === undefined) issue(`runbook page ${RUNBOOK_DIR}/${r.runbook}.md does not exist`, "alert-runbook", "/annotations/runbook_url");
      else if (!new RegExp(`^##\\s+${r.alert}\\s*$`, "m").test(page)) issue(`${RUNBOOK_DIR}/${r.runbook}.md has no '## ${r.alert}' section`, "alert-runbook", "/annotations/runbook_url");
    });
  }
  return issues;
}
