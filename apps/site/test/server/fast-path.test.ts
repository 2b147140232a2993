/**
 * The fast path (src/server/fast-path.ts) against node:http's path of the same server (`fastPath: false`), over
 * raw sockets with exact bytes: the same answers byte for byte (less the Date value) for every file, variant,
 * 304, HEAD and 404; pipelined and split requests; the hand-over to node:http of everything that is not a plain
 * GET/HEAD; the recogniser against node:http's own parser on generated heads; telemetry; timeouts; SIGTERM.
 * Which path answered is told by node:http's 'request' events: the fast path makes none.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { INCOMPLETE, OTHER, readHead } from "../../src/server/request-head.ts";
import { makeSite, raw, spawnSlowStatus, start, type Running, type TestSite } from "./helpers.ts";

let site: TestSite;
let fast: Running & { logs: Record<string, any>[] };
let slow: Running & { logs: Record<string, any>[] };
/** Requests node:http parsed on the fast-path server (each one it answered itself). */
let viaNode = 0;

// No trace kept (so that access lines compare alike; a kept one is tested on its own).
const OPTS = { headersTimeoutMs: 1_000, keepAliveTimeoutMs: 1_000, idleTimeoutMs: 3_000, timeoutCheckIntervalMs: 200, staticTraceRatio: 0 };

before(async () => {
  site = await makeSite();
  // In memory (under 1 MiB) and larger than the socket buffers take at once: writes of it fill them.
  writeFileSync(join(site.root, "mid.bin"), randomBytes(900 * 1024));
  fast = await start(site.root, { ...OPTS, fastPath: true });
  slow = await start(site.root, { ...OPTS, fastPath: false });
  fast.server.on("request", () => viaNode++);
});
after(async () => {
  await fast.close();
  await slow.close();
  site.cleanup();
});

