/**
 * The site's files, indexed once at start: every regular file below the root except dotfiles (and whatever
 * is inside a dot-folder) and symbolic links, with its pre-compressed variants, content type, ETag and cache
 * policy. Requests are answered from this index alone, so no request path, however encoded, can name a file
 * that is not in it: traversal has nothing to reach. Small files are kept in memory (the whole pre-rendered
 * site is a few hundred KiB); larger ones are streamed from disk.
 */
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, type Stats } from "node:fs";
import { join } from "node:path";
import { cacheControl, contentType } from "./types.ts";

export type Encoding = "br" | "gzip" | "identity";

export interface Variant {
  readonly encoding: Encoding;
  readonly file: string;
  readonly size: number;
  readonly etag: string;
  /** The bytes, when the file is small enough to keep in memory. */
  readonly body?: Buffer;
}

export interface SiteFile {
  /** URL path, e.g. `/assets/site.css`. */
  readonly path: string;
  readonly type: string;
  readonly cacheControl: string;
  readonly mtime: Date;
  /** Best first: br, gzip, identity (always present). */
  readonly variants: readonly Variant[];
}

export interface IndexOptions {
  /** Files up to this size are held in memory. @default 1 MiB */
  readonly maxCachedFileBytes?: number;
  /** Memory for all held files together; past it files are streamed. @default 48 MiB */
  readonly maxCachedBytes?: number;
}

export class SiteIndex {
  private constructor(
    readonly root: string,
    private readonly files: ReadonlyMap<string, SiteFile>,
    /** Bytes held in memory. */
    readonly cachedBytes: number,
  ) {}

  get size(): number {
    return this.files.size;
  }

  get(path: string): SiteFile | undefined {
    return this.files.get(path);
  }

  /** URL paths, sorted. */
  paths(): string[] {
    return [...this.files.keys()].sort();
  }

  static load(root: string, opts: IndexOptions = {}): SiteIndex {
    const maxFile = opts.maxCachedFileBytes ?? 1 << 20;
    let budget = opts.maxCachedBytes ?? 48 << 20;
    const stats = new Map<string, Stats>();
    const walk = (dir: string, rel: string) => {
      for (const name of readdirSync(dir).sort()) {
        if (name.startsWith(".")) continue;
        const abs = join(dir, name);
        const st = lstatSync(abs);
        // A symbolic link could point anywhere on the disk: the site serves what is in its folder only.
        if (st.isSymbolicLink()) continue;
        if (st.isDirectory()) walk(abs, `${rel}/${name}`);
        else if (st.isFile()) stats.set(`${rel}/${name}`, st);
      }
    };
    walk(root, "");
    let cached = 0;
    const variant = (encoding: Encoding, path: string, st: Stats): Variant => {
      const file = join(root, ...path.split("/"));
      let body: Buffer | undefined;
      let etag: string;
      if (st.size <= maxFile && st.size <= budget) {
        body = readFileSync(file);
        budget -= body.length;
        cached += body.length;
        etag = createHash("sha256").update(body).digest("base64url").slice(0, 22);
      } else {
        etag = `${st.size.toString(36)}-${Math.floor(st.mtimeMs).toString(36)}`;
      }
      const suffix = encoding === "identity" ? "" : `-${encoding}`;
      return { encoding, file, size: st.size, etag: `"${etag}${suffix}"`, ...(body ? { body } : {}) };
    };
    const files = new Map<string, SiteFile>();
    for (const [path, st] of stats) {
      const base = path.replace(/\.(gz|br)$/, "");
      // A variant beside its file belongs to it; an archive with no such file (`x.tar.gz`) is a file itself.
      if (base !== path && stats.has(base)) continue;
      const variants: Variant[] = [];
      for (const [ext, enc] of [["br", "br"], ["gz", "gzip"]] as const) {
        const vst = stats.get(`${path}.${ext}`);
        // A variant older than its file was made from an earlier version of it: never serve that.
        if (vst && vst.mtimeMs >= st.mtimeMs) variants.push(variant(enc, `${path}.${ext}`, vst));
      }
      variants.push(variant("identity", path, st));
      files.set(path, { path, type: contentType(path), cacheControl: cacheControl(path), mtime: new Date(Math.floor(st.mtimeMs / 1000) * 1000), variants });
    }
    return new SiteIndex(root, files, cached);
  }
}

/** A `.` or `..` segment. */
const DOT_SEGMENT = /(?:^|\/)\.\.?(?:\/|$)/;

/** Why a request path names no file: malformed (400) or absent (404). */
export type Resolved = { kind: "file"; file: SiteFile } | { kind: "redirect"; location: string } | { kind: "bad"; reason: string } | { kind: "missing" };

/**
 * Maps a request target onto the index. Rejected before any lookup, whatever their encoding: a target not
 * starting with `/`, undecodable percent-escapes, backslashes, NUL and other control characters, `.` and
 * `..` segments. Segments starting with `.` (dotfiles) are simply not in the index.
 */
export function resolvePath(index: SiteIndex, target: string): Resolved {
  if (!target.startsWith("/")) return { kind: "bad", reason: "request target is not a path" };
  const q = target.indexOf("?");
  const raw = q < 0 ? target : target.slice(0, q);
  let path = raw;
  // Most paths have no escapes: decoding them would copy them for nothing.
  if (raw.includes("%")) {
    try {
      path = decodeURIComponent(raw);
    } catch {
      return { kind: "bad", reason: "malformed percent-encoding" };
    }
  }
  // eslint-disable-next-line no-control-regex
  if (/[\\\u0000-\u001f\u007f]/.test(path)) return { kind: "bad", reason: "backslash or control character in path" };
  if (DOT_SEGMENT.test(path)) return { kind: "bad", reason: "dot segment in path" };
  const exact = index.get(path);
  if (exact) return { kind: "file", file: exact };
  if (path.endsWith("/")) {
    const idx = index.get(`${path}index.html`);
    return idx ? { kind: "file", file: idx } : { kind: "missing" };
  }
  // A folder named without its slash: send the browser to the slash form, so relative links resolve.
  if (index.get(`${path}/index.html`)) return { kind: "redirect", location: `${encodeURI(path)}/${q < 0 ? "" : target.slice(q)}` };
  const html = index.get(`${path}.html`);
  return html ? { kind: "file", file: html } : { kind: "missing" };
}
