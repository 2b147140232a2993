import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { create } from "tar";
import { CHARTS, rejection } from "../helpers.ts";
import { defaultCacheDirs, loadChartDefaults, type ChartRef } from "../../src/validate/chart-cache.ts";


describe("defaultCacheDirs", () => {
  test("prefers HOMELAB_CHART_CACHE, a colon-separated list", () => {
    assert.deepEqual(defaultCacheDirs({ HOMELAB_CHART_CACHE: "/a:/b::/c", XDG_CACHE_HOME: "/x", HOME: "/h" }), ["/a", "/b", "/c"]);
  });
  test("falls back to $XDG_CACHE_HOME, then ~/.cache", () => {
    assert.deepEqual(defaultCacheDirs({ XDG_CACHE_HOME: "/x", HOME: "/h" }), ["/x/homelab/charts"]);
    assert.deepEqual(defaultCacheDirs({ HOME: "/h" }), ["/h/.cache/homelab/charts"]);
    assert.deepEqual(defaultCacheDirs({ HOMELAB_CHART_CACHE: "", XDG_CACHE_HOME: "", HOME: "/h" }), ["/h/.cache/homelab/charts"]);
  });
});

describe("loadChartDefaults from the committed chart lock", () => {
  const pinned: [name: string, version: string, folder: string, hasSchema: boolean][] = [
    ["alloy", "1.11.1", "alloy-1.11.1", false],
    ["argo-cd", "10.1.1", "argo-cd-10.1.1", false],
    ["cert-manager", "v1.21.1", "cert-manager-v1.21.1", true],
    ["ingress-nginx", "4.15.1", "ingress-nginx-4.15.1", false],
    ["kube-prometheus-stack", "88.5.3", "kube-prometheus-stack-88.5.3", false],
    ["loki", "18.11.0", "loki-18.11.0", true],
    ["velero", "12.1.0", "velero-12.1.0", true],
  ];

  test("finds all seven pinned charts by Chart.yaml name and version", async () => {
    for (const [name, version, folder, hasSchema] of pinned) {
      const found = await loadChartDefaults({ name, version, repo: "https://unused.invalid" }, { cacheDirs: ["/nonexistent/dir", CHARTS], download: false });
      assert.ok(!("missing" in found), `${name} ${version}: ${JSON.stringify(found)}`);
      assert.equal(basename(found.dir), folder);
      assert.equal(found.schema !== undefined, hasSchema, `${name} ${version} schema`);
      assert.equal(typeof found.values, "object");
    }
  });

  test("two charts of one name are told apart by Chart.yaml version, never by folder name", async () => {
    const dir = await mkdtemp(join(tmpdir(), "homelab-two-lokis-"));
    try {
      // grafana's Enterprise-only loki 7.3.0 in a folder named like the community chart, and the reverse.
      await mkdir(join(dir, "loki-18.11.0"));
      await writeFile(join(dir, "loki-18.11.0", "Chart.yaml"), "apiVersion: v2\nname: loki\nversion: 7.3.0\n");
      await writeFile(join(dir, "loki-18.11.0", "values.yaml"), "enterprise:\n  enabled: true\n");
      await cp(join(CHARTS, "loki-18.11.0"), join(dir, "loki-7.3.0"), { recursive: true });
      const community = await loadChartDefaults({ name: "loki", version: "18.11.0", repo: "x" }, { cacheDirs: [dir], download: false });
      assert.ok("values" in community && (community.values as Record<string, unknown>).loki !== undefined);
      assert.equal(basename(community.dir), "loki-7.3.0");
      const enterprise = await loadChartDefaults({ name: "loki", version: "7.3.0", repo: "x" }, { cacheDirs: [dir], download: false });
      assert.ok("values" in enterprise);
      assert.deepEqual(enterprise.values, { enterprise: { enabled: true } });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("reports a version that is not cached when downloads are off", async () => {
    const found = await loadChartDefaults(
      { name: "loki", version: "6.0.0", repo: "https://grafana-community.github.io/helm-charts" },
      { cacheDirs: [CHARTS], download: false },
    );
    assert.deepEqual(found, {
      missing:
        `chart loki 6.0.0 (https://grafana-community.github.io/helm-charts) is not in the chart cache (${CHARTS}); ` +
        "allow downloads or add its Chart.yaml and values.yaml there",
    });
  });
});

describe("loadChartDefaults downloading from a chart repository", () => {
  let server: Server;
  let base: string;
  let work: string;
  const requests: string[] = [];
  const routes = new Map<string, Buffer>();

  async function chartArchive(name: string, version: string): Promise<Buffer> {
    const src = await mkdtemp(join(work, "src-"));
    const top = join(src, name);
    await mkdir(join(top, "charts", "sub"), { recursive: true });
    await mkdir(join(top, "templates"));
    await writeFile(join(top, "Chart.yaml"), `apiVersion: v2\nname: ${name}\nversion: ${version}\n`);
    await writeFile(join(top, "values.yaml"), "replicaCount: 1\nservice:\n  port: 80\n");
    await writeFile(join(top, "values.schema.json"), JSON.stringify({ type: "object", properties: { replicaCount: { type: "integer" } } }));
    await writeFile(join(top, "templates", "deployment.yaml"), "kind: Deployment\n");
    // A subchart's files have the same names and must not overwrite the top-level ones.
    await writeFile(join(top, "charts", "sub", "Chart.yaml"), "apiVersion: v2\nname: sub\nversion: 0.0.1\n");
    await writeFile(join(top, "charts", "sub", "values.yaml"), "sub: true\n");
    const file = join(work, `${name}-${version}.tgz`);
    await create({ gzip: true, cwd: src, file, portable: true }, [name]);
    return readFile(file);
  }

  const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

  before(async () => {
    work = await mkdtemp(join(tmpdir(), "homelab-chart-cache-"));
    server = createServer((req, res) => {
      requests.push(req.url ?? "");
      const body = routes.get(req.url ?? "");
      if (!body) {
        res.writeHead(404).end("not found");
        return;
      }
      res.writeHead(200, { "content-type": "application/octet-stream" }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const good = await chartArchive("demo", "1.2.3");
    const tampered = await chartArchive("demo", "2.0.0");
    const other = await chartArchive("other", "1.0.0");
    routes.set("/charts/demo-1.2.3.tgz", good);
    routes.set("/files/demo-2.0.0.tgz", tampered);
    routes.set("/charts/other-1.0.0.tgz", other);
    routes.set(
      "/charts/index.yaml",
      Buffer.from(
        [
          "apiVersion: v1",
          "entries:",
          "  demo:",
          "    - version: 1.2.3",
          "      urls: [demo-1.2.3.tgz]", // relative to the repository
          `      digest: ${sha256(good)}`,
          "    - version: 2.0.0",
          `      urls: [${base}/files/demo-2.0.0.tgz]`,
          `      digest: ${"0".repeat(64)}`,
          "    - version: 3.0.0",
          "      urls: [demo-3.0.0.tgz]",
          "  other:",
          "    - version: 1.0.0",
          "      urls: [other-1.0.0.tgz]", // no digest given: accepted unchecked
          "",
        ].join("\n"),
      ),
    );
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(work, { recursive: true, force: true });
  });

  const ref = (version: string, name = "demo"): ChartRef => ({ name, version, repo: `${base}/charts` });
  const freshCache = () => mkdtemp(join(work, "cache-"));

  test("downloads, verifies and stores only the top-level chart files, then serves them from the cache", async () => {
    const cache = await freshCache();
    requests.length = 0;
    const found = await loadChartDefaults(ref("1.2.3"), { cacheDirs: [cache], download: true });
    assert.deepEqual(found, {
      values: { replicaCount: 1, service: { port: 80 } },
      schema: { type: "object", properties: { replicaCount: { type: "integer" } } },
      dir: join(cache, "demo-1.2.3"),
    });
    assert.deepEqual((await readdir(cache)).sort(), ["demo-1.2.3"]);
    assert.deepEqual((await readdir(join(cache, "demo-1.2.3"))).sort(), ["Chart.yaml", "values.schema.json", "values.yaml"]);
    assert.deepEqual(requests, ["/charts/index.yaml", "/charts/demo-1.2.3.tgz"]);

    const again = await loadChartDefaults(ref("1.2.3"), { cacheDirs: [cache], download: true });
    assert.ok("dir" in again && again.dir === join(cache, "demo-1.2.3"));
    assert.equal(requests.length, 2, "second lookup must not download");
  });

  test("uses the given fetch implementation and accepts an entry without digest", async () => {
    const cache = await freshCache();
    const seen: string[] = [];
    const fetchImpl: typeof fetch = (input, init) => {
      seen.push(String(input));
      return fetch(input, init);
    };
    const found = await loadChartDefaults(ref("1.0.0", "other"), { cacheDirs: [cache], download: true, fetchImpl });
    assert.ok("dir" in found && found.dir === join(cache, "other-1.0.0"));
    assert.deepEqual(seen, [`${base}/charts/index.yaml`, `${base}/charts/other-1.0.0.tgz`]);
  });

  test("rejects an archive whose digest does not match, storing nothing", async () => {
    const cache = await freshCache();
    const err = await rejection(loadChartDefaults(ref("2.0.0"), { cacheDirs: [cache], download: true }));
    assert.match(err.message, /^chart demo 2\.0\.0: /);
    assert.ok(err.message.includes(`${base}/files/demo-2.0.0.tgz has sha256 `), err.message);
    assert.ok(err.message.endsWith(`but ${base}/charts/index.yaml says ${"0".repeat(64)}`), err.message);
    assert.deepEqual(await readdir(cache), []);
  });

  test("names the index when it lists no such version", async () => {
    const cache = await freshCache();
    const err = await rejection(loadChartDefaults(ref("9.9.9"), { cacheDirs: [cache], download: true }));
    assert.equal(err.message, `chart demo 9.9.9: ${base}/charts/index.yaml lists no version 9.9.9 of demo`);
    const noChart = await rejection(loadChartDefaults(ref("1.0.0", "absent"), { cacheDirs: [cache], download: true }));
    assert.equal(noChart.message, `chart absent 1.0.0: ${base}/charts/index.yaml has no chart named absent`);
  });

  test("names the URL that answered 404", async () => {
    const cache = await freshCache();
    const err = await rejection(loadChartDefaults(ref("3.0.0"), { cacheDirs: [cache], download: true }));
    assert.equal(err.message, `chart demo 3.0.0: ${base}/charts/demo-3.0.0.tgz answered HTTP 404`);
    const noRepo = await rejection(loadChartDefaults({ name: "demo", version: "1.2.3", repo: `${base}/nowhere/` }, { cacheDirs: [cache], download: true }));
    assert.equal(noRepo.message, `chart demo 1.2.3: ${base}/nowhere/index.yaml answered HTTP 404`);
    assert.deepEqual(await readdir(cache), []);
  });

  test("does not download when downloads are off", async () => {
    const cache = await freshCache();
    requests.length = 0;
    const found = await loadChartDefaults(ref("1.2.3"), { cacheDirs: [cache], download: false });
    assert.ok("missing" in found);
    assert.match(found.missing, /^chart demo 1\.2\.3 \(http:\/\/127\.0\.0\.1:\d+\/charts\) is not in the chart cache/);
    assert.deepEqual(requests, []);
  });

  test("refuses OCI references and names that would escape the cache folder", async () => {
    const cache = await freshCache();
    const oci = await rejection(loadChartDefaults({ name: "demo", version: "1.2.3", repo: "oci://ghcr.io/x" }, { cacheDirs: [cache], download: true }));
    assert.match(oci.message, /not an http\(s\) chart repository \(OCI registries are not supported\)/);
    const escape = await rejection(loadChartDefaults({ name: "../demo", version: "1.2.3", repo: `${base}/charts` }, { cacheDirs: [cache], download: true }));
    assert.match(escape.message, /^chart \.\.\/demo 1\.2\.3: name and version may only contain/);
  });
});
