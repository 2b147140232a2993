/** A throw-away site on disk, the site server on an ephemeral port, and clients that send exact bytes. */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createTelemetry } from "@sky-palette/telemetry";
import { precompress } from "../../src/server/precompress.ts";
import { createSiteServer, type SiteServer, type SiteServerOptions } from "../../src/server/server.ts";

/** Marker strings that must never appear in any response. */
export const SECRET = "TOP-SECRET-OUTSIDE-ROOT";
export const DOTFILE = "DOTFILE-CONTENT";

export interface TestSite {
  readonly dir: string;
  readonly root: string;
  cleanup(): void;
}

/** A small site like the generator's: pages, a stylesheet, a folder with an index, a 404 page, and traps. */
export async function makeSite(): Promise<TestSite> {
  const dir = mkdtempSync(join(tmpdir(), "site-server-"));
  const root = join(dir, "public");
  const page = (title: string) => `<!doctype html><html><head><title>${title}</title><link rel="stylesheet" href="/assets/site.css"></head><body><h1>${title}</h1>${"<p>Lorem ipsum dolor sit amet, the homelab as code.</p>".repeat(40)}</body></html>\n`;
  const files: Record<string, string | Buffer> = {
    "index.html": page("Overview"),
    "inventory.html": page("Inventory"),
    "404.html": page("Not found"),
    "docs/index.html": page("Docs"),
    "docs/runbook.html": page("Runbook"),
    "assets/site.css": "body { font-family: sans-serif; }\n".repeat(30),
    "assets/site.0123abcd.css": "h1 { color: navy; }\n".repeat(30),
    "assets/logo.png": Buffer.alloc(600, 7),
    "big.txt": "x".repeat(2 * 1024 * 1024),
    // More than the kernel's socket buffers take: a client that stops reading stalls the server's writes.
    "big.bin": randomBytes(32 * 1024 * 1024),
    ".env": `API_TOKEN=${DOTFILE}\n`,
    ".git/config": `[core]\n\t${DOTFILE}\n`,
    "docs/.hidden.html": DOTFILE,
  };
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), content);
  }
  writeFileSync(join(dir, "secret.txt"), SECRET);
  symlinkSync(join(dir, "secret.txt"), join(root, "link.txt"));
  await precompress(root);
  return { dir, root, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Running extends SiteServer {
  readonly port: number;
  close(): Promise<void>;
}

/** The site server with its logs and spans kept in memory (no signal handlers: several run in one process). */
export async function start(root: string, opts: Partial<SiteServerOptions> = {}): Promise<Running & { logs: Record<string, any>[] }> {
  const logs: Record<string, any>[] = [];
  const telemetry = createTelemetry({
    service: "site-test",
    env: {},
    logDestination: { write: (s: string) => void logs.push(...s.split("\n").filter(Boolean).map((l) => JSON.parse(l))) },
    spanWrite: () => undefined,
  });
  const site = createSiteServer({ root, telemetry, signals: [], ...opts });
  const addr = await site.listen(0, "127.0.0.1");
  return {
    ...site,
    logs,
    port: addr.port,
    close: async () => {
      site.server.closeAllConnections();
      await new Promise<void>((r) => site.server.close(() => r()));
      await telemetry.flush();
    },
  };
}

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/** An ordinary client request (Node's client sends the path exactly as given). */
export function get(port: number, path: string, headers: Record<string, string> = {}, method = "GET"): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end();
  });
}

/**
 * Sends `bytes` as they are on a fresh connection (optionally in slices, `delayMs` apart) and collects
 * everything the server sends until it closes the connection or `timeoutMs` passes.
 */
export function raw(port: number, bytes: string | Buffer | (string | Buffer)[], opts: { delayMs?: number; timeoutMs?: number } = {}): Promise<{ text: string; status: number; closed: boolean; ms: number }> {
  const parts = Array.isArray(bytes) ? bytes : [bytes];
  return new Promise((resolve) => {
    const t0 = Date.now();
    const chunks: Buffer[] = [];
    const s = connect(port, "127.0.0.1");
    let closed = false;
    let finished = false;
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString("latin1");
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      resolve({ text, status: m ? Number(m[1]) : 0, closed, ms: Date.now() - t0 });
    };
    s.on("data", (c: Buffer) => chunks.push(c));
    s.on("error", () => undefined);
    s.on("close", () => {
      closed = true;
      done();
    });
    s.on("connect", async () => {
      for (const p of parts) {
        if (s.destroyed) break;
        s.write(p);
        if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
      }
    });
    timer = setTimeout(() => {
      done(); // still open: closed stays false
      s.destroy();
    }, opts.timeoutMs ?? 5_000);
  });
}

/** A server started from the fixture `slow-status.ts` in a child process, with the JSON lines it logs. */
export interface SlowStatusChild {
  readonly child: ChildProcess;
  readonly lines: Record<string, any>[];
  readonly exited: Promise<number | null>;
  /** The port it listens on, once it says so. */
  readonly port: Promise<number>;
}

export function spawnSlowStatus(root: string, statusMs: number): SlowStatusChild {
  const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "fixtures", "slow-status.ts")], {
    env: { ...process.env, SITE_ROOT: root, STATUS_MS: String(statusMs) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines: Record<string, any>[] = [];
  let buf = "";
  const port = new Promise<number>((resolve) => {
    child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      buf += d;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = JSON.parse(buf.slice(0, i)) as Record<string, any>;
        lines.push(line);
        if (line.msg === "listening") resolve(line.port as number);
        buf = buf.slice(i + 1);
      }
    });
  });
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return { child, lines, exited, port };
}
