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
import { buildHeads, encodingCache, isFresh, variantFor, type Heads } from "./answer.ts";
import { FastPath } from "./fast-path.ts";
import { SECURITY_HEADERS } from "./headers.ts";

/** Where the generator writes the site (apps/site/dist/public). */
export const DEFAULT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../dist/public");
/**
 * Static files are served by the thousand and all look alike: one trace in a hundred is exported, which shows
 * their timing without a span line per file in the logs beside the access line.
 */
export const STATIC_TRACE_RATIO = 0.01;
/** The route label of the site's files (and its 404s). */
export const STATIC_ROUTE = "/*";
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
  /**
   * Plain GETs and HEADs of the site's files answered on the raw connection, without node:http's request and
   * response objects (fast-path.ts); every other request, and every connection once it sends one, is node:http's.
   * The answers are the same bytes either way. Off: every request goes through node:http (main.ts:
   * `SITE_FAST_PATH=off`). @default true
   */
  readonly fastPath?: boolean;
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
    const v = variantFor(file, accepted(req.headers["accept-encoding"]));
    const head = heads.get(v)!;
    if (status === 200) {
      if (isFresh(file, v, req.headers["if-none-match"], req.headers["if-modified-since"])) {
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

  const headersTimeoutMs = opts.headersTimeoutMs ?? 10_000;
  const keepAliveTimeoutMs = opts.keepAliveTimeoutMs ?? 5_000;
  const checkIntervalMs = opts.timeoutCheckIntervalMs ?? 1_000;
  const maxHeaderBytes = opts.maxHeaderBytes ?? 16 * 1024;
  const idleTimeoutMs = opts.idleTimeoutMs ?? 30_000;
  const handler = telemetry.handler(app, {
    routes: [STATUS_PATH, `${STATUS_PATH}/*`, STATIC_ROUTE],
    accessLog: opts.accessLog ?? "info",
    metricsEndpoint: opts.metricsEndpoint ?? true,
    traceRatio: { [STATIC_ROUTE]: opts.staticTraceRatio ?? STATIC_TRACE_RATIO },
    // A static file is answered synchronously and logs nothing after: no async context needed (/status has one).
    asyncContext: { [STATIC_ROUTE]: false },
  });
  const server = createServer(
    {
      headersTimeout: headersTimeoutMs,
      requestTimeout: opts.requestTimeoutMs ?? 30_000,
      keepAliveTimeout: keepAliveTimeoutMs,
      connectionsCheckingInterval: checkIntervalMs,
      maxHeaderSize: maxHeaderBytes,
    },
    handler,
  );
  server.setTimeout(idleTimeoutMs);
  if (opts.fastPath ?? true) {
    new FastPath({
      server,
      index,
      notFound,
      heads,
      accepted,
      direct: handler.direct,
      route: STATIC_ROUTE,
      headersTimeoutMs,
      keepAliveTimeoutMs,
      idleTimeoutMs,
      maxHeaderBytes,
      checkIntervalMs,
    });
  }
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
