/**
 * A stand-in Prometheus for the site's tests: a real local HTTP server answering with the responses a real
 * Prometheus gave (fixtures/prometheus/, see its README), each at the request path it was recorded for.
 */
import { readdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";

export const FIXTURES = join(import.meta.dirname, "fixtures/prometheus");
export interface Recorded {
  recorded: { path: string; status: number; at: string };
  body: unknown;
}
export const recorded = new Map<string, Recorded>(
  readdirSync(FIXTURES)
    .filter((f) => f.endsWith(".json"))
    .map((f) => [f.replace(/\.json$/, ""), JSON.parse(readFileSync(join(FIXTURES, f), "utf8")) as Recorded]),
);
/** When the answers were recorded: their figures are relative to it. */
export const AT = Date.parse(recorded.get("argocd")!.recorded.at);

/** A stand-in Prometheus: answers each recorded path with its recorded status and body. */
export class RecordedPrometheus {
  server!: Server;
  hits: string[] = [];
  /** Paths answered with another recording instead (e.g. the syntax error), by fixture name. */
  override = new Map<string, string>();
  hang = false;
  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.hits.push(req.url!);
      if (this.hang) return; // never answers
      const byPath = [...recorded.entries()].find(([, r]) => r.recorded.path === req.url);
      const name = byPath && (this.override.get(byPath[0]) ?? byPath[0]);
      if (!name) return void res.writeHead(404, { "content-type": "text/plain" }).end("404 page not found\n");
      const r = recorded.get(name)!;
      res.writeHead(r.recorded.status, { "content-type": "application/json" }).end(JSON.stringify(r.body));
    });
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

