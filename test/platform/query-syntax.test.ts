/**
 * Shared syntax verdicts for PromQL and LogQL queries of the same shape (src/platform/lib/query-syntax.ts):
 * the shape, that many apps' queries are parsed once per shape, that a broken query among them is still
 * found and named, and a property comparing every verdict with a fresh parse of the same query.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { parser as promqlParser } from "@prometheus-io/lezer-promql";
import { parser as logqlParser } from "@grafana/lezer-logql";
import type { LRParser } from "@lezer/lr";
import { querySyntax, shapeOf, syntaxError } from "../../src/platform/lib/query-syntax.ts";
import { checkAlertGroups, type AlertGroup } from "../../src/platform/lib/alerts.ts";
import { checkDashboards, type DashboardDef } from "../../src/platform/lib/dashboards.ts";
import { platform } from "../../src/platform/platform.ts";
import { config, defaultInputCopy, versions } from "../helpers.ts";

/** The parser's verdict on its own, without any sharing. */
function fresh(parser: LRParser, q: string): number | undefined {
  let at: number | undefined;
  parser.parse(q).iterate({
    enter: (n) => {
      if (at === undefined && n.type.isError) at = n.from;
      return at === undefined;
    },
  });
  return at;
}

describe("query shapes", () => {
  it("collapse the name-like runs inside double-quoted strings, keep escapes and everything outside", () => {
    assert.deepEqual(shapeOf('up{namespace="bench-app-7",job=~"a\\\\.b|c"} > 0'), {
      key: 'up{namespace="a",job=~"a\\\\.a|a"} > 0',
      strings: [[13, 26], [32, 41]],
    });
    assert.equal(shapeOf('x{a="one"}')!.key, shapeOf('x{a="two-2_x"}')!.key);
    assert.notEqual(shapeOf('x{a="one"}')!.key, shapeOf('x{a=""}')!.key, "an empty string is another shape");
    assert.notEqual(shapeOf('x{a="o.e"}')!.key, shapeOf('x{a="one"}')!.key, "punctuation stays");
    assert.notEqual(shapeOf('x{a="o\\"e"}')!.key, shapeOf('x{a="one"}')!.key, "an escaped quote stays");
    assert.notEqual(shapeOf('sum(x{a="b"})')!.key, shapeOf('max(x{a="b"})')!.key, "outside the strings nothing is collapsed");
  });

  it("are not given to queries with a comment, a line break, single or back quotes, or an unterminated string", () => {
    for (const q of ['x{a="b"} # c', 'x{a="b"}\n+ y', "x{a='b'}", '{a="b"} |= `c`', 'x{a="b', 'x{a="b\\']) assert.equal(shapeOf(q), undefined, q);
  });
});

