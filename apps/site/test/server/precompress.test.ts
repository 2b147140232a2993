import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { MIN_COMPRESS_BYTES, precompress } from "../../src/server/precompress.ts";

test("gzip and brotli beside each compressible file, byte-exact when decompressed; none for small or binary files", async () => {
  const dir = mkdtempSync(join(tmpdir(), "precompress-"));
  try {
    const page = "<p>the homelab as code</p>\n".repeat(100);
    mkdirSync(join(dir, "assets"));
    writeFileSync(join(dir, "index.html"), page);
    writeFileSync(join(dir, "assets", "site.css"), "a { color: red }\n".repeat(50));
    writeFileSync(join(dir, "assets", "topology.svg"), `<svg xmlns="http://www.w3.org/2000/svg">${"<rect/>".repeat(80)}</svg>`);
    writeFileSync(join(dir, "tiny.html"), "<p>x</p>");
    writeFileSync(join(dir, "photo.png"), Buffer.alloc(4096, 1));
    writeFileSync(join(dir, ".env"), "A=".repeat(500));
    const r = await precompress(dir);
    assert.deepEqual({ files: r.files, gzip: r.gzip, brotli: r.brotli }, { files: 5, gzip: 3, brotli: 3 });
    for (const f of ["index.html", "assets/site.css", "assets/topology.svg"]) {
      const orig = readFileSync(join(dir, f));
      assert.deepEqual(gunzipSync(readFileSync(join(dir, `${f}.gz`))), orig, f);
      assert.deepEqual(brotliDecompressSync(readFileSync(join(dir, `${f}.br`))), orig, f);
    }
    assert.ok("<p>x</p>".length < MIN_COMPRESS_BYTES);
    for (const f of ["tiny.html.gz", "tiny.html.br", "photo.png.gz", "photo.png.br", ".env.gz", ".env.br"]) assert.equal(existsSync(join(dir, f)), false, f);
    assert.ok(r.brotliBytes < r.bytes);

    // Run again after a page shrank below the threshold: its old variants go, the rest are rewritten, not doubled.
    writeFileSync(join(dir, "index.html"), "<p>short</p>");
    const again = await precompress(dir);
    assert.equal(again.files, 5);
    assert.equal(existsSync(join(dir, "index.html.br")), false);
    assert.equal(existsSync(join(dir, "index.html.gz")), false);
    assert.equal(existsSync(join(dir, "index.html.br.br")), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
