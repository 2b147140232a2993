/**
 * Route templates: the only values the `route` label of the HTTP metrics (and the span names) can take.
 * A label made from raw paths grows one time series per distinct URL a scanner tries; one made from a fixed
 * list of templates cannot, whatever arrives.
 */

/** The label of a request that matches no template. */
export const UNMATCHED = "unmatched";

/**
 * A matcher over route templates: `/healthz` (exact), `/users/:id` (one segment), `/assets/*` (the rest of the
 * path, at least one segment... or none: `/assets/` matches too), `/*` (anything). The first template that
 * matches wins, so list specific ones first. Returns the template itself, or {@link UNMATCHED}.
 * Each template becomes one anchored regular expression, so matching a request splits nothing and allocates
 * nothing.
 */
export function routeMatcher(templates: readonly string[]): (path: string) => string {
  const compiled = templates.map((template) => {
    if (!template.startsWith("/")) throw new Error(`route template "${template}" must start with "/"`);
    const parts = template.split("/").slice(1);
    const rest = parts.at(-1) === "*";
    if (parts.slice(0, -1).includes("*")) throw new Error(`route template "${template}": "*" may only be the last segment`);
    const fixed = (rest ? parts.slice(0, -1) : parts).map((p) => (p.startsWith(":") ? "/[^/?]+" : `/${p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`)).join("");
    // The query, if the caller left it on, is ignored: `(?:\?.*)?` at the end.
    return { template, re: new RegExp(`^${fixed}${rest ? "(?:/[^?]*)?" : ""}(?:\\?.*)?$`, "s") };
  });
  return (path: string) => {
    for (const c of compiled) if (c.re.test(path)) return c.template;
    return UNMATCHED;
  };
}

/** Methods that get their own label value; anything else (an arbitrary token a client sends) is `OTHER`. */
const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"]);

export function methodLabel(method: string | undefined): string {
  return method && KNOWN_METHODS.has(method) ? method : "OTHER";
}