/** node:http's Date value changes each second: the one thing allowed to differ. */
const undated = (text: string) => text.replace(/\r\nDate: [A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT\r\n/g, "\r\nDate: -\r\n");

/** The same bytes to both servers: what each answered (until it closed the connection), Date values blanked. */
async function both(bytes: string | Buffer | (string | Buffer)[], opts: { delayMs?: number; timeoutMs?: number } = {}): Promise<{ fast: string; slow: string; viaNode: number }> {
  const before = viaNode;
  // Every exchange ends with the server closing the connection; the timeout is for a machine under load.
  const o = { timeoutMs: 15_000, ...opts };
  const [a, b] = await Promise.all([raw(fast.port, bytes, o), raw(slow.port, bytes, o)]);
  return { fast: undated(a.text), slow: undated(b.text), viaNode: viaNode - before };
}

const rq = (method: string, target: string, headers: string[] = [], version = "1.1") => `${method} ${target} HTTP/${version}\r\n${version === "1.1" ? "Host: site\r\n" : ""}${headers.map((h) => `${h}\r\n`).join("")}\r\n`;

describe("the same bytes as node:http", () => {
  test("every file, every variant, 304s, HEAD, HTTP/1.0, queries, folders, clean URLs and 404s", async () => {
    // Files streamed from disk are node:http's by construction (the hand-over tests have one).
    const inMemory = fast.index.paths().filter((p) => fast.index.get(p)!.variants.every((v) => v.body));
    assert.ok(inMemory.length >= 8);
    const paths = [...inMemory, "/", "/docs/", "/docs/runbook", "/nope", "/docs/nope.html", "/index.html?x=1&y=%41"];
    let answers = 0;
    for (const path of paths) {
      const file = fast.index.get(path.split("?")[0]!);
      const reqs = [
        rq("GET", path, ["Accept-Encoding: br, gzip"]),
        rq("GET", path, ["Accept-Encoding: gzip"]),
        rq("GET", path),
        rq("GET", path, ["Accept-Encoding: br;q=0, *"]),
        rq("HEAD", path, ["Accept-Encoding: br, gzip"]),
        rq("HEAD", path),
        rq("GET", path, ["Accept-Encoding: br, gzip", `If-Modified-Since: ${new Date(Date.now() + 86_400_000).toUTCString()}`]),
        rq("GET", path, ["If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT"]),
        rq("GET", path, ["If-None-Match: \"nope\"", `If-Modified-Since: ${new Date(Date.now() + 86_400_000).toUTCString()}`]),
        ...(file?.variants ?? []).flatMap((v) => [
          rq("GET", path, [`Accept-Encoding: ${v.encoding}`, `If-None-Match: ${v.etag}`]),
          rq("HEAD", path, [`Accept-Encoding: ${v.encoding}`, `If-None-Match: W/${v.etag}, "other"`]),
        ]),
        rq("GET", path, ["Connection: keep-alive", "Accept-Encoding: gzip"], "1.0"),
        rq("HEAD", path, ["connection: Keep-Alive"], "1.0"),
        rq("GET", path, ["User-Agent: curl/8.0", "Accept: */*"]),
      ];
      // Each request on a connection of its own, and all of them pipelined on one; a last request closes it.
      const closer = rq("HEAD", "/assets/logo.png", ["Connection: close"]);
      for (const r of [...reqs.map((x) => x + closer), reqs.join("") + closer]) {
        const got = await both(r);
        assert.equal(got.fast, got.slow, `${path}: ${JSON.stringify(r.slice(0, 200))}`);
        assert.ok(got.fast.startsWith("HTTP/1.1 "), path);
        answers += got.fast.split("HTTP/1.1 ").length - 1;
        assert.equal(got.viaNode, 0, `${path}: answered by node:http`);
      }
    }
    assert.ok(answers > 500, `${answers} answers compared`);
  });

  test("HTTP/1.0 without keep-alive, and Connection: close, end the connection after the answer; bytes after it are not read", async () => {
    for (const r of [rq("GET", "/index.html", [], "1.0"), rq("GET", "/index.html", ["Connection: close"]) + rq("GET", "/inventory.html")]) {
      const [a, b] = await Promise.all([raw(fast.port, r, { timeoutMs: 15_000 }), raw(slow.port, r, { timeoutMs: 15_000 })]);
      assert.ok(a.closed && b.closed);
      assert.equal(undated(a.text), undated(b.text));
      assert.equal(a.text.split("HTTP/1.1 ").length - 1, 1);
      assert.match(a.text, /\r\nConnection: close\r\n/);
    }
  });

  test("a connection that sends nothing gets node:http's 408 at the headers timeout", async () => {
    const before = viaNode;
    const [a, b] = await Promise.all([raw(fast.port, [], { timeoutMs: 4_000 }), raw(slow.port, [], { timeoutMs: 4_000 })]);
    assert.ok(a.closed && b.closed);
    assert.equal(a.text, "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n");
    assert.equal(a.text, b.text);
    assert.ok(a.ms >= 900 && a.ms < 2_500, `${a.ms} ms`);
    assert.equal(viaNode, before);
  });

  test("an idle kept-alive connection is closed after the keep-alive timeout", async () => {
    const a = await raw(fast.port, rq("GET", "/assets/site.css"), { timeoutMs: 4_000 });
    assert.equal(a.status, 200);
    assert.ok(a.closed, "closed by the server");
    assert.ok(a.ms >= 900 && a.ms < 2_500, `${a.ms} ms`);
  });
});

// Each goes to node:http, after the simple request before it: the answers are node:http's own.
const others: [string, string][] = [
  ["a body length, even 0", "GET /index.html HTTP/1.1\r\nHost: site\r\nContent-Length: 0\r\n\r\n"],
  ["a body", "GET /index.html HTTP/1.1\r\nHost: site\r\nContent-Length: 4\r\n\r\nabcd"],
  ["chunked", "GET /index.html HTTP/1.1\r\nHost: site\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"],
  ["POST", "POST /index.html HTTP/1.1\r\nHost: site\r\nContent-Length: 2\r\n\r\nab"],
  ["OPTIONS", "OPTIONS * HTTP/1.1\r\nHost: site\r\n\r\n"],
  ["an unknown method", "BREW /index.html HTTP/1.1\r\nHost: site\r\n\r\n"],
  ["a lower-case method", "get /index.html HTTP/1.1\r\nHost: site\r\n\r\n"],
  ["bare LF line ends", "GET /index.html HTTP/1.1\nHost: site\n\n"],
  ["a bare LF in a header", "GET /index.html HTTP/1.1\r\nHost: site\nX: y\r\n\r\n"],
  ["obs-fold", "GET /index.html HTTP/1.1\r\nHost: site\r\nX-Long: a\r\n b\r\n\r\n"],
  ["a space before the colon", "GET /index.html HTTP/1.1\r\nHost : site\r\n\r\n"],
  ["a control character in a value", "GET /index.html HTTP/1.1\r\nHost: site\r\nX: a\x01b\r\n\r\n"],
  ["a byte above ASCII in a value", "GET /index.html HTTP/1.1\r\nHost: site\r\nX: caf\xe9\r\n\r\n"],
  ["no Host in HTTP/1.1", "GET /index.html HTTP/1.1\r\nAccept: */*\r\n\r\n"],
  ["two Hosts", "GET /index.html HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"],
  ["two Accept-Encodings", "GET /index.html HTTP/1.1\r\nHost: site\r\nAccept-Encoding: gzip\r\nAccept-Encoding: br\r\n\r\n"],
  ["Expect", "GET /index.html HTTP/1.1\r\nHost: site\r\nExpect: 100-continue\r\n\r\n"],
  ["Upgrade", "GET /index.html HTTP/1.1\r\nHost: site\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"],
  ["a Connection list", "GET /index.html HTTP/1.1\r\nHost: site\r\nConnection: keep-alive, TE\r\n\r\n"],
  ["HTTP/2.0", "GET /index.html HTTP/2.0\r\nHost: site\r\n\r\n"],
  ["HTTP/0.9 style", "GET /index.html\r\n\r\n"],
  ["absolute-form", "GET http://site/index.html HTTP/1.1\r\nHost: site\r\n\r\n"],
  ["a fragment", "GET /index.html#top HTTP/1.1\r\nHost: site\r\n\r\n"],
  ["traversal", "GET /../secret.txt HTTP/1.1\r\nHost: site\r\n\r\n"],
  ["a backslash", "GET /docs\\index.html HTTP/1.1\r\nHost: site\r\n\r\n"],
  ["a folder without its slash (301)", "GET /docs HTTP/1.1\r\nHost: site\r\n\r\n"],
  ["/healthz", "GET /healthz HTTP/1.1\r\nHost: site\r\n\r\n"],
  ["/status", "GET /status HTTP/1.1\r\nHost: site\r\n\r\n"],
  ["a huge head", `GET /index.html HTTP/1.1\r\nHost: site\r\nX-Big: ${"a".repeat(10_000)}\r\n\r\n`],
  ["a head just over half the limit", `GET /index.html HTTP/1.1\r\nHost: site\r\nX-Big: ${"a".repeat(8_300)}\r\n\r\n`],
  ["a streamed file", "GET /big.txt HTTP/1.1\r\nHost: site\r\n\r\n"],
];
describe("pipelining and hand-over", () => {
  test("pipelined requests in one write are answered in order, on the fast path", async () => {
    const order = ["/index.html", "/assets/site.css", "/nope", "/docs/", "/inventory.html"];
    const got = await both(order.map((p, i) => rq(i === 2 ? "HEAD" : "GET", p, i === order.length - 1 ? ["Connection: close"] : [])).join(""));
    assert.equal(got.fast, got.slow);
    assert.equal(got.viaNode, 0);
    const statuses = [...got.fast.matchAll(/^HTTP\/1\.1 (\d+)/gm)].map((m) => Number(m[1]));
    assert.deepEqual(statuses, [200, 200, 404, 200, 200]);
    const etags = [...got.fast.matchAll(/\r\netag: ("[^"]+")/g)].map((m) => m[1]);
    const want = order.map((p) => (p === "/nope" ? "/404.html" : p === "/docs/" ? "/docs/index.html" : p)).map((p) => fast.index.get(p)!.variants.at(-1)!.etag);
    assert.deepEqual(etags, want);
  });

  test("a second request split across writes: the first is answered here, node:http reads the rest and answers it after", async () => {
    const got = await both([rq("GET", "/index.html") + "GET /inventory.html HTTP/1.1\r\nHo", "st: site\r\nConnection: close\r\n\r\n"], { delayMs: 100 });
    assert.equal(got.fast, got.slow);
    assert.equal(got.viaNode, 1);
    assert.deepEqual([...got.fast.matchAll(/^HTTP\/1\.1 (\d+)/gm)].map((m) => m[1]), ["200", "200"]);
    assert.ok(got.fast.indexOf(fast.index.get("/index.html")!.variants.at(-1)!.etag) < got.fast.indexOf(fast.index.get("/inventory.html")!.variants.at(-1)!.etag));
  });

  for (const [what, bytes] of others) {
    test(`hand-over: ${what}`, async () => {
      const first = rq("GET", "/assets/site.css");
      const closer = rq("GET", "/inventory.html", ["Connection: close"]);
      // In writes of their own: node:http's answer to the odd request is the same on both servers.
      const apart = await both([first, bytes, closer], { delayMs: 100, timeoutMs: 3_000 });
      assert.equal(apart.fast, apart.slow);
      assert.ok(apart.fast.startsWith("HTTP/1.1 200 OK\r\n"));
      assert.ok(apart.fast.split("HTTP/1.1 ").length - 1 >= 2, "then node:http's answer");
      assert.ok(apart.viaNode <= 2, "the first request was the fast path's");
      // In the same write as a simple request: that one is answered here, then node:http answers the rest as
      // it answers it alone. (node:http itself, reading both at once, would cut the connection at a parse
      // error without a word, its first answer being under way.)
      const together = await raw(fast.port, [first + bytes, closer], { delayMs: 100, timeoutMs: 3_000 });
      const alone = await raw(slow.port, [bytes, closer], { delayMs: 100, timeoutMs: 3_000 });
      const firstAnswer = apart.fast.slice(0, apart.fast.indexOf("HTTP/1.1 ", 1));
      assert.equal(undated(together.text), firstAnswer + undated(alone.text));
    });
  }

  test("a request carrying a caller's trace goes to node:http, which continues the trace", async () => {
    const trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    const before = viaNode;
    const r = await raw(fast.port, rq("GET", "/inventory.html", [`traceparent: 00-${trace}-00f067aa0ba902b7-01`, "Connection: close"]));
    assert.equal(r.status, 200);
    assert.equal(viaNode, before + 1);
    const line = fast.logs.filter((l) => l.msg === "request" && l.path === "/inventory.html").at(-1)!;
    assert.equal(line.trace_id, trace);
  });
});

describe("telemetry and flow control", () => {
  test("fast-path requests are measured and logged as node:http's: the same access lines, the same histogram", async () => {
    const reqs = [rq("GET", "/index.html", ["Accept-Encoding: br"]), rq("HEAD", "/assets/site.css"), rq("GET", "/nope"), rq("GET", "/docs/runbook?q=1"), rq("GET", "/inventory.html", [`If-None-Match: ${fast.index.get("/inventory.html")!.variants.at(-1)!.etag}`, "Connection: close"])].join("");
    const n0 = fast.logs.length;
    const s0 = slow.logs.length;
    const count = async (s: Running) => Number(/^http_server_request_duration_seconds_count\{(?=[^}]*method="GET")(?=[^}]*route="\/\*")(?=[^}]*status_code="404")[^}]*\}\s+(\d+)/m.exec(await s.telemetry.registry.metrics())?.[1] ?? 0);
    const [f404, s404] = [await count(fast), await count(slow)];
    const got = await both(reqs);
    assert.equal(got.viaNode, 0);
    const strip = (l: Record<string, any>) => {
      const { time, ms, trace_id, span_id, service, ...rest } = l;
      assert.match(String(time), /^\d{4}-\d\d-\d\dT/);
      assert.equal(typeof ms, "number");
      assert.match(trace_id, /^[0-9a-f]{32}$/);
      assert.match(span_id, /^[0-9a-f]{16}$/);
      return { ...rest, keys: Object.keys(l) };
    };
    const lines = (logs: Record<string, any>[], from: number) => logs.slice(from).filter((l) => l.msg === "request").map(strip);
    const fl = lines(fast.logs, n0);
    assert.equal(fl.length, 5);
    assert.deepEqual(fl, lines(slow.logs, s0));
    assert.deepEqual(fl.map((l: Record<string, any>) => l.status), [200, 200, 404, 200, 304]);
    assert.equal((await count(fast)) - f404, 1);
    assert.equal((await count(slow)) - s404, 1);
    // Every trace kept: the fast path's requests get the SDK's recording span.
    const all = await start(site.root, { ...OPTS, staticTraceRatio: 1 });
    try {
      await raw(all.port, rq("GET", "/index.html", ["Connection: close"]));
      const line = all.logs.find((l) => l.msg === "request")!;
      assert.equal(line.trace_flags, "01");
      assert.equal(line.status, 200);
    } finally {
      await all.close();
    }
  });

  test("a client that does not read: the fast path stops reading its requests, counts them in flight, and answers all once it reads", async () => {
    // A server of its own: nothing else in flight there.
    const fast = await start(site.root, { ...OPTS, fastPath: true });
    after(() => fast.close());
    const mid = fast.index.get("/mid.bin")!;
    assert.ok(mid.variants[0]!.body, "held in memory");
    const n = 12;
    const s = connect(fast.port, "127.0.0.1");
    await new Promise((r) => s.once("connect", r));
    s.pause();
    s.write(Array.from({ length: n }, (_, i) => rq("GET", "/mid.bin", i === n - 1 ? ["Connection: close"] : [])).join(""));
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(fast.serving.inFlight() >= 1, "an answer waits for the socket to drain");
    const chunks: Buffer[] = [];
    s.on("data", (c: Buffer) => chunks.push(c));
    s.resume();
    await new Promise((r) => s.once("close", r));
    const all = Buffer.concat(chunks);
    let at = 0;
    for (let i = 0; i < n; i++) {
      const headEnd = all.indexOf("\r\n\r\n", at);
      assert.match(all.subarray(at, headEnd).toString("latin1"), /^HTTP\/1\.1 200 OK\r\n/);
      at = headEnd + 4;
      assert.ok(all.subarray(at, at + mid.variants[0]!.size).equals(mid.variants[0]!.body!), `answer ${i} whole`);
      at += mid.variants[0]!.size;
    }
    assert.equal(at, all.length);
    for (let i = 0; i < 20 && fast.serving.inFlight() > 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(fast.serving.inFlight(), 0);
  });
});

