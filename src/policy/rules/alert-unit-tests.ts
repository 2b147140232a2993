import { alertsOf } from "../lib/alerts.ts";
import { violation } from "../lib/util.ts";
import type { Rule, Violation } from "../types.ts";

export const alertUnitTests: Rule = {
  id: "alert-unit-tests",
  title: "Every alert has promtool unit tests",
  severity: "error",
  why: "An alert expression that was never run against sample series is a guess: it may never fire, or fire on every scrape.",
  fix: "Add a `promtool test rules` case in the component's alert tests that makes the alert fire (and one that keeps it quiet).",
  needsModel: true,
  skip: (ctx) => (ctx.model?.testedAlerts ? undefined : "skipped: the homelab model lists no promtool-tested alerts"),
  check(ctx) {
    const tested = ctx.model?.testedAlerts ?? new Set<string>();
    const out: Violation[] = [];
    for (const a of alertsOf(ctx.objects)) {
      if (!tested.has(a.alert)) out.push(violation(this, a.owner, `${a.path}/alert`, `alert ${a.alert} is not exercised by any promtool unit test`));
    }
    return out;
  },
};
