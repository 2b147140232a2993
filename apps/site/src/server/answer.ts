/**
 * What a static file's answer is made of, shared by the node:http handler (server.ts) and the fast path
 * (fast-path.ts), so that both pick the same variant, decide freshness alike and send the same head.
 */
import type { SiteFile, Variant } from "./files.ts";
import { acceptedEncodings, etagMatches, SECURITY_HEADERS } from "./headers.ts";

/** The security headers as `[name, value, name, value, ...]`, the flat form writeHead takes without copying. */
export const SECURITY_FLAT: readonly string[] = Object.entries(SECURITY_HEADERS).flat();

/**
 * The response heads of one variant of a file, built once: a request only picks one. `ok` for 200, `notModified`
 * for 304 (no body, so no content headers), `notFound` when the file is the 404 page.
 */
export interface Heads {
  readonly ok: readonly string[];
  readonly notModified: readonly string[];
  readonly notFound: readonly string[];
}

export function buildHeads(file: SiteFile, v: Variant): Heads {
  const head = (cacheControl: string, body: boolean) => {
    const h = [...SECURITY_FLAT, "cache-control", cacheControl, "etag", v.etag, "last-modified", file.mtime.toUTCString(), "accept-ranges", "none"];
    if (file.variants.length > 1) h.push("vary", "Accept-Encoding");
    if (body) {
      h.push("content-type", file.type, "content-length", String(v.size));
      if (v.encoding !== "identity") h.push("content-encoding", v.encoding);
    }
    return h;
  };
  return { ok: head(file.cacheControl, true), notModified: head(file.cacheControl, false), notFound: head("no-cache", true) };
}

export type Accepted = { readonly br: boolean; readonly gzip: boolean };

/** The codings an `Accept-Encoding` value accepts, remembered per distinct value (browsers send a handful). */
export function encodingCache(): (header: string | undefined) => Accepted {
  const seen = new Map<string, Accepted>();
  const none = acceptedEncodings(undefined);
  return (header) => {
    if (header === undefined) return none;
    let a = seen.get(header);
    if (!a) {
      // Bounded: a client making up a new value per request only ever costs the parse.
      if (seen.size >= 256) seen.clear();
      seen.set(header, (a = acceptedEncodings(header)));
    }
    return a;
  };
}

/** The best variant of `file` the client accepts (identity is always there, last). */
export function variantFor(file: SiteFile, ok: Accepted): Variant {
  for (const x of file.variants) {
    if (x.encoding === "identity" || ok[x.encoding]) return x;
  }
  return file.variants[0]!;
}

/** Conditional GET: the client's copy of variant `v` is current (answer 304). */
export function isFresh(file: SiteFile, v: Variant, ifNoneMatch: string | undefined, ifModifiedSince: string | undefined): boolean {
  // If-None-Match wins over If-Modified-Since when both are sent (RFC 9110 13.2.2).
  return ifNoneMatch !== undefined ? etagMatches(ifNoneMatch, v.etag) : ifModifiedSince !== undefined && Date.parse(ifModifiedSince) >= file.mtime.getTime();
}
