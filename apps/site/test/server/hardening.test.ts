/**
 * The server against hostile or broken clients, over real sockets with exact bytes: traversal in every
 * encoding, dotfiles, symbolic links out of the folder, oversized headers, slow clients, unknown methods,
 * request bodies, and SIGTERM with requests in flight.
 */
import assert from "node:assert/strict";
import { Agent, request } from "node:http";
import { after, before, describe, test } from "node:test";
import { DOTFILE, SECRET, get, makeSite, raw, spawnSlowStatus, start, type Running, type TestSite } from "./helpers.ts";

let site: TestSite;
let srv: Running;
before(async () => {
  site = await makeSite();
  srv = await start(site.root, { headersTimeoutMs: 1_000, requestTimeoutMs: 2_000, idleTimeoutMs: 3_000, maxHeaderBytes: 8 * 1024, timeoutCheckIntervalMs: 200 });
});
after(async () => {
  await srv.close();
  site.cleanup();
});

const req = (target: string, extra = "") => `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${extra}\r\n`;

describe("no way out of the site's folder, and no dotfiles", () => {
  // The secret sits beside the served folder (../secret.txt); the site holds .env, .git/config, a dot-page
  // and a symbolic link to the secret.
  const targets = [
    "/../secret.txt",
    "/docs/../../secret.txt",
    "/%2e%2e/secret.txt",
    "/%2E%2E/secret.txt",
    "/.%2e/secret.txt",
    "/%2e%2e%2fsecret.txt",
    "/docs/%2e%2e%2f%2e%2e%2fsecret.txt",
    "/%252e%252e/secret.txt",
    "/%252e%252e%252fsecret.txt",
    "/..%5csecret.txt",
    "/..\\secret.txt",
    "/%5c..%5csecret.txt",
    "/..%255csecret.txt",
    "/index.html%00.png",
    "/..%00/secret.txt",
    "/%c0%ae%c0%ae/secret.txt",
    "/%u002e%u002e/secret.txt",
    "//secret.txt",
    "/./secret.txt",
    "/link.txt",
    "/.env",
    "/%2eenv",
    "/.git/config",
    "/.git/",
    "/%2egit/config",
    "/docs/.hidden.html",
    "/docs/.hidden",
    "/.env.br",
    "/index.html.br",
    "secret.txt",
    "*",
  ];
  for (const target of targets) {
    test(`GET ${target}`, async () => {
      for (const accept of ["", "Accept-Encoding: br, gzip\r\n"]) {
        const r = await raw(srv.port, req(target, accept));
        assert.ok([400, 404].includes(r.status), `${target}: status ${r.status}\n${r.text.slice(0, 300)}`);
        assert.ok(!r.text.includes(SECRET) && !r.text.includes(DOTFILE), `${target} leaked`);
      }
    });
  }

  test("the same targets through an ordinary client, including the encoded bytes it sends", async () => {
    for (const path of ["/%2e%2e/secret.txt", "/..%2fsecret.txt", "/.env"]) {
      const r = await get(srv.port, path);
      assert.ok([400, 404].includes(r.status), path);
      assert.ok(!r.body.toString().includes(SECRET) && !r.body.toString().includes(DOTFILE));
    }
  });

  test("the files under test exist, so a 404 is the server refusing them and not a missing file", async () => {
    // (A control: the same server serves an ordinary file, and makeSite wrote the traps.)
    assert.equal((await raw(srv.port, req("/index.html"))).status, 200);
    assert.equal((await raw(srv.port, req("/%69ndex.html"))).status, 200, "ordinary percent-encoding still works");
  });
});

describe("methods and bodies", () => {
  test("only GET and HEAD: other methods get 405 with Allow, unknown tokens 400 from the parser", async () => {
    for (const m of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND", "PURGE"]) {
      const r = await raw(srv.port, `${m} / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`);
      assert.equal(r.status, 405, m);
      assert.match(r.text, /\r\nallow: GET, HEAD\r\n/i, m);
      assert.ok(r.closed, `${m}: the connection closes after a refused method`);
    }
    for (const m of ["BREW", "GETT", "get"]) {
      const r = await raw(srv.port, `${m} / HTTP/1.1\r\nHost: x\r\n\r\n`);
      assert.equal(r.status, 400, m);
      assert.ok(r.closed, m);
    }
  });

  test("a POST body is never read: 405 and the connection closes, however large the body claims to be", async () => {
    const r = await raw(srv.port, [`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n`, "a".repeat(1000)], { delayMs: 50 });
    assert.equal(r.status, 405);
    assert.ok(r.closed);
    assert.ok(r.ms < 2_000, `${r.ms} ms`);
  });

  test("GET with a body over the limit, or of unknown length, gets 413 and the connection closes", async () => {
    const big = await raw(srv.port, `GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n${"a".repeat(100)}`);
    assert.equal(big.status, 413);
    assert.ok(big.closed);
    const chunked = await raw(srv.port, `GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n`);
    assert.equal(chunked.status, 413);
    assert.ok(chunked.closed);
    const small = await raw(srv.port, `GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc`);
    assert.equal(small.status, 200);
    assert.ok(small.closed, "served, and the connection closed after it");
  });
});