test("a client that never reads its fast-path answers is dropped at the idle timeout, as node:http drops one", async () => {
  // A server of its own: no other connection there.
  const fast = await start(site.root, { ...OPTS, fastPath: true });
  after(() => fast.close());
  const connections = () => new Promise<number>((r) => fast.server.getConnections((_e, n) => r(n)));
  const before = await connections();
  assert.equal(before, 0);
  const s = connect(fast.port, "127.0.0.1");
  await new Promise((r) => s.once("connect", r));
  s.pause();
  s.on("error", () => undefined);
  s.write(Array.from({ length: 40 }, () => rq("GET", "/mid.bin")).join(""));
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await connections(), before + 1);
  while ((await connections()) > before && Date.now() - t0 < 8_000) await new Promise((r) => setTimeout(r, 100));
  const ms = Date.now() - t0;
  assert.equal(await connections(), before, `still connected after ${ms} ms`);
  assert.ok(ms >= 2_500, `cut after ${ms} ms: before the idle timeout (3 s), so not by it`);
  // The socket's 'close' follows its handle's closing.
  for (let i = 0; i < 20 && fast.serving.inFlight() > 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(fast.serving.inFlight(), 0);
  s.destroy();
});

describe("the recogniser against node:http's parser", () => {
  let node: Server;
  let port: number;
  before(async () => {
    // The site's parser settings: the default (strict) llhttp, the same header limit.
    node = createServer({ maxHeaderSize: 16 * 1024 }, (req, res) => {
      // In a header: a HEAD's answer has no body.
      const parsed = Buffer.from(JSON.stringify({ method: req.method, url: req.url, version: req.httpVersion, raw: req.rawHeaders }), "latin1").toString("base64");
      res.writeHead(200, { "x-parsed": parsed, "content-length": 0, connection: "close" }).end();
    });
    await new Promise<void>((r) => node.listen(0, "127.0.0.1", r));
    port = (node.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((r) => node.close(() => r())));

  const parse = (head: string) =>
    new Promise<{ method: string; url: string; version: string; raw: string[] } | "rejected">((resolve) => {
      const s = connect(port, "127.0.0.1", () => s.write(Buffer.from(head, "latin1")));
      const chunks: Buffer[] = [];
      s.on("data", (c: Buffer) => chunks.push(c));
      s.on("error", () => undefined);
      const timer = setTimeout(() => s.destroy(), 1_000);
      s.on("close", () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString("latin1");
        const parsed = /\r\nx-parsed: ([^\r]*)\r\n/.exec(text)?.[1];
        resolve(text.startsWith("HTTP/1.1 200 ") && parsed ? JSON.parse(Buffer.from(parsed, "base64").toString("latin1")) : "rejected");
      });
    });

  const pick = <T>(common: T[], odd: T[]) => fc.oneof({ arbitrary: fc.constantFrom(...common), weight: 20 }, { arbitrary: fc.constantFrom(...odd), weight: 1 });
  const valueChars = fc.constantFrom(..."abcXYZ019-_.,;=/*\"' \t:()%".split(""), "\x01", "\x7f", "\xe9", "\r", "\n", "\0");
  const header = fc.record({
    name: pick(["Host", "host", "Accept-Encoding", "Connection", "If-None-Match", "If-Modified-Since", "X-A", "User-Agent", "accept"], ["Content-Length", "Transfer-Encoding", "Expect", "Upgrade", "traceparent", "X_B", "Bad Name", "", "X-\x01", "X\xe9", "Host "]),
    sep: pick([":", ": ", ":  "], [" :", ":\t", ""]),
    value: fc.oneof(
      { arbitrary: fc.constantFrom("site", "br, gzip", "gzip;q=0.5", "keep-alive", "close", "Keep-Alive", "\"abc\"", "W/\"x\", \"y\"", "Thu, 01 Jan 1970 00:00:00 GMT", "a  b", "", "x\t", "5"), weight: 12 },
      { arbitrary: fc.string({ unit: valueChars, maxLength: 12 }), weight: 1 },
    ),
    eol: pick(["\r\n"], ["\n", "\r\n ", "\r", "\r\n\t"]),
  });
  const head = fc
    .record({
      method: pick(["GET", "HEAD"], ["get", "POST", "GET ", "HEAD\t", "G"]),
      target: fc.oneof(
        { arbitrary: fc.constantFrom("/", "/index.html", "/a?b=c&d", "/%41%2e", "/docs/", "/a:b@c!$&'()*+,;=~", "/?"), weight: 8 },
        { arbitrary: fc.string({ unit: fc.constantFrom(..."/az.%?#\\ \"<>{}|^`[]".split(""), "\x7f", "\xe9", "\t"), maxLength: 10 }), weight: 1 },
        { arbitrary: fc.string({ unit: fc.constantFrom(..."/az.%?".split("")), maxLength: 10 }).map((t) => `/${t}`), weight: 2 },
      ),
      version: pick(["HTTP/1.1", "HTTP/1.0"], ["HTTP/2.0", "HTTP/1.2", "http/1.1", "HTTP/1.1 ", "HTTP/1"]),
      eol: pick(["\r\n"], ["\n", "\r"]),
      headers: fc.array(header, { maxLength: 6 }),
      host: fc.integer({ min: 0, max: 9 }).map((n) => n < 8),
    })
    .map((h) => `${h.method} ${h.target} ${h.version}${h.eol}${h.host ? "Host: site\r\n" : ""}${h.headers.map((x) => `${x.name}${x.sep}${x.value}${x.eol}`).join("")}\r\n`);

  test("whatever it accepts, node:http parses to the same method, target, version and headers (generated heads)", async () => {
    let accepted = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(head, async (h) => {
        const rawHeaders: string[] = [];
        const r = readHead(h, 0, 8 * 1024, rawHeaders);
        if (r === INCOMPLETE || r === OTHER) {
          refused++;
          return;
        }
        accepted++;
        // A generated value may itself hold a line end ("\r\n"): the head then ends at the first empty line,
        // before the generator's own, and the rest would be the next request on the connection.
        assert.ok(r.end === h.length || (r.end < h.length && h.slice(0, r.end).endsWith("\r\n\r\n")), `head ends at ${r.end} of ${JSON.stringify(h)}`);
        assert.equal(h.indexOf("\r\n\r\n") + 4, r.end, `the first empty line ends the head: ${JSON.stringify(h)}`);
        const n = await parse(h.slice(0, r.end));
        assert.notEqual(n, "rejected", `node:http refuses ${JSON.stringify(h)}`);
        if (n === "rejected") return;
        assert.deepEqual({ method: r.method, url: r.target, version: `1.${r.minor}`, raw: rawHeaders }, { method: n.method, url: n.url, version: n.version, raw: n.raw }, JSON.stringify(h));
      }),
      { numRuns: 500 },
    );
    // Neither side vacuous: the generator reaches both.
    assert.ok(accepted >= 60, `${accepted} accepted`);
    assert.ok(refused >= 60, `${refused} refused`);
  });

  test("known heads: the simple ones read as node:http reads them, the rest refused", async () => {
    const ok = ["GET / HTTP/1.1\r\nHost: a\r\n\r\n", "HEAD /x?y HTTP/1.0\r\n\r\n", "GET /a HTTP/1.1\r\nhost:a\r\nX-Y:   spaced  value \t\r\nconnection: KEEP-ALIVE\r\n\r\n"];
    for (const h of ok) {
      const rawHeaders: string[] = [];
      const r = readHead(h, 0, 8192, rawHeaders);
      assert.ok(typeof r === "object", h);
      const n = await parse(h);
      assert.ok(n !== "rejected");
      assert.deepEqual(rawHeaders, n.raw);
    }
    assert.equal(readHead("GET / HTTP/1.1\r\nHost: a\r\n", 0, 8192), INCOMPLETE);
    assert.equal(readHead(`GET / HTTP/1.1\r\nHost: a\r\nX: ${"a".repeat(200)}\r\n\r\n`, 0, 100), OTHER);
    for (const [, bytes] of others) if (!bytes.includes("/big.txt") && !bytes.includes("/docs HTTP") && !bytes.includes("/healthz") && !bytes.includes("/status") && !bytes.includes("/../") && !bytes.includes("a".repeat(8_300))) assert.notEqual(typeof readHead(bytes, 0, 8192), "object", JSON.stringify(bytes.slice(0, 80)));
  });
});

