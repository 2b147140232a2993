/**
 * The site's image definition (apps/site/Dockerfile). No Docker engine runs here, so: a real Dockerfile
 * linter (dockerfile-utils, the validator of the Docker language server) with every check an error, the
 * properties the cluster relies on read from the parsed file, and the final stage's contents rebuilt
 * without Docker — the deps stage's own `npm ci` command from the lockfile, the bundled server, a site —
 * then run read-only as the image runs it.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { get as httpGet } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { DockerfileParser, type Instruction } from "dockerfile-ast";
import { validate, ValidationSeverity } from "dockerfile-utils";
import { makeSite } from "./server/helpers.ts";

const REPO = resolve(import.meta.dirname, "../../..");
const DOCKERFILE = join(REPO, "apps/site/Dockerfile");
const text = readFileSync(DOCKERFILE, "utf8");
const parsed = DockerfileParser.parse(text);

interface Stage {
  readonly name: string;
  readonly from: string;
  readonly instructions: Instruction[];
}

function stages(): Stage[] {
  const out: Stage[] = [];
  for (const i of parsed.getInstructions()) {
    if (i.getKeyword() === "FROM") {
      const [from, , name] = i.getArguments().map((a) => a.getValue());
      out.push({ name: name ?? String(out.length), from: from!, instructions: [] });
    } else out.at(-1)?.instructions.push(i);
  }
  return out;
}
const stage = (name: string) => stages().find((s) => s.name === name)!;
const args = (i: Instruction) => i.getArguments().map((a) => a.getValue());
const of = (s: Stage, kw: string) => s.instructions.filter((i) => i.getKeyword() === kw);

test("the linter finds nothing, with every check it has turned into an error", () => {
  const strict = {
    deprecatedMaintainer: ValidationSeverity.ERROR,
    directiveCasing: ValidationSeverity.ERROR,
    emptyContinuationLine: ValidationSeverity.ERROR,
    instructionCasing: ValidationSeverity.ERROR,
    instructionCmdMultiple: ValidationSeverity.ERROR,
    instructionEntrypointMultiple: ValidationSeverity.ERROR,
    instructionHealthcheckMultiple: ValidationSeverity.ERROR,
    instructionJSONInSingleQuotes: ValidationSeverity.ERROR,
    instructionWorkdirRelative: ValidationSeverity.ERROR,
  };
  assert.deepEqual(validate(text, strict).map((d) => `line ${d.range.start.line + 1}: ${d.message}`), []);
  // The linter is not a rubber stamp.
  assert.ok(validate("FROM node\nEXPOSE http\nwrkdir x\nCMD ['node']\n", strict).length >= 3);
});

test("multi-stage from one pinned Node image; the final stage installs nothing and runs node as an unprivileged user", () => {
  const all = stages();
  assert.deepEqual(all.map((s) => s.name), ["node", "build", "deps", "runtime"]);
  assert.match(all[0]!.from, /^node:\d+\.\d+\.\d+-[a-z]+-slim$/, "an exact Node version, not a moving tag");
  for (const s of all.slice(1)) assert.equal(s.from, "node", `${s.name} builds on the one pinned image`);
  const runtime = stage("runtime");
  assert.deepEqual(of(runtime, "RUN"), [], "nothing runs (or is written) in the final stage at build time");
  const [user] = of(runtime, "USER").map(args);
  assert.match(user![0]!, /^[1-9]\d*:[1-9]\d*$/, "a numeric non-root uid:gid, so that runAsNonRoot can verify it");
  const cmd = of(runtime, "CMD")[0]!;
  const argv = JSON.parse(cmd.getArgumentsContent()!) as string[];
  assert.equal(argv[0], "node", "exec form, node as PID 1 (SIGTERM reaches it)");
  assert.equal(argv.at(-1), "apps/site/dist/server/main.js");
  assert.deepEqual(of(runtime, "ENTRYPOINT"), []);
  const env = Object.fromEntries(of(runtime, "ENV").flatMap((i) => (i as any).getProperties().map((p: any) => [p.getName(), p.getValue()])));
  assert.equal(env.NODE_ENV, "production");
  assert.deepEqual(of(runtime, "EXPOSE").map(args), [[env.PORT]]);
  // What the final stage takes: production node_modules from deps, the bundle and the site from build.
  const copies = of(runtime, "COPY").map((i) => ({ from: (i as any).getFromFlag()?.getValue() as string | undefined, src: args(i)[0]! }));
  assert.deepEqual(copies.filter((c) => c.src.includes("node_modules")), [{ from: "deps", src: "/app/node_modules" }]);
  assert.ok(copies.every((c) => c.from === "deps" || c.from === "build"), "the final stage copies nothing from the context");
  assert.ok(!copies.some((c) => c.from === "build" && /node_modules|\/src\/(src|packages)|^\/src\/?$/.test(c.src)), JSON.stringify(copies));
});

test("dependencies come from the lockfile only: npm ci everywhere, production-only for the final stage", () => {
  const runs = stages().flatMap((s) => of(s, "RUN").map((i) => ({ stage: s.name, cmd: i.getArgumentsContent()!.replace(/\s+/g, " ") })));
  const npm = runs.flatMap((r) => r.cmd.split("&&").map((c) => ({ stage: r.stage, cmd: c.trim() }))).filter((r) => r.cmd.startsWith("npm "));
  for (const r of npm) assert.match(r.cmd, /^npm (ci|cache clean) /, `${r.stage}: ${r.cmd}`);
  const deps = npm.find((r) => r.stage === "deps" && r.cmd.startsWith("npm ci"))!;
  assert.match(deps.cmd, /--omit=dev/);
  assert.match(deps.cmd, /--workspace @sky-palette\/site/);
  assert.match(deps.cmd, /--ignore-scripts/);
  // The manifests an `npm ci` of the workspaces needs are copied before it, from paths that exist.
  for (const s of [stage("build"), stage("deps")]) {
    const copied = of(s, "COPY").flatMap((i) => args(i).slice(0, -1));
    for (const f of ["package.json", "package-lock.json", "packages/telemetry/package.json", "apps/site/package.json"]) assert.ok(copied.includes(f) || copied.includes("."), `${s.name} copies ${f}`);
  }
  for (const i of parsed.getInstructions().filter((x) => x.getKeyword() === "COPY" && !(x as any).getFromFlag())) {
    for (const src of args(i).slice(0, -1)) assert.ok(existsSync(join(REPO, src)), `COPY ${src}: no such path in the build context`);
  }
  assert.equal(parsed.getInstructions().filter((i) => i.getKeyword() === "ADD").length, 0, "COPY, never ADD (no remote URLs, no auto-extraction)");
  const ignore = readFileSync(`${DOCKERFILE}.dockerignore`, "utf8").split("\n");
  for (const p of [".git", "**/node_modules", "apps/*/dist"]) assert.ok(ignore.includes(p), `the build context leaves out ${p}`);
});

test("the final stage rebuilt without Docker: production dependencies only, and the server runs from a read-only tree", { timeout: 240_000 }, async () => {
  const app = mkdtempSync(join(tmpdir(), "site-image-"));
  const site = await makeSite();
  let server: ReturnType<typeof spawn> | undefined;
  try {
    // The deps stage: its COPYs and its own npm ci command, from the npm cache (the suite runs offline).
    for (const f of ["package.json", "package-lock.json", "packages/telemetry/package.json", "apps/site/package.json"]) cpSync(join(REPO, f), join(app, f));
    const ci = stage("deps").instructions.find((i) => i.getKeyword() === "RUN")!.getArgumentsContent()!.split("&&")[0]!.trim().split(/\s+/);
    const installed = spawnSync(ci[0]!, [...ci.slice(1), "--offline", "--loglevel=error"], { cwd: app, encoding: "utf8" });
    assert.equal(installed.status, 0, `${ci.join(" ")} --offline failed (run npm ci in the repository first to fill the npm cache):\n${installed.stderr}`);
    const modules = readdirSync(join(app, "node_modules"));
    for (const pkg of ["pino", "prom-client", "@opentelemetry"]) assert.ok(modules.includes(pkg), `${pkg} installed`);
    const lock = JSON.parse(readFileSync(join(REPO, "package-lock.json"), "utf8"));
    const top = modules.flatMap((m) => (m.startsWith("@") ? readdirSync(join(app, "node_modules", m)).map((n) => `${m}/${n}`) : [m]));
    // The lockfile marks what only dev dependencies need.
    assert.deepEqual(top.filter((m) => lock.packages[`node_modules/${m}`]?.dev === true), [], "no dev-only package");
    for (const m of ["typescript", "esbuild", "tsx", "playwright-core", "dockerfile-utils", "cdk8s", "kubernetes-models", "zod"]) assert.ok(!top.includes(m), `${m} is not in the image`);
    // The build stage's outputs: the bundled server and a generated site.
    const bundled = spawnSync(process.execPath, [join(REPO, "apps/site/scripts/bundle-server.mjs"), "--out", join(app, "apps/site/dist/server")], { encoding: "utf8" });
    assert.equal(bundled.status, 0, bundled.stderr);
    cpSync(site.root, join(app, "apps/site/dist/public"), { recursive: true });
    // A read-only root filesystem: nothing in the tree is writable, and the process runs elsewhere.
    spawnSync("chmod", ["-R", "a-w", app]);
    assert.equal(statSync(join(app, "apps/site/dist/public/index.html")).mode & 0o222, 0);
    const nodeFlags = (JSON.parse(of(stage("runtime"), "CMD")[0]!.getArgumentsContent()!) as string[]).slice(1, -1);
    server = spawn(process.execPath, [...nodeFlags, join(app, "apps/site/dist/server/main.js")], {
      cwd: "/",
      env: { PATH: process.env.PATH, NODE_ENV: "production", PORT: "0", HOST: "127.0.0.1", SITE_ROOT: join(app, "apps/site/dist/public"), HOME: "/nonexistent" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    server.stdout!.on("data", (d) => (out += d));
    server.stderr!.on("data", (d) => (err += d));
    const port = await new Promise<number>((ok, fail) => {
      const t = setInterval(() => {
        const m = /"port":(\d+)[^\n]*"site server listening"/.exec(out);
        if (m) (clearInterval(t), ok(Number(m[1])));
      }, 50);
      server!.on("exit", (code) => (clearInterval(t), fail(new Error(`server exited ${code}: ${err}${out}`))));
    });
    const status = (path: string) => new Promise<number>((ok, fail) => httpGet({ host: "127.0.0.1", port, path }, (r) => (r.resume(), ok(r.statusCode!))).on("error", fail));
    assert.equal(await status("/"), 200);
    assert.equal(await status("/healthz"), 200);
    assert.equal(await status("/status"), 200, "the live status is mounted (and says it is off without PROMETHEUS_URL)");
    const exited = new Promise<number | null>((r) => server!.on("exit", r));
    server.kill("SIGTERM");
    assert.equal(await exited, 0);
    assert.equal(err, "", "nothing on stderr: no write failed");
  } finally {
    server?.kill("SIGKILL");
    spawnSync("chmod", ["-R", "u+w", app]);
    rmSync(app, { recursive: true, force: true });
    site.cleanup();
  }
});