describe("oversized and slow clients", () => {
  test("request headers over the limit get 431 and the connection closes", async () => {
    const r = await raw(srv.port, req("/", `X-Big: ${"a".repeat(10 * 1024)}\r\n`));
    assert.equal(r.status, 431);
    assert.ok(r.closed);
    const many = await raw(srv.port, req("/", Array.from({ length: 400 }, (_, i) => `X-H${i}: ${"v".repeat(20)}\r\n`).join("")));
    assert.equal(many.status, 431);
    const url = await raw(srv.port, req(`/${"a".repeat(9 * 1024)}`));
    assert.equal(url.status, 431, "a huge request target counts against the same limit");
  });

  test("a client trickling its headers (slowloris) is answered 408 and cut off at the headers timeout", async () => {
    const parts = ["GET / HTTP/1.1\r\n", ...Array.from({ length: 40 }, (_, i) => `X-${i}: y\r\n`)];
    const r = await raw(srv.port, parts, { delayMs: 150, timeoutMs: 6_000 });
    assert.ok(r.closed, "the server closed the connection");
    assert.equal(r.status, 408);
    assert.ok(r.ms >= 900 && r.ms < 3_500, `cut after ${r.ms} ms (headers timeout 1 s)`);
  });

  test("a client that opens a connection and sends nothing is cut off too", async () => {
    const r = await raw(srv.port, [], { timeoutMs: 6_000 });
    assert.ok(r.closed);
    assert.ok(r.ms < 4_000, `${r.ms} ms`);
  });

  test("a GET trickling a small body is answered at once and its connection closed: bodies are never awaited", async () => {
    const parts = ["GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n", ...Array.from({ length: 40 }, () => "a")];
    const r = await raw(srv.port, parts, { delayMs: 150, timeoutMs: 8_000 });
    assert.equal(r.status, 200);
    assert.ok(r.closed);
    assert.ok(r.ms < 1_000, `${r.ms} ms`);
  });

  test("a client that stops reading a large answer does not keep its connection on the server", async () => {
    const connections = () => new Promise<number>((r) => srv.server.getConnections((_e, n) => r(n)));
    let client: import("node:http").ClientRequest | undefined;
    const opened = new Promise<void>((resolve) => {
      client = request({ host: "127.0.0.1", port: srv.port, path: "/big.bin", agent: false, headers: { connection: "keep-alive" } }, (res) => {
        res.pause(); // never read
        resolve();
      });
      client.on("error", () => undefined);
      client.end();
    });
    await opened;
    assert.equal(await connections(), 1);
    const t0 = Date.now();
    // 32 MiB do not fit the socket buffers: the write stalls, and the idle timeout (3 s) cuts it.
    while ((await connections()) > 0 && Date.now() - t0 < 9_000) await new Promise((r) => setTimeout(r, 100));
    const ms = Date.now() - t0;
    assert.equal(await connections(), 0, `still connected after ${ms} ms`);
    assert.ok(ms >= 2_000, `cut after ${ms} ms: before the idle timeout, so not by it`);
    client!.destroy();
  });

  test("meanwhile well-behaved clients are served", async () => {
    const slow = raw(srv.port, ["GET / HTTP/1.1\r\n", "X-a: b\r\n", "X-c: d\r\n"], { delayMs: 300, timeoutMs: 3_000 });
    const fast = await Promise.all(Array.from({ length: 20 }, () => get(srv.port, "/inventory.html")));
    assert.deepEqual(new Set(fast.map((r) => r.status)), new Set([200]));
    await slow;
  });
});

test("SIGTERM with requests in flight: none fails, the server exits 0", async () => {
  const { child, lines, exited, port: listening } = spawnSlowStatus(site.root, 1500);
  const port = await listening;
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const call = (path: string) =>
    new Promise<number>((resolve, reject) => {
      request({ host: "127.0.0.1", port, path, agent, headers: { "accept-encoding": "br" } }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode!));
      })
        .on("error", reject)
        .end();
    });
  try {
    const slow = Array.from({ length: 6 }, () => call("/status"));
    const pages = Array.from({ length: 30 }, (_, i) => call(i % 2 ? "/index.html" : "/inventory.html"));
    await new Promise((r) => setTimeout(r, 400));
    child.kill("SIGTERM");
    const statuses = await Promise.all([...slow, ...pages]);
    assert.deepEqual(statuses, Array(36).fill(200));
    assert.equal(await exited, 0);
    assert.equal(lines.find((l) => l.msg === "drained; flushing telemetry")?.clean, true);
  } finally {
    agent.destroy();
    child.kill("SIGKILL");
  }
});