test("SIGTERM while fast-path answers are being written: every one arrives whole, the drain is clean, exit 0", async () => {
  const { child, lines, exited, port: listening } = spawnSlowStatus(site.root, 100);
  try {
    const port = await listening;
    const size = (await import("node:fs")).statSync(join(site.root, "mid.bin")).size;
    // Four connections, each with six requests pipelined (more than the socket buffers hold), not read yet.
    const socks = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const s = connect(port, "127.0.0.1");
        await new Promise((r) => s.once("connect", r));
        s.pause();
        s.write(Array.from({ length: 6 }, () => rq("GET", "/mid.bin")).join(""));
        return s;
      }),
    );
    await new Promise((r) => setTimeout(r, 300));
    child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 300));
    const received = await Promise.all(
      socks.map(
        (s) =>
          new Promise<Buffer>((resolve) => {
            const chunks: Buffer[] = [];
            s.on("data", (c: Buffer) => chunks.push(c));
            s.on("close", () => resolve(Buffer.concat(chunks)));
            s.resume();
          }),
      ),
    );
    for (const all of received) {
      const heads = [...all.toString("latin1").matchAll(/HTTP\/1\.1 (\d+) [^\r]*\r\n(?:[^\r]*\r\n)*?\r\n/g)];
      assert.deepEqual(heads.map((m) => m[1]), Array(6).fill("200"));
      assert.equal(all.length, heads.reduce((n, m) => n + m[0].length, 0) + 6 * size, "every body whole");
      assert.match(heads.at(-1)![0], /\r\nConnection: close\r\n/, "the last answer, after the drain began, closes");
    }
    assert.equal(await exited, 0);
    assert.equal(lines.find((l) => l.msg === "drained; flushing telemetry")?.clean, true);
    assert.equal(lines.filter((l) => l.msg === "request" && l.path === "/mid.bin").length, 24);
  } finally {
    child.kill("SIGKILL");
  }
});

test("SITE_FAST_PATH: on unless off; anything else is refused by name", async () => {
  const main = join(import.meta.dirname, "../../src/server/main.ts");
  const run = (value: string | undefined) =>
    new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const child = spawn(process.execPath, ["--import", "tsx", main], {
        env: { PATH: process.env.PATH, HOST: "127.0.0.1", PORT: "0", SITE_ROOT: site.root, ...(value === undefined ? {} : { SITE_FAST_PATH: value }) },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      let err = "";
      child.stderr!.on("data", (d) => (err += d));
      child.stdout!.on("data", (d) => {
        out += d;
        if (out.includes('"site server listening"')) child.kill("SIGTERM");
      });
      child.on("exit", (code) => resolve({ code, out, err }));
    });
  const listening = (out: string) => JSON.parse(out.split("\n").find((l) => l.includes('"site server listening"'))!);
  const on = await run(undefined);
  assert.equal(listening(on.out).fast_path, true);
  const off = await run("off");
  assert.equal(listening(off.out).fast_path, false);
  const bad = await run("sideways");
  assert.equal(bad.code, 1);
  assert.match(bad.err, /SITE_FAST_PATH must be "on" or "off", got "sideways"/);
});
