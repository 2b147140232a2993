/**
 * Behaviours where an operator relies on sops meaning exactly what it means in getsops/sops; each
 * expectation names the sops source it comes from (getsops/sops at 15e36f97, read for this test).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { parseSopsConfig, creationRuleFor } from "../../src/secrets/config.ts";
import { decryptBytes, encrypt, decrypt, loadSopsFile } from "../../src/secrets/sops.ts";
import { RuleSet, goRegExp, toPlain, getPath } from "../../src/secrets/tree.ts";
import { TreePathError, parseTreePath } from "../../src/secrets/extract.ts";
import { formatForPath } from "../../src/secrets/stores.ts";
import { REPO, isolatedEnv, newKeyFile, secretsCli, secretsCliAsync, tempDir } from "./helpers.ts";

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

/** A workspace with a .sops.yaml that encrypts everything to `me`, and an encrypted file. */
function workspaceWith(name: string, file: string, plaintext: string): { cwd: string; env: NodeJS.ProcessEnv } {
  const cwd = join(dir.dir, name);
  mkdirSync(cwd, { recursive: true });
  writeFileSync(join(cwd, ".sops.yaml"), `creation_rules:\n  - age: ${me.recipient}\n`);
  writeFileSync(join(cwd, file), plaintext);
  const env = isolatedEnv(join(dir.dir, "home"), { SOPS_AGE_KEY_FILE: me.path });
  const r = secretsCli(["encrypt", file], { cwd, env });
  assert.equal(r.code, 0, r.stderr);
  return { cwd, env };
}

