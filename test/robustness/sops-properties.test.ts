/**
 * Property-based (fast-check): the sops round trip of YAML and dotenv documents, and the manifest
 * loader on generated input. The JSON round trip is in test/robustness/secrets-input.test.ts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { parse, stringify } from "yaml";
import { newIdentity } from "../../src/secrets/age.ts";
import { decrypt, encrypt, keyRingOf, verify } from "../../src/secrets/sops.ts";
import { parseManifests } from "../../src/policy/load.ts";

const key = fc.string({ minLength: 1, maxLength: 12 }).filter((k) => k !== "sops");
const leaf = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary", maxLength: 8 }).filter((s) => !/[\uD800-\uDFFF]/.test(s)),
  fc.integer(),
  fc.boolean(),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)),
  fc.constant(null),
);
const { tree } = fc.letrec((tie) => ({
  tree: fc.dictionary(key, tie("node"), { maxKeys: 4 }),
  node: fc.oneof({ depthSize: "small" }, leaf, tie("tree"), fc.array(tie("node"), { maxLength: 3 })),
}));

describe("property: sops round trip of YAML and dotenv", () => {
  it("any YAML document, any key path and value type: encrypt then decrypt is the identity and the MAC verifies", async () => {
    const { identity, recipient } = await newIdentity();
    const keys = await keyRingOf([identity]);
    await fc.assert(
      fc.asyncProperty(tree, async (doc) => {
        // Written as YAML 1.1, the way sops reads it: a plain `0_` or `yes` key would be a number or a boolean there.
        const text = stringify(doc, { version: "1.1" });
        const enc = await encrypt(text, { format: "yaml", recipients: [recipient] });
        await verify(enc, "yaml", keys);
        assert.deepEqual(parse(await decrypt(enc, "yaml", keys)), parse(text));
      }),
      // `0_` is the key a run once found; YAML 1.2 leaves it plain, YAML 1.1 reads it as an integer.
      { numRuns: 60, examples: [[{ "0_": {} }], [{ yes: { "1_000": "on" } }]] },
    );
  });

  it("any dotenv document: encrypt then decrypt is the identity and the MAC verifies", async () => {
    const { identity, recipient } = await newIdentity();
    const keys = await keyRingOf([identity]);
    const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,15}$/);
    // dotenv values are one line of text (sops' dotenv store has no other type).
    const value = fc.string({ maxLength: 40 }).filter((v) => !v.includes("\n") && !v.includes("\r"));
    await fc.assert(
      fc.asyncProperty(fc.dictionary(name, value, { minKeys: 1, maxKeys: 6 }), async (env) => {
        const text = Object.entries(env).map(([k, v]) => `${k}=${v}\n`).join("");
        const enc = await encrypt(text, { format: "dotenv", recipients: [recipient] });
        await verify(enc, "dotenv", keys);
        assert.equal(await decrypt(enc, "dotenv", keys), text);
      }),
      { numRuns: 60 },
    );
  });
});

describe("property: the manifest loader never crashes", () => {
  const manifest = fc.record({
    apiVersion: fc.oneof(fc.constantFrom("v1", "apps/v1", "batch/v1"), fc.string()),
    kind: fc.oneof(fc.constantFrom("ConfigMap", "Deployment", "Secret", "List", "Service"), fc.string()),
    metadata: fc.oneof(fc.record({ name: fc.string(), namespace: fc.string() }), tree, leaf),
    spec: fc.oneof(tree, leaf),
    items: fc.array(tree, { maxLength: 2 }),
  }, { requiredKeys: ["apiVersion", "kind"] });
  const doc = fc.oneof(manifest.map((m) => stringify(m)), tree.map((t) => stringify(t)), fc.string({ maxLength: 200 }), fc.string({ unit: "binary", maxLength: 80 }));

  it("generated multi-document files: problems are returned, never thrown", () => {
    fc.assert(
      fc.property(fc.array(doc, { minLength: 1, maxLength: 4 }), fc.constantFrom("---\n", "\n---\n", "--- \n"), (docs, sep) => {
        const r = parseManifests(docs.join(sep), "gen.yaml");
        assert.ok(Array.isArray(r.objects) && Array.isArray(r.problems));
        for (const p of r.problems) assert.ok(p.line === undefined || (Number.isInteger(p.line) && p.line >= 1), JSON.stringify(p));
        for (const o of r.objects) assert.equal(typeof o.object.kind, "string");
      }),
      { numRuns: 300 },
    );
  });
});
