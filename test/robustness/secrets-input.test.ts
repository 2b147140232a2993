/**
 * Damaged sops files and keys get their own clear errors, large values round-trip, and the SOPS
 * round trip holds for generated documents (property-based, fast-check).
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { newIdentity } from "../../src/secrets/age.ts";
import { decrypt, encrypt, keyRingOf, loadSopsFile, verify } from "../../src/secrets/sops.ts";
import { SopsFormatError } from "../../src/secrets/errors.ts";
import { EXAMPLE_KEY_FILE, isolatedEnv, secretsCli, SOPS_FIXTURES, tempDir } from "../secrets/helpers.ts";

const FIXTURE = join(SOPS_FIXTURES, "sops-age", "secret.enc.yaml");

describe("damaged sops files and keys", () => {
  it("version: [1] in the sops block is a format error of its own", () => {
    const text = readFileSync(FIXTURE, "utf8").replace(/^ {2}version: .*$/m, "  version: [1]");
    assert.throws(() => loadSopsFile(text, "yaml", "v.yaml"), (e: unknown) => e instanceof SopsFormatError && /sops\.version must be a version string such as "3\.9\.2", not a list or a map/.test(e.message));
  });

  it("a corrupt armored data key addressed to a key we hold is a corrupt file (exit 1), not a missing key (128)", () => {
    const { dir, cleanup } = tempDir();
    try {
      const lines = readFileSync(FIXTURE, "utf8").split("\n");
      const i = lines.findIndex((l) => l.includes("BEGIN AGE ENCRYPTED FILE")) + 2;
      // One base64 character inside the stanza's ephemeral share changed: still valid armor and a
      // well-formed header, but no longer the share the key was wrapped with.
      assert.match(lines[i]!, /^\s*dkxW/);
      lines[i] = lines[i]!.replace("dkxW", "dkxX");
      writeFileSync(join(dir, "c.enc.yaml"), lines.join("\n"));
      const r = secretsCli(["decrypt", join(dir, "c.enc.yaml")], { cwd: dir, env: isolatedEnv(dir, { SOPS_AGE_KEY_FILE: EXAMPLE_KEY_FILE }) });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /its key is available but the armored data key does not open with it \(the stanza is corrupt\)/);
    } finally {
      cleanup();
    }
  });

  it("an age key with a bad bech32 checksum is a clear error (exit 1) that does not print the key", () => {
    const { dir, cleanup } = tempDir();
    try {
      const key = readFileSync(EXAMPLE_KEY_FILE, "utf8").split("\n").find((l) => l.startsWith("AGE-SECRET-KEY-"))!;
      const bad = key.slice(0, -1) + (key.endsWith("Q") ? "P" : "Q");
      writeFileSync(join(dir, "bad.txt"), bad + "\n");
      const r = secretsCli(["decrypt", FIXTURE], { cwd: dir, env: isolatedEnv(dir, { SOPS_AGE_KEY_FILE: join(dir, "bad.txt") }) });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /is not a valid key \(Invalid checksum/);
      assert.ok(!r.stderr.includes(bad.slice(20)), "the key must not be printed");
    } finally {
      cleanup();
    }
  });
});

describe("what is encrypted decrypts", () => {
  it("a 4 MiB value round-trips (the base64 check no longer overflows)", async () => {
    const { identity, recipient } = await newIdentity();
    const keys = await keyRingOf([identity]);
    const big = "x".repeat(4 << 20);
    const enc = await encrypt(`big: ${big}\n`, { format: "yaml", recipients: [recipient] });
    assert.equal(await decrypt(enc, "yaml", keys), `big: ${big}\n`);
    const json = await encrypt(JSON.stringify({ big }), { format: "json", recipients: [recipient] });
    assert.equal(JSON.parse(await decrypt(json, "json", keys)).big, big);
  });

  it("property: any JSON document, any key path and value type: encrypt then decrypt is the identity and the MAC verifies", async () => {
    const { identity, recipient } = await newIdentity();
    const keys = await keyRingOf([identity]);
    const key = fc.string({ minLength: 1, maxLength: 12 }).filter((k) => k !== "sops");
    const leaf = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)), fc.constant(null));
    const { tree } = fc.letrec((tie) => ({
      tree: fc.dictionary(key, tie("node"), { maxKeys: 4 }),
      node: fc.oneof({ depthSize: "small" }, leaf, tie("tree"), fc.array(tie("node"), { maxLength: 3 })),
    }));
    await fc.assert(
      fc.asyncProperty(tree, async (doc) => {
        const text = JSON.stringify(doc);
        const enc = await encrypt(text, { format: "json", recipients: [recipient] });
        await verify(enc, "json", keys);
        assert.deepEqual(JSON.parse(await decrypt(enc, "json", keys)), JSON.parse(text));
      }),
      { numRuns: 60 },
    );
  });
});
