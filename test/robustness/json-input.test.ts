/**
 * A file that is one JSON object is read by JSON.parse (src/policy/load.ts, jsonDocument): the loader's result
 * must be the one yaml's reading gives, values and problems, for any JSON value; a repeated key (which
 * JSON.parse would take the last of, and yaml refuses) leaves the file to yaml; and counting the keys in the
 * text stays linear on a long string full of escaped quotes.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { parseManifests, parseManifestsByYaml } from "../../src/policy/load.ts";

const wrap = (data: unknown, space?: number) =>
  JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "j", namespace: "x", labels: { a: "b" } }, data }, null, space);

describe("JSON manifests read by JSON.parse", () => {
  it("give exactly yaml's objects and problems, for any JSON value and layout", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.constantFrom(undefined, 1, 2, "\t" as unknown as number), (data, space) => {
        const text = wrap(data, space);
        assert.deepStrictEqual(parseManifests(text, "j.json"), parseManifestsByYaml(text, "j.json"), text);
      }),
      { numRuns: 500 },
    );
  });

  it("a List of items, as kubectl get -o json prints it, is read item by item", () => {
    const text = JSON.stringify({ apiVersion: "v1", kind: "List", items: [0, 1, 2].map((i) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: `c${i}`, namespace: "x" }, data: { k: `v"${i}\\` } })) }, null, 2);
    const r = parseManifests(text, "l.json");
    assert.deepStrictEqual(r, parseManifestsByYaml(text, "l.json"));
    assert.deepEqual(r.objects.map((o) => [o.item, o.object.metadata.name]), [[0, "c0"], [1, "c1"], [2, "c2"]]);
  });

  it("a repeated key is refused as yaml refuses it, with its line; so is a key repeated inside a string's look-alike", () => {
    const dup = '{"apiVersion": "v1", "kind": "ConfigMap",\n "metadata": {"name": "a", "name": "b", "namespace": "x"}}';
    const r = parseManifests(dup, "d.json");
    assert.deepStrictEqual(r, parseManifestsByYaml(dup, "d.json"));
    assert.equal(r.objects.length, 0);
    assert.match(r.problems[0]!.message, /unique/);
    assert.equal(r.problems[0]!.line, 2);
    // Text that looks like keys inside a value is not counted as keys.
    const lookalike = wrap({ note: '"a": 1, "b": {"c": 2}', "q\\\"": "\\\":" });
    assert.deepStrictEqual(parseManifests(lookalike, "k.json"), parseManifestsByYaml(lookalike, "k.json"));
    assert.equal(parseManifests(lookalike, "k.json").objects.length, 1);
  });

  it("a 2 MB string of escaped quotes is read (each string scanned once, not from every quote)", () => {
    const text = wrap({ big: 'a\\"b'.repeat(500_000) + '":' });
    const r = parseManifests(text, "big.json");
    assert.equal(r.problems.length, 0);
    assert.equal((r.objects[0]!.object as unknown as { data: { big: string } }).data.big.length, 2_000_002);
  });
});
