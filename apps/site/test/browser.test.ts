/**
 * The site end to end in real headless Chromium (Debian's `chromium`, driven by playwright-core; installed
 * by scripts/ensure-tools.sh): every page loads with no console error and no failed request under the
 * site server's strict CSP, navigation works, the topology renders and names every component, the inventory
 * matches gitops/, the provenance is shown. One browser for all pages; a screenshot of each page is saved
 * in apps/site/test-results/screenshots/ (not committed).
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium, type Browser, type Page } from "playwright-core";
import { parse } from "yaml";
import { REPO } from "../../../test/helpers.ts";
import { generateSite, type Generated } from "../src/generate/generate.ts";
import { AT, RecordedPrometheus } from "./recorded-prometheus.ts";
import { createSiteServer, type SiteServer } from "../src/server/server.ts";
import { createStatusHandler } from "../src/status/index.ts";
import { createTelemetry } from "@sky-palette/telemetry";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SHOTS = join(REPO, "apps/site/test-results/screenshots");
const ENV = { SITE_COMMIT: "5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e", SITE_GITOPS_REVISION: "d15ea5edd15ea5edd15ea5edd15ea5edd15ea5ed", SITE_IMAGE_TAG: "0.1.0-e2e", SITE_BUILD_TIME: "2026-12-01T12:00:00Z" };

const out = mkdtempSync(join(tmpdir(), "site-e2e-"));
let site: Generated;
let server: SiteServer;
let url: string;
let prometheus: RecordedPrometheus;
let browser: Browser;
let page: Page;
/** What went wrong in the browser since the last `visit`. */
let problems: string[] = [];

before(async () => {
  site = await generateSite({ root: REPO, out: join(out, "public"), env: ENV });
  prometheus = new RecordedPrometheus();
  const prometheusUrl = await prometheus.start();
  // The site's own server, with its strict CSP and security headers, and the live status at /status.
  // Its telemetry stays quiet: no span lines in the test output.
  const telemetry = createTelemetry({ service: "site", logLevel: "warn", spanWrite: () => undefined });
  server = createSiteServer({ root: site.out, status: createStatusHandler({ publicDir: site.out, prometheusUrl, now: () => AT }), telemetry, accessLog: false, signals: [] });
  url = `http://127.0.0.1:${(await server.listen(0, "127.0.0.1")).port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  // A request the browser itself cancels because the test navigated on (the favicon, fetched after the
  // load event) is not a failure of the site; every other network error is, and so is any 4xx/5xx answer.
  page.on("requestfailed", (r) => {
    if (r.failure()?.errorText !== "net::ERR_ABORTED") problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`);
  });
  page.on("response", (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  // Closed directly: the graceful shutdown (tested with the server) ends by exiting the process.
  server?.server.closeAllConnections();
  await new Promise((r) => server?.server.close(r));
  await prometheus?.stop();
  rmSync(out, { recursive: true, force: true });
});

async function visit(path: string): Promise<void> {
  problems = [];
  const res = await page.goto(url + path, { waitUntil: "load" });
  assert.equal(res?.status(), 200, path);
}

