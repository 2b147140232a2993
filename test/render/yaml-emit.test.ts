/**
 * The fast YAML writer (src/render/yaml-emit.ts) writes exactly what the `yaml` library writes for the
 * render: on every rendered object of the default config, the HA shape and extra apps, and on generated
 * documents full of strings that need quoting, block literals, odd numbers and odd keys.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { toYaml, toYamlReference } from "../../src/render/render.ts";
import { YamlEmitter } from "../../src/render/yaml-emit.ts";
import { plan, THREE_NODES } from "../platform/render-helpers.ts";
import { defaultInputCopy } from "../helpers.ts";

const STRINGS = [
  "", " ", "a", "y", "Y", "n", "No", "on", "OFF", "true", "False", "null", "~", "<<", "=", "-", "- a", "? x", ":", "a: b", "a:b", "#x", "a #b", "x#y",
  "0o17", "0O17", "-0o7", "0x1F", "1_000", "0755", "08", "1e3", ".5", "+Inf", "-.inf", ".NaN", "1:20", "2001-12-14", "2001-12-14T21:59:43Z", "0x1p-2",
  "e5", "E0", "e-3", "E+2", "e", "E1x", "bench-app-5", "git.skypalette.ai/bench/app-5", "v1", "apps/v1", "app.kubernetes.io/name", "a.b_c/d-e", "é", "日本", "emoji 😀",
  "line\nline", "x\n", "x\n\n", "\nlead", " lead\nx", "trail \nx", "tab\there", "\t", "a\r\nb", "\u0000", "\u0085", "'single'", '"double"', "{a: 1}", "[1]",
  "*alias", "&anchor", "!tag", "%YAML", "@at", "`tick", "|", ">", "a".repeat(300), `${"word ".repeat(60)}end`,
];
// Strings the writer spells itself (a letter, then letters, digits and `. _ / -`; or a letter, then printable
// ASCII as in image references and PromQL) come often, with the pairs and endings that make them quoted.
const plainLooking = fc.oneof(
  fc.stringMatching(/^[A-Za-z][A-Za-z0-9._/+-]{0,6}$/),
  fc.tuple(fc.constantFrom("a", "e", "E", "y", "N", "x"), fc.array(fc.constantFrom("a", "1", " ", ":", "#", "-", "+", "'", '"', "{", "}", "[", "]", ",", "&", "*", "!", "|", ">", "%", "@", "`", "?", "=", "(", ")", "~", "\\"), { maxLength: 8 })).map(([h, t]) => h + t.join("")),
);
const tricky = fc.oneof(fc.constantFrom(...STRINGS), plainLooking, fc.string({ maxLength: 10 }), fc.string({ unit: "grapheme", maxLength: 6 }), fc.array(fc.constantFrom("a", "e", "E", "y", "n", "\n", " ", ":", "#", "-", "_", "/", "0", "1", "."), { maxLength: 8 }).map((a) => a.join("")));
const number = fc.oneof(fc.integer(), fc.double({ noNaN: false }), fc.constantFrom(-0, 0, 1e21, 1.5, -1e-7, 2 ** 53, Number.MAX_VALUE));

const doc: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: "small", withCrossShrink: true }, tie("leaf"), tie("leaf"), tie("map"), tie("list")),
  leaf: fc.oneof(tricky, number, fc.boolean(), fc.constant(null)),
  map: fc.dictionary(tricky, tie("node"), { maxKeys: 5 }),
  list: fc.array(tie("node"), { maxLength: 4 }),
})).node;

describe("fast YAML writer", () => {
  it("writes every rendered object exactly as the yaml library does", () => {
    const apps = [...(defaultInputCopy().apps ?? []), ...Array.from({ length: 5 }, (_, i) => ({ name: `extra-${i}`, image: `git.skypalette.ai/x/app-${i}`, tag: "1.0.0", port: 8080, host: `extra-${i}.skypalette.ai` }))];
    let objects = 0;
    for (const p of [plan(), plan(THREE_NODES), plan({ apps } as never)]) {
      const emitter = new YamlEmitter(toYamlReference);
      for (const { file, object } of p.objects) {
        const fast = emitter.write(object);
        // Rendered objects are plain data: the fast path must take them, not hand them all back.
        assert.notEqual(fast, undefined, `${file}: not written by the fast writer`);
        assert.equal(fast, toYamlReference(object), file);
        objects++;
      }
    }
    assert.ok(objects > 400, `${objects} objects`);
  });

  it("matches the yaml library on generated documents", () => {
    let handedBack = 0;
    const runs = 1500;
    fc.assert(
      fc.property(fc.oneof(fc.dictionary(tricky, doc, { minKeys: 1, maxKeys: 6 }), fc.array(doc, { minLength: 1, maxLength: 4 })), (d) => {
        const emitter = new YamlEmitter(toYamlReference);
        const want = toYamlReference(d);
        const fast = emitter.write(d);
        if (fast === undefined) handedBack++;
        else assert.equal(fast, want);
        // Twice: the second time every scalar comes from the writer's cache.
        assert.equal(emitter.write(d) ?? want, want);
        assert.equal(toYaml(d), want);
      }),
      { numRuns: runs },
    );
    // Only keys the library writes as `? key` (very long or multi-line) go back to it whole.
    assert.ok(handedBack < runs / 20, `${handedBack} of ${runs} documents handed back`);
  });

  it("spells image references and PromQL expressions itself, the library's way", () => {
    let asked = 0;
    const emitter = new YamlEmitter((d) => {
      asked++;
      return toYamlReference(d);
    });
    const values = [
      "git.skypalette.ai/bench/app-5:1.0.0",
      'max by (namespace, deployment) (kube_deployment_status_replicas_available{namespace="x",deployment="x"}) < 1',
      "App {{ $labels.deployment }} has had no available pod for 5 minutes: its site answers 503.",
      "a:b",
      "x #y",
    ];
    const d = { spec: { containers: values.map((image) => ({ image })) } };
    assert.equal(emitter.write(d), toYamlReference(d));
    // The description (": ") and the last one (" #") are asked about; the others are written without asking.
    assert.equal(asked, 2);
    for (const v of ["a: b", "a:", "a ", "e+3", "yes", "On", "a\tb", "é"]) assert.equal(new YamlEmitter(toYamlReference).write({ k: v }), toYamlReference({ k: v }), v);
  });

  it("writes multi-line values (dashboards' JSON) as the library's block literals without asking it", () => {
    let asked = 0;
    const emitter = new YamlEmitter((d) => {
      asked++;
      return toYamlReference(d);
    });
    const dashboard = JSON.stringify({ title: "x: y", panels: [{ expr: 'up{job="a"} # b', text: "- item\n---\n" }], empty: {} }, null, 2);
    const d = { data: { "app.json": dashboard, "clip.txt": "a\n\n\nb\n", "deep": [{ x: "p\n  q\nr" }] } };
    assert.equal(emitter.write(d), toYamlReference(d));
    assert.equal(asked, 0);
    // What it leaves to the library: indentation indicators, keep chomping, tabs, carriage returns, quoted words.
    for (const v of [" lead\nx", "\nx", "x\n\n", "x \n", "x\n ", "x\ty\nz", "x\r\ny", "x\n\t", "\u0085x\ny"]) {
      const was: number = asked;
      assert.equal(emitter.write({ k: v }), toYamlReference({ k: v }), JSON.stringify(v));
      assert.equal(asked, was + 1, JSON.stringify(v));
    }
  });

  it("matches the yaml library on generated multi-line values at any depth", () => {
    const piece = fc.constantFrom("a", "{", "}", '"', ":", " ", "  ", "\n", "\n\n", "#", "-", "---", "...", "|", ">", "%", "'", "\t", "\r", "é", "0", "yes", "~", "?", "[", ",", "&", "*", "!", "@", "`");
    const multi = fc.array(piece, { minLength: 1, maxLength: 14 }).map((a) => a.join("")).filter((v) => v.includes("\n"));
    const placed = fc.oneof(
      multi.map((v) => ({ k: v })),
      multi.map((v) => ({ a: { b: v } })),
      multi.map((v) => ({ a: [v, { c: v }] })),
      multi.map((v) => [[v]]),
    );
    fc.assert(
      fc.property(placed, (d) => {
        assert.equal(new YamlEmitter(toYamlReference).write(d), toYamlReference(d));
      }),
      { numRuns: 3000 },
    );
  });

  it("a block literal moves right with its key, in maps and lists, at any depth", () => {
    const d = { a: { b: [[1, "x\ny"], { c: "m\n\nn\n", d: [" lead\nx"] }], e: "p\nq" }, f: "r\ns" };
    assert.equal(new YamlEmitter(toYamlReference).write(d), toYamlReference(d));
    assert.match(toYaml(d), /\n {4}- - 1\n {6}- \|-\n {8}x\n {8}y\n/);
  });

  it("hands documents that are not plain data to the yaml library", () => {
    const emitter = new YamlEmitter(toYamlReference);
    for (const d of [{ a: undefined, b: 1 }, { a: new Date(0) }, { a: new Map([["k", 1]]) }, { a: [1, , 3] }, {}, [], "text", 7, { a: 10n }]) {
      assert.equal(emitter.write(d), undefined, String(d));
      assert.equal(toYaml(d), toYamlReference(d));
    }
  });
});
