import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InternalError, UserError } from "../../src/errors.ts";
import type { K8sObject, LocatedObject } from "../../src/model/k8s.ts";
import { ALL_RULES, exitCodeFor, policyContext, POLICY_EXIT, runPolicies, waiverObjectProblem, type Rule, type Waiver } from "../../src/policy/index.ts";

const TODAY = new Date("2026-03-10T23:30:00Z");

function deployment(ns: string, name: string, image: string): LocatedObject {
  const object: K8sObject = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: ns },
    spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "c", image }] } } },
  };
  return { file: `gitops/${ns}/deployment-${name}.yaml`, object };
}

const objects = [deployment("monitoring", "a", "x/a:latest"), deployment("monitoring", "b", "x/b:latest"), deployment("site", "site", "x/site")];
const ctx = policyContext({ objects, kubernetesVersion: "1.34" });
const only = ["image-pinned", "read-only-root-fs"];

function waiver(w: Partial<Waiver>): Waiver {
  return { rule: "image-pinned", object: "Deployment monitoring/*", reason: "upstream publishes no versioned tags yet", expires: "2026-06-30", ...w };
}

describe("runPolicies", () => {
  it("reports errors before warnings, each group sorted by rule, file and path", () => {
    const r = runPolicies(ctx, { waivers: [], today: TODAY, only });
    assert.deepEqual(
      r.violations.map((v) => `${v.severity} ${v.rule} ${v.subject}`),
      [
        "error image-pinned Deployment monitoring/a",
        "error image-pinned Deployment monitoring/b",
        "error image-pinned Deployment site/site",
        "warning read-only-root-fs Deployment monitoring/a",
        "warning read-only-root-fs Deployment monitoring/b",
        "warning read-only-root-fs Deployment site/site",
      ],
    );
    assert.deepEqual(r.counts, { errors: 3, warnings: 3, waived: 0 });
    assert.deepEqual(r.rules.map((o) => [o.id, o.status, o.violations]), [["image-pinned", "ran", 3], ["read-only-root-fs", "ran", 3]]);
  });

  it("a waiver with a glob moves matching violations to the waived list", () => {
    const r = runPolicies(ctx, { waivers: [waiver({})], today: TODAY, only: ["image-pinned"] });
    assert.deepEqual(r.violations.map((v) => v.subject), ["Deployment site/site"]);
    assert.deepEqual(r.waived.map((w) => w.violation.subject), ["Deployment monitoring/a", "Deployment monitoring/b"]);
    assert.equal(r.counts.waived, 2);
    assert.equal(r.rules[0]!.waived, 2);
  });

  it("a waiver only covers its own rule", () => {
    const r = runPolicies(ctx, { waivers: [waiver({})], today: TODAY, only });
    assert.equal(r.violations.filter((v) => v.rule === "read-only-root-fs").length, 3);
  });

  it("a waiver is still valid on its expiry day (UTC) and expired the day after", () => {
    const onDay = runPolicies(ctx, { waivers: [waiver({ expires: "2026-03-10" })], today: TODAY, only: ["image-pinned"] });
    assert.equal(onDay.counts.waived, 2);
    assert.equal(onDay.violations.some((v) => v.rule === "waiver-expired"), false);

    const after = runPolicies(ctx, { waivers: [waiver({ expires: "2026-03-09" })], today: TODAY, only: ["image-pinned"] });
    assert.equal(after.counts.waived, 0, "an expired waiver waives nothing");
    const expired = after.violations.filter((v) => v.rule === "waiver-expired");
    assert.deepEqual(expired, [
      {
        rule: "waiver-expired",
        severity: "error",
        subject: "Waiver image-pinned Deployment monitoring/*",
        file: "homelab.config.ts",
        path: "/policy/waivers/0/expires",
        message: "waiver expired on 2026-03-09 (reason given: upstream publishes no versioned tags yet)",
      },
    ]);
    assert.equal(after.counts.errors, 4);
    assert.equal(exitCodeFor(after), POLICY_EXIT.errors);
  });

  it("a waiver that matches nothing is a warning", () => {
    const r = runPolicies(ctx, { waivers: [waiver({ object: "Deployment gone/*" })], today: TODAY, only: ["image-pinned"], waiverSource: "my.config.ts" });
    const unused = r.violations.filter((v) => v.rule === "waiver-unused");
    assert.deepEqual(unused.map((v) => [v.severity, v.subject, v.file, v.path]), [["warning", "Waiver image-pinned Deployment gone/*", "my.config.ts", "/policy/waivers/0"]]);
  });

  it("a waiver for a rule that did not run is neither used nor unused", () => {
    const r = runPolicies(ctx, { waivers: [waiver({ rule: "probes" })], today: TODAY, only: ["image-pinned"] });
    assert.equal(r.violations.some((v) => v.rule.startsWith("waiver-")), false);
    const skipped = runPolicies(ctx, { waivers: [waiver({ rule: "backup-coverage" })], today: TODAY });
    assert.equal(skipped.violations.some((v) => v.rule.startsWith("waiver-")), false, "backup-coverage is skipped without a model");
  });

  it("with --rule, other rules' waivers are not judged at all, expired or invalid", () => {
    const others = [waiver({ rule: "probes", expires: "2020-01-01" }), waiver({ rule: "no-such-rule" }), waiver({ rule: "probes", object: "Deployment *" })];
    const r = runPolicies(ctx, { waivers: others, today: TODAY, only: ["image-pinned"] });
    assert.deepEqual(r.violations.filter((v) => v.rule.startsWith("waiver-")), []);
    const all = runPolicies(ctx, { waivers: others, today: TODAY, only: ["image-pinned", "probes"] });
    assert.deepEqual(all.violations.filter((v) => v.rule.startsWith("waiver-")).map((v) => [v.rule, v.path]), [
      ["waiver-expired", "/policy/waivers/0/expires"],
      ["waiver-invalid", "/policy/waivers/2/object"],
    ]);
  });

  it("a waiver may expire at most a year ahead", () => {
    const only = ["image-pinned"];
    const lastDay = runPolicies(ctx, { waivers: [waiver({ expires: "2027-03-10" })], today: TODAY, only });
    assert.equal(lastDay.counts.waived, 2);
    assert.deepEqual(lastDay.violations.filter((v) => v.rule.startsWith("waiver-")), []);
    const far = runPolicies(ctx, { waivers: [waiver({ expires: "2099-12-31" })], today: TODAY, only });
    assert.equal(far.counts.waived, 0, "a waiver too far ahead waives nothing");
    assert.deepEqual(far.violations.filter((v) => v.rule === "waiver-invalid").map((v) => [v.path, v.message]), [
      [
        "/policy/waivers/0/expires",
        "waiver expires on 2099-12-31, more than 365 days after today (2026-03-10); set a date by 2027-03-10 and renew it in a reviewed commit if the reason still holds",
      ],
    ]);
    assert.equal(runPolicies(ctx, { waivers: [waiver({ expires: "2027-03-11" })], today: TODAY, only }).counts.waived, 0);
  });

  it("a waiver names its namespace exactly: `Deployment *` would waive the rule everywhere", () => {
    const r = runPolicies(ctx, { waivers: [waiver({ object: "Deployment *" })], today: TODAY, only: ["image-pinned"] });
    assert.equal(r.counts.waived, 0);
    assert.deepEqual(r.violations.filter((v) => v.rule === "waiver-invalid").map((v) => [v.path, v.message]), [
      ["/policy/waivers/0/object", "waiver object 'Deployment *' needs a namespace: Deployment lives in one, write 'Deployment <namespace>/*'"],
    ]);
  });

  it("waiverObjectProblem accepts exact kinds and namespaces, globs only in names", () => {
    for (const ok of ["Deployment monitoring/*", "Deployment monitoring/graf*", "ClusterRole argocd-*", "Widget some-name", "Widget ns/name"]) assert.equal(waiverObjectProblem(ok), undefined, ok);
    const bad: [string, RegExp][] = [
      ["Deployment *", /needs a namespace/],
      ["Deployment */web", /must name its namespace exactly/],
      ["Deployment /web", /must name its namespace exactly/],
      ["Deployment mon*/web", /must name its namespace exactly/],
      ["* monitoring/web", /must name its kind exactly/],
      ["ClusterRole ns/admin", /cluster-scoped, write 'ClusterRole <name>'/],
      ["hosts/*/compose.yaml", /secrets\/scan-waivers\.yaml/],
      ["Deployment", /is not `Kind namespace\/name`/],
      ["Deployment ns/a/b", /is not `Kind namespace\/name`/],
    ];
    for (const [object, re] of bad) assert.match(waiverObjectProblem(object) ?? "", re, object);
  });

  it("a waiver naming an unknown rule or an impossible date is an error", () => {
    const rules = ALL_RULES.filter((r) => r.id === "image-pinned");
    const r = runPolicies(ctx, { waivers: [waiver({ rule: "no-such-rule" }), waiver({ expires: "2026-02-30" })], today: TODAY, rules });
    assert.deepEqual(
      r.violations.filter((v) => v.rule === "waiver-invalid").map((v) => [v.path, v.message]),
      [
        // Sorted by subject: `Waiver image-pinned …` before `Waiver no-such-rule …`.
        ["/policy/waivers/1/expires", "waiver expiry '2026-02-30' is not a YYYY-MM-DD date"],
        ["/policy/waivers/0", "waiver names unknown rule 'no-such-rule'"],
      ],
    );
    assert.deepEqual(r.rules.map((o) => o.id), ["image-pinned", "waiver-invalid"]);
  });

  it("refuses unknown rule ids in `only`", () => {
    assert.throws(() => runPolicies(ctx, { waivers: [], today: TODAY, only: ["image-pinned", "nope"] }), (e: unknown) => e instanceof UserError && /unknown rule id 'nope'/.test(e.message));
  });

  it("turns a crashing rule into an internal error naming the rule", () => {
    const broken: Rule = {
      id: "broken",
      title: "Broken",
      severity: "error",
      why: "test",
      fix: "test",
      check() {
        throw new TypeError("boom");
      },
    };
    assert.throws(() => runPolicies(ctx, { waivers: [], today: TODAY, rules: [broken] }), (e: unknown) => e instanceof InternalError && /policy rule broken crashed: TypeError: boom/.test(e.message));
  });

  it("skips model rules on foreign input with one note each, and runs them with a model", () => {
    const r = runPolicies(ctx, { waivers: [], today: TODAY, only: ["backup-coverage", "ha-shape"] });
    assert.deepEqual(r.notes.map((n) => n.rule), ["backup-coverage", "ha-shape"]);
    assert.match(r.notes[0]!.message, /needs the homelab model/);
    assert.deepEqual(r.rules.map((o) => o.status), ["skipped", "skipped"]);
    const withModel = runPolicies(policyContext({ objects, model: { nodes: 1, gitRepoURL: "https://git.example.org/a/b.git", allowedChartRepos: [] } }), {
      waivers: [],
      today: TODAY,
      only: ["backup-coverage", "ha-shape"],
    });
    assert.deepEqual(withModel.notes, []);
    assert.deepEqual(withModel.rules.map((o) => o.status), ["ran", "ran"]);
  });
});

describe("exitCodeFor", () => {
  const base = runPolicies(ctx, { waivers: [], today: TODAY, only: ["read-only-root-fs"] });
  it("is 3 for warnings only, 1 with --fail-on-warning, 1 for errors, 0 when clean", () => {
    assert.equal(exitCodeFor(base), 3);
    assert.equal(exitCodeFor(base, { failOnWarning: true }), 1);
    assert.equal(exitCodeFor(runPolicies(ctx, { waivers: [], today: TODAY, only })), 1);
    assert.equal(exitCodeFor(runPolicies(policyContext({ objects: [] }), { waivers: [], today: TODAY })), 0);
  });
});
