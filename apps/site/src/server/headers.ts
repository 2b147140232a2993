/**
 * Headers every response of the site carries. The CSP allows nothing inline and nothing from elsewhere: the
 * generator writes no inline script or style, so an injected `<script>` or `style=` in generated HTML would
 * simply not run.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  // Browsers honour it over HTTPS only (the site behind its ingress); on http://localhost it is ignored.
  "strict-transport-security": "max-age=63072000; includeSubDomains",
  "x-content-type-options": "nosniff",
  // For browsers that predate CSP's frame-ancestors.
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
};

/** Parses `Accept-Encoding`: the codings with q > 0 the client takes, and whether identity is refused. */
export function acceptedEncodings(header: string | undefined): { br: boolean; gzip: boolean } {
  if (!header) return { br: false, gzip: false };
  let br = false;
  let gzip = false;
  let star: boolean | undefined;
  const explicit = new Set<string>();
  for (const part of header.toLowerCase().split(",")) {
    const [name, ...params] = part.trim().split(";");
    const qp = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    const q = qp ? Number(qp.slice(2)) : 1;
    const ok = Number.isFinite(q) && q > 0;
    const n = name!.trim();
    explicit.add(n);
    if (n === "br") br = ok;
    else if (n === "gzip" || n === "x-gzip") gzip = gzip || ok;
    else if (n === "*") star = ok;
  }
  if (star !== undefined) {
    if (!explicit.has("br")) br = star;
    if (!explicit.has("gzip") && !explicit.has("x-gzip")) gzip = star;
  }
  return { br, gzip };
}

/** `If-None-Match` against an ETag, with the weak comparison RFC 9110 prescribes for GET/HEAD. */
export function etagMatches(header: string, etag: string): boolean {
  if (header.trim() === "*") return true;
  const bare = (t: string) => t.trim().replace(/^W\//, "");
  const want = bare(etag);
  return header.split(",").some((t) => bare(t) === want);
}
