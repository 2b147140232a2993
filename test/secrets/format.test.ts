/** The sops format as we write it: typing, rules, comments, stores, key changes. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { AlreadyEncryptedError } from "../../src/secrets/errors.ts";
import { isEncryptedValue } from "../../src/secrets/cipher.ts";
import type { KeyRing } from "../../src/secrets/keys.ts";
import {
  decrypt,
  decryptToObject,
  encrypt,
  inspectSopsText,
  loadSopsFile,
  openSopsFile,
  reseal,
  rotate,
  updateKeys,
  verify,
  type EncryptionRules,
} from "../../src/secrets/sops.ts";
import { FloatValue, IntValue, formatGoFloat, getPath, setPath, toPlain } from "../../src/secrets/tree.ts";
import { resolvePlainScalar } from "../../src/secrets/yaml-scalars.ts";
import { newKeyFile, tempDir } from "./helpers.ts";

let dir: { dir: string; cleanup: () => void };
let me: Awaited<ReturnType<typeof newKeyFile>>;
let you: Awaited<ReturnType<typeof newKeyFile>>;
before(async () => {
  dir = tempDir();
  me = await newKeyFile(dir.dir, "me.txt");
  you = await newKeyFile(dir.dir, "you.txt");
});
after(() => dir.cleanup());

const enc = (text: string, rules: EncryptionRules = {}, format: "yaml" | "json" | "dotenv" | "binary" = "yaml") =>
  encrypt(text, { format, recipients: [me.recipient], rules });

/** The raw (still encrypted) value at a path of the first document. */
function raw(text: string, path: (string | number)[], format: "yaml" | "json" | "dotenv" = "yaml"): unknown {
  return toPlain(getPath(loadSopsFile(text, format).branches[0]!, path)!);
}

describe("plain YAML scalars are typed like sops (yaml.v3)", () => {
  const cases: [string, unknown][] = [
    ["7", 7n],
    ["-7", -7n],
    ["0755", 493n],
    ["0o17", 15n],
    ["0x1F", 31n],
    ["0b101", 5n],
    ["1_000", 1000n],
    ["9223372036854775807", 9223372036854775807n],
    ["08", 8],
    ["1.0", 1],
    [".5", 0.5],
    ["1e3", 1000],
    ["+.inf", Infinity],
    ["true", true],
    ["True", true],
    ["FALSE", false],
    ["~", null],
    ["null", null],
    ["", null],
    ["yes", "yes"],
    ["on", "on"],
    ["2024-01-01", "2024-01-01"],
    ["1.2.3", "1.2.3"],
    ["0x", "0x"],
  ];
  for (const [src, want] of cases) {
    it(`${JSON.stringify(src)} -> ${typeof want === "bigint" ? `int ${want}` : typeof want === "number" ? `float ${want}` : JSON.stringify(want)}`, () => {
      const got = resolvePlainScalar(src);
      if (typeof want === "bigint") {
        assert.ok(got instanceof IntValue);
        assert.equal(got.value, want);
      } else if (typeof want === "number") {
        assert.ok(got instanceof FloatValue);
        assert.equal(got.value, want);
      } else assert.equal(got, want);
    });
  }
});

describe("MAC bytes of floats match Go's FormatFloat(v, 'f', -1, 64)", () => {
  const cases: [number, string][] = [
    [3.14, "3.14"],
    [1, "1"],
    [-2.5, "-2.5"],
    [1e21, "1000000000000000000000"],
    [1.5e-7, "0.00000015"],
    [-0, "-0"],
    [NaN, "NaN"],
    [Infinity, "+Inf"],
    [-Infinity, "-Inf"],
    [123456789.125, "123456789.125"],
  ];
  for (const [v, want] of cases) it(`${v} -> ${want}`, () => assert.equal(formatGoFloat(v), want));
});

