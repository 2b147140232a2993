/**
 * The fast path's recogniser of request heads (see fast-path.ts). Not an HTTP parser: it recognises one narrow,
 * common shape — a GET or HEAD of an origin-form path, HTTP/1.1 or 1.0, CRLF line ends, token header names,
 * values of visible ASCII — and says OTHER to anything else, which node:http's own parser (llhttp) then reads.
 * So whatever it accepts, node:http would parse to the same method, target, version and headers (the
 * differential test in apps/site/test/server/fast-path.test.ts checks that on generated heads), and nothing
 * odd is ever answered here: a request with a body, an upgrade, an expectation, a caller's trace context, a
 * duplicate of a header the answer depends on, non-ASCII bytes, a bare LF, an obs-fold... is not "simple".
 */

/** A complete, simple request head. */
export interface SimpleHead {
  readonly method: "GET" | "HEAD";
  /** The request target as sent (origin-form), as node:http's `req.url`. */
  readonly target: string;
  /** 1 for HTTP/1.1, 0 for HTTP/1.0. */
  readonly minor: 0 | 1;
  /** Offset just past the head's empty line: where the next request starts. */
  readonly end: number;
  /** The `Connection` value, lower case: "close", "keep-alive", or undefined when not sent. */
  readonly connection: "close" | "keep-alive" | undefined;
  readonly acceptEncoding: string | undefined;
  readonly ifNoneMatch: string | undefined;
  readonly ifModifiedSince: string | undefined;
}

/** No complete head (yet) from here on. */
export const INCOMPLETE = 0;
/** A complete head that is not simple: node:http reads it. */
export const OTHER = 1;

/**
 * Method, origin-form target of RFC 3986 path and query characters (no fragment, no backslash, no quotes, no
 * controls, nothing above ASCII), version. Sticky: matched where the request starts.
 */
const REQUEST_LINE = /(GET|HEAD) (\/[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*) HTTP\/1\.([01])\r\n/y;
/**
 * One header line: a token name, a colon, optional whitespace, a value of visible ASCII with single spaces or
 * tabs inside (llhttp drops the whitespace around a value, as this does), CRLF. A bare CR or LF, an obs-fold
 * (a line starting with whitespace), a space before the colon, a control character or a byte above 0x7e
 * anywhere makes the line not match.
 */
const HEADER_LINE = /([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*((?:[\x21-\x7e](?:[ \t]*[\x21-\x7e])*)?)[ \t]*\r\n/y;

/** Headers that make a request not simple: it has (or may have) a body, wants something else, or carries a trace. */
const NOT_SIMPLE = new Set(["content-length", "transfer-encoding", "expect", "upgrade", "http2-settings", "traceparent", "tracestate", "baggage"]);

/** More headers than a browser sends: leave such a request to node:http (which has its own limit). */
const MAX_HEADERS = 64;

/**
 * Reads the request head starting at `from` in `s` (the received bytes as latin1: one char per byte), at most
 * `maxBytes` long. `raw`, when given, receives the header names and values as node:http's `rawHeaders` would
 * (for the differential test; the fast path does not pay for it).
 */
export function readHead(s: string, from: number, maxBytes: number, raw?: string[]): SimpleHead | typeof INCOMPLETE | typeof OTHER {
  const blank = s.indexOf("\r\n\r\n", from);
  if (blank < 0) return INCOMPLETE;
  const end = blank + 4;
  if (end - from > maxBytes) return OTHER;
  REQUEST_LINE.lastIndex = from;
  const line = REQUEST_LINE.exec(s);
  if (!line) return OTHER;
  let pos = REQUEST_LINE.lastIndex;
  const minor = line[3] === "1" ? 1 : 0;
  let host = false;
  let connection: SimpleHead["connection"];
  let acceptEncoding: string | undefined;
  let ifNoneMatch: string | undefined;
  let ifModifiedSince: string | undefined;
  let count = 0;
  // The head's lines end at `blank` + 2; the empty line follows.
  while (pos < blank + 2) {
    HEADER_LINE.lastIndex = pos;
    const m = HEADER_LINE.exec(s);
    if (!m || ++count > MAX_HEADERS) return OTHER;
    pos = HEADER_LINE.lastIndex;
    const name = m[1]!;
    const value = m[2]!;
    raw?.push(name, value);
    const lower = name.toLowerCase();
    switch (lower) {
      case "host":
        if (host) return OTHER;
        host = true;
        break;
      case "connection": {
        if (connection !== undefined) return OTHER;
        const v = value.toLowerCase();
        if (v !== "close" && v !== "keep-alive") return OTHER;
        connection = v;
        break;
      }
      // node:http joins repeated ones; a client repeating them is rare enough to leave to it.
      case "accept-encoding":
        if (acceptEncoding !== undefined) return OTHER;
        acceptEncoding = value;
        break;
      case "if-none-match":
        if (ifNoneMatch !== undefined) return OTHER;
        ifNoneMatch = value;
        break;
      case "if-modified-since":
        if (ifModifiedSince !== undefined) return OTHER;
        ifModifiedSince = value;
        break;
      default:
        if (NOT_SIMPLE.has(lower)) return OTHER;
    }
  }
  if (pos !== blank + 2) return OTHER;
  // HTTP/1.1 requires Host (node:http answers 400 without it).
  if (minor === 1 && !host) return OTHER;
  return { method: line[1] as "GET" | "HEAD", target: line[2]!, minor, end, connection, acceptEncoding, ifNoneMatch, ifModifiedSince };
}
