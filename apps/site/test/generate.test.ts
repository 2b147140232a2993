/**
 * The generator against the repository's own config: every page from the same model that renders
 * gitops/, every value escaped, every link resolving, no inline script or style, provenance on every page.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { defaultInputCopy, REPO, rejection } from "../../../test/helpers.ts";
import { generatePages, generateSite, type SitePage } from "../src/generate/generate.ts";
import { escapeHtml, html } from "../src/generate/html.ts";
import { renderMarkdown } from "../src/generate/markdown.ts";
import { siteModel, type SiteModel } from "../src/generate/model.ts";
import { topologyOf } from "../src/generate/topology.ts";
import { backups, dashboards } from "../src/generate/sections.ts";
import type { DashboardDef } from "../../../src/platform/lib/dashboards.ts";
import { formatBytes } from "../../../src/platform/lib/footprint.ts";
import { composeStack } from "../../../src/host/compose.ts";

const ENV = { SITE_COMMIT: "0123456789abcdef0123456789abcdef01234567", SITE_GITOPS_REVISION: "89abcdef0123456789abcdef0123456789abcdef", SITE_IMAGE_TAG: "0.1.0-test", SITE_BUILD_TIME: "2026-12-01T00:00:00Z" };

let model: SiteModel;
let pages: SitePage[];
const byPath = (p: string) => pages.find((x) => x.path === p)?.html ?? assert.fail(`no page ${p}`);

before(async () => {
  model = await siteModel({ root: REPO, env: ENV });
  pages = await generatePages(model);
});

describe("site pages", () => {
  it("has every section, written page and runbook", () => {
    const paths = new Set(pages.map((p) => p.path));
    for (const p of ["/index.html", "/architecture.html", "/inventory.html", "/alerts.html", "/dashboards.html", "/backups.html", "/secrets.html", "/policy.html", "/footprint.html", "/404.html", "/guides/index.html", "/docs/index.html"])
      assert.ok(paths.has(p), p);
    for (const g of ["gitops", "secrets", "ingress", "observability", "backups", "forgejo"]) assert.ok(paths.has(`/guides/${g}.html`), g);
    // One source: every Markdown page under docs/ is a page of the site.
    const docs = (dir: string): string[] => readdirSync(join(REPO, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? docs(`${dir}/${e.name}`) : e.name.endsWith(".md") ? [`${dir}/${e.name}`] : []));
    for (const d of docs("docs")) assert.ok(paths.has(`/${d.replace(/README\.md$/, "index.html").replace(/\.md$/, ".html")}`), d);
  });

  it("shows the provenance on every page", () => {
    for (const p of pages) {
      for (const v of Object.values(ENV).slice(0, 3)) assert.ok(p.html.includes(v), `${p.path} lacks ${v}`);
      assert.match(p.html, /<time datetime="2026-12-01T00:00:00Z">/, p.path);
    }
  });

  it("asks git for the commit and the gitops revision when the pipeline passes none", async () => {
    const { provenance } = await import("../src/generate/model.ts");
    const p = provenance(REPO, model.build, {}, new Date("2026-12-01T10:00:00Z"));
    assert.match(p.commit, /^[0-9a-f]{40}( \(with uncommitted changes\))?$/);
    assert.match(p.gitopsRevision, /^[0-9a-f]{40}$/);
    assert.equal(p.builtAt, "2026-12-01T10:00:00Z");
    assert.match(p.imageTag, /^not an image build \(the config deploys git\.skypalette\.ai\/skypalette\/site:/);
  });

  it("carries no inline script or style (the CSP forbids both) and links only the stylesheet", () => {
    for (const p of pages) {
      assert.doesNotMatch(p.html, /<script|<style|\sstyle=|\son[a-z]+=|javascript:/i, p.path);
      assert.match(p.html, /<link rel="stylesheet" href="\/assets\/site\.css">/, p.path);
    }
  });

  it("links only to pages that exist (or the live status page)", () => {
    const paths = new Set(pages.map((p) => p.path));
    const assets = new Set(readdirSync(join(REPO, "apps/site/src/assets")).map((f) => `/assets/${f}`));
    for (const p of pages) {
      for (const [, href] of p.html.matchAll(/\s(?:href|src)="([^"]+)"/g)) {
        if (/^https?:/.test(href!) || href!.startsWith("#")) continue;
        const path = href!.replace(/#.*$/, "").replace(/^\/$/, "/index.html");
        assert.ok(path === "/status" || paths.has(path) || assets.has(path), `${p.path} links to ${href}`);
        const anchor = href!.split("#")[1];
        if (anchor && paths.has(path)) assert.ok(byPath(path).includes(` id="${anchor}"`), `${p.path} links to a missing anchor ${href}`);
      }
    }
  });

  it("lists every component of gitops/ with its object count, chart and version", () => {
    const inv = byPath("/inventory.html");
    const folders = readdirSync(join(REPO, "gitops"), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    const rows = [...inv.matchAll(/<tr data-component="([^"]+)">(.*?)<\/tr>/gs)];
    assert.deepEqual(rows.map((r) => r[1]).sort(), folders.sort());
    for (const [, name, row] of rows) {
      const k = parse(readFileSync(join(REPO, "gitops", name!, "kustomization.yaml"), "utf8")) as { resources: string[] };
      assert.match(row!, new RegExp(`data-objects="${k.resources.length}"`), `${name}: objects`);
    }
    for (const c of model.build.platform.components.filter((x) => x.helm)) {
      const pin = model.build.versions.charts[c.helm!.chart]!;
      assert.match(inv, new RegExp(`data-component="${c.name}">.*?<code>${c.helm!.chart}</code> ${pin.version.replace(/\./g, "\\.")}`, "s"));
    }
    for (const a of model.build.config.apps) assert.ok(inv.includes(`${a.image}:${a.tag}`), a.name);
  });

  it("lists the images a component's chart runs, in that component's row", () => {
    const inv = byPath("/inventory.html");
    const row = (name: string) => inv.match(new RegExp(`<tr data-component="${name}">(.*?)</tr>`, "s"))?.[1] ?? assert.fail(`no row ${name}`);
    // Computed from the locked values.yaml merged with ours; not in any rendered pod spec.
    assert.match(row("monitoring"), /data-chart-image="quay\.io\/prometheus\/prometheus:v3\.14\.0-distroless"><code>quay\.io\/prometheus\/prometheus:v3\.14\.0-distroless<\/code> <small>\(chart: prometheus\)<\/small>/);
    assert.match(row("argocd"), /<code>quay\.io\/argoproj\/argocd:v3\.4\.4<\/code> <small>\(chart: application-controller, server, repo-server, applicationset-controller, notifications-controller\)/);
    assert.ok(row("cert-manager").includes("quay.io/jetstack/cert-manager-webhook:v1.21.1"));
    assert.ok(!row("monitoring").includes("argoproj"));
    for (const c of model.build.platform.components.filter((x) => x.helm)) {
      const images = model.chartImages.get(c.name) ?? [];
      assert.equal(images.length, (c.helm!.containers ?? []).filter((x) => x.image !== undefined).length, `${c.name}: every declared image`);
      for (const i of images) assert.ok(row(c.name).includes(`data-chart-image="${i.image}"`), `${c.name}: ${i.image}`);
    }
  });

  it("catalogues every alert with its expression, severity and runbook anchor", () => {
    const page = byPath("/alerts.html");
    const rules = model.build.platform.components.flatMap((c) => c.alertGroups.flatMap((g) => g.rules));
    assert.ok(rules.length >= 10);
    for (const r of rules) {
      assert.match(page, new RegExp(`<tr data-alert="${r.alert}">`), r.alert);
      assert.ok(page.includes(escapeHtml(r.expr)), `${r.alert}: expression`);
      assert.ok(page.includes(`href="/docs/runbooks/${r.runbook}.html#${r.alert.toLowerCase()}"`), `${r.alert}: runbook`);
    }
  });

  it("lists secrets with keys and recipients, never a value", () => {
    const page = byPath("/secrets.html");
    assert.ok(model.secrets.length > 0);
    assert.ok(model.secrets.some((s) => s.file === "secrets/forgejo/compose.sops.env" && s.keys.includes("FORGEJO_DB_PASSWORD")), "the Compose stack's env file");
    for (const s of model.secrets) {
      assert.ok(page.includes(escapeHtml(s.name)), s.name);
      for (const k of s.keys) assert.ok(page.includes(`<code>${k}</code>`), k);
      for (const r of s.recipients) assert.match(r, /^age1/), assert.ok(page.includes(r));
      const text = readFileSync(join(REPO, s.file), "utf8");
      for (const [, enc] of text.matchAll(/(ENC\[[^\]]+\])/g)) assert.ok(!page.includes(enc!.slice(0, 40)), "ciphertext on the page");
    }
  });

  it("shows the footprint `homelab footprint` computes, every container of it", () => {
    const page = byPath("/footprint.html");
    const f = model.footprint;
    assert.ok(f.containers.length > 0);
    assert.ok(page.includes(`<strong>${formatBytes(f.totals.platform.memoryRequests)}</strong> of a ${f.budget.written} budget`));
    for (const c of f.containers) assert.ok(page.includes(`<td><code>${escapeHtml(c.workload)}</code></td><td><code>${escapeHtml(c.container)}</code></td>`), `${c.component}/${c.container}`);
  });

  it("lists every dashboard the components declare", () => {
    const page = byPath("/dashboards.html");
    const defs = model.build.platform.dashboards;
    assert.ok(defs.length > 0);
    for (const d of defs) assert.match(page, new RegExp(`<td>${escapeHtml(d.title).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}</td><td><code>${d.uid}</code></td><td>\\d+</td>`), d.uid);
    const extra = { component: "site", uid: "site-red", title: "Site <RED>", json: { tags: ["apps"], panels: [{ type: "row", panels: [{}, {}] }, {}] } } as unknown as DashboardDef;
    const m = { ...model, build: { ...model.build, platform: { ...model.build.platform, dashboards: [extra] } } } as SiteModel;
    assert.match(dashboards(m).text, /<td>Site &lt;RED&gt;<\/td><td><code>site-red<\/code><\/td><td>4<\/td><td>apps<\/td><td><code>site<\/code><\/td>/);
    const none = { ...model, build: { ...model.build, platform: { ...model.build.platform, dashboards: [] } } } as SiteModel;
    assert.match(dashboards(none).text, /No dashboards yet/);
  });

  it("lists the backup schedules the rendered tree holds", () => {
    const extra = [
      {
        file: "gitops/velero/schedule-daily.yaml",
        object: { apiVersion: "velero.io/v1", kind: "Schedule", metadata: { name: "daily", namespace: "velero" }, spec: { schedule: "0 3 * * *", template: { includedNamespaces: ["site", "argocd"], ttl: "720h0m0s" } } },
      },
    ];
    const m = { ...model, build: { ...model.build, plan: { ...model.build.plan, objects: [...model.build.plan.objects, ...extra] } } } as SiteModel;
    const b = backups(m).text;
    assert.match(b, /<code>velero\/daily<\/code><\/td><td><code>0 3 \* \* \*<\/code><\/td><td>site, argocd<\/td><td>720h0m0s<\/td>/);
  });

  it("says so where a part of the homelab does not exist yet", () => {
    if (!model.build.plan.objects.some((o) => o.object.kind === "Schedule")) assert.match(byPath("/backups.html"), /No backups are scheduled yet/);
  });

  it("names every component, both tunnels, the node and the Compose stack in the topology", () => {
    const page = byPath("/architecture.html");
    const svg = page.slice(page.indexOf("<svg"), page.indexOf("</svg>"));
    for (const c of model.build.platform.components) assert.match(svg, new RegExp(`data-component="${c.name}"`), c.name);
    const cfg = model.build.config;
    for (const t of [cfg.tunnels.cluster.name, cfg.tunnels.forgejo.name, cfg.nodes[0]!.name, "Docker Compose stack"]) assert.ok(svg.includes(t), t);
    // The Compose stack as the host layer renders it: every service, the Git tunnel ending at its cloudflared.
    const stack = composeStack(cfg, model.build.versions) as { services: Record<string, unknown> };
    for (const name of Object.keys(stack.services)) assert.match(svg, new RegExp(`data-id="service:${name}"`), name);
    // The tunnel reaches the in-cluster cloudflared, which hands over to ingress-nginx.
    const links = topologyOf(model).links.map((l) => `${l.from}>${l.to}`);
    assert.ok(links.includes("tunnel:cluster>component:cloudflared"), links.join(" "));
    assert.ok(links.includes("component:cloudflared>component:ingress-nginx"));
    assert.ok(links.includes("tunnel:forgejo>service:cloudflared"), links.join(" "));
    assert.ok(links.includes("component:argocd>service:forgejo"), links.join(" "));
  });
});

describe("escaping", () => {
  it("escapes every interpolated value and keeps nested templates", () => {
    const evil = `<img src=x onerror="alert(1)">&'`;
    assert.equal(html`<td>${evil}</td>`.text, "<td>&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;</td>");
    assert.equal(html`<p>${html`<b>${"<"}</b>`}</p>`.text, "<p><b>&lt;</b></p>");
  });

  it("escapes raw HTML in Markdown and points links at site pages", () => {
    const r = renderMarkdown("# T\n\n<script>alert(1)</script>\n\n[s](../secrets.md#rotate) [c](../../src/cli/main.ts)\n\n## Some Alert", "docs/runbooks/x.md", {
      page: (p) => (p === "docs/secrets.md" ? "/docs/secrets.html" : undefined),
      source: (p) => `https://git.example/${p}`,
    });
    assert.ok(!r.body.text.includes("<script>"));
    assert.ok(r.body.text.includes("&lt;script&gt;"));
    assert.ok(r.body.text.includes('href="/docs/secrets.html#rotate"'));
    assert.ok(r.body.text.includes('href="https://git.example/src/cli/main.ts"'));
    assert.ok(r.body.text.includes('<h2 id="some-alert">'));
    assert.equal(r.title, "T");
  });

  it("escapes values that come from the config in the generated pages", async () => {
    const evil = "<b>not-bold</b>";
    const m = { ...model, provenance: { ...model.provenance, commit: evil } };
    const got = await generatePages(m);
    for (const p of got) {
      assert.ok(!p.html.includes(evil), p.path);
      assert.ok(p.html.includes(escapeHtml(evil)), p.path);
    }
  });
});

describe("generateSite", () => {
  const dir = mkdtempSync(join(tmpdir(), "site-gen-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("follows the config: an added app appears in the inventory and the picture", async () => {
    const input = defaultInputCopy();
    input.apps = [...(input.apps ?? []), { name: "notes", image: "ghcr.io/me/notes", tag: "1.4.2", port: 3000, host: "notes.skypalette.ai" }];
    const cfg = join(dir, "notes.config.ts");
    writeFileSync(cfg, `export default ${JSON.stringify(input)};\n`);
    const out = join(dir, "out");
    const g = await generateSite({ root: REPO, config: cfg, out, env: ENV });
    const inv = readFileSync(join(out, "inventory.html"), "utf8");
    assert.match(inv, /<tr data-component="notes">/);
    assert.ok(inv.includes("ghcr.io/me/notes:1.4.2"));
    assert.match(readFileSync(join(out, "architecture.html"), "utf8"), /data-component="notes"/);
    assert.ok(existsSync(join(out, "assets/site.css")));
    assert.deepEqual(JSON.parse(readFileSync(join(out, "provenance.json"), "utf8")).commit, ENV.SITE_COMMIT);
    assert.ok(g.pages.length > 20);
  });

  it("refuses a config that does not build and leaves the last site in place", async () => {
    const out = join(dir, "out");
    const before = readFileSync(join(out, "index.html"), "utf8");
    const input = defaultInputCopy();
    input.apps = [{ ...input.apps![0]!, tag: "latest" }];
    const cfg = join(dir, "bad.config.ts");
    writeFileSync(cfg, `export default ${JSON.stringify(input)};\n`);
    const err = await rejection(generateSite({ root: REPO, config: cfg, out, env: ENV }));
    assert.match(err.message, /apps\[0\]\.tag/);
    assert.equal(readFileSync(join(out, "index.html"), "utf8"), before);
  });
});