describe("YAML round trip", () => {
  const src = `# head comment
name: demo # inline
count: 3
ratio: 2.0
big: 12345678901234567890
enabled: false
nothing: null
empty: ""
zip: "0755"
under: "1_000"
when: "2024-01-01T00:00:00Z"
multi: |
  line one
  line two
list:
  - a
  # about b
  - b
nested:
  deeper:
    value: x
---
second: doc
`;

  it("decrypts to the same values and types, with comments back in place", async () => {
    const text = await enc(src);
    const out = await decrypt(text, "yaml", me.keys);
    assert.equal(
      out,
      `# head comment
name: demo # inline
count: 3
ratio: 2.0
big: 12345678901234567890
enabled: false
nothing: null
empty: ""
zip: "0755"
under: "1_000"
when: "2024-01-01T00:00:00Z"
multi: |
    line one
    line two
list:
    - a
    # about b
    - b
nested:
    deeper:
        value: x
---
second: doc
`,
    );
  });

  it("encrypts every value and comment by default; nulls and empty strings stay as they are", async () => {
    const text = await enc(src);
    for (const secret of ["demo", "head comment", "about b", "line one", "0755"]) assert.ok(!text.includes(secret), secret);
    assert.match(text, /^#ENC\[AES256_GCM,.*type:comment\]$/m);
    assert.match(raw(text, ["count"]) as string, /type:int\]$/);
    assert.match(raw(text, ["ratio"]) as string, /type:float\]$/);
    assert.match(raw(text, ["enabled"]) as string, /type:bool\]$/);
    assert.match(raw(text, ["zip"]) as string, /type:str\]$/);
    assert.equal(raw(text, ["nothing"]), null);
    assert.equal(raw(text, ["empty"]), "");
    // Every document carries the sops block, as sops writes it.
    assert.equal(text.match(/^sops:$/gm)?.length, 2);
    assert.deepEqual(await decryptToObject(text, "yaml", me.keys), {
      name: "demo",
      count: 3,
      ratio: 2,
      big: 12345678901234567890n,
      enabled: false,
      nothing: null,
      empty: "",
      zip: "0755",
      under: "1_000",
      when: "2024-01-01T00:00:00Z",
      multi: "line one\nline two\n",
      list: ["a", "b"],
      nested: { deeper: { value: "x" } },
    });
  });

  it("refuses to encrypt a file that already has a sops block", async () => {
    const text = await enc("a: b\n");
    await assert.rejects(enc(text), (e: unknown) => e instanceof AlreadyEncryptedError && e.exitCode === 203);
  });
});

