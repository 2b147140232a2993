/**
 * Serves a generated site for the browser tests with the status handler at /status and the strict CSP,
 * so that anything inline or foreign shows as a console error.
 */
import { createReadStream, existsSync, statSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize } from "node:path";
import { createStatusHandler } from "../src/status/index.ts";

export interface RunningSite {
  readonly url: string;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = { ".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".json": "application/json" };
const CSP = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export async function startSiteServer(o: { publicDir: string; prometheusUrl?: string; now?: () => number }): Promise<RunningSite> {
  const status = createStatusHandler({ publicDir: o.publicDir, prometheusUrl: o.prometheusUrl ?? "", ...(o.now && { now: o.now }) });
  const server = createServer((req, res) => {
    res.setHeader("content-security-policy", CSP);
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (path === "/status") return void status(req, res);
    const file = join(o.publicDir, normalize(path.endsWith("/") ? `${path}index.html` : path));
    if (!file.startsWith(o.publicDir) || !existsSync(file) || !statSync(file).isFile()) return void res.writeHead(404).end("not found");
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}
