/**
 * The chart lock: `homelab charts pull` from a local chart repository and from a folder, and the build's
 * view of it (every pinned chart locked, every file as recorded).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { create } from "tar";
import YAML from "yaml";
import type { Versions } from "../../src/config/schema.ts";
import { lockedDefaults, pullCharts, readLock } from "../../src/validate/chart-lock.ts";
import { REPO, homelab, rejection, versions } from "../helpers.ts";

const sha256 = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

function pins(charts: Record<string, [repo: string, version: string]>): Versions {
  return { charts: Object.fromEntries(Object.entries(charts).map(([n, [repo, version]]) => [n, { repo, version }])), images: {} };
}

async function chartFolder(dir: string, name: string, version: string, opts: { repo?: string; deps?: string; values?: string } = {}) {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "Chart.yaml"), `apiVersion: v2\nname: ${name}\nversion: ${version}\n${opts.deps ?? ""}`);
  await writeFile(join(dir, "values.yaml"), opts.values ?? `replicaCount: 1\n${name}: {}\n`);
  if (opts.repo) await writeFile(join(dir, "REPO"), `${opts.repo}\n# helm repo add …\n`);
}

describe("the committed chart lock", () => {
  test("locks every chart versions.yaml pins, each file as recorded", async () => {
    const { found, problems } = await lockedDefaults(REPO, versions());
    assert.deepEqual([...problems], []);
    assert.deepEqual([...found.keys()].sort(), Object.keys(versions().charts).sort());
    const kps = found.get("kube-prometheus-stack")!;
    // Exactly the versions the parent's Chart.yaml pins (windows-exporter is pinned by a range: not locked).
    assert.deepEqual(kps.entry.subcharts, { grafana: "12.11.1", "kube-state-metrics": "8.4.0", "prometheus-node-exporter": "4.56.1" });
    for (const sub of Object.keys(kps.entry.subcharts!)) assert.ok(existsSync(join(kps.dir, "charts", sub, "values.yaml")), sub);
    assert.deepEqual(found.get("argo-cd")!.entry.subcharts, { "redis-ha": "4.38.0" });
    // Every entry says where it came from.
    for (const [name, c] of found) assert.ok(c.entry.source !== "", name);
  });

  test("every problem names the one command that fixes it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "homelab-lock-"));
    try {
      const v = pins({ demo: ["https://charts.example.org", "1.0.0"] });
      const none = await lockedDefaults(dir, v);
      assert.deepEqual([...none.problems], [
        ["demo", "chart demo 1.0.0 is pinned in versions.yaml but there is no charts/lock.yaml; run `npx homelab charts pull` and commit charts/"],
      ]);
      await mkdir(join(dir, "charts"));
      await writeFile(join(dir, "charts", "lock.yaml"), "charts: {}\n");
      const noEntry = await lockedDefaults(dir, v);
      assert.deepEqual([...noEntry.problems], [
        ["demo", "chart demo 1.0.0 is pinned in versions.yaml but has no entry in charts/lock.yaml; run `npx homelab charts pull` and commit charts/"],
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("homelab charts pull --from a folder", () => {
  let work = "";
  let from = "";
  const REPO_URL = "https://charts.example.org/stable";
  before(async () => {
    work = await mkdtemp(join(tmpdir(), "homelab-pull-from-"));
    from = join(work, "from");
    // Folder names mean nothing; REPO files keep two charts of one name apart.
    await chartFolder(join(from, "a"), "demo", "1.0.0", {
      repo: REPO_URL,
      deps: `dependencies:\n  - name: sub\n    version: 0.2.0\n    repository: ${REPO_URL}\n  - name: absent\n    version: 9.9.9\n    repository: ${REPO_URL}\n`,
    });
    await chartFolder(join(from, "b"), "demo", "1.1.0", { repo: REPO_URL });
    await chartFolder(join(from, "c"), "sub", "0.2.0", { repo: REPO_URL, values: "sub: true\n" });
    await chartFolder(join(from, "d"), "demo", "2.0.0", { repo: "https://elsewhere.example.org" });
    await writeFile(join(from, "a", "values.schema.json"), '{"type":"object"}');
    await writeFile(join(from, "a", "NOTES.txt"), "not chart data\n");
  });
  after(() => rm(work, { recursive: true, force: true }));

  test("locks the chart and its subcharts, then a version bump replaces the stale entry", async () => {
    const root = join(work, "repo");
    await mkdir(root);
    const first = await pullCharts({ root, versions: pins({ demo: [REPO_URL, "1.0.0"] }), from });
    assert.deepEqual(first.charts.map((c) => [c.name, c.version, c.action, c.source]), [["demo", "1.0.0", "added", "local copy: ../from/a"]]);
    assert.deepEqual(first.notes, ["demo: subchart absent 9.9.9 not locked (not in " + from + ")"]);
    const lock = readLock(root)!;
    const text = (f: string) => readFileSync(join(root, "charts", "demo-1.0.0", f), "utf8");
    assert.deepEqual(lock.charts.demo, {
      version: "1.0.0",
      repo: REPO_URL,
      source: "local copy: ../from/a",
      subcharts: { sub: "0.2.0" },
      files: {
        "Chart.yaml": sha256(text("Chart.yaml")),
        "charts/sub/Chart.yaml": sha256(text("charts/sub/Chart.yaml")),
        "charts/sub/values.yaml": sha256("sub: true\n"),
        "values.schema.json": sha256('{"type":"object"}'),
        "values.yaml": sha256("replicaCount: 1\ndemo: {}\n"),
      },
    });
    assert.deepEqual((await readdir(join(root, "charts"))).sort(), ["demo-1.0.0", "lock.yaml"]);
    const { found, problems } = await lockedDefaults(root, pins({ demo: [REPO_URL, "1.0.0"] }));
    assert.deepEqual([...problems], []);
    // A subchart's defaults sit under its name, as Helm merges them (the parent's values for that key on top).
    assert.deepEqual((await found.get("demo")!.defaults()).values, { replicaCount: 1, demo: {}, sub: { sub: true } });

    const again = await pullCharts({ root, versions: pins({ demo: [REPO_URL, "1.0.0"] }), from });
    assert.equal(again.charts[0]!.action, "kept");

    const bumped = await pullCharts({ root, versions: pins({ demo: [REPO_URL, "1.1.0"] }), from });
    assert.deepEqual(bumped.charts.map((c) => [c.name, c.version, c.action]), [["demo", "1.1.0", "updated"]]);
    assert.deepEqual(bumped.removed, ["demo 1.0.0"]);
    assert.deepEqual((await readdir(join(root, "charts"))).sort(), ["demo-1.1.0", "lock.yaml"]);
    assert.deepEqual(Object.keys(readLock(root)!.charts), ["demo"]);
  });

  test("refuses a folder whose REPO names another repository, and writes nothing", async () => {
    const root = join(work, "repo-wrong");
    await mkdir(root);
    const err = await rejection(pullCharts({ root, versions: pins({ demo: [REPO_URL, "2.0.0"] }), from }));
    assert.equal(err.message, `chart demo 2.0.0: ${join(from, "d", "REPO")} names repository https://elsewhere.example.org, but versions.yaml pins ${REPO_URL}`);
    const missing = await rejection(pullCharts({ root, versions: pins({ demo: [REPO_URL, "3.0.0"] }), from }));
    assert.equal(missing.message, `charts pull --from ${from}: no folder there holds chart demo 3.0.0 (matched by its Chart.yaml)`);
    assert.equal(existsSync(join(root, "charts")), false);
  });
});

describe("homelab charts pull from a chart repository", () => {
  let server: Server;
  let base = "";
  let work = "";
  const routes = new Map<string, Buffer>();
  let good: Buffer;

  async function archive(name: string, version: string): Promise<Buffer> {
    const src = await mkdtemp(join(work, "src-"));
    await chartFolder(join(src, name), name, version);
    await mkdir(join(src, name, "templates"));
    await writeFile(join(src, name, "templates", "deployment.yaml"), "kind: Deployment\n");
    await chartFolder(join(src, name, "charts", "grafana"), "grafana", "12.11.1", { values: "grafana: {}\n" });
    const file = join(work, `${name}-${version}.tgz`);
    await create({ gzip: true, cwd: src, file, portable: true }, [name]);
    return readFile(file);
  }

  before(async () => {
    work = await mkdtemp(join(tmpdir(), "homelab-pull-repo-"));
    server = createServer((req, res) => {
      const body = routes.get(req.url ?? "");
      if (!body) res.writeHead(404).end("not found");
      else res.writeHead(200).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    good = await archive("stack", "1.0.0");
    routes.set("/charts/stack-1.0.0.tgz", good);
    routes.set("/charts/stack-2.0.0.tgz", await archive("stack", "2.0.0"));
    routes.set(
      "/charts/index.yaml",
      Buffer.from(
        `apiVersion: v1\nentries:\n  stack:\n    - version: 1.0.0\n      urls: [stack-1.0.0.tgz]\n      digest: ${sha256(good)}\n` +
          `    - version: 2.0.0\n      urls: [stack-2.0.0.tgz]\n      digest: ${"0".repeat(64)}\n`,
      ),
    );
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(work, { recursive: true, force: true });
  });

  test("downloads digest-checked, records archive sha256 and URL, keeps the vendored subchart's defaults", async () => {
    const root = await mkdtemp(join(work, "repo-"));
    const res = await pullCharts({ root, versions: pins({ stack: [`${base}/charts`, "1.0.0"] }) });
    assert.deepEqual(res.charts.map((c) => [c.action, c.source]), [["added", `${base}/charts/stack-1.0.0.tgz`]]);
    const entry = readLock(root)!.charts.stack!;
    assert.equal(entry.archiveSha256, sha256(good));
    assert.deepEqual(entry.subcharts, { grafana: "12.11.1" });
    assert.deepEqual(Object.keys(entry.files).sort(), ["Chart.yaml", "charts/grafana/Chart.yaml", "charts/grafana/values.yaml", "values.yaml"]);
    assert.equal(existsSync(join(root, "charts", "stack-1.0.0", "templates")), false, "templates are not chart data");
    assert.match(readFileSync(join(root, "charts", "lock.yaml"), "utf8"), /^# The chart data `homelab build` checks Helm values against/);
    assert.deepEqual(YAML.parse(readFileSync(join(root, "charts", "lock.yaml"), "utf8")).charts.stack.archiveSha256, sha256(good));

    // A digest mismatch on the bump leaves the old lock exactly as it was.
    const before = readFileSync(join(root, "charts", "lock.yaml"), "utf8");
    const err = await rejection(pullCharts({ root, versions: pins({ stack: [`${base}/charts`, "2.0.0"] }) }));
    assert.match(err.message, /^chart stack 2\.0\.0: .*stack-2\.0\.0\.tgz has sha256 [0-9a-f]{64}, but .*index\.yaml says 0{64}$/);
    assert.equal(readFileSync(join(root, "charts", "lock.yaml"), "utf8"), before);
    assert.deepEqual((await readdir(join(root, "charts"))).sort(), ["lock.yaml", "stack-1.0.0"]);
  });
});

describe("homelab charts", () => {
  test("usage mistakes exit 2 with the usage", () => {
    const res = homelab(["charts", "fetch"]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /unknown subcommand 'fetch'/);
    assert.match(res.stderr, /homelab charts pull/);
    const help = homelab(["charts", "pull", "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--from <dir>/);
    const bad = homelab(["charts", "pull", "--from"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--from needs a value/);
  });
});