describe("which values are encrypted", () => {
  const secret = `apiVersion: v1
kind: Secret
metadata:
  name: demo
  namespace: apps
type: Opaque
data:
  blob: aGVsbG8=
stringData:
  password: pw-1
`;

  it("encrypted_regex ^(data|stringData)$ keeps a Kubernetes Secret reviewable and round-trips", async () => {
    const text = await enc(secret, { encryptedRegex: "^(data|stringData)$" });
    const doc = loadSopsFile(text, "yaml");
    assert.deepEqual(toPlain(getPath(doc.branches[0]!, ["metadata"])!), { name: "demo", namespace: "apps" });
    assert.equal(raw(text, ["kind"]), "Secret");
    assert.ok(isEncryptedValue(raw(text, ["data", "blob"])));
    assert.ok(isEncryptedValue(raw(text, ["stringData", "password"])));
    assert.match(text, /^ {4}encrypted_regex: \^\(data\|stringData\)\$$/m);
    assert.equal(await decrypt(text, "yaml", me.keys, { store: { yamlIndent: 2 } }), secret);
  });

  it("unencrypted_suffix (the default), encrypted_suffix and unencrypted_regex", async () => {
    const plain = "user_unencrypted: admin\npassword: pw\npin_enc: 1234\nnote: hi\n";
    const dflt = await enc(plain);
    assert.equal(raw(dflt, ["user_unencrypted"]), "admin");
    assert.ok(isEncryptedValue(raw(dflt, ["password"])));
    const suffix = await enc(plain, { encryptedSuffix: "_enc" });
    assert.ok(isEncryptedValue(raw(suffix, ["pin_enc"])));
    assert.equal(raw(suffix, ["password"]), "pw");
    const unre = await enc(plain, { unencryptedRegex: "^(note|user_.*)$" });
    assert.equal(raw(unre, ["note"]), "hi");
    assert.ok(isEncryptedValue(raw(unre, ["password"])));
    for (const t of [dflt, suffix, unre]) assert.deepEqual(await decryptToObject(t, "yaml", me.keys), { user_unencrypted: "admin", password: "pw", pin_enc: 1234, note: "hi" });
  });

  it("encrypted_comment_regex encrypts only what follows a marker comment", async () => {
    const text = await enc("plain: visible\n# sops:enc\nhidden: s3cret\nalso: visible\n", { encryptedCommentRegex: "sops:enc" });
    assert.equal(raw(text, ["plain"]), "visible");
    assert.ok(isEncryptedValue(raw(text, ["hidden"])));
    assert.equal(raw(text, ["also"]), "visible");
    assert.match(text, /^# sops:enc$/m);
    assert.deepEqual(await decryptToObject(text, "yaml", me.keys), { plain: "visible", hidden: "s3cret", also: "visible" });
  });

  it("mac_only_encrypted leaves readable values outside the MAC (sops semantics), encrypted ones inside", async () => {
    const text = await enc("user_unencrypted: admin\npassword: pw\n", { macOnlyEncrypted: true });
    assert.match(text, /mac_only_encrypted: true/);
    await verify(text.replace("user_unencrypted: admin", "user_unencrypted: root"), "yaml", me.keys);
    const full = await enc("user_unencrypted: admin\npassword: pw\n");
    await assert.rejects(verify(full.replace("user_unencrypted: admin", "user_unencrypted: root"), "yaml", me.keys), /MAC mismatch/);
  });

  it("rejects more than one selector", async () => {
    await assert.rejects(enc("a: b\n", { encryptedRegex: "a", unencryptedSuffix: "_x" }), /only one of/);
  });
});

describe("other stores", () => {
  it("JSON keeps key order (numeric-looking keys too), ints vs floats, and writes tab indentation like sops", async () => {
    const src = '{"z": 1, "10": 2.5, "2": [true, null, "s"], "o": {"k": -3}}';
    const text = await enc(src, {}, "json");
    assert.match(text, /^\{\n\t"z": "ENC\[.*type:int\]",\n\t"10": "ENC\[.*type:float\]",/);
    assert.equal(await decrypt(text, "json", me.keys, { store: { jsonIndent: 2 } }), '{\n  "z": 1,\n  "10": 2.5,\n  "2": [\n    true,\n    null,\n    "s"\n  ],\n  "o": {\n    "k": -3\n  }\n}\n');
  });

  it("dotenv flattens the sops block into sops_ keys and escapes newlines", async () => {
    const text = await enc("# db\nDB_PASSWORD=pw\nMULTI=a\\nb\n", {}, "dotenv");
    assert.match(text, /^sops_age__list_0__map_recipient=age1/m);
    assert.match(text, /^sops_age__list_0__map_enc=-----BEGIN AGE ENCRYPTED FILE-----\\n/m);
    assert.match(text, /^DB_PASSWORD=ENC\[/m);
    assert.equal(await decrypt(text, "dotenv", me.keys), "# db\nDB_PASSWORD=pw\nMULTI=a\\nb\n");
  });

  it("binary files are wrapped as {data: …}", async () => {
    const text = await enc("raw bytes\nline 2\n", {}, "binary");
    assert.equal(Object.keys(JSON.parse(text)).join(","), "data,sops");
    assert.equal(await decrypt(text, "binary", me.keys), "raw bytes\nline 2\n");
  });
});

describe("changing values and keys", () => {
  const src = "a: one\nb: two\n";

  it("re-sealing with one value changed keeps the other ciphertexts byte for byte", async () => {
    const text = await enc(src);
    const opened = await openSopsFile(loadSopsFile(text, "yaml"), me.keys);
    const plain = opened.plain.map((b) => b);
    setPath(plain[0]!, ["b"], "TWO");
    const next = reseal(opened, plain);
    assert.equal(raw(next, ["a"]), raw(text, ["a"]));
    assert.notEqual(raw(next, ["b"]), raw(text, ["b"]));
    assert.deepEqual(await decryptToObject(next, "yaml", me.keys), { a: "one", b: "TWO" });
  });

  it("equal values at different places never share an IV after re-sealing (list items share their key path)", async () => {
    const text = await enc("pins:\n  - '1234'\n  - '1234'\n  - '5678'\nother: '1234'\n");
    const before = [0, 1, 2].map((i) => raw(text, ["pins", i]));
    assert.equal(new Set(before).size, 3);
    const opened = await openSopsFile(loadSopsFile(text, "yaml"), me.keys);
    const plain = opened.plain.map((b) => b);
    setPath(plain[0]!, ["other"], "changed");
    const next = reseal(opened, plain);
    // Each unchanged item keeps its own ciphertext: equal plaintexts stay indistinguishable.
    assert.deepEqual([0, 1, 2].map((i) => raw(next, ["pins", i])), before);
    // An item moved to another position is encrypted afresh rather than borrowing a neighbour's IV.
    const swapped = opened.plain.map((b) => b);
    setPath(swapped[0]!, ["pins", 2], "1234");
    const third = reseal(opened, swapped);
    const after = [0, 1, 2].map((i) => raw(third, ["pins", i]));
    assert.equal(new Set(after).size, 3);
    assert.deepEqual(after.slice(0, 2), before.slice(0, 2));
    assert.deepEqual(await decryptToObject(third, "yaml", me.keys), { pins: ["1234", "1234", "1234"], other: "changed" });
  });

  it("updatekeys re-wraps the data key without touching values or MAC", async () => {
    const text = await enc(src);
    const r = await updateKeys(text, "yaml", me.keys, [me.recipient, you.recipient]);
    assert.ok(r.changed);
    assert.deepEqual(r.added, [you.recipient]);
    const before = loadSopsFile(text, "yaml");
    const afterFile = loadSopsFile(r.text, "yaml");
    assert.equal(afterFile.metadata.mac, before.metadata.mac);
    assert.equal(afterFile.metadata.lastmodified, before.metadata.lastmodified);
    assert.equal(afterFile.metadata.age[0]!.enc, before.metadata.age[0]!.enc);
    assert.deepEqual(await decryptToObject(r.text, "yaml", you.keys), { a: "one", b: "two" });
    const dropMe = await updateKeys(r.text, "yaml", you.keys, [you.recipient]);
    assert.deepEqual(dropMe.removed, [me.recipient]);
    await assert.rejects(verify(dropMe.text, "yaml", me.keys), /no available age key/);
    const same = await updateKeys(dropMe.text, "yaml", you.keys, [you.recipient]);
    assert.equal(same.changed, false);
  });

  it("rotate re-encrypts every value under a new data key", async () => {
    const text = await enc(src);
    const r = await rotate(text, "yaml", me.keys, { recipients: [you.recipient] });
    assert.notEqual(raw(r.text, ["a"]), raw(text, ["a"]));
    assert.notEqual(raw(r.text, ["b"]), raw(text, ["b"]));
    assert.deepEqual(await decryptToObject(r.text, "yaml", you.keys), { a: "one", b: "two" });
    await assert.rejects(verify(r.text, "yaml", me.keys as KeyRing), /no available age key/);
  });
});

describe("structural inspection (no key needed)", () => {
  it("a file we wrote is clean", async () => {
    assert.deepEqual(inspectSopsText(await enc("a: b\n"), "yaml").problems, []);
  });
  it("a hand-edited plaintext value where ciphertext belongs is reported", async () => {
    const text = (await enc("a: b\nc: d\n")).replace(/^c: ENC\[.*\]$/m, "c: leaked");
    assert.deepEqual(inspectSopsText(text, "yaml").problems, ["c holds plaintext where an encrypted value is required"]);
  });
  it("a broken sops block lists every problem", async () => {
    const text = (await enc("a: b\n")).replace(/^ {4}mac: .*$/m, "    mac: nope").replace(/^ {4}lastmodified: .*$/m, "    lastmodified: yesterday");
    assert.deepEqual(inspectSopsText(text, "yaml").problems, [
      'sops.lastmodified "yesterday" is not an RFC 3339 time',
      "sops.mac is missing or not an ENC[AES256_GCM,…] value",
    ]);
  });
  it("a file without a sops block", () => {
    assert.deepEqual(inspectSopsText("a: b\n", "yaml", "x.sops.yaml").problems, ["not a sops file: sops metadata not found (the file is not encrypted)"]);
  });
});