describe("shared verdicts", () => {
  const appQuery = (name: string) => `sum by (host) (rate(nginx_ingress_controller_requests{host=~"${name}\\\\.skypalette\\\\.ai",status=~"5.."}[5m])) / sum(kube_deployment_status_replicas_available{namespace="${name}",deployment="${name}"})`;

  it("1000 apps' queries of one shape are parsed once; a broken one among them is still found, at its own position", () => {
    const s = querySyntax(promqlParser, "StringLiteral");
    for (let i = 0; i < 1000; i++) assert.equal(syntaxError(s, appQuery(`app-${i}`)), undefined);
    assert.equal(s.parses, 1);
    const broken = appQuery("app-500").replace("[5m]))", "[5m])");
    assert.notEqual(fresh(promqlParser, broken), undefined);
    assert.equal(syntaxError(s, broken), fresh(promqlParser, broken));
    // A string that closes early (an unescaped quote inside) is another shape, parsed on its own.
    const quote = appQuery('app-1"x');
    assert.equal(syntaxError(s, quote), fresh(promqlParser, quote));
    assert.notEqual(fresh(promqlParser, quote), undefined);
  });

  it("LogQL: the same, with its own string node", () => {
    const s = querySyntax(logqlParser, "String");
    const q = (name: string) => `sum by (level) (count_over_time({job="kubernetes/pods", namespace="${name}"} |= "error" [5m]))`;
    for (let i = 0; i < 200; i++) assert.equal(syntaxError(s, q(`app-${i}`)), undefined);
    assert.equal(s.parses, 1);
    const broken = q("app-9").replace("[5m]", "[5m");
    assert.notEqual(syntaxError(s, broken), undefined);
    assert.equal(syntaxError(s, broken), fresh(logqlParser, broken));
  });

  it("every verdict is the parser's own, over queries that share shapes and ones that nearly do", () => {
    // Few templates and small alphabets, so that many generated queries share a shape with an earlier one.
    const content = fc.array(fc.constantFrom("a", "b", "7", "-", "_", ".", "|", " ", "\\\\", '\\"', '"', "\\", "{", "}", "$", "#", "'", "x", "\n"), { maxLength: 6 }).map((a) => a.join(""));
    const templates = [
      (a: string, b: string) => `up{namespace="${a}",job=~"${b}"} > 0`,
      (a: string, b: string) => `sum by (x) (rate(m{a="${a}"}[5m])) / count(n{b!="${b}"})`,
      (a: string, b: string) => `{job="${a}"} |= "${b}"`,
      (a: string, b: string) => `count_over_time({a="${a}"} |~ "${b}" [1m])`,
      (a: string, b: string) => `label_replace(v, "${a}", "$1", "src", "${b}")`,
      (a: string, b: string) => `x{"${a}"="${b}"}`,
    ];
    const query = fc.tuple(fc.nat({ max: templates.length - 1 }), content, content).map(([t, a, b]) => templates[t]!(a, b));
    for (const [parser, node] of [[promqlParser, "StringLiteral"], [logqlParser, "String"]] as const) {
      const s = querySyntax(parser, node);
      fc.assert(
        fc.property(query, (q) => syntaxError(s, q) === fresh(parser, q)),
        { numRuns: 3000 },
      );
      assert.ok(s.parses < 3000, "some verdicts were shared");
    }
  });
});

describe("the build's checks over many apps", () => {
  const apps = [...(defaultInputCopy().apps ?? []), ...Array.from({ length: 120 }, (_, i) => ({ name: `extra-${i}`, image: `git.skypalette.ai/x/app-${i}`, tag: "1.0.0", port: 8080, host: `extra-${i}.skypalette.ai` }))];
  const big = platform(config({ apps } as never), versions());

  it("a broken dashboard query in one app among many is named with its dashboard and panel", () => {
    assert.deepEqual(checkDashboards(big.dashboards), []);
    const victim = big.dashboards.findIndex((d) => d.uid.includes("extra-77"));
    assert.ok(victim >= 0);
    const defs: DashboardDef[] = big.dashboards.map((d, i) => {
      if (i !== victim) return d;
      const json = JSON.parse(JSON.stringify(d.json)) as { panels: { targets?: { expr: string }[] }[] };
      const target = json.panels.find((p) => p.targets?.some((t) => t.expr.includes("namespace=")))!.targets!.find((t) => t.expr.includes("namespace="))!;
      target.expr = target.expr.replace(/\)$/, "");
      return { ...d, json } as DashboardDef;
    });
    const issues = checkDashboards(defs);
    assert.equal(issues.length, 1, JSON.stringify(issues));
    assert.match(issues[0]!.subject, /extra-77/);
    assert.match(issues[0]!.message, /syntax error/);
  });

  it("a broken alert expression in one app among many is named with its group", () => {
    const groups = big.components.flatMap((c) => c.alertGroups);
    assert.deepEqual(checkAlertGroups(groups, () => "## AppDown\n## AppStale\n").filter((i) => i.check === "promql"), []);
    const broken: AlertGroup[] = groups.map((g) => (g.name === "extra-31-availability" ? { ...g, rules: g.rules.map((r) => ({ ...r, expr: r.expr.replace("})", "}") })) } : g));
    const issues = checkAlertGroups(broken, () => undefined).filter((i) => i.check === "promql");
    assert.equal(issues.length, 1, JSON.stringify(issues));
    assert.match(issues[0]!.subject, /extra-31-availability/);
  });
});
