/**
 * The site's HTTP server, built on the telemetry kit: serves the pre-rendered site from a folder (indexed once
 * at start, see files.ts), the best pre-compressed variant the client accepts, ETag and conditional GET,
 * cache and security headers, the site's 404 page, and an optional live-status handler at `/status`. Only
 * GET and HEAD; a request body beyond a few bytes is refused. Header, request and idle timeouts end slow or
 * stalled clients; SIGTERM drains requests in flight (the kit's graceful shutdown).
 */
import { createReadStream, existsSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join, resolve } from "node:path";
import { pipeline } from "node:stream";
import { fileURLToPath } from "node:url";
import { createTelemetry, type Handler, type Serving, type Telemetry } from "@sky-palette/telemetry";
import { UserError } from "../../../../src/errors.ts";
import { resolvePath, SiteIndex, type SiteFile, type Variant } from "./files.ts";
import { acceptedEncodings, etagMatches, SECURITY_HEADERS } from "./headers.ts";

/** Where the generator writes the site (apps/site/dist/public). */
export const DEFAULT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../dist/public");
/**
 * Static files are served by the thousand and all look alike: one trace in a hundred is exported, which shows
 * their timing without a span line per file in the logs beside the access line.
 */
export const STATIC_TRACE_RATIO = 0.01;
/** The live-status handler's mount point. */
export const STATUS_PATH = "/status";

export interface SiteServerOptions {
  /** The pre-rendered site. @default apps/site/dist/public */
  readonly root?: string;
  /** Mounted at `/status` and below (the site's live-status module). Without it, /status is a 404. */
  readonly status?: Handler;
  /** @default a new kit for service "site" */
  readonly telemetry?: Telemetry;
  readonly version?: string;
  /** Time for a client to send the request headers. @default 10_000 */
  readonly headersTimeoutMs?: number;
  /** Time for the whole request. @default 30_000 */
  readonly requestTimeoutMs?: number;
  /** An idle keep-alive connection closes after this. @default 5_000 */
  readonly keepAliveTimeoutMs?: number;
  /** A connection with no traffic either way (a client that stopped reading) is closed after this. @default 30_000 */
  readonly idleTimeoutMs?: number;
  /** Larger request headers get 431. @default 16 KiB */
  readonly maxHeaderBytes?: number;
  /** GET and HEAD carry no body; a larger one (or one of unknown length) gets 413. @default 1 KiB */
  readonly maxBodyBytes?: number;
  /** A log line per request. @default "info" */
  readonly accessLog?: "info" | "debug" | false;
  /**
   * The fraction of new traces kept for static files (every request still has a span with trace and span
   * ids, in its access line; only a kept one is exported). /status requests are always kept: they are few
   * and do real work (Prometheus queries). @default {@link STATIC_TRACE_RATIO}
   */
  readonly staticTraceRatio?: number;
  /**
   * Serve the kit's `/metrics` on this server's port. False when the kit's metrics listener serves it on a
   * port of its own (main.ts, METRICS_PORT): then `/metrics` here is the 404 page. @default true
   */
  readonly metricsEndpoint?: boolean;
  /** How often Node checks connections against the header/request timeouts. @default 1_000 */
  readonly timeoutCheckIntervalMs?: number;
  /** Signals that start the graceful shutdown (and then exit the process); [] in tests. @default ["SIGTERM", "SIGINT"] */
  readonly signals?: readonly NodeJS.Signals[];
  /** The pod's termination grace period. @default env SHUTDOWN_GRACE_MS ?? 30_000 */
  readonly gracePeriodMs?: number;
}

export interface SiteServer {
  readonly server: Server;
  readonly telemetry: Telemetry;
  readonly index: SiteIndex;
  /** Graceful shutdown: runs on the configured signals, or when called. */
  readonly serving: Serving;
  listen(port: number, host?: string): Promise<AddressInfo>;
}

const TEXT = "text/plain; charset=utf-8";

function plain(res: ServerResponse, req: IncomingMessage, status: number, body: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, "content-type": TEXT, "cache-control": "no-store", "content-length": Buffer.byteLength(body), ...extra });
  res.end(req.method === "HEAD" ? undefined : body);
}

/** The security headers as `[name, value, name, value, ...]`, the flat form writeHead takes without copying. */
const SECURITY_FLAT: readonly string[] = Object.entries(SECURITY_HEADERS).flat();

/**
 * The response heads of one variant of a file, built once: a request only picks one. `ok` for 200, `notModified`
 * for 304 (no body, so no content headers), `notFound` when the file is the 404 page.
 */
interface Heads {
  readonly ok: readonly string[];
  readonly notModified: readonly string[];
  readonly notFound: readonly string[];
}

