/** Test helpers for the kit: in-memory log and span sinks, a real server on an ephemeral port, a real client. */
import { createServer, request, type Server, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { createTelemetry, type Handler, type Telemetry, type TelemetryOptions } from "../src/index.ts";

export interface Sink {
  readonly lines: Record<string, any>[];
  readonly raw: string[];
}

export function sink(): Sink & { write(s: string): void } {
  const lines: Record<string, any>[] = [];
  const raw: string[] = [];
  return {
    lines,
    raw,
    write(s: string) {
      for (const l of s.split("\n").filter(Boolean)) {
        raw.push(l);
        lines.push(JSON.parse(l));
      }
    },
  };
}

export function kit(opts: Partial<TelemetryOptions> = {}): { t: Telemetry; logs: Sink; spans: Sink } {
  const logs = sink();
  const spans = sink();
  const t = createTelemetry({ service: "test-app", version: "1.2.3", env: {}, logDestination: logs, spanWrite: (l) => spans.write(l), ...opts });
  return { t, logs, spans };
}

export async function listen(handler: Handler): Promise<{ server: Server; port: number; close: () => Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export function get(port: number, path: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method: opts.method ?? "GET", headers: opts.headers, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}
