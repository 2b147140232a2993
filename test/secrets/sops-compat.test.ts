/**
 * Behaviours where an operator relies on sops meaning exactly what it means in getsops/sops; each
 * expectation names the sops source it comes from (getsops/sops at 15e36f97, read for this test).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { parseSopsConfig, creationRuleFor } from "../../src/secrets/config.ts";
import { decryptBytes, encrypt, decrypt, loadSopsFile } from "../../src/secrets/sops.ts";
import { RuleSet, goRegExp, toPlain, getPath } from "../../src/secrets/tree.ts";
import { REPO, isolatedEnv, newKeyFile, secretsCli, tempDir } from "./helpers.ts";

let dir: { dir: string; cleanup: () => void };
let me: Awaited<ReturnType<typeof newKeyFile>>;
before(async () => {
  dir = tempDir();
  me = await newKeyFile(dir.dir, "me.txt");
});
after(() => dir.cleanup());

describe("the binary store keeps the exact bytes (stores/json/store.go BinaryStore: the file is one Go string, i.e. bytes)", () => {
  it("any bytes round-trip through encrypt and decrypt", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), async (bytes) => {
        const text = await encrypt(bytes, { format: "binary", recipients: [me.recipient] });
        const back = await decryptBytes(text, "binary", me.keys);
        assert.ok(Buffer.from(bytes).equals(back), `${bytes.length} bytes in, ${back.length} out`);
      }),
      { numRuns: 60 },
    );
  });

  it("bytes that are not UTF-8 (0x00..0xff, ff fe 00) come back byte for byte through the CLI", () => {
    const home = join(dir.dir, "home-bin");
    writeFileSync(join(dir.dir, ".sops.yaml"), `creation_rules:\n  - age: ${me.recipient}\n`);
    const blob = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from([0xff, 0xfe, 0x00])]);
    writeFileSync(join(dir.dir, "blob.bin"), blob);
    const env = isolatedEnv(home, { SOPS_AGE_KEY_FILE: me.path });
    const enc = secretsCli(["encrypt", "blob.bin"], { cwd: dir.dir, env });
    assert.equal(enc.code, 0, enc.stderr);
    // On disk it is sops' JSON envelope with one encrypted "data" value of type str.
    const f = loadSopsFile(readFileSync(join(dir.dir, "blob.bin"), "utf8"), "binary");
    assert.match(String(toPlain(getPath(f.branches[0]!, ["data"])!)), /^ENC\[AES256_GCM,data:.*,type:str\]$/);
    const res = secretsCliBytes(["decrypt", "blob.bin"], dir.dir, env);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout.length, 259);
    assert.ok(res.stdout.equals(blob));
  });

  it("a value that is not UTF-8 is refused by the text stores instead of being mangled", async () => {
    const text = await encrypt(Buffer.from([0xc3, 0x28]), { format: "binary", recipients: [me.recipient] });
    await assert.rejects(decryptBytes(text, "binary", me.keys, { outputFormat: "json" }), /not valid UTF-8.*--output-type binary/);
  });
});

function secretsCliBytes(args: string[], cwd: string, env: NodeJS.ProcessEnv): { code: number; stdout: Buffer; stderr: string } {
  // spawnSync with a Buffer stdout; secretsCli decodes as UTF-8, which is exactly what must not happen here.
  const res = spawnSync(process.execPath, [join(REPO, "bin", "homelab.mjs"), "secrets", ...args], { cwd, env, input: "" });
  return { code: res.status ?? -1, stdout: res.stdout as Buffer, stderr: String(res.stderr) };
}

describe(".sops.yaml patterns mean what they mean in Go (sops.go shouldBeEncrypted: regexp.Match; config/config.go: regexp.Compile for path_regex)", () => {
  const yes = (p: string, s: string) => assert.equal(goRegExp(p).test(s), true, `${p} should match ${JSON.stringify(s)}`);
  const no = (p: string, s: string) => assert.equal(goRegExp(p).test(s), false, `${p} should not match ${JSON.stringify(s)}`);

  it("the four patterns that JavaScript reads differently", () => {
    // POSIX class (RE2 syntax: [[:alpha:]]); in JavaScript it is the set ":ahlp[" followed by "]".
    yes("^[[:alpha:]]+_key$", "secret_key");
    no("^[[:alpha:]]+_key$", "s3cret_key");
    // \A: beginning of text; JavaScript reads an "A".
    yes("\\Asecret_key$", "secret_key");
    no("\\Asecret_key$", "my_secret_key");
    // \pL: Unicode letter; JavaScript without the u flag reads "pL".
    yes("^\\pL+_key$", "sécret_key");
    no("^\\pL+_key$", "s3_key");
    // (?i:…) flag group; JavaScript throws.
    yes("^(?i:SECRET)_key$", "secret_key");
    no("^(?i:SECRET)_key$", "secret_KEY");
  });

  it("other RE2 semantics: \\z, \\s without \\v and NBSP, dot matching \\r, leading flags, (?P<name>)", () => {
    yes("key\\z", "a_key");
    no("key\\z", "a_key\n");
    no("^\\s$", "\u00a0");
    no("^\\s$", "\v");
    yes("^a.b$", "a\rb");
    yes("(?i)^data$", "DATA");
    yes("^(?P<field>data|stringData)$", "stringData");
    // A match anywhere counts (regexp.Match), not only a whole-string match.
    yes("Data", "stringData");
  });

  it("what RE2 cannot express is refused with the pattern named, never guessed", () => {
    for (const p of ["(?=x)", "(?!x)", "(a)\\1", "(?<=a)b"]) {
      assert.throws(() => goRegExp(p), (e: Error) => e.message.includes(JSON.stringify(p)) && /Go RE2 syntax/.test(e.message), p);
    }
    const cfg = `creation_rules:\n  - encrypted_regex: '^(?=data)'\n    age: ${"age1je6kjhzuhdjy3fqptpttxjh5k8q46vygzlgtpuq3030c947pc5tqz9dqvr"}\n`;
    assert.throws(() => parseSopsConfig(cfg, "/r/.sops.yaml"), /creation_rules\[0\]\.encrypted_regex: invalid regular expression/);
  });

  it("the rule decision follows: encrypted_regex ^[[:alpha:]]+_key$ encrypts secret_key", () => {
    const rs = new RuleSet({ encryptedRegex: "^[[:alpha:]]+_key$" });
    assert.equal(rs.shouldBeEncrypted(["secret_key"], [], false), true);
    assert.equal(rs.shouldBeEncrypted(["name"], [], false), false);
  });

  it("encrypt under each pattern: secret_key is encrypted, exit 0; and it decrypts again", () => {
    for (const [i, pattern] of ["^[[:alpha:]]+_key$", "\\Asecret_key$", "^\\pL+_key$", "^(?i:SECRET)_key$"].entries()) {
      const work = join(dir.dir, `re${i}`);
      spawnSync("mkdir", ["-p", work]);
      writeFileSync(join(work, ".sops.yaml"), `creation_rules:\n  - encrypted_regex: '${pattern}'\n    age: ${me.recipient}\n`);
      writeFileSync(join(work, "app.yaml"), "name: demo\nsecret_key: hunter2-but-longer-Zq8\n");
      const env = isolatedEnv(join(dir.dir, "home"), { SOPS_AGE_KEY_FILE: me.path });
      const res = secretsCli(["encrypt", "app.yaml"], { cwd: work, env });
      assert.equal(res.code, 0, `${pattern}: ${res.stderr}`);
      const out = readFileSync(join(work, "app.yaml"), "utf8");
      assert.match(out, /secret_key: ENC\[AES256_GCM,/, pattern);
      assert.match(out, /name: demo/, pattern);
      const dec = secretsCli(["decrypt", "app.yaml"], { cwd: work, env });
      assert.equal(dec.code, 0, dec.stderr);
      assert.match(dec.stdout, /secret_key: hunter2-but-longer-Zq8/);
    }
  });
});

describe("key_groups with merge (config/config.go extractMasterKeys, config_test.go TestLoadConfigFileWithMerge)", () => {
  const A = "age1je6kjhzuhdjy3fqptpttxjh5k8q46vygzlgtpuq3030c947pc5tqz9dqvr";
  const B = "age1l44xcng8dqj32nlv6d930qvvrny05hglzcv9qpc7kxjc6902ma4qufys29";
  const C = "age1henwn645drkd3fa34t27t2w2x0nsgw3w4h62gmg5x5xflyjpy38s5cncph";
  const rule = (yaml: string) => creationRuleFor(parseSopsConfig(yaml, "/r/.sops.yaml"), "/r/x.yaml");

  it("merged groups come first, then the group's own keys, duplicates once", () => {
    const r = rule(`creation_rules:\n  - key_groups:\n      - merge:\n          - age: [${A}]\n          - merge:\n              - age: [${B}, ${A}]\n        age: [${C}]\n`);
    assert.deepEqual(r.age, [A, B, C]);
  });

  it("once key_groups is set, the rule's own age list is not used (getKeyGroupsFromCreationRule)", () => {
    const r = rule(`creation_rules:\n  - age: ${C}\n    key_groups:\n      - age: [${A}]\n`);
    assert.deepEqual(r.age, [A]);
  });

  it("two groups (Shamir) and master keys other than age inside a merge are refused, not dropped", () => {
    assert.throws(() => rule(`creation_rules:\n  - key_groups:\n      - age: [${A}]\n      - age: [${B}]\n`), /2 key_groups \(Shamir secret sharing\)/);
    assert.throws(() => rule(`creation_rules:\n  - key_groups:\n      - merge:\n          - pgp: [ABCD]\n        age: [${A}]\n`), /uses pgp; homelab secrets only encrypts to age/);
    assert.throws(() => rule(`creation_rules:\n  - key_groups:\n      - merge:\n          - agee: [${A}]\n`), /key_groups\[0\]\.merge\[0\]: unknown key group field agee/);
  });
});
