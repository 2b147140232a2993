import assert from "node:assert/strict";
import { readFileSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { CONTENT_SECURITY_POLICY } from "../../src/server/headers.ts";
import { get, makeSite, start, type Running, type TestSite } from "./helpers.ts";

let site: TestSite;
let srv: Running & { logs: Record<string, any>[] };
before(async () => {
  site = await makeSite();
  srv = await start(site.root);
});
after(async () => {
  await srv.close();
  site.cleanup();
});

const file = (rel: string) => readFileSync(join(site.root, rel));

describe("encodings", () => {
  test("brotli when accepted, else gzip, else the file itself; Vary on every variant", async () => {
    const br = await get(srv.port, "/index.html", { "accept-encoding": "gzip, deflate, br" });
    assert.equal(br.headers["content-encoding"], "br");
    assert.deepEqual(brotliDecompressSync(br.body), file("index.html"));
    assert.equal(Number(br.headers["content-length"]), br.body.length);
    assert.ok(br.body.length < file("index.html").length / 3);
    const gz = await get(srv.port, "/index.html", { "accept-encoding": "gzip" });
    assert.equal(gz.headers["content-encoding"], "gzip");
    assert.deepEqual(gunzipSync(gz.body), file("index.html"));
    const id = await get(srv.port, "/index.html");
    assert.equal(id.headers["content-encoding"], undefined);
    assert.deepEqual(id.body, file("index.html"));
    for (const r of [br, gz, id]) assert.equal(r.headers.vary, "Accept-Encoding");
    // Each variant has its own ETag (a cache must not answer a gzip request with brotli bytes).
    assert.equal(new Set([br, gz, id].map((r) => r.headers.etag)).size, 3);
  });

  test("q-values: q=0 refuses a coding, * stands for the unnamed ones", async () => {
    const cases: [string, string | undefined][] = [
      ["br;q=0, gzip", "gzip"],
      ["br;q=0, gzip;q=0", undefined],
      ["*", "br"],
      ["gzip, *;q=0", "gzip"],
      ["identity", undefined],
      ["BR", "br"],
    ];
    for (const [accept, want] of cases) {
      const r = await get(srv.port, "/index.html", { "accept-encoding": accept });
      assert.equal(r.headers["content-encoding"], want, accept);
    }
  });

  test("files too small or not compressible have no variants and no Vary", async () => {
    const png = await get(srv.port, "/assets/logo.png", { "accept-encoding": "br, gzip" });
    assert.equal(png.headers["content-encoding"], undefined);
    assert.equal(png.headers["content-type"], "image/png");
    assert.equal(png.headers.vary, undefined);
  });

  test("a file above the in-memory limit is streamed from disk, whole", async () => {
    const r = await get(srv.port, "/big.txt");
    assert.equal(r.status, 200);
    assert.equal(r.body.length, 2 * 1024 * 1024);
    const br = await get(srv.port, "/big.txt", { "accept-encoding": "br" });
    assert.deepEqual(brotliDecompressSync(br.body), file("big.txt"));
  });
});

describe("conditional GET and caching", () => {
  test("If-None-Match with the variant's ETag gives 304 without a body; another ETag the page", async () => {
    const first = await get(srv.port, "/inventory.html", { "accept-encoding": "br" });
    const etag = first.headers.etag as string;
    assert.match(etag, /^"[\w-]+-br"$/);
    const again = await get(srv.port, "/inventory.html", { "accept-encoding": "br", "if-none-match": etag });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
    assert.equal(again.headers.etag, etag);
    assert.equal(again.headers["content-security-policy"], CONTENT_SECURITY_POLICY);
    const list = await get(srv.port, "/inventory.html", { "accept-encoding": "br", "if-none-match": `"nope", W/${etag}` });
    assert.equal(list.status, 304, "weak comparison, any of a list");
    const other = await get(srv.port, "/inventory.html", { "accept-encoding": "br", "if-none-match": '"stale"' });
    assert.equal(other.status, 200);
    // The gzip variant's ETag does not validate the brotli one.
    const gzTag = (await get(srv.port, "/inventory.html", { "accept-encoding": "gzip" })).headers.etag as string;
    assert.equal((await get(srv.port, "/inventory.html", { "accept-encoding": "br", "if-none-match": gzTag })).status, 200);
  });

  test("If-Modified-Since when no If-None-Match is sent", async () => {
    const first = await get(srv.port, "/inventory.html");
    const lm = first.headers["last-modified"] as string;
    assert.equal((await get(srv.port, "/inventory.html", { "if-modified-since": lm })).status, 304);
    assert.equal((await get(srv.port, "/inventory.html", { "if-modified-since": "Thu, 01 Jan 1970 00:00:00 GMT" })).status, 200);
    assert.equal((await get(srv.port, "/inventory.html", { "if-modified-since": lm, "if-none-match": '"other"' })).status, 200);
  });

  test("HTML is revalidated on each use, hashed assets cached for a year, other assets an hour", async () => {
    assert.equal((await get(srv.port, "/")).headers["cache-control"], "no-cache");
    assert.equal((await get(srv.port, "/assets/site.0123abcd.css")).headers["cache-control"], "public, max-age=31536000, immutable");
    assert.equal((await get(srv.port, "/assets/site.css")).headers["cache-control"], "public, max-age=3600");
  });
});

describe("pages and errors", () => {
  test("/ and folders serve their index.html; a folder without its slash redirects; clean URLs find .html", async () => {
    assert.deepEqual((await get(srv.port, "/")).body, file("index.html"));
    assert.deepEqual((await get(srv.port, "/docs/")).body, file("docs/index.html"));
    const moved = await get(srv.port, "/docs?x=1");
    assert.equal(moved.status, 301);
    assert.equal(moved.headers.location, "/docs/?x=1");
    assert.deepEqual((await get(srv.port, "/inventory")).body, file("inventory.html"));
    assert.deepEqual((await get(srv.port, "/inventory.html?utm=x")).body, file("inventory.html"));
    assert.equal((await get(srv.port, "/docs/runbook.html")).headers["content-type"], "text/html; charset=utf-8");
  });

  test("an unknown path gets the site's 404 page with status 404, never cached as a page", async () => {
    const r = await get(srv.port, "/no/such/page", { "accept-encoding": "br" });
    assert.equal(r.status, 404);
    assert.deepEqual(brotliDecompressSync(r.body), file("404.html"));
    assert.equal(r.headers["cache-control"], "no-cache");
    // Even with the 404 page's own ETag, a missing page is never a 304.
    assert.equal((await get(srv.port, "/no/such/page", { "accept-encoding": "br", "if-none-match": r.headers.etag as string })).status, 404);
  });

  test("HEAD: the headers of GET, no body", async () => {
    const g = await get(srv.port, "/index.html", { "accept-encoding": "br" });
    const h = await get(srv.port, "/index.html", { "accept-encoding": "br" }, "HEAD");
    assert.equal(h.status, 200);
    assert.equal(h.body.length, 0);
    assert.equal(h.headers["content-length"], g.headers["content-length"]);
    assert.equal(h.headers.etag, g.headers.etag);
  });

  test("every answer carries the security headers: 200, 304, 301, 400, 404, 405, 413", async () => {
    const replies = await Promise.all([
      get(srv.port, "/"),
      get(srv.port, "/docs"),
      get(srv.port, "/a/../b"),
      get(srv.port, "/missing"),
      get(srv.port, "/", {}, "DELETE"),
      get(srv.port, "/", { "content-length": "5000" }),
    ]);
    assert.deepEqual(replies.map((r) => r.status), [200, 301, 400, 404, 405, 413]);
    for (const r of replies) {
      assert.equal(r.headers["content-security-policy"], CONTENT_SECURITY_POLICY, String(r.status));
      assert.equal(r.headers["strict-transport-security"], "max-age=63072000; includeSubDomains");
      assert.equal(r.headers["x-content-type-options"], "nosniff");
      assert.equal(r.headers["x-frame-options"], "DENY");
      assert.equal(r.headers["referrer-policy"], "no-referrer");
    }
    assert.match(CONTENT_SECURITY_POLICY, /frame-ancestors 'none'/);
    assert.match(CONTENT_SECURITY_POLICY, /script-src 'self'(;|$)/);
    assert.doesNotMatch(CONTENT_SECURITY_POLICY, /unsafe-inline|unsafe-eval|\*/);
  });

  test("a variant older than its file is stale and never served", async () => {
    const other = await makeSite();
    try {
      const html = join(other.root, "inventory.html");
      utimesSync(join(other.root, "inventory.html.br"), new Date(1000), new Date(1000));
      utimesSync(join(other.root, "inventory.html.gz"), new Date(1000), new Date(1000));
      utimesSync(html, new Date(), new Date());
      const s = await start(other.root);
      try {
        const r = await get(s.port, "/inventory.html", { "accept-encoding": "br, gzip" });
        assert.equal(r.headers["content-encoding"], undefined);
        assert.deepEqual(r.body, readFileSync(html));
      } finally {
        await s.close();
      }
    } finally {
      other.cleanup();
    }
  });

  test("each request is measured under one route label and logged with its trace id", async () => {
    await get(srv.port, "/inventory.html");
    const line = srv.logs.filter((l) => l.msg === "request" && l.path === "/inventory.html").at(-1)!;
    assert.equal(line.route, "/*");
    assert.match(line.trace_id, /^[0-9a-f]{32}$/);
    const metrics = (await get(srv.port, "/metrics")).body.toString();
    const routes = new Set([...metrics.matchAll(/^http_server_request_duration_seconds_count\{[^}]*route="([^"]*)"/gm)].map((m) => m[1]));
    assert.deepEqual([...routes].sort(), ["/*"]);
  });
});

describe("the /status mount", () => {
  test("any (req, res) handler serves /status and below, with the security headers; without one, 404", async () => {
    const seen: string[] = [];
    const s = await start(site.root, {
      status: (req, res) => {
        seen.push(req.url!);
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end("<p>all green</p>");
      },
    });
    try {
      const r = await get(s.port, "/status");
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), "<p>all green</p>");
      assert.equal(r.headers["content-security-policy"], CONTENT_SECURITY_POLICY);
      assert.equal((await get(s.port, "/status/panel?x=1")).status, 200);
      assert.equal((await get(s.port, "/status", {}, "POST")).status, 405);
      assert.deepEqual(seen, ["/status", "/status/panel?x=1"]);
      assert.equal((await get(s.port, "/statusx")).status, 404);
      const routes = (await get(s.port, "/metrics")).body.toString();
      assert.match(routes, /route="\/status"/);
      assert.match(routes, /route="\/status\/\*"/);
    } finally {
      await s.close();
    }
    assert.equal((await get(srv.port, "/status")).status, 404);
  });

  test("a status handler that throws answers 500; the site keeps serving", async () => {
    const s = await start(site.root, {
      status: async () => {
        throw new Error("prometheus exploded");
      },
    });
    try {
      assert.equal((await get(s.port, "/status")).status, 500);
      assert.equal((await get(s.port, "/")).status, 200);
    } finally {
      await s.close();
    }
  });
});

test("a folder without index.html is refused at start with a message naming it", async () => {
  const { createSiteServer } = await import("../../src/server/server.ts");
  assert.throws(() => createSiteServer({ root: join(site.dir, "nowhere"), signals: [] }), /no index\.html in .*nowhere; generate the site first/);
});
