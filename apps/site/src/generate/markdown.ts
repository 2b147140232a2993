/**
 * Markdown pages with markdown-it: the runbooks and decision records in docs/ (one source for the
 * repository and the site) and the site's own written pages. Raw HTML in Markdown is not passed through
 * (`html: false`), so every character of a page's text is escaped; headings get GitHub's anchor ids, so the
 * alerts' `runbook_url` anchors work here too; links to other Markdown pages point at their site pages,
 * links to the repository's other files at the homelab's own Forgejo.
 */
import MarkdownIt from "markdown-it";
import { posix } from "node:path";
import { trusted, type Html } from "./html.ts";

/** GitHub's (and Forgejo's) heading anchor: lower case, punctuation dropped, spaces to hyphens. */
export function slug(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

export interface LinkMap {
  /** Site path (`/docs/secrets.html`) of a repository Markdown file (`docs/secrets.md`), if the site renders it. */
  page(repoPath: string): string | undefined;
  /** Browsable URL of any other repository file or folder. */
  source(repoPath: string): string;
}

export interface RenderedMarkdown {
  readonly title: string;
  readonly body: Html;
  /** Headings of level 2, for a table of contents. */
  readonly sections: readonly { id: string; text: string }[];
}

/**
 * Renders `text`, a Markdown file at `repoPath` (relative links are resolved from there; `undefined` for
 * pages that link only absolutely). The first `# ` heading is the title.
 */
export function renderMarkdown(text: string, repoPath: string | undefined, links: LinkMap): RenderedMarkdown {
  const md = new MarkdownIt({ html: false, linkify: false, typographer: false });
  let title = "";
  const sections: { id: string; text: string }[] = [];
  const used = new Map<string, number>();
  md.core.ruler.push("anchors-and-links", (state) => {
    const tokens = state.tokens;
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (t.type === "heading_open") {
        const inline = tokens[i + 1]!;
        const text = (inline.children ?? []).filter((c) => c.type === "text" || c.type === "code_inline").map((c) => c.content).join("");
        let id = slug(text);
        const n = used.get(id) ?? 0;
        used.set(id, n + 1);
        if (n > 0) id = `${id}-${n}`;
        t.attrSet("id", id);
        if (t.tag === "h1" && !title) title = text;
        if (t.tag === "h2") sections.push({ id, text });
      }
      for (const c of t.children ?? []) {
        if (c.type !== "link_open") continue;
        const href = c.attrGet("href");
        if (href) c.attrSet("href", rewrite(String(href), repoPath, links));
      }
    }
  });
  const body = trusted(md.render(text));
  return { title, body, sections };
}

function rewrite(href: string, from: string | undefined, links: LinkMap): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith("#") || href.startsWith("/") || from === undefined) return href;
  const [path, hash] = splitHash(href);
  const target = posix.normalize(posix.join(posix.dirname(from), decodeURI(path)));
  if (target.startsWith("..")) return href;
  const page = links.page(target) ?? (target.endsWith("/") || !posix.extname(target) ? links.page(posix.join(target, "README.md")) : undefined);
  return (page ?? links.source(target.replace(/\/$/, ""))) + (hash ? `#${hash}` : "");
}

function splitHash(href: string): [string, string] {
  const i = href.indexOf("#");
  return i < 0 ? [href, ""] : [href.slice(0, i), href.slice(i + 1)];
}
