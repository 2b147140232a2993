import { alertsOf } from "../lib/alerts.ts";
import { rec, str, violation } from "../lib/util.ts";
import type { Rule, Violation } from "../types.ts";

export const alertRunbook: Rule = {
  id: "alert-runbook",
  title: "Every alert links to a runbook",
  severity: "error",
  why: "An alert that pages at 3 a.m. must say what to do. The runbook link travels with the notification to ntfy.",
  fix: "Add `annotations.runbook_url` with an http(s) link to the alert's runbook page.",
  check(ctx) {
    const out: Violation[] = [];
    for (const a of alertsOf(ctx.objects)) {
      const url = str(rec(a.rule.annotations).runbook_url);
      if (!url?.trim()) out.push(violation(this, a.owner, `${a.path}/annotations/runbook_url`, `alert ${a.alert} has no runbook_url annotation`));
      else if (!/^https?:\/\/\S+$/.test(url)) out.push(violation(this, a.owner, `${a.path}/annotations/runbook_url`, `alert ${a.alert} runbook_url '${url}' is not an http(s) link`));
    }
    return out;
  },
};
