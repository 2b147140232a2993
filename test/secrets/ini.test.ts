/**
 * sops' INI store (stores/ini/store.go, written through gopkg.in/ini.v1): sections become top-level
 * maps of strings, the sops metadata a [sops] section of flattened keys (stores/flatten.go,
 * stores/metadata.go SerializeMetadata with MetadataFlattenBelowTop and EscapeNewlines).
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { emitIni, parseIni } from "../../src/secrets/stores.ts";
import { Comment } from "../../src/secrets/tree.ts";
import { isolatedEnv, newKeyFile, secretsCli, tempDir } from "./helpers.ts";

// The plaintext of stores/ini/store_test.go TestDecodeIni.
const SAMPLE = `
; last modified 1 April 2001 by John Doe
[owner]
name=John Doe
organization=Acme Widgets Inc.

[database]
; use IP address in case network name resolution is not working
server=192.0.2.62     
port=143
file="payroll.dat"
`;

// What go-ini writes for that tree: aligned " = ", a comment before the key it belongs to, a blank
// line between sections, and no header for the empty DEFAULT section.
const SAMPLE_OUT = `; last modified 1 April 2001 by John Doe
[owner]
name         = John Doe
organization = Acme Widgets Inc.

[database]
; use IP address in case network name resolution is not working
server = 192.0.2.62
port   = 143
file   = payroll.dat
`;

describe("INI store parsing and writing (stores/ini/store.go)", () => {
  it("reads the tree sops reads (store_test.go TestDecodeIni), DEFAULT first", () => {
    const b = parseIni(SAMPLE);
    assert.deepEqual(
      b.items.map((i) => i.key),
      ["DEFAULT", "owner", "database"],
    );
    const db = b.items[2]!.value as { items: { key: unknown; value: unknown }[] };
    // sops keeps a key's comment as the item after the key (treeItemFromSection).
    assert.equal(db.items[0]!.key, "server");
    assert.equal(db.items[0]!.value, "192.0.2.62");
    assert.ok(db.items[1]!.key instanceof Comment);
    assert.equal((db.items[1]!.key as Comment).value, "use IP address in case network name resolution is not working");
    assert.equal(db.items[3]!.value, "payroll.dat");
    const owner = b.items[1]!.value as { items: { key: unknown }[] };
    assert.equal((owner.items[0]!.key as Comment).value, "last modified 1 April 2001 by John Doe");
  });

  it("writes go-ini's layout and reads it back unchanged (store_test.go TestEncodeSimpleIni)", () => {
    assert.equal(emitIni(parseIni(SAMPLE)), SAMPLE_OUT);
    assert.deepEqual(parseIni(SAMPLE_OUT), parseIni(SAMPLE));
    // A key holding a delimiter is written in backticks so it reads back whole (go-ini file.go writeToBuffer).
    assert.equal(emitIni(parseIni('[s]\n`a:b` = 1\nc = 2\n')), "[s]\n`a:b` = 1\nc     = 2\n");
    // Keys before any section are DEFAULT's, written without a header.
    assert.equal(emitIni(parseIni("a=1\n[s]\nb=2\n")), "a = 1\n\n[s]\nb = 2\n");
  });

  it("quotes values go-ini would misread and reads them back (store_test.go TestEncodeIniWithEscaping)", () => {
    const text = emitIni(parseIni('[s]\nk = """two\nlines"""\nh = `a;b#c`\nsp = "  padded  "\n'));
    assert.equal(text, '[s]\nk  = """two\nlines"""\nh  = `a;b#c`\nsp = "  padded  "\n');
    const back = parseIni(text).items[1]!.value as { items: { value: unknown }[] };
    assert.deepEqual(
      back.items.map((i) => i.value),
      ["two\nlines", "a;b#c", "  padded  "],
    );
  });

  it("refuses what is not INI, naming the line", () => {
    assert.throws(() => parseIni("[s]\nno delimiter here\n", "bad.ini"), /bad\.ini:2: key-value delimiter not found/);
    assert.throws(() => parseIni("[s\n", "bad.ini"), /bad\.ini:1: unclosed section/);
    assert.throws(() => emitIni(parseIni("[s]\na=1\n").items[1]!.value as never), /not a section/);
  });
});

describe("homelab secrets on *.ini files", () => {
  const dir = tempDir("homelab-secrets-ini-");
  let key: { path: string; recipient: string };
  before(async () => {
    key = await newKeyFile(dir.dir);
  });
  after(() => dir.cleanup());

  function workspace(name: string): { cwd: string; env: NodeJS.ProcessEnv } {
    const cwd = join(dir.dir, name);
    mkdirSync(cwd, { recursive: true });
    writeFileSync(join(cwd, ".sops.yaml"), `creation_rules:\n  - age: ${key.recipient}\n`);
    writeFileSync(join(cwd, "app.ini"), SAMPLE);
    return { cwd, env: isolatedEnv(join(dir.dir, "home"), { SOPS_AGE_KEY_FILE: key.path }) };
  }

  it("encrypts a multi-section file and decrypts it back; the MAC covers every value", () => {
    const { cwd, env } = workspace("roundtrip");
    const enc = secretsCli(["encrypt", "app.ini"], { cwd, env });
    assert.equal(enc.code, 0, enc.stderr);
    const text = readFileSync(join(cwd, "app.ini"), "utf8");
    assert.doesNotMatch(text, /John Doe|192\.0\.2\.62|payroll/);
    // Comments are encrypted too and keep their place; values are type:str (INI has only strings).
    assert.match(text, /^; ENC\[AES256_GCM,[^\n]*,type:comment\]\n\[owner\]\nname         = ENC\[AES256_GCM,[^\n]*,type:str\]\n/);
    assert.match(text, /\n\n\[database\]\n; ENC\[[^\n]*\]\nserver = ENC\[/);
    const dec = secretsCli(["decrypt", "app.ini"], { cwd, env });
    assert.equal(dec.code, 0, dec.stderr);
    assert.equal(dec.stdout, SAMPLE_OUT);
    // Dropping one encrypted value changes what the MAC covers.
    writeFileSync(join(cwd, "app.ini"), text.replace(/\nport   = ENC\[[^\n]*\]/, ""));
    const bad = secretsCli(["decrypt", "app.ini"], { cwd, env });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /MAC/);
  });

  it("writes the metadata as sops does: a last [sops] section of sorted, flattened, newline-escaped keys", () => {
    const { cwd, env } = workspace("shape");
    assert.equal(secretsCli(["encrypt", "app.ini"], { cwd, env }).code, 0);
    const text = readFileSync(join(cwd, "app.ini"), "utf8");
    const sops = text.slice(text.indexOf("\n\n[sops]\n") + "\n\n[sops]\n".length);
    const keys = sops.trimEnd().split("\n").map((l) => l.split(" = ")[0]!.trimEnd());
    // stores/flatten.go: maps join with __map_, lists with __list_N; stores/metadata.go goToSops sorts map keys.
    assert.deepEqual(keys, ["age__list_0__map_enc", "age__list_0__map_recipient", "lastmodified", "mac", "unencrypted_suffix", "version"]);
    const width = "age__list_0__map_recipient".length;
    assert.match(sops, new RegExp(`^age__list_0__map_enc {${width - 20 + 1}}= -----BEGIN AGE ENCRYPTED FILE-----\\\\n[^\\n]*-----END AGE ENCRYPTED FILE-----\\\\n\\n`));
    assert.match(sops, new RegExp(`\\nage__list_0__map_recipient = ${key.recipient}\\n`));
    assert.match(sops, /\nmac {24}= ENC\[AES256_GCM,[^\n]*,type:str\]\nunencrypted_suffix {9}= _unencrypted\nversion {20}= \d+\.\d+\.\d+\n$/);
  });

  it("--input-type ini reads a file whatever its name", () => {
    const { cwd, env } = workspace("inputtype");
    assert.equal(secretsCli(["encrypt", "app.ini"], { cwd, env }).code, 0);
    writeFileSync(join(cwd, "copy.txt"), readFileSync(join(cwd, "app.ini")));
    const r = secretsCli(["decrypt", "--input-type", "ini", "--output-type", "ini", "copy.txt"], { cwd, env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, SAMPLE_OUT);
    // Without the flag copy.txt is binary: no "data" key, so it is not a sops binary file.
    assert.notEqual(secretsCli(["decrypt", "copy.txt"], { cwd, env }).code, 0);
  });

  it("decrypt --extract prints one value bare; a section is not a file (store.go encodeTree)", () => {
    const { cwd, env } = workspace("extract");
    assert.equal(secretsCli(["encrypt", "app.ini"], { cwd, env }).code, 0);
    const one = secretsCli(["decrypt", "--extract", '["database"]["server"]', "app.ini"], { cwd, env });
    assert.equal(one.code, 0, one.stderr);
    assert.equal(one.stdout, "192.0.2.62");
    // sops: "Section values should always be TreeBranches" — a section's keys are not sections.
    const sec = secretsCli(["decrypt", "--extract", '["database"]', "app.ini"], { cwd, env });
    assert.equal(sec.code, 1, sec.stderr);
    assert.match(sec.stderr, /not a section/);
  });
});
