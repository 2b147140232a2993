/**
 * The age layer reads age-encryption's output as streams, not through `new Response(…)`: the first
 * `Response` of a process loads Node's fetch implementation (undici, with http, tls, http2 and zlib), which
 * cost `secrets decrypt` ~50 ms of its ~0.3 s start. Run in a child, whose module list is its own.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const REPO = fileURLToPath(new URL("../..", import.meta.url));

describe("age without fetch", () => {
  it("wraps and unwraps a data key (round trip, wrong identity → null) without loading undici", () => {
    const script = `
      import { newIdentity, unwrapDataKey, wrapDataKey } from ${JSON.stringify(join(REPO, "src/secrets/age.ts"))};
      const a = await newIdentity(), b = await newIdentity();
      const key = Uint8Array.from({ length: 32 }, (_, i) => i * 7);
      const enc = await wrapDataKey(key, a.recipient);
      const back = await unwrapDataKey(enc, [a.identity]);
      const none = await unwrapDataKey(enc, [b.identity]);
      console.log(JSON.stringify({
        same: back !== null && Buffer.from(back).equals(Buffer.from(key)),
        none: none === null,
        armored: enc.startsWith("-----BEGIN AGE ENCRYPTED FILE-----"),
        undici: process.moduleLoadList.some((m) => m.includes("undici")),
      }));`;
    const res = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: REPO, encoding: "utf8", timeout: 60_000 });
    assert.equal(res.status, 0, res.stderr);
    assert.deepEqual(JSON.parse(res.stdout.trim().split("\n").at(-1)!), { same: true, none: true, armored: true, undici: false });
  });
});
