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
import { resolvePath, SiteIndex, type SiteFile } from "./files.ts";
import { acceptedEncodings, etagMatches, SECURITY_HEADERS } from "./headers.ts";

/** Where the generator writes the site (apps/site/dist/public). */
export const DEFAULT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../dist/public");
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

function sendFile(req: IncomingMessage, res: ServerResponse, file: SiteFile, status: 200 | 404): void {
  const accepted = acceptedEncodings(req.headers["accept-encoding"]);
  const v = file.variants.find((x) => x.encoding === "identity" || accepted[x.encoding])!;
  const headers: Record<string, string | number> = {
    ...SECURITY_HEADERS,
    "cache-control": status === 200 ? file.cacheControl : "no-cache",
    etag: v.etag,
    "last-modified": file.mtime.toUTCString(),
    "accept-ranges": "none",
  };
  if (file.variants.length > 1) headers.vary = "Accept-Encoding";
  if (status === 200) {
    const inm = req.headers["if-none-match"];
    const ims = req.headers["if-modified-since"];
    // If-None-Match wins over If-Modified-Since when both are sent (RFC 9110 13.2.2).
    const fresh = inm !== undefined ? etagMatches(inm, v.etag) : ims !== undefined && Date.parse(ims) >= file.mtime.getTime();
    if (fresh) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
  }
  headers["content-type"] = file.type;
  headers["content-length"] = v.size;
  if (v.encoding !== "identity") headers["content-encoding"] = v.encoding;
  res.writeHead(status, headers);
  if (req.method === "HEAD") res.end();
  else if (v.body) res.end(v.body);
  else pipeline(createReadStream(v.file), res, () => undefined);
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

  const app: Handler = async (req, res) => {
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
    const path = url.split("?", 1)[0]!;
    if (path === STATUS_PATH || path.startsWith(`${STATUS_PATH}/`)) {
      if (opts.status) {
        for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
        await opts.status(req, res);
        return;
      }
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
    telemetry.handler(app, { routes: [STATUS_PATH, `${STATUS_PATH}/*`, "/*"], accessLog: opts.accessLog ?? "info" }),
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
