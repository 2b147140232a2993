/**
 * The fast path: plain GETs and HEADs of the site's files answered on the raw connection, without node:http's
 * IncomingMessage/ServerResponse (which cost more per request than everything the site does: a bare node:http
 * server sending prebuilt answers reaches ~0.8x nginx, a bare net.Server ~2x that).
 *
 * It takes the listening server's connections (the http.Server still listens, closes and counts them). On each
 * chunk received it reads the complete request heads in it with a narrow recogniser (request-head.ts); each
 * simple one for a file of the index (or the 404 page) is answered from the bytes node:http would send —
 * status line, the variant's head (answer.ts, the same for both paths), Date, Connection/Keep-Alive — with
 * the kit's telemetry for it (DirectRequests: histogram, span decision, access line). Anything else — a head
 * not complete in the chunk, a head that is not simple, a route that is not the static files', a file not held
 * in memory — hands the connection to node:http for good: the bytes not yet answered are put back
 * (`socket.unshift`) and the http.Server's own connection listener takes the socket, so node:http's parser,
 * answers and timeouts apply from there on. Answers already written stay first on the wire.
 *
 * Timeouts as node:http's: a connection that has sent nothing gets 408 after the headers timeout; an idle
 * kept-alive one is closed after the keep-alive timeout; one whose answer cannot be written (a client that
 * stopped reading) is closed after the idle timeout. Checked every `checkIntervalMs`, like node:http's own.
 * Backpressure: when the socket's buffer is full, reading stops until it drains. Drain (SIGTERM): the next
 * answer on each connection says `Connection: close` and closes it; idle ones go at their keep-alive timeout,
 * as node:http's under the kit's drain; connections with an answer being written count as in flight.
 */
import { STATUS_CODES, type Server } from "node:http";
import type { Socket } from "node:net";
import type { DirectRequests } from "@sky-palette/telemetry";
import { isFresh, variantFor, type Accepted, type Heads } from "./answer.ts";
import { resolvePath, type SiteFile, type SiteIndex, type Variant } from "./files.ts";
import { INCOMPLETE, OTHER, readHead, type SimpleHead } from "./request-head.ts";

export interface FastPathOptions {
  readonly server: Server;
  readonly index: SiteIndex;
  /** The 404 page, if the site has one (without it, unknown paths go to node:http). */
  readonly notFound: SiteFile | undefined;
  readonly heads: ReadonlyMap<Variant, Heads>;
  readonly accepted: (header: string | undefined) => Accepted;
  readonly direct: DirectRequests;
  /** The route template of the static files (other routes go to node:http). */
  readonly route: string;
  readonly headersTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly idleTimeoutMs: number;
  /** node:http's limit; heads are read here only up to half of it, so none that it would refuse is answered. */
  readonly maxHeaderBytes: number;
  readonly checkIntervalMs: number;
}

/** Bodies up to this size are sent in one buffer with their head (see FastPath.write). */
const WHOLE_MAX = 64 * 1024;

/** node:http's answer to a connection that sent no complete head in time. */
const REQUEST_TIMEOUT = Buffer.from("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n", "latin1");

/** The answers of one variant, by kind: the head up to (not including) Date, the body, and per-second copies. */
interface Prepared {
  /** Indexed by {@link Kind}. */
  readonly heads: Buffer[];
  readonly body: Buffer;
  /** Answers (head, Date, Connection, and the body when small) of the current second, by kind × 2 + close. */
  built: (Buffer | undefined)[];
  second: number;
}

/** Which answer of a variant: 200 (GET, HEAD), 304, 404 (GET, HEAD). */
type Kind = 0 | 1 | 2 | 3 | 4;
const Kind = { Ok: 0, OkHead: 1, NotModified: 2, NotFound: 3, NotFoundHead: 4 } as const;

interface Conn {
  readonly socket: Socket;
  /** When it last did something: connected, answered, drained. */
  since: number;
  /** No request yet. */
  fresh: boolean;
  /** Its last answer said `Connection: close`: nothing more is read. */
  closing: boolean;
  /** Bytes received but not read while a write waits for 'drain'. */
  pending: Buffer | undefined;
  onData: (chunk: Buffer) => void;
  onDrain: () => void;
  onEnd: () => void;
  onClose: () => void;
}

function noop(): void {}

/** The head node:http writes for `writeHead(status, flat)`, up to where it adds Date (what follows depends on the request). */
function headUntilDate(status: number, flat: readonly string[]): Buffer {
  let h = `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n`;
  for (let i = 0; i < flat.length; i += 2) h += `${flat[i]}: ${flat[i + 1]}\r\n`;
  return Buffer.from(h, "latin1");
}

