/**
 * Graceful shutdown of an HTTP server within the pod's grace period (Kubernetes sends SIGTERM, waits
 * `terminationGracePeriodSeconds`, 30 s by default, then SIGKILLs):
 *   1. readiness turns false, so /readyz answers 503;
 *   2. the listener closes (no new connections) and idle keep-alive connections are closed;
 *   3. requests in flight finish; each response of a keep-alive connection says `Connection: close`, and the
 *      connection closes once it is answered, so no client sends another request into a closing server;
 *   4. telemetry is flushed (spans exported, log lines written);
 *   5. whatever is still open when the drain deadline passes is cut, so the process exits before the SIGKILL.
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";

export interface DrainOptions {
  /** How long requests in flight may take to finish. @default 20_000 ms (leaves room in a 30 s grace period) */
  readonly drainTimeoutMs?: number;
}

/**
 * Tracks the requests of `server` and returns a function that drains it as described above; resolves once
 * the listener is closed and every connection is gone (`false` when the deadline cut requests short).
 */
export function drainer(server: Server, opts: DrainOptions = {}): { drain: () => Promise<boolean>; inFlight: () => number; draining: () => boolean } {
  const drainTimeoutMs = opts.drainTimeoutMs ?? 20_000;
  const open = new Set<ServerResponse>();
  let draining = false;
  let idle: (() => void) | undefined;
  // Unanswered responses of a draining server close their connection after them (`Connection: close`).
  const closeAfter = (res: ServerResponse) => {
    if (!res.headersSent) res.shouldKeepAlive = false;
  };
  server.on("request", (_req: IncomingMessage, res: ServerResponse) => {
    open.add(res);
    // A request that arrives on a kept-alive connection during the drain is served, and its connection closed.
    if (draining) closeAfter(res);
    res.once("close", () => {
      open.delete(res);
      if (draining) {
        server.closeIdleConnections();
        if (open.size === 0) idle?.();
      }
    });
  });
  const drain = () =>
    new Promise<boolean>((resolve) => {
      draining = true;
      for (const res of open) closeAfter(res);
      let closed = false;
      let drained = open.size === 0;
      let clean = true;
      const maybeDone = () => {
        if (closed && drained) {
          clearTimeout(timer);
          resolve(clean);
        }
      };
      const timer = setTimeout(() => {
        clean = open.size === 0;
        drained = true;
        server.closeAllConnections();
        maybeDone();
      }, drainTimeoutMs);
      timer.unref();
      idle = () => {
        drained = true;
        maybeDone();
      };
      server.close(() => {
        closed = true;
        maybeDone();
      });
      server.closeIdleConnections();
      if (open.size === 0) idle();
    });
  return { drain, inFlight: () => open.size, draining: () => draining };
}
