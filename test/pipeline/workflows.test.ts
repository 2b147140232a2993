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
import { REPO, versions } from "../helpers.ts";

const DIR = join(REPO, ".forgejo/workflows");
const text = (f: string) => readFileSync(join(DIR, f), "utf8");
type Step = { uses?: string; run?: string; with?: Record<string, string>; env?: Record<string, string> };
type Workflow = { name: string; on: Record<string, any>; env?: Record<string, string>; jobs: Record<string, { if?: string; "runs-on": string; steps: Step[] }> };
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

  it("site builds apps/site/Dockerfile with the repository root as context and pushes it tagged with the commit", () => {
    const w = workflow("site.yaml");
    const all = runs(w);
    assert.match(all, /^docker build --file apps\/site\/Dockerfile --tag "\$IMAGE:\$GITHUB_SHA" \.$/m);
    assert.match(all, /^ {0}docker push "\$IMAGE:\$GITHUB_SHA"$/m);
    assert.match(all, /--password-stdin/);
    assert.doesNotMatch(all, /--password[ =](?!-stdin)/, "the token never goes on a command line");
    // The image the workflow pushes is the one the config deploys.
    assert.equal(w.env!.IMAGE, versions().images.site!.image);
    assert.equal(w.env!.REGISTRY, new URL(`https://${w.env!.IMAGE}`).host);
  });

  it("site bumps the tag in versions.yaml, re-renders and commits the new gitops/", () => {
    const all = runs(workflow("site.yaml"));
    const order = ["git pull --rebase origin main", 'node scripts/bump-image.mjs site "$GITHUB_SHA"', "npx homelab build --quiet", "git add versions.yaml gitops", 'git commit -m "site: roll out $GITHUB_SHA [site-bump]"', "git push origin HEAD:main"];
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
    assert.match(guard, /github\.actor != 'site-bot'/);
    assert.match(guard, /!contains\(github\.event\.head_commit\.message, '\[site-bump\]'\)/);
    assert.match(runs(w), /git commit -m "[^"]*\[site-bump\]"/);
    assert.equal(w.env!.BOT_NAME, "site-bot");
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