const shotName = (path: string) => (path.replace(/^\//, "").replace(/\.html$/, "").replace(/[^a-z0-9]+/gi, "-") || "index") + ".png";

describe("the site in Chromium", () => {
  it("loads every page with no console error and no failed request, provenance shown, and screenshots it", async () => {
    const paths = [...site.pages.map((p) => p.path).filter((p) => p !== "/404.html"), "/status"];
    assert.ok(paths.length > 25, String(paths.length));
    for (const path of paths) {
      await visit(path);
      // The stylesheet applied (the CSP would block it from anywhere else): the header is dark.
      assert.equal(await page.locator("header.site").evaluate((e) => getComputedStyle(e).backgroundColor), "rgb(28, 36, 48)", path);
      assert.equal(await page.locator('[data-provenance="commit"]').innerText(), ENV.SITE_COMMIT, path);
      assert.equal(await page.locator('[data-provenance="gitops"]').innerText(), ENV.SITE_GITOPS_REVISION, path);
      assert.equal(await page.locator('[data-provenance="image"]').innerText(), ENV.SITE_IMAGE_TAG, path);
      assert.ok(await page.locator('[data-provenance="built"]').isVisible(), path);
      await page.screenshot({ path: join(SHOTS, shotName(path)), fullPage: true });
      assert.deepEqual(problems, [], path);
    }
  });

  it("navigates from the overview through the sections and back", async () => {
    await visit("/");
    await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Inventory" }).click();
    await page.waitForURL("**/inventory.html");
    assert.equal(await page.locator("h1").innerText(), "Component inventory");
    assert.equal(await page.locator('nav a[aria-current="page"]').innerText(), "Inventory");
    await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Runbooks" }).click();
    await page.waitForURL("**/docs/index.html");
    await page.locator("main a", { hasText: "Argo CD" }).first().click();
    await page.waitForURL("**/docs/runbooks/argocd.html");
    // The alert catalog's runbook links land on the alert's section.
    await visit("/alerts.html");
    const link = page.locator('tr[data-alert] a[href^="/docs/runbooks/"]').first();
    const href = (await link.getAttribute("href"))!;
    await link.click();
    await page.waitForURL(`**${href}`);
    assert.ok(await page.locator(`[id="${href.split("#")[1]}"]`).isVisible(), href);
    await page.goBack();
    await page.waitForURL("**/alerts.html");
    await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Live status" }).click();
    await page.waitForURL("**/status");
    assert.equal(await page.locator("#prometheus").getAttribute("data-state"), "reachable");
    assert.match(await page.locator("#argocd").innerText(), /site\s+OutOfSync\s+Progressing/);
    assert.deepEqual(problems, []);
  });

  it("draws the topology and names every component, both tunnels, the node and the Compose stack", async () => {
    await visit("/architecture.html");
    const svg = page.locator("svg.topology");
    const box = await svg.boundingBox();
    assert.ok(box && box.width > 300 && box.height > 300, JSON.stringify(box));
    for (const c of site.model.build.platform.components) {
      const label = svg.locator(`g[data-component="${c.name}"] text.label`);
      assert.equal(await label.textContent(), c.name);
      const b = await label.boundingBox();
      assert.ok(b && b.width > 0, `${c.name} is not drawn`);
    }
    const text = (await svg.locator("text").allTextContents()).join("\n");
    const cfg = site.model.build.config;
    for (const t of [`tunnel ${cfg.tunnels.cluster.name}`, `tunnel ${cfg.tunnels.forgejo.name}`, cfg.nodes[0]!.name, "Docker Compose stack", "forgejo"]) assert.ok(text.includes(t), t);
    assert.ok((await svg.locator("polyline.edge").count()) >= 8);
  });

  it("shows an inventory that matches the committed gitops/ tree", async () => {
    await visit("/inventory.html");
    const rows = await page.locator("#components tbody tr").evaluateAll((trs) =>
      trs.map((tr) => ({ name: tr.getAttribute("data-component"), objects: Number(tr.querySelector("[data-objects]")?.textContent), chart: tr.children[3]?.textContent?.trim() })),
    );
    const gitops = join(REPO, site.model.build.config.git.path);
    const folders = readdirSync(gitops, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    assert.deepEqual(rows.map((r) => r.name).sort(), folders.sort());
    for (const r of rows) {
      const k = parse(readFileSync(join(gitops, r.name!, "kustomization.yaml"), "utf8")) as { resources: string[] };
      assert.equal(r.objects, k.resources.length, r.name!);
    }
    // A chart's version on the page is the one its Application in gitops/root pins.
    for (const r of rows.filter((x) => x.chart !== "—")) {
      const app = parse(readFileSync(join(gitops, "root", `application-${r.name}.yaml`), "utf8")) as { spec: { source?: { chart: string; targetRevision: string }; sources?: { chart?: string; targetRevision: string }[] } };
      const src = app.spec.source ?? app.spec.sources!.find((s) => s.chart)!;
      assert.equal(r.chart, `${src.chart} ${src.targetRevision}`, r.name!);
    }
  });
});
