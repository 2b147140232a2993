/**
 * Generates the site into a folder: the written pages, the runbooks of docs/, the generated reference
 * pages and the stylesheet. Like `homelab build`, it writes the whole folder next to the old one and swaps
 * it in, so a failed generation never leaves half a site to serve.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, posix, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { html, type Html } from "./html.ts";
import { page } from "./layout.ts";
import { renderMarkdown, type LinkMap } from "./markdown.ts";
import { siteModel, type ModelOptions, type SiteModel } from "./model.ts";
import { alertCatalog, backups, dashboards, footprintPage, inventory, policyReport, secretsInventory } from "./sections.ts";
import { drawTopology, topologyOf } from "./topology.ts";
import { precompress } from "../server/precompress.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
/** The site's own written pages (Markdown). */
export const CONTENT_DIR = resolve(HERE, "../../content");
const ASSETS_DIR = resolve(HERE, "../assets");
/** Where `npm start` and the image build put the site. */
export const DEFAULT_OUT = resolve(HERE, "../../dist/public");
/** The repository's Markdown pages the site renders (runbooks, decisions, how-tos): one source for both. */
export const DOCS_DIR = "docs";
/** Written by the generator for the live status page, which renders at request time. */
export const PROVENANCE_FILE = "provenance.json";

export interface SitePage {
  /** Site path, e.g. `/alerts.html`. */
  readonly path: string;
  readonly title: string;
  readonly html: string;
}

