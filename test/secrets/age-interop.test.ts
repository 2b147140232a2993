/**
 * Interop with the real `age` CLI (Debian package): the data key we wrap opens with `age -d`, and a
 * key made by `age-keygen` / wrapped by `age -r` works with our code.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { decryptValue } from "../../src/secrets/cipher.ts";
import { parseIdentities } from "../../src/secrets/keys.ts";
import { decryptToObject, encrypt, keyRingOf, loadSopsFile, newDataKey, seal } from "../../src/secrets/sops.ts";
import { Branch } from "../../src/secrets/tree.ts";
import { needTool, newKeyFile, tempDir } from "./helpers.ts";

describe("age CLI interop", () => {
  it("`age -d -i key` opens the armored data key of a file we wrote, and that key decrypts its values", async (t) => {
    if (!needTool(t, "age")) return;
    const { dir, cleanup } = tempDir();
    try {
      const k = await newKeyFile(dir);
      const other = await newKeyFile(dir, "other.txt");
      const text = await encrypt("stringData:\n  token: s3cr3t-value\n", { format: "yaml", recipients: [k.recipient, other.recipient] });
      const f = loadSopsFile(text, "yaml");
      assert.deepEqual(
        f.metadata.age.map((a) => a.recipient),
        [k.recipient, other.recipient],
      );
      for (const [i, key] of [k, other].entries()) {
        const encPath = join(dir, `datakey-${i}.age`);
        writeFileSync(encPath, f.metadata.age[i]!.enc);
        const res = spawnSync("age", ["-d", "-i", key.path, encPath]);
        assert.equal(res.status, 0, res.stderr.toString());
        assert.equal(res.stdout.length, 32);
        const token = f.branches[0]!.items.find((x) => x.key === "stringData")!.value as Branch;
        const enc = token.items[0]!.value as string;
        assert.equal(decryptValue(enc, res.stdout, "stringData:token:"), "s3cr3t-value");
      }
      // A key that is not a recipient is refused by age itself.
      const stranger = await newKeyFile(dir, "stranger.txt");
      writeFileSync(join(dir, "k.age"), f.metadata.age[0]!.enc);
      assert.notEqual(spawnSync("age", ["-d", "-i", stranger.path, join(dir, "k.age")]).status, 0);
    } finally {
      cleanup();
    }
  });

  it("an identity from `age-keygen` and a data key wrapped by `age -r -a` work with our decryption", async (t) => {
    if (!needTool(t, "age") || !needTool(t, "age-keygen")) return;
    const { dir, cleanup } = tempDir();
    try {
      const keyPath = join(dir, "keygen.txt");
      assert.equal(spawnSync("age-keygen", ["-o", keyPath]).status, 0);
      const identity = parseIdentities(readFileSync(keyPath, "utf8"), keyPath);
      const recipient = spawnSync("age-keygen", ["-y", keyPath], { encoding: "utf8" }).stdout.trim();
      assert.match(recipient, /^age1[0-9a-z]{58}$/);
      const dataKey = newDataKey();
      const wrapped = spawnSync("age", ["-r", recipient, "-a"], { input: dataKey });
      assert.equal(wrapped.status, 0, wrapped.stderr.toString());
      const text = seal({
        format: "yaml",
        plain: [new Branch([{ key: "password", value: "from-the-cli" }])],
        dataKey,
        rules: {},
        age: [{ recipient, enc: wrapped.stdout.toString() }],
      });
      assert.deepEqual(await decryptToObject(text, "yaml", await keyRingOf(identity)), { password: "from-the-cli" });
    } finally {
      cleanup();
    }
  });
});