describe("decrypt --extract with sops' path syntax (cmd/sops/main.go parseTreePath, decrypt.go extract, sops.go Truncate)", () => {
  it("parses [\"a\"]['b'][0] and refuses what sops refuses", () => {
    assert.deepEqual(parseTreePath(`["data"]['token'][0]`), ["data", "token", 0]);
    // sops takes the text between the quotes as it is: no escapes, dots are part of the key.
    assert.deepEqual(parseTreePath(`["a.b"]`), ["a.b"]);
    assert.throws(() => parseTreePath(`x["a"]`), TreePathError);
    assert.throws(() => parseTreePath(`["a"`), (e: Error) => e instanceof TreePathError && e.exitCode === 91 && /doesn't end with \]/.test(e.message));
    assert.throws(() => parseTreePath(`[a]`), TreePathError);
  });

  it("a string prints bare, a map as a document, an int as the output store writes one value", () => {
    const { cwd, env } = workspaceWith("extract", "app.yaml", "data:\n    token: abc-123\n    port: 5\nlist:\n    - one\n    - two\n");
    const one = secretsCli(["decrypt", "--extract", '["data"]["token"]', "app.yaml"], { cwd, env });
    assert.equal(one.code, 0, one.stderr);
    assert.equal(one.stdout, "abc-123");
    assert.equal(secretsCli(["decrypt", "--extract", '["data"]["port"]', "app.yaml"], { cwd, env }).stdout, "5\n");
    assert.equal(secretsCli(["decrypt", "--extract", '["list"][1]', "app.yaml"], { cwd, env }).stdout, "two");
    assert.equal(secretsCli(["decrypt", "--extract", '["data"]', "--output-type", "json", "app.yaml"], { cwd, env }).stdout, '{\n\t"token": "abc-123",\n\t"port": 5\n}\n');
    assert.equal(secretsCli(["decrypt", "--extract", '["data"]', "--output-type", "dotenv", "app.yaml"], { cwd, env }).stdout, "token=abc-123\nport=5\n");
    const missing = secretsCli(["decrypt", "--extract", '["data"]["nope"]', "app.yaml"], { cwd, env });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /component \['nope'\] not found/);
    const bad = secretsCli(["decrypt", "--extract", '["data"', "app.yaml"], { cwd, env });
    assert.equal(bad.code, 91, bad.stderr);
  });

  it("--input-type reads a file whatever its name; an unknown type is refused", () => {
    const { cwd, env } = workspaceWith("types", "app.env", "A=1\nB=two\n");
    writeFileSync(join(cwd, "copy.txt"), readFileSync(join(cwd, "app.env")));
    const r = secretsCli(["decrypt", "--input-type", "dotenv", "--output-type", "json", "copy.txt"], { cwd, env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '{\n\t"A": "1",\n\t"B": "two"\n}\n');
    assert.equal(secretsCli(["decrypt", "--output-type", "toml", "app.env"], { cwd, env }).code, 2);
    assert.match(secretsCli(["decrypt", "--input-type", "toml", "app.env"], { cwd, env }).stderr, /expected one of yaml, json, dotenv, ini, binary/);
  });
});

describe("file type from the name as sops does (cmd/sops/formats/formats.go FormatForPath)", () => {
  it("case-sensitive suffixes; .env.production and X.YAML are binary", () => {
    assert.equal(formatForPath("a.yaml"), "yaml");
    assert.equal(formatForPath("a.yml"), "yaml");
    assert.equal(formatForPath("a.json"), "json");
    assert.equal(formatForPath("prod.env"), "dotenv");
    assert.equal(formatForPath("app.ini"), "ini");
    assert.equal(formatForPath("APP.INI"), "binary");
    assert.equal(formatForPath(".env.production"), "binary");
    assert.equal(formatForPath("A.YAML"), "binary");
    assert.equal(formatForPath("a.JSON"), "binary");
  });
});

describe("exec-env and exec-file (cmd/sops/subcommand/exec/exec.go, cmd/sops/main.go exec-env/exec-file actions)", () => {
  it("exec-env: values in the environment, the exit status passed through, both command forms", () => {
    const { cwd, env } = workspaceWith("execenv", "app.env", "DB_PASSWORD=s3cr3t-Value\nPORT=5432\n");
    const r = secretsCli(["exec-env", "app.env", "--", "sh", "-c", 'printf "%s:%s" "$DB_PASSWORD" "$PORT"; exit 7'], { cwd, env });
    assert.equal(r.code, 7, r.stderr);
    assert.equal(r.stdout, "s3cr3t-Value:5432");
    const shell = secretsCli(["exec-env", "app.env", 'printf %s "$DB_PASSWORD"'], { cwd, env });
    assert.equal(shell.stdout, "s3cr3t-Value");
    const pristine = secretsCli(["exec-env", "--pristine", "app.env", "--", "/usr/bin/env"], { cwd, env: { ...env, OUTSIDE: "x" } });
    assert.equal(pristine.code, 0, pristine.stderr);
    assert.doesNotMatch(pristine.stdout, /OUTSIDE=/);
    assert.match(pristine.stdout, /DB_PASSWORD=s3cr3t-Value/);
  });

  it("exec-env refuses nested values (sops: cannot use complex value in environment)", () => {
    const { cwd, env } = workspaceWith("execnested", "app.yaml", "a:\n    b: c\n");
    const r = secretsCli(["exec-env", "app.yaml", "--", "true"], { cwd, env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot use complex value in environment; offending key a/);
  });

  it("exec-file: {} is a FIFO by default, a file with --no-fifo; both gone afterwards, exit status passed through", () => {
    const { cwd, env } = workspaceWith("execfile", "app.yaml", "token: abc-XYZ-123\n");
    const fifo = secretsCli(["exec-file", "app.yaml", "--", "sh", "-c", 'test -p "$1" && cat "$1" && echo "$1" >&2; exit 3', "sh", "{}"], { cwd, env });
    assert.equal(fifo.code, 3, fifo.stderr);
    assert.equal(fifo.stdout, "token: abc-XYZ-123\n");
    const fifoPath = fifo.stderr.trim().split("\n").pop()!;
    assert.equal(existsSync(fifoPath), false, `${fifoPath} left behind`);
    const file = secretsCli(["exec-file", "--no-fifo", "--filename", "x.yaml", "app.yaml", 'test -f {} && cat {} && echo {} >&2'], { cwd, env });
    assert.equal(file.code, 0, file.stderr);
    assert.equal(file.stdout, "token: abc-XYZ-123\n");
    const filePath = file.stderr.trim().split("\n").pop()!;
    assert.match(filePath, /\/x\.yaml$/);
    assert.equal(existsSync(filePath), false);
    assert.equal(existsSync(dirname(filePath)), false);
  });

  it("exec-file: a command that never reads the FIFO still ends, and nothing is left", () => {
    const { cwd, env } = workspaceWith("execfile2", "app.yaml", "token: abc-XYZ-123\n");
    const r = secretsCli(["exec-file", "app.yaml", "--", "sh", "-c", 'echo "$1" >&2', "sh", "{}"], { cwd, env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(existsSync(r.stderr.trim()), false);
    assert.equal(secretsCli(["exec-file", "app.yaml", "--", "true"], { cwd, env }).code, 1, "a command without {} is refused");
  });

  it("exec-file: SIGTERM is passed on to the command, the file is removed and the status passed through", async () => {
    const { cwd, env } = workspaceWith("execsig", "app.yaml", "token: abc-XYZ-123\n");
    const marker = join(cwd, "path.txt");
    const run = secretsCliAsync(["exec-file", "--no-fifo", "app.yaml", "--", "sh", "-c", `echo "$1" > ${marker}; trap 'exit 42' TERM; while :; do sleep 0.1; done`, "sh", "{}"], { cwd, env });
    for (let i = 0; i < 200 && !existsSync(marker); i++) await new Promise((r) => setTimeout(r, 50));
    const path = readFileSync(marker, "utf8").trim();
    assert.equal(existsSync(path), true);
    process.kill(run.pid, "SIGTERM");
    const res = await run.done;
    assert.equal(res.code, 42, res.stderr);
    assert.equal(existsSync(path), false, "plaintext file left behind");
  });
});

describe("filestatus (cmd/sops/subcommand/filestatus/filestatus.go; printed with encoding/json)", () => {
  it("prints sops' JSON shape, no key needed", () => {
    const { cwd, env } = workspaceWith("status", "app.yaml", "token: abc-XYZ-123\n");
    const noKey = isolatedEnv(join(dir.dir, "nokey"));
    const r = secretsCli(["filestatus", "app.yaml"], { cwd, env: noKey });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '{"encrypted":true}\n');
    writeFileSync(join(cwd, "plain.yaml"), "a: b\n");
    assert.equal(secretsCli(["filestatus", "plain.yaml"], { cwd, env: noKey }).stdout, '{"encrypted":false}\n');
    // A value hand-edited back to plaintext: sops would still say true; homelab says false and names it.
    writeFileSync(join(cwd, "app.yaml"), readFileSync(join(cwd, "app.yaml"), "utf8").replace(/token: ENC\[[^\]]*\]/, "token: leaked"));
    const leaked = secretsCli(["filestatus", "app.yaml"], { cwd, env: noKey });
    assert.equal(leaked.stdout, '{"encrypted":false}\n');
    assert.match(leaked.stderr, /token holds plaintext/);
    void env;
  });
});

describe("typed set, unset, --ignore-mac, exit codes 25 and 200, SOPS_CONFIG (cmd/sops/main.go set/unset actions, jsonValueToTreeInsertableValue, common.go DecryptTree, codes.go)", () => {
  it("set keeps JSON types: an argument 5 is an int, --value-stdin and --value-file take any JSON; text on the command line is refused", () => {
    const { cwd, env } = workspaceWith("typed", "app.yaml", "name: demo\n");
    assert.equal(secretsCli(["set", "app.yaml", '["port"]', "5"], { cwd, env }).code, 0);
    assert.match(readFileSync(join(cwd, "app.yaml"), "utf8"), /port: ENC\[AES256_GCM,data:[^,]+,iv:[^,]+,tag:[^,]+,type:int\]/);
    const stdin = secretsCli(["set", "--value-stdin", "app.yaml", '["cfg"]'], { cwd, env, input: '{"on": true, "ratio": 0.5, "tags": ["a"]}' });
    assert.equal(stdin.code, 0, stdin.stderr);
    writeFileSync(join(cwd, "v.json"), '"from-a-file"');
    assert.equal(secretsCli(["set", "--value-file", "app.yaml", '["note"]', "v.json"], { cwd, env }).code, 0);
    const out = secretsCli(["decrypt", "--output-type", "json", "app.yaml"], { cwd, env });
    assert.equal(out.stdout, '{\n\t"name": "demo",\n\t"port": 5,\n\t"cfg": {\n\t\t"on": true,\n\t\t"ratio": 0.5,\n\t\t"tags": [\n\t\t\t"a"\n\t\t]\n\t},\n\t"note": "from-a-file"\n}\n');
    const text = secretsCli(["set", "app.yaml", '["pw"]', '"hunter2"'], { cwd, env });
    assert.equal(text.code, 2);
    assert.match(text.stderr, /never taken from the command line/);
    const bad = secretsCli(["set", "--value-stdin", "app.yaml", '["x"]'], { cwd, env, input: "not json" });
    assert.equal(bad.code, 7, bad.stderr);
  });

  it("set of a typed value still refuses to leave it readable", () => {
    const cwd = join(dir.dir, "typed-clear");
    mkdirSync(cwd, { recursive: true });
    writeFileSync(join(cwd, ".sops.yaml"), `creation_rules:\n  - encrypted_regex: ^data$\n    age: ${me.recipient}\n`);
    const env = isolatedEnv(join(dir.dir, "home"), { SOPS_AGE_KEY_FILE: me.path });
    writeFileSync(join(cwd, "app.yaml"), "data: x\n");
    assert.equal(secretsCli(["encrypt", "app.yaml"], { cwd, env }).code, 0);
    const before = readFileSync(join(cwd, "app.yaml"), "utf8");
    const r = secretsCli(["set", "--value-stdin", "app.yaml", '["password"]'], { cwd, env, input: '"Zx9-very-secret-Q7"' });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /plaintext/);
    assert.equal(readFileSync(join(cwd, "app.yaml"), "utf8"), before);
  });

  it("unset removes a key or a list item; a missing one is named", () => {
    const { cwd, env } = workspaceWith("unset", "app.yaml", "a: 1\nb:\n    - x\n    - y\n");
    assert.equal(secretsCli(["unset", "app.yaml", '["a"]'], { cwd, env }).code, 0);
    assert.equal(secretsCli(["unset", "app.yaml", '["b"][0]'], { cwd, env }).code, 0);
    assert.equal(secretsCli(["decrypt", "app.yaml"], { cwd, env }).stdout, "b:\n    - y\n");
    const missing = secretsCli(["unset", "app.yaml", '["zz"]'], { cwd, env });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /component \['zz'\] not found/);
    // --idempotent (main.go set/unset flags): no error, and the file is not rewritten.
    const before = readFileSync(join(cwd, "app.yaml"), "utf8");
    assert.equal(secretsCli(["unset", "--idempotent", "app.yaml", '["zz"]'], { cwd, env }).code, 0);
    assert.equal(secretsCli(["set", "--idempotent", "--value-stdin", "app.yaml", '["b"]'], { cwd, env, input: '["y"]' }).code, 0);
    assert.equal(readFileSync(join(cwd, "app.yaml"), "utf8"), before, "an unchanged value must not rewrite the file (new lastmodified)");
    assert.equal(secretsCli(["set", "--value-stdin", "app.yaml", '["b"]'], { cwd, env, input: '["y"]' }).code, 0);
    assert.notEqual(readFileSync(join(cwd, "app.yaml"), "utf8"), before, "without --idempotent sops writes the file again");
  });

  it("a value that does not decrypt exits 25; a broken MAC 51, and --ignore-mac opens it with a loud warning", () => {
    const { cwd, env } = workspaceWith("ignoremac", "app.yaml", "a: one\nb: two\n");
    const good = readFileSync(join(cwd, "app.yaml"), "utf8");
    // Swapping two encrypted values: each fails its tag under the other key path.
    const [va, vb] = [/^a: (ENC\[.*\])$/m.exec(good)![1]!, /^b: (ENC\[.*\])$/m.exec(good)![1]!];
    writeFileSync(join(cwd, "app.yaml"), good.replace(va, "X").replace(vb, va).replace("a: X", `a: ${vb}`));
    assert.equal(secretsCli(["decrypt", "app.yaml"], { cwd, env }).code, 25);
    // Dropping a value keeps every other value decryptable, only the MAC no longer matches.
    writeFileSync(join(cwd, "app.yaml"), good.replace(/^b: ENC\[.*\]\n/m, ""));
    assert.equal(secretsCli(["decrypt", "app.yaml"], { cwd, env }).code, 51);
    const forced = secretsCli(["decrypt", "--ignore-mac", "app.yaml"], { cwd, env });
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(forced.stdout, "a: one\n");
    assert.match(forced.stderr, /WARNING: --ignore-mac: the MAC of app\.yaml is NOT checked/);
  });

  it("--config and SOPS_CONFIG name the .sops.yaml instead of the search upwards", () => {
    const cwd = join(dir.dir, "cfg");
    mkdirSync(join(cwd, "elsewhere"), { recursive: true });
    // The .sops.yaml found upwards (in the test's temp dir) encrypts everything; this one leaves `name` readable.
    writeFileSync(join(cwd, "elsewhere", "rules.yaml"), `creation_rules:\n  - unencrypted_regex: ^name$\n    age: ${me.recipient}\n`);
    writeFileSync(join(cwd, "app.yaml"), "name: demo\ntoken: abc-XYZ-123\n");
    const env = isolatedEnv(join(dir.dir, "home"), { SOPS_AGE_KEY_FILE: me.path });
    assert.equal(secretsCli(["encrypt", "--output", "c.enc.yaml", "app.yaml"], { cwd, env }).code, 0);
    assert.match(readFileSync(join(cwd, "c.enc.yaml"), "utf8"), /name: ENC\[/);
    const viaEnv = secretsCli(["encrypt", "--output", "a.enc.yaml", "app.yaml"], { cwd, env: { ...env, SOPS_CONFIG: "elsewhere/rules.yaml" } });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
    assert.match(readFileSync(join(cwd, "a.enc.yaml"), "utf8"), /name: demo\ntoken: ENC\[/);
    const viaFlag = secretsCli(["encrypt", "--config", "elsewhere/rules.yaml", "--output", "b.enc.yaml", "app.yaml"], { cwd, env });
    assert.equal(viaFlag.code, 0, viaFlag.stderr);
    assert.match(readFileSync(join(cwd, "b.enc.yaml"), "utf8"), /name: demo\ntoken: ENC\[/);
    const missing = secretsCli(["encrypt", "--config", "nope.yaml", "app.yaml"], { cwd, env });
    assert.match(missing.stderr, /--config nope\.yaml: no such file/);
  });

  it("*.ini is read with the INI store, not silently as binary (cmd/sops/formats/formats.go IsIniFile)", () => {
    const { cwd, env } = workspaceWith("ini", "x.yaml", "a: b\n");
    writeFileSync(join(cwd, "app.ini"), "[db]\npassword = Zx9-very-secret-Q7\n");
    const r = secretsCli(["encrypt", "app.ini"], { cwd, env });
    assert.equal(r.code, 0, r.stderr);
    const text = readFileSync(join(cwd, "app.ini"), "utf8");
    assert.match(text, /^\[db\]\npassword = ENC\[AES256_GCM,data:[^\n]*,type:str\]\n\n\[sops\]\n/);
    assert.doesNotMatch(text, /"data"|Zx9-very-secret-Q7/);
  });
});