/** Repository Markdown files below `dir`, relative to `root`, sorted. */
function markdownFiles(root: string, dir: string): string[] {
  const abs = join(root, dir);
  if (!existsSync(abs)) return [];
  const out: string[] = [];
  for (const e of readdirSync(abs, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const rel = posix.join(dir, e.name);
    if (e.isDirectory()) out.push(...markdownFiles(root, rel));
    else if (e.name.endsWith(".md")) out.push(rel);
  }
  return out;
}

/** `docs/runbooks/README.md` → `/docs/runbooks/index.html`; `docs/secrets.md` → `/docs/secrets.html`. */
export function docPath(repoPath: string): string {
  return `/${repoPath.replace(/(^|\/)README\.md$/, "$1index.html").replace(/\.md$/, ".html")}`;
}

export function siteNameOf(m: SiteModel): string {
  return `${m.build.config.name} homelab`;
}

export async function generatePages(m: SiteModel): Promise<SitePage[]> {
  const cfg = m.build.config;
  const siteName = siteNameOf(m);
  const pages: SitePage[] = [];
  const add = (path: string, title: string, body: Html) => pages.push({ path, title, html: page({ title, path, body, siteName, provenance: m.provenance }) });

  const docs = markdownFiles(m.root, DOCS_DIR);
  const docSet = new Set(docs);
  const forgejo = `${cfg.git.url.replace(/\/$/, "")}/${cfg.git.repo}/src/branch/${cfg.git.branch}`;
  const links: LinkMap = { page: (p) => (docSet.has(p) ? docPath(p) : undefined), source: (p) => `${forgejo}/${p}` };

  const topology = await drawTopology(topologyOf(m), `${siteName}: the tunnels, the node, the cluster and its components, the Compose stack`);
  const figure = html`<figure class="topology-figure">${topology.svg}<figcaption>Laid out by ELK from <code>homelab.config.ts</code>: ${m.build.platform.components.length} components in the cluster, the Compose stack ${m.compose.source}.</figcaption></figure>`;

  // Written pages (content/*.md). The overview is the home page; the architecture page carries the picture.
  const written = readdirSync(CONTENT_DIR).filter((f) => f.endsWith(".md")).sort();
  const guides: { path: string; title: string }[] = [];
  for (const f of written) {
    const r = renderMarkdown(readFileSync(join(CONTENT_DIR, f), "utf8"), undefined, links);
    const name = f.replace(/\.md$/, "");
    if (name === "index") add("/index.html", r.title, html`${r.body}${figure}`);
    else if (name === "architecture") add("/architecture.html", r.title, html`${figure}${r.body}`);
    else {
      const path = `/guides/${name}.html`;
      guides.push({ path, title: r.title });
      add(path, r.title, r.body);
    }
  }
  add("/guides/index.html", "Guides", html`<h1>Guides</h1><p>How the homelab works, part by part.</p><ul class="index">${guides.map((g) => html`<li><a href="${g.path}">${g.title}</a></li>`)}</ul>`);

  // The repository's runbooks and decision records.
  const rendered = docs.map((d) => ({ d, r: renderMarkdown(readFileSync(join(m.root, d), "utf8"), d, links) }));
  for (const { d, r } of rendered) add(docPath(d), r.title || d, html`<p class="source">From <a class="external" href="${links.source(d)}">${d}</a> in the repository.</p>${r.body}`);
  if (!docSet.has(`${DOCS_DIR}/README.md`)) {
    const groups = new Map<string, { path: string; title: string }[]>();
    for (const { d, r } of rendered) {
      const dir = posix.dirname(d);
      groups.set(dir, [...(groups.get(dir) ?? []), { path: docPath(d), title: r.title || d }]);
    }
    const heading = (dir: string) => (dir === DOCS_DIR ? "How-tos and references" : dir === `${DOCS_DIR}/runbooks` ? "Runbooks (one page per component, one section per alert)" : dir === `${DOCS_DIR}/decisions` ? "Decision records" : dir);
    add("/docs/index.html", "Runbooks and docs", html`<h1>Runbooks and docs</h1><p>The Markdown pages of the repository's <code>${DOCS_DIR}/</code> folder, rendered from the same files.</p>${[...groups].map(([dir, list]) => html`<h2>${heading(dir)}</h2><ul class="index">${list.map((x) => html`<li><a href="${x.path}">${x.title}</a></li>`)}</ul>`)}`);
  }

  add("/inventory.html", "Component inventory", inventory(m));
  add("/alerts.html", "Alert catalog", alertCatalog(m));
  add("/dashboards.html", "Dashboards", dashboards(m));
  add("/backups.html", "Backup schedules", backups(m));
  add("/secrets.html", "Secrets inventory", secretsInventory(m));
  add("/policy.html", "Policy report", policyReport(m));
  add("/footprint.html", "Resource footprint", footprintPage(m));
  add("/404.html", "Not found", html`<h1>Not found</h1><p>There is no page at this address. The <a href="/">overview</a> lists every section.</p>`);
  return pages.sort((a, b) => a.path.localeCompare(b.path));
}

export interface GenerateOptions extends ModelOptions {
  /** @default apps/site/dist/public */
  readonly out?: string;
}

export interface Generated {
  readonly out: string;
  readonly pages: readonly SitePage[];
  readonly model: SiteModel;
  /** Every file written, relative to `out`. */
  readonly files: readonly string[];
}

/** Builds the model, renders every page and swaps the new folder in. */
export async function generateSite(opts: GenerateOptions): Promise<Generated> {
  const model = await siteModel(opts);
  const pages = await generatePages(model);
  const out = resolve(opts.out ?? DEFAULT_OUT);
  const files = new Map<string, string | Buffer>();
  for (const p of pages) files.set(p.path.slice(1), p.html);
  for (const f of readdirSync(ASSETS_DIR)) files.set(`assets/${f}`, readFileSync(join(ASSETS_DIR, f)));
  files.set(PROVENANCE_FILE, `${JSON.stringify({ siteName: siteNameOf(model), ...model.provenance }, null, 2)}\n`);

  const next = `${out}.next-${process.pid}`;
  rmSync(next, { recursive: true, force: true });
  for (const [rel, content] of files) {
    const abs = join(next, rel);
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, content);
  }
  // gzip and brotli beside each file, by the server's own precompression: it serves them as they are.
  await precompress(next);
  const old = `${out}.old-${process.pid}`;
  mkdirSync(dirname(out), { recursive: true });
  if (existsSync(out)) renameSync(out, old);
  renameSync(next, out);
  rmSync(old, { recursive: true, force: true });
  return { out, pages, model, files: [...files.keys()].sort().map((f) => relative(out, join(out, f))) };
}

