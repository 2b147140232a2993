/**
 * Graceful shutdown of an HTTP server within the pod's grace period (Kubernetes sends SIGTERM, waits
 * `terminationGracePeriodSeconds`, 30 s by default, then SIGKILLs):
 *   1. readiness turns false, so /readyz answers 503;
 *   2. the listener closes: new connections are refused;
 *   3. requests in flight finish; from now on every response says `Connection: close` and its connection
 *      closes once it is answered. Idle keep-alive connections are left to their keep-alive timeout rather
 *      than closed at once (what Node's `server.close()` does): a client may be sending its next request on
 *      one at that very moment, and would get a reset instead of an answer;
 *   4. telemetry is flushed (spans exported, log lines written);
 *   5. whatever is still open when the drain deadline passes is cut, so the process exits before the SIGKILL.
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { Server as NetServer } from "node:net";

/**
 * The responses of a server not yet closed. Fed by the kit's request handler itself when the server's only
 * request listener is one (no listener of its own then: a 'request' and a 'close' listener per request cost
 * on every request), else by listeners the drainer adds.
 */
export class InFlight {
  readonly open = new Set<ServerResponse>();
  /**
   * Connections a fast path serves outside node:http (see {@link DirectRequests}) with an answer still being
   * written: in flight like an open response.
   */
  readonly direct = new Set<object>();
  draining = false;
  /** Called once when the drain begins, and once when its deadline cuts what is left. */
  private readonly listeners: ((phase: "drain" | "cut") => void)[] = [];

  /** Requests (responses and fast-path answers) not finished. */
  get size(): number {
    return this.open.size + this.direct.size;
  }

  /** A fast path that serves connections itself follows the drain: answers then close, and at the deadline it cuts. */
  onDrain(listener: (phase: "drain" | "cut") => void): void {
    this.listeners.push(listener);
  }

  /** @internal the drainer's: tells the fast paths. */
  emit(phase: "drain" | "cut"): void {
    for (const l of this.listeners) l(phase);
  }

  /** A request arrived; its response is tracked until it closes. */
  add(res: ServerResponse): void {
    this.open.add(res);
    // A request that arrives on a kept-alive connection during the drain is served, and its connection closed.
    if (this.draining) closeAfter(res);
  }

  delete(res: ServerResponse): void {
    this.open.delete(res);
  }
}

/** Unanswered responses of a draining server close their connection after them (`Connection: close`). */
function closeAfter(res: ServerResponse): void {
  if (!res.headersSent) res.shouldKeepAlive = false;
}

export interface DrainOptions {
  /** How long requests in flight may take to finish. @default 20_000 ms (leaves room in a 30 s grace period) */
  readonly drainTimeoutMs?: number;
  /** The server's responses as its request handler tracks them (the kit's does); without it, listeners do. */
  readonly inFlight?: InFlight;
}

/**
 * Tracks the requests of `server` and returns a function that drains it as described above; resolves once
 * the listener is closed and every connection is gone (`false` when the deadline cut requests short).
 */
export function drainer(server: Server, opts: DrainOptions = {}): { drain: () => Promise<boolean>; inFlight: () => number; draining: () => boolean } {
  const drainTimeoutMs = opts.drainTimeoutMs ?? 20_000;
  let tracked = opts.inFlight;
  if (!tracked) {
    const own = (tracked = new InFlight());
    // One shared listener rather than a closure per request.
    function answered(this: ServerResponse) {
      own.delete(this);
    }
    server.on("request", (_req: IncomingMessage, res: ServerResponse) => {
      own.add(res);
      res.on("close", answered);
    });
  }
  const t = tracked;
  const open = t.open;
  const drain = () =>
    new Promise<boolean>((resolve) => {
      t.draining = true;
      for (const res of open) closeAfter(res);
      t.emit("drain");
      let done = false;
      const finish = (clean: boolean) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(clean);
      };
      const timer = setTimeout(() => {
        // Only idle connections left means nothing was cut.
        const clean = t.size === 0;
        server.closeAllConnections();
        t.emit("cut");
        finish(clean);
      }, drainTimeoutMs);
      timer.unref();
      // net's close: stop listening, call back once the last connection is gone (http's would also close the
      // idle ones at once, see above).
      NetServer.prototype.close.call(server, () => finish(true));
    });
  return { drain, inFlight: () => t.size, draining: () => t.draining };
}
