/**
 * Every pattern and parser that reads user input, run on 1 MB strings built to make backtracking
 * patterns rescan (runs of the characters a greedy group takes, with the character it waits for
 * missing). Linearity is by construction (plain parsers, patterns that start only at the start of a
 * run and whose classes exclude the character that ends them); these inputs took minutes to hours
 * before, so a regression hangs this file rather than failing a timer.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isBase64, isEncryptedValue, parseEncryptedValue, ValueDecryptError } from "../../src/secrets/cipher.ts";
import { parseJson } from "../../src/secrets/stores.ts";
import { scanFiles } from "../../src/secrets/scan.ts";
import { parseManifests } from "../../src/policy/load.ts";
import { normalizeRepoURL } from "../../src/policy/rules/argocd-sources.ts";
import { pathAllowed } from "../../src/policy/lib/security.ts";
import { trimTrailingSlashes } from "../../src/policy/lib/util.ts";

const MB = 1 << 20;
const fill = (unit: string, tail = "") => unit.repeat(Math.ceil(MB / unit.length)) + tail;

/** Strings that make a greedy group run to the end of the input and give back one step at a time. */
const HOSTILE: Record<string, string> = {
  "ENC with a missing bracket": `ENC[AES256_GCM,data:${fill(",iv:,tag:,type:")}x`,
  "ENC commas": `ENC[AES256_GCM,data:${fill("a,")}]`,
  "JWT-like run": fill("eyJ-"),
  "JWT first segment, no dot": "eyJ" + fill("a"),
  "scheme run": fill("a.") + "//",
  "URL userinfo without @": "https://" + fill("u") + ":" + fill("p"),
  "camel run": fill("A") + "=x",
  "template braces": fill("{{"),
  "substitutions": fill("${"),
  "command substitutions": fill("$("),
  "dash key run": fill("a-"),
  "assignment colons": fill("a:"),
  "quoted assignments": fill(`a:"`),
  "flags": fill(" -a"),
  "spaces after a key": "password" + fill(" "),
  "slashes": fill("/", "x"),
  "private key header then no material": "-----BEGIN PRIVATE KEY-----" + fill(" "),
  "helm source comment": "# Source: x" + fill(" ", "y"),
  "placeholder suffix": fill("a", " here!"),
};

describe("patterns over hostile 1 MB input finish (linear by construction)", () => {
  for (const [name, s] of Object.entries(HOSTILE)) {
    it(`scanner, ENC and base64 checks: ${name}`, () => {
      assert.equal(isEncryptedValue(s), false);
      assert.equal(isBase64(s), false);
      assert.throws(() => parseEncryptedValue(s), ValueDecryptError);
      // As a value under a secret-looking key, as a line of a config file and as a key.
      scanFiles([{ path: "a.env", content: `token=${s}\n` }]);
      scanFiles([{ path: "a.yaml", content: `password: ${JSON.stringify(s)}\nx: ${JSON.stringify(s)}\n` }]);
      scanFiles([{ path: "a.txt", content: s }]);
      scanFiles([{ path: "b.yaml", content: `${JSON.stringify(s)}: x\n` }]);
    });
    it(`manifest loader and policy helpers: ${name}`, () => {
      parseManifests(`apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  k: ${JSON.stringify(s)}\n`, "a.yaml");
      parseManifests(s, "b.yaml");
      normalizeRepoURL(s);
      pathAllowed(s, ["/var/log"]);
    });
  }

  it("a 4 MiB base64 value and a JSON string of that size are read (no regexp stack overflow)", () => {
    const big = Buffer.alloc(3 * MB + 5, 7).toString("base64");
    assert.equal(isBase64(big), true);
    const enc = `ENC[AES256_GCM,data:${big},iv:${Buffer.alloc(32).toString("base64")},tag:${Buffer.alloc(16).toString("base64")},type:str]`;
    assert.equal(parseEncryptedValue(enc).data.length, 3 * MB + 5);
    const b = parseJson(JSON.stringify({ k: "x".repeat(4 * MB), n: 12 }));
    assert.equal((b.items[0]!.value as string).length, 4 * MB);
  });

  it("the plain parsers agree with the formats they replace", () => {
    for (const ok of ["", "YQ==", "YWI=", "YWJj", "++//"]) assert.equal(isBase64(ok), true, ok);
    for (const bad of ["Y", "YQ=", "Y===", "YQ==YQ==", "YW J", "YWJ-"]) assert.equal(isBase64(bad), false, bad);
    const iv = Buffer.alloc(32, 1).toString("base64");
    const tag = Buffer.alloc(16, 2).toString("base64");
    assert.equal(isEncryptedValue(`ENC[AES256_GCM,data:YQ==,iv:${iv},tag:${tag},type:str]`), true);
    assert.equal(isEncryptedValue(`ENC[AES256_GCM,data:,iv:${iv},tag:${tag},type:str]`), false);
    assert.equal(isEncryptedValue(`ENC[AES256_GCM,iv:${iv},data:YQ==,tag:${tag},type:str]`), false);
    assert.equal(trimTrailingSlashes("/a/b///"), "/a/b");
    assert.equal(normalizeRepoURL("HTTPS://Git.Example.org/o/r.git/"), "https://git.example.org/o/r");
  });

  it("JSON escapes and errors are still those of JSON", () => {
    const b = parseJson(String.raw`{"a": "x\"y\\z\u00e9\n", "b": -1.5e3}`);
    assert.equal(b.items[0]!.value, 'x"y\\zé\n');
    assert.throws(() => parseJson('{"a": "unterminated'), /invalid JSON: unterminated string/);
    assert.throws(() => parseJson('{"a": "bad \\q"}'), /invalid JSON: bad escape/);
  });
});