export class FastPath {
  private readonly conns = new Set<Conn>();
  private readonly prepared = new Map<Variant, Prepared>();
  private readonly maxHead: number;
  private readonly keepAlive: Buffer;
  private readonly close = Buffer.from("Connection: close\r\n\r\n", "latin1");
  private second = -1;
  private date = Buffer.alloc(0);
  private timer: NodeJS.Timeout | undefined;
  private readonly httpConnection: (socket: Socket) => void;

  constructor(private readonly o: FastPathOptions) {
    this.maxHead = Math.floor(o.maxHeaderBytes / 2);
    const ka = o.keepAliveTimeoutMs > 0 ? `Keep-Alive: timeout=${Math.floor(o.keepAliveTimeoutMs / 1000)}\r\n` : "";
    this.keepAlive = Buffer.from(`Connection: keep-alive\r\n${ka}\r\n`, "latin1");
    // http.Server answers connections through the one listener its constructor adds; it becomes the fallback.
    const listeners = o.server.listeners("connection");
    if (listeners.length !== 1) throw new Error(`fast path: the server has ${listeners.length} connection listeners, expected node:http's one`);
    const http = listeners[0] as (socket: Socket) => void;
    this.httpConnection = (socket) => http.call(o.server, socket);
    o.server.removeListener("connection", http);
    o.server.on("connection", (socket: Socket) => this.accept(socket));
    o.server.on("listening", () => {
      clearInterval(this.timer);
      this.timer = setInterval(() => this.sweep(), o.checkIntervalMs).unref();
    });
    o.server.on("close", () => clearInterval(this.timer));
    o.direct.inFlight.onDrain((phase) => {
      // At the deadline, whatever is left is cut, as node:http's connections are.
      if (phase === "cut") this.destroy(() => true);
    });
    // The server's own ways of closing its connections close the fast path's too (server.close() closes
    // the idle ones).
    const all = o.server.closeAllConnections.bind(o.server);
    o.server.closeAllConnections = () => {
      all();
      this.destroy(() => true);
    };
    const idle = o.server.closeIdleConnections.bind(o.server);
    o.server.closeIdleConnections = () => {
      idle();
      this.destroy((c) => !o.direct.inFlight.direct.has(c));
    };
  }

  /** Connections the fast path holds now (not handed to node:http). */
  get connections(): number {
    return this.conns.size;
  }

  private accept(socket: Socket): void {
    const c: Conn = {
      socket,
      since: Date.now(),
      fresh: true,
      closing: false,
      pending: undefined,
      onData: (chunk) => this.serve(c, chunk),
      onDrain: () => this.drained(c),
      onEnd: () => socket.end(),
      onClose: () => this.forget(c),
    };
    this.conns.add(c);
    socket.on("data", c.onData);
    socket.on("drain", c.onDrain);
    socket.on("end", c.onEnd);
    socket.on("close", c.onClose);
    // A reset is followed by 'close'; nothing else to do about it.
    socket.on("error", noop);
  }

  private destroy(which: (c: Conn) => boolean): void {
    for (const c of [...this.conns]) if (which(c)) c.socket.destroy();
  }

  private forget(c: Conn): void {
    this.conns.delete(c);
    this.o.direct.inFlight.direct.delete(c);
  }

  /** Answers the complete simple requests in `chunk`, in order; hands the connection over at the first other bytes. */
  private serve(c: Conn, chunk: Buffer): void {
    if (c.closing) return;
    const s = chunk.toString("latin1");
    let at = 0;
    while (at < s.length) {
      const h = readHead(s, at, this.maxHead);
      if (h === INCOMPLETE || h === OTHER) return this.handOver(c, chunk.subarray(at));
      const r = this.answer(c, h);
      if (r === NOT_MINE) return this.handOver(c, chunk.subarray(at));
      at = h.end;
      c.fresh = false;
      c.since = Date.now();
      // node:http reads nothing after an answer that closes its connection.
      if (r === CLOSED) return;
      if (r === FULL) {
        if (at < s.length) c.pending = chunk.subarray(at);
        c.socket.pause();
        this.o.direct.inFlight.direct.add(c);
        return;
      }
    }
  }

  private drained(c: Conn): void {
    if (!this.o.direct.inFlight.direct.delete(c)) return;
    c.since = Date.now();
    const p = c.pending;
    c.pending = undefined;
    c.socket.resume();
    if (p) this.serve(c, p);
  }

