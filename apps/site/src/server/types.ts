/**
 * Content types and cache policy of the site's files, by name. Only what a static docs site serves; anything
 * else is `application/octet-stream` (and, with nosniff, never run as script or style).
 */
import { extname } from "node:path";

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".webmanifest": "application/manifest+json; charset=utf-8",
  ".svg": "image/svg+xml; charset=utf-8",
  ".xml": "application/xml; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".md": "text/markdown; charset=utf-8",
  ".ico": "image/x-icon",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".avif": "image/avif",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".pdf": "application/pdf",
  ".wasm": "application/wasm",
  ".gz": "application/gzip",
  ".br": "application/octet-stream",
};

export function contentType(name: string): string {
  return TYPES[extname(name).toLowerCase()] ?? "application/octet-stream";
}

/** Worth compressing: text formats (and icons, which are bitmaps without compression of their own). */
export function compressible(name: string): boolean {
  return /^(text\/|application\/(json|manifest\+json|xml|wasm)|image\/(svg\+xml|x-icon))/.test(contentType(name));
}

/** A content hash in the file name (`site.3f9a1c2b.css`): the file never changes under that name. */
const HASHED = /[.-][0-9a-f]{8,}\.[a-z0-9]+$/i;

/**
 * HTML and other unhashed documents are revalidated on every use (the ETag makes that a 304 without a body),
 * so a new deployment shows at once; hashed assets are cached for a year; other assets for an hour.
 */
export function cacheControl(urlPath: string): string {
  const type = contentType(urlPath);
  if (type.startsWith("text/html") || type.startsWith("application/json")) return "no-cache";
  if (HASHED.test(urlPath)) return "public, max-age=31536000, immutable";
  return "public, max-age=3600";
}