function buildHeads(file: SiteFile, v: Variant): Heads {
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

/** The codings an `Accept-Encoding` value accepts, remembered per distinct value (browsers send a handful). */
function encodingCache(): (header: string | undefined) => { br: boolean; gzip: boolean } {
  const seen = new Map<string, { br: boolean; gzip: boolean }>();
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

export function createSiteServer(opts: SiteServerOptions = {}): SiteServer {
  const root = resolve(opts.root ?? DEFAULT_ROOT);
  if (!existsSync(join(root, "index.html"))) {
    throw new UserError(`site server: no index.html in ${root}; generate the site first (npm start does), or set SITE_ROOT`);
  }
  const index = SiteIndex.load(root);
  const telemetry = opts.telemetry ?? createTelemetry({ service: "site", version: opts.version });
  const maxBody = opts.maxBodyBytes ?? 1024;
  const notFound = index.get("/404.html");

  const heads = new Map<Variant, Heads>();
  for (const path of index.paths()) {
    const file = index.get(path)!;
    for (const v of file.variants) heads.set(v, buildHeads(file, v));
  }
  const accepted = encodingCache();

  const sendFile = (req: IncomingMessage, res: ServerResponse, file: SiteFile, status: 200 | 404): void => {
    const ok = accepted(req.headers["accept-encoding"]);
    let v = file.variants[0]!;
    for (const x of file.variants) {
      if (x.encoding === "identity" || ok[x.encoding]) {
        v = x;
        break;
      }
    }
    const head = heads.get(v)!;
    if (status === 200) {
      const inm = req.headers["if-none-match"];
      const ims = req.headers["if-modified-since"];
      // If-None-Match wins over If-Modified-Since when both are sent (RFC 9110 13.2.2).
      const fresh = inm !== undefined ? etagMatches(inm, v.etag) : ims !== undefined && Date.parse(ims) >= file.mtime.getTime();
      if (fresh) {
        res.writeHead(304, head.notModified as string[]);
        res.end();
        return;
      }
    }
    res.writeHead(status, (status === 200 ? head.ok : head.notFound) as string[]);
    if (req.method === "HEAD") res.end();
    else if (v.body) res.end(v.body);
    else pipeline(createReadStream(v.file), res, () => undefined);
  };

  // Not async: a static file is answered synchronously, and a promise per request would only cost.
  const app: Handler = (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      // The body of a POST (or worse) is never read: the connection closes after the answer.
      plain(res, req, 405, "method not allowed\n", { allow: "GET, HEAD", connection: "close" });
      return;
    }
    const length = req.headers["content-length"];
    if (req.headers["transfer-encoding"] !== undefined || (length !== undefined && Number(length) > maxBody)) {
      plain(res, req, 413, "request body too large\n", { connection: "close" });
      return;
    }
    if (length !== undefined && Number(length) > 0) res.setHeader("connection", "close");
    const url = req.url ?? "/";
    if (opts.status && url.startsWith(STATUS_PATH) && (url.length === STATUS_PATH.length || url[STATUS_PATH.length] === "/" || url[STATUS_PATH.length] === "?")) {
      for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
      return opts.status(req, res);
    }
    const r = resolvePath(index, url);
    if (r.kind === "file") sendFile(req, res, r.file, 200);
    else if (r.kind === "redirect") plain(res, req, 301, `moved to ${r.location}\n`, { location: r.location });
    else if (r.kind === "bad") plain(res, req, 400, `bad request: ${r.reason}\n`);
    else if (notFound) sendFile(req, res, notFound, 404);
    else plain(res, req, 404, "not found\n");
  };

  const server = createServer(
    {
      headersTimeout: opts.headersTimeoutMs ?? 10_000,
      requestTimeout: opts.requestTimeoutMs ?? 30_000,
      keepAliveTimeout: opts.keepAliveTimeoutMs ?? 5_000,
      connectionsCheckingInterval: opts.timeoutCheckIntervalMs ?? 1_000,
      maxHeaderSize: opts.maxHeaderBytes ?? 16 * 1024,
    },
    telemetry.handler(app, {
      routes: [STATUS_PATH, `${STATUS_PATH}/*`, "/*"],
      accessLog: opts.accessLog ?? "info",
      metricsEndpoint: opts.metricsEndpoint ?? true,
      traceRatio: { "/*": opts.staticTraceRatio ?? STATIC_TRACE_RATIO },
      // A static file is answered synchronously and logs nothing after: no async context needed (/status has one).
      asyncContext: { "/*": false },
    }),
  );
  server.setTimeout(opts.idleTimeoutMs ?? 30_000);
  const serving = telemetry.serve(server, { signals: opts.signals, ...(opts.gracePeriodMs ? { gracePeriodMs: opts.gracePeriodMs } : {}) });
  return {
    server,
    telemetry,
    index,
    serving,
    listen: (port, host) =>
      new Promise((resolveListen, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          resolveListen(server.address() as AddressInfo);
        });
      }),
  };
}
