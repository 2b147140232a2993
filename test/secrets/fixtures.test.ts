/**
 * Real sops-made files (test/fixtures/sops, copied from their upstream projects) decrypt with their published test-only keys, MAC
 * verified, to exactly the plaintexts in EXPECTED.json; re-encrypting them with the same data key
 * and IVs reproduces sops' own ciphertexts and MAC byte for byte.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { SopsFormatError } from "../../src/secrets/errors.ts";
import { decrypt, decryptToObject, formatForPath, loadSopsFile, openSopsFile, reseal } from "../../src/secrets/sops.ts";
import { getPath, toPlain } from "../../src/secrets/tree.ts";
import { SOPS_FIXTURES, fixtureKeys } from "./helpers.ts";

interface Expected {
  readonly key_file: string;
  readonly plaintext: unknown;
}

function expected(): [string, Expected][] {
  const all = JSON.parse(readFileSync(join(SOPS_FIXTURES, "EXPECTED.json"), "utf8")) as Record<string, Expected | string>;
  return Object.entries(all).filter((e): e is [string, Expected] => !e[0].startsWith("_"));
}

describe("real sops fixtures", () => {
  it("EXPECTED.json lists the ten verifiable fixtures", (t) => {
    assert.deepEqual(
      expected().map(([f]) => f).sort(),
      [
        "flux/algorithms/age.yaml",
        "flux/files/file.txt",
        "flux/global/secret.yaml",
        "flux/patches/merge1.yaml",
        "flux/patches/merge2.yaml",
        "helm-secrets/secrets.age.yaml",
        "sops-age/secret.enc.env",
        "sops-age/secret.enc.json",
        "sops-age/secret.enc.yaml",
        "sops-nix/secrets.yaml",
      ],
    );
  });

  it("every fixture decrypts to its EXPECTED plaintext with the MAC verified", async (t) => {
    for (const [file, e] of expected()) {
      const text = readFileSync(join(SOPS_FIXTURES, file), "utf8");
      const got = await decryptToObject(text, formatForPath(file), await fixtureKeys(e.key_file), file);
      assert.deepEqual(got, e.plaintext, file);
    }
  });

  it("keeps sops' value types: int, float, bool, nested maps, lists (YAML) and JSON numbers as float", async (t) => {
    const keys = await fixtureKeys("sops-age/key.txt");
    const y = await openSopsFile(loadSopsFile(readFileSync(join(SOPS_FIXTURES, "sops-age/secret.enc.yaml"), "utf8"), "yaml"), keys);
    const doc = y.plain[0]!;
    assert.equal((getPath(doc, ["int"]) as { value: bigint }).value, 7n);
    assert.equal(getPath(doc, ["int"])!.constructor.name, "IntValue");
    assert.equal(getPath(doc, ["float"])!.constructor.name, "FloatValue");
    assert.equal(getPath(doc, ["boolean"]), true);
    assert.deepEqual(toPlain(getPath(doc, ["complex", "array"])!), ["one", "two", "three"]);
    const j = await openSopsFile(loadSopsFile(readFileSync(join(SOPS_FIXTURES, "sops-age/secret.enc.json"), "utf8"), "json"), keys);
    // sops 3.9 stored the JSON number 7 with type:float; it must come back as a float.
    assert.equal(getPath(j.plain[0]!, ["int"])!.constructor.name, "FloatValue");
    // The YAML output keeps the float a float.
    const out = await decrypt(readFileSync(join(SOPS_FIXTURES, "sops-age/secret.enc.json"), "utf8"), "json", keys);
    assert.match(out, /\t"int": 7,\n/);
  });

  it("the binary store yields the raw file content", async (t) => {
    const text = readFileSync(join(SOPS_FIXTURES, "flux/files/file.txt"), "utf8");
    assert.equal(await decrypt(text, "binary", await fixtureKeys("flux/keys/age.txt")), "value");
  });

  it("a post-quantum (age1pq) file from sops 3.12 decrypts too", async (t) => {
    const text = readFileSync(join(SOPS_FIXTURES, "flux/algorithms/age-pq.yaml"), "utf8");
    const got = await decryptToObject(text, "yaml", await fixtureKeys("flux/keys/age-pq.txt"));
    assert.deepEqual(got, { apiVersion: "v1", kind: "Secret", metadata: { name: "age-pq" }, stringData: { key: "value" } });
  });

  it("re-encrypting with the file's data key and IVs reproduces sops' values and MAC exactly", async (t) => {
    for (const [file, e] of expected()) {
      const format = formatForPath(file);
      const opened = await openSopsFile(loadSopsFile(readFileSync(join(SOPS_FIXTURES, file), "utf8"), format, file), await fixtureKeys(e.key_file));
      const again = loadSopsFile(reseal(opened, opened.plain, { now: new Date(opened.metadata.lastmodified) }), format, file);
      assert.equal(JSON.stringify(again.branches), JSON.stringify(opened.branches), `${file}: values`);
      assert.equal(again.metadata.mac, opened.metadata.mac, `${file}: MAC`);
    }
  });

  it("a file without a sops block is rejected as not encrypted", (t) => {
    const plain = readFileSync(join(SOPS_FIXTURES, "sops-age/secret.json"), "utf8");
    assert.throws(() => loadSopsFile(plain, "json", "secret.json"), (e: unknown) => e instanceof SopsFormatError && /^secret\.json: not a sops file: sops metadata not found/.test(e.message));
  });

  it("a file that is not even in the store's syntax is 'not a sops file', not a parse error", () => {
    const is = (text: string, format: "binary" | "json" | "yaml", file: string, re: RegExp) =>
      assert.throws(() => loadSopsFile(text, format, file), (e: unknown) => e instanceof SopsFormatError && re.test(e.message) && !/invalid JSON/.test(e.message));
    is("# Notes\nnothing encrypted here\n", "binary", "README.md", /^README\.md: not a sops file: no sops metadata, and it does not parse as JSON/);
    is("a: [unclosed\n", "yaml", "x.yaml", /^x\.yaml: not a sops file: no sops metadata, and it does not parse as YAML$/);
    // With a sops key in it, the parse error itself is what the operator needs to see.
    assert.throws(() => loadSopsFile("a: [unclosed\nsops:\n  mac: x\n", "yaml", "y.yaml"), /y\.yaml:\d+:\d+: invalid YAML/);
  });
});
