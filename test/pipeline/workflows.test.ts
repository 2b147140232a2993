/**
 * The Forgejo Actions workflows, checked with a real workflow linter from the npm registry
 * (@action-validator/core: GitHub's workflow schema from SchemaStore plus its own checks; Forgejo Actions
 * reads the same syntax), and the site pipeline's promises: the image definition it builds, the tag it
 * bumps, and that its own bump commit cannot trigger it again.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { validateWorkflow } from "@action-validator/core";
import { parse } from "yaml";
import { config, REPO, versions } from "../helpers.ts";
import { platform } from "../../src/platform/platform.ts";
import { render } from "../../src/render/render.ts";

const DIR = join(REPO, ".forgejo/workflows");
const text = (f: string) => readFileSync(join(DIR, f), "utf8");
type Step = { uses?: string; run?: string; with?: Record<string, string>; env?: Record<string, string> };
type Workflow = { name: string; on: Record<string, any>; env?: Record<string, string>; jobs: Record<string, { if?: string; "runs-on": string; env?: Record<string, string>; steps: Step[] }> };
const workflow = (f: string) => parse(text(f)) as Workflow;
const runs = (w: Workflow) => Object.values(w.jobs).flatMap((j) => j.steps.map((s) => s.run ?? "")).join("\n");

/** The linter prints a note about globs it does not check yet; keep the test output clean. */
function lint(src: string) {
  const warn = console.warn;
  const log = console.log;
  console.warn = () => {};
  console.log = () => {};
  try {
    return validateWorkflow(src);
  } finally {
    console.warn = warn;
    console.log = log;
  }
}

/**
 * The longest wait, in days, between two runs of the weekly cron schedules (`M H * * DOW`): only the
 * day-of-week form is read; anything else is refused so the test never guesses.
 */
function longestGapDays(crons: string[]): number {
  const times: number[] = [];
  for (const c of crons) {
    const f = c.trim().split(/\s+/);
    assert.equal(f.length, 5, `${c}: five cron fields`);
    const [min, hour, dom, month, dow] = f as [string, string, string, string, string];
    assert.ok(/^\d+$/.test(min) && /^\d+$/.test(hour), `${c}: a fixed minute and hour`);
    assert.ok(dom === "*" && month === "*", `${c}: every day of month and month, the days given by day of week`);
    const days = dow === "*" ? [0, 1, 2, 3, 4, 5, 6] : dow.split(",").flatMap((p) => {
      const [a, b] = p.split("-").map(Number) as [number, number?];
      assert.ok(Number.isInteger(a) && a >= 0 && a <= 7 && (b === undefined || (Number.isInteger(b) && b >= a && b <= 7)), `${c}: day of week ${p}`);
      return Array.from({ length: (b ?? a) - a + 1 }, (_, i) => (a + i) % 7);
    });
    for (const d of days) times.push(d * 1440 + Number(hour) * 60 + Number(min));
  }
  const sorted = [...new Set(times)].sort((a, b) => a - b);
  const gaps = sorted.map((t, i) => (i + 1 < sorted.length ? sorted[i + 1]! - t : sorted[0]! + 7 * 1440 - t));
  return Math.max(...gaps) / 1440;
}

/**
 * A job's `if:` expression evaluated against an event's context: the operators and functions the workflow
 * uses (`==`, `!=`, `&&`, `||`, `!`, `contains`), with a missing property read as null as Actions does.
 */
function evaluate(expr: string, ctx: Record<string, unknown>): boolean {
  const body = expr.replace(/^\$\{\{\s*|\s*\}\}$/g, "");
  const js = body
    .replace(/'([^']*)'/g, (_, v: string) => JSON.stringify(v))
    .replace(/\b(github(?:\.[A-Za-z_]+)+)/g, (_, path: string) => `get(${JSON.stringify(path)})`);
  assert.match(js.replace(/get\("[^"]*"\)|"[^"]*"|contains|==|!=|&&|\|\||[!()\s,]/g, ""), /^$/, `unexpected syntax in ${expr}`);
  const get = (path: string) => path.split(".").reduce<unknown>((o, k) => (o && typeof o === "object" ? ((o as Record<string, unknown>)[k] ?? null) : null), ctx);
  const contains = (hay: unknown, needle: unknown) => typeof hay === "string" && typeof needle === "string" && hay.toLowerCase().includes(needle.toLowerCase());
  return Boolean(new Function("get", "contains", `return (${js.replace(/([!=])=/g, "$1==")});`)(get, contains));
}

/** GitHub/Forgejo path filter globs: `**` crosses folders, `*` does not. */
function globMatches(glob: string, path: string): boolean {
  const re = glob
    .split("**")
    .map((part) => part.replace(/[.+^${}()|[\]\\?]/g, "\\$&").replace(/\*/g, "[^/]*"))
    .join(".*");
  return new RegExp(`^${re}$`).test(path);
}