  private answer(c: Conn, h: SimpleHead): typeof NOT_MINE | typeof WRITTEN | typeof FULL | typeof CLOSED {
    const o = this.o;
    const target = h.target;
    const q = target.indexOf("?");
    const path = q < 0 ? target : target.slice(0, q);
    const route = o.direct.route(path);
    if (route !== o.route) return NOT_MINE;
    const r = resolvePath(o.index, target);
    let file: SiteFile;
    let found: boolean;
    if (r.kind === "file") {
      file = r.file;
      found = true;
    } else if (r.kind === "missing" && o.notFound) {
      file = o.notFound;
      found = false;
    } else return NOT_MINE;
    const v = variantFor(file, o.accepted(h.acceptEncoding));
    const p = this.prepare(v);
    if (!p) return NOT_MINE;
    const head = h.method === "HEAD";
    let kind: Kind;
    let status: number;
    if (!found) {
      kind = head ? Kind.NotFoundHead : Kind.NotFound;
      status = 404;
    } else if (isFresh(file, v, h.ifNoneMatch, h.ifModifiedSince)) {
      kind = Kind.NotModified;
      status = 304;
    } else {
      kind = head ? Kind.OkHead : Kind.Ok;
      status = 200;
    }
    // llhttp's rule: HTTP/1.1 keeps the connection unless told to close, HTTP/1.0 closes it unless told to keep it.
    const keep = (h.minor === 1 ? h.connection !== "close" : h.connection === "keep-alive") && !o.direct.inFlight.draining;
    const request = o.direct.begin(h.method, path, route);
    const full = !this.write(c.socket, p, kind, keep);
    o.direct.end(request, status, status === 304 ? 0 : v.size);
    if (!keep) {
      c.closing = true;
      c.socket.end();
      return CLOSED;
    }
    return full ? FULL : WRITTEN;
  }

  /** The variant's answers, or undefined when its body is not held in memory (node:http streams it). */
  private prepare(v: Variant): Prepared | undefined {
    let p = this.prepared.get(v);
    if (p) return p;
    if (!v.body) return undefined;
    const h = this.o.heads.get(v)!;
    const ok = headUntilDate(200, h.ok);
    const nf = headUntilDate(404, h.notFound);
    p = { heads: [ok, ok, headUntilDate(304, h.notModified), nf, nf], body: v.body, built: [], second: -1 };
    this.prepared.set(v, p);
    return p;
  }

  /**
   * Writes the answer; false when the socket's buffer is full. The head (with its Date line) is made once per
   * second per kind, as node:http's Date changes each second; for a body up to {@link WHOLE_MAX} the whole
   * answer is (one buffer, one write), a larger body goes in a second write of the same syscall rather than
   * being copied (at most a few KiB per kind and second are made then, whatever the site holds in memory).
   */
  private write(socket: Socket, p: Prepared, kind: Kind, keep: boolean): boolean {
    const now = Date.now();
    const second = Math.floor(now / 1000);
    if (second !== this.second) {
      this.second = second;
      this.date = Buffer.from(`Date: ${new Date(second * 1000).toUTCString()}\r\n`, "latin1");
    }
    if (p.second !== second) {
      p.second = second;
      p.built = [];
    }
    const slot = kind * 2 + (keep ? 0 : 1);
    const body = kind === Kind.Ok || kind === Kind.NotFound ? p.body : undefined;
    const whole = body === undefined || body.length <= WHOLE_MAX;
    let b = p.built[slot];
    if (!b) {
      const parts = [p.heads[kind]!, this.date, keep ? this.keepAlive : this.close];
      if (body && whole) parts.push(body);
      b = p.built[slot] = Buffer.concat(parts);
    }
    if (whole) return socket.write(b);
    socket.cork();
    socket.write(b);
    const ok = socket.write(body);
    socket.uncork();
    return ok;
  }

  /** node:http takes the connection from here on, starting with `rest` (the bytes not answered). */
  private handOver(c: Conn, rest: Buffer): void {
    const socket = c.socket;
    this.forget(c);
    socket.removeListener("data", c.onData);
    socket.removeListener("drain", c.onDrain);
    socket.removeListener("end", c.onEnd);
    socket.removeListener("close", c.onClose);
    socket.removeListener("error", noop);
    // Paused, so that the bytes put back are read by node:http's parser, first, once it resumes the socket.
    socket.pause();
    if (rest.length > 0) socket.unshift(rest);
    this.httpConnection(socket);
    socket.resume();
  }

  /** The timeouts (see the module's comment). */
  private sweep(): void {
    const now = Date.now();
    const o = this.o;
    // A kept-alive connection waits for its next request as long as node:http's would: the keep-alive timeout, else the idle one.
    const idleAfter = o.keepAliveTimeoutMs || o.idleTimeoutMs;
    for (const c of this.conns) {
      const waited = now - c.since;
      if (o.direct.inFlight.direct.has(c)) {
        if (o.idleTimeoutMs > 0 && waited >= o.idleTimeoutMs) c.socket.destroy();
      } else if (c.fresh) {
        if (o.headersTimeoutMs > 0 && waited >= o.headersTimeoutMs) {
          c.socket.write(REQUEST_TIMEOUT);
          c.socket.destroy();
        }
      } else if (idleAfter > 0 && waited >= idleAfter) {
        c.socket.destroy();
      }
    }
  }
}

const NOT_MINE = 0;
const WRITTEN = 1;
const FULL = 2;
const CLOSED = 3;