describe(".forgejo/workflows", () => {
  it("holds exactly ci.yaml and site.yaml, and each passes the workflow linter", () => {
    assert.deepEqual(readdirSync(DIR).sort(), ["ci.yaml", "site.yaml"]);
    for (const f of readdirSync(DIR)) assert.deepEqual(lint(text(f)).errors, [], f);
  });

  it("the linter is real: it refuses a misspelled key, a job without runs-on and a bad trigger", () => {
    const bad = text("ci.yaml").replace("runs-on: docker", "runs_on: docker");
    const errors = lint(bad).errors;
    assert.ok(errors.length > 0);
    assert.ok(errors.some((e) => "path" in e && e.path === "/jobs/test"), JSON.stringify(errors));
    assert.ok(lint(text("ci.yaml").replace("  pull_request:", "  pull_requests:")).errors.length > 0);
    assert.ok(lint(text("site.yaml").replace("timeout-minutes: 30", "timeout-minutes: soon")).errors.length > 0);
    // The schedule's shape is checked (its cron string is not: the weekly test below reads it).
    assert.ok(lint(text("site.yaml").replace("    - cron:", "    - crn:")).errors.length > 0);
  });

  it("ci runs on every push and pull request: install, the README's test command, build --check, the scanner", () => {
    const w = workflow("ci.yaml");
    assert.deepEqual(Object.keys(w.on).sort(), ["pull_request", "push"]);
    assert.equal(w.on.push, null, "no branch or path filter: every push");
    assert.equal(w.on.pull_request, null);
    const readme = readFileSync(join(REPO, "README.md"), "utf8");
    assert.ok(/^npm ci && npm test +# type-check and run every test/m.test(readme), "the README's test command is npm ci && npm test");
    const steps = w.jobs.test!.steps;
    assert.equal(steps[0]!.uses, "actions/checkout@v4");
    assert.deepEqual(steps.slice(1).map((s) => s.run), ["npm ci --no-audit --no-fund", "npm test", "npx homelab build --check --no-cache", "npx homelab secrets scan"]);
    assert.deepEqual(steps[3]!.env, { HOMELAB_REQUIRE_PROMTOOL: "1" });
  });

  it("site builds apps/site/Dockerfile with the repository root as context and pushes it under the run's own tag", () => {
    const w = workflow("site.yaml");
    const all = runs(w);
    const build = w.jobs.publish!.steps.find((s) => s.run?.startsWith("docker build"))!.run!.replace(/\\\n\s*/g, "");
    assert.match(build, /^docker build --file apps\/site\/Dockerfile --tag "\$IMAGE:\$TAG" .* \.\n?$/);
    // The image knows where it came from (the site's provenance footer).
    for (const arg of ['SITE_COMMIT="$GITHUB_SHA"', 'SITE_IMAGE_TAG="$TAG"', "SITE_GITOPS_REVISION=", "SITE_BUILD_TIME="]) assert.ok(build.includes(`--build-arg ${arg}`), arg);
    for (const arg of ["SITE_COMMIT", "SITE_IMAGE_TAG", "SITE_GITOPS_REVISION", "SITE_BUILD_TIME"]) assert.match(readFileSync(join(REPO, "apps/site/Dockerfile"), "utf8"), new RegExp(`^ARG ${arg}$`, "m"));
    assert.match(all, /^ {0}docker push "\$IMAGE:\$TAG"$/m);
    assert.match(all, /--password-stdin/);
    assert.doesNotMatch(all, /--password[ =](?!-stdin)/, "the token never goes on a command line");
    // The image the workflow pushes is the one the config deploys.
    assert.equal(w.env!.IMAGE, versions().images.site!.image);
    assert.equal(w.env!.REGISTRY, new URL(`https://${w.env!.IMAGE}`).host);
  });

  it("site bumps the tag in versions.yaml, re-renders and commits the new gitops/", () => {
    const all = runs(workflow("site.yaml"));
    const order = ["git pull --rebase origin main", 'node scripts/bump-image.mjs site "$TAG"', "npx homelab build --quiet", "git add versions.yaml gitops", 'git commit -m "site: roll out $TAG [site-bump]"', "git push origin HEAD:main"];
    const at = order.map((c) => all.indexOf(c));
    assert.ok(at.every((i) => i >= 0), JSON.stringify(at));
    assert.deepEqual(at, [...at].sort((a, b) => a - b));
  });

  it("site is loop-safe: its bump commit matches none of its paths, and its guard refuses the bot's commits", () => {
    const w = workflow("site.yaml");
    const paths: string[] = w.on.push.paths;
    const added = /^git add (.+)$/m.exec(runs(w))![1]!.split(" ");
    assert.deepEqual(added, ["versions.yaml", "gitops"]);
    for (const f of ["versions.yaml", "gitops/site/deployment-site.yaml", "gitops/root/application-site.yaml", "hosts/k8s-worker-3090/compose.yaml"])
      assert.ok(!paths.some((g) => globMatches(g, f)), `${f} would trigger the site workflow again`);
    // …while a change of the site does trigger it.
    for (const f of ["apps/site/src/server/main.ts", "docs/bootstrap.md", "packages/telemetry/src/index.ts", "apps/site/Dockerfile"])
      assert.ok(paths.some((g) => globMatches(g, f)), `${f} does not trigger the site workflow`);
    const guard = w.jobs.publish!.if!;
    const push = (actor: string, message: string) => ({ github: { event_name: "push", actor, event: { head_commit: { message } } } });
    assert.equal(evaluate(guard, push("alice", "docs: explain the tunnels")), true, "a change of the site builds");
    assert.equal(evaluate(guard, push("site-bot", "anything")), false, "the bot's push does not");
    assert.equal(evaluate(guard, push("alice", "site: roll out abc-1 [site-bump]")), false, "nor a bump commit pushed by someone else");
    assert.match(runs(w), /git commit -m "[^"]*\[site-bump\]"/);
    assert.equal(w.env!.BOT_NAME, "site-bot");
  });

  it("site runs weekly, more often than the AppStale alert's limit, and the scheduled run is never refused by the guard", () => {
    const w = workflow("site.yaml");
    const crons = ((w.on.schedule ?? []) as { cron: string }[]).map((s) => s.cron);
    assert.ok(crons.length > 0, "site.yaml has an on.schedule");
    const gap = longestGapDays(crons);
    const site = config().apps.find((a) => a.name === "site")!;
    assert.ok(site.maxBuildAgeDays !== undefined, "the site has an AppStale limit");
    assert.ok(gap <= 7, `a run at least weekly (longest gap ${gap} days)`);
    assert.ok(gap + 1 <= site.maxBuildAgeDays!, `AppStale fires after ${site.maxBuildAgeDays} days; the schedule leaves ${gap} days between runs, a day of slack is needed for the build and rollout`);
    // Forgejo starts a scheduled run as its own actions user with the schedule payload: no head commit.
    // Older releases named the user who last pushed to main, which may be the bot: the schedule still builds.
    for (const actor of ["forgejo-actions", "site-bot"]) assert.equal(evaluate(w.jobs.publish!.if!, { github: { event_name: "schedule", actor, event: { action: "created" } } }), true, actor);
    // The helpers are real: a monthly schedule is refused as too rare, and an unknown field form is not guessed.
    assert.equal(longestGapDays(["17 4 * * 1,4"]), 4);
    assert.equal(longestGapDays(["0 0 * * *"]), 1);
    assert.throws(() => longestGapDays(["17 4 1 * *"]));
    assert.equal(evaluate("${{ github.event_name == 'schedule' }}", { github: { event_name: "push" } }), false);
  });

  it("site tags every run differently, so a rebuild of the same commit rolls out a new ReplicaSet", () => {
    const w = workflow("site.yaml");
    const tag = w.jobs.publish!.env!.TAG!;
    assert.equal(tag, "${{ github.sha }}-${{ github.run_number }}");
    const all = runs(w);
    assert.doesNotMatch(all, /\$GITHUB_SHA"?\s*(\[|$)|:\$GITHUB_SHA/m, "no step tags or bumps by the commit alone");
    // Two runs of one commit: two tags, both valid, and two different pod templates (a new ReplicaSet each).
    const sha = "0123456789abcdef0123456789abcdef01234567";
    const template = (t: string) => {
      const input = structuredClone(config());
      const site = input.apps.find((a) => a.name === "site")!;
      const p = platform(config({ apps: input.apps.map((a) => (a === site ? { ...a, tag: t } : a)) }), versions());
      const d = render(p).objects.find((o) => o.object.kind === "Deployment" && o.object.metadata.name === "site")!.object as unknown as { spec: { template: unknown } };
      return JSON.stringify(d.spec.template);
    };
    const [first, second] = [`${sha}-41`, `${sha}-42`];
    assert.notEqual(template(first), template(second));
    assert.ok(template(first).includes(`site:${first}`));
  });
});

describe("scripts/bump-image.mjs", () => {
  const run = (args: string[]) => spawnSync(process.execPath, [join(REPO, "scripts/bump-image.mjs"), ...args], { encoding: "utf8" });

  it("changes exactly the image's tag line, keeping comments and layout", () => {
    const dir = mkdtempSync(join(tmpdir(), "homelab-bump-"));
    try {
      const file = join(dir, "versions.yaml");
      const before = readFileSync(join(REPO, "versions.yaml"), "utf8");
      writeFileSync(file, before);
      const sha = "0123456789abcdef0123456789abcdef01234567";
      const res = run(["site", sha, file]);
      assert.equal(res.status, 0, res.stderr);
      const after = readFileSync(file, "utf8");
      const diff = before.split("\n").map((l, i) => [l, after.split("\n")[i]]).filter(([a, b]) => a !== b);
      assert.deepEqual(diff, [[`    tag: ${versions().images.site!.tag}`, `    tag: ${sha}`]]);
      assert.equal(run(["site", "bad tag!", file]).status, 2);
      assert.equal(run(["nosuchimage", sha, file]).status, 1);
      assert.equal(readFileSync(file, "utf8"), after, "a refused bump writes nothing");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
