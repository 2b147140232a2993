/**
 * The loader's fast reader (src/policy/fast-yaml.ts) against `yaml` itself: wherever it reads a file, every
 * document's value, the YAML 1.1-only booleans and the document count are yaml's; whatever it is not sure
 * of, it declines, and the loader's result is then yaml's by construction.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, it } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import fc from "fast-check";
import { Composer, Parser, stringify, type Document } from "yaml";
import { fastDocuments } from "../../src/policy/fast-yaml.ts";
import { KUBECTL_YAML, parseManifests, parseManifestsByYaml } from "../../src/policy/load.ts";

const REPO = join(import.meta.dirname, "..", "..");
const OPTIONS = { ...KUBECTL_YAML, uniqueKeys: true };

/** The documents the loader gets from yaml (its Composer over its Parser, as parseManifestsByYaml reads). */
function yamlDocuments(text: string): Document.Parsed[] {
  return Array.from(new Composer(OPTIONS).compose(new Parser().parse(text)));
}

/**
 * Whether the fast reader read `text`; when it did, yaml must find no problem in it and give the same
 * documents and values, and the loader's result must be yaml's (objects, booleans, documents skipped).
 */
function agrees(text: string): boolean {
  const fast = fastDocuments(text, OPTIONS);
  const loaded = parseManifests(text, "f.yaml");
  assert.deepStrictEqual(loaded, parseManifestsByYaml(text, "f.yaml"), `loader differs on ${JSON.stringify(text)}`);
  if (fast === undefined) return false;
  const docs = yamlDocuments(text);
  assert.equal(fast.length, docs.length, `document count of ${JSON.stringify(text)}`);
  docs.forEach((doc, i) => {
    assert.deepEqual(doc.errors, [], `yaml finds a problem the fast reader did not: ${JSON.stringify(text)}`);
    assert.deepStrictEqual(fast[i]!.value, doc.toJS({ maxAliasCount: -1 }) ?? null, `document ${i + 1} of ${JSON.stringify(text)}`);
  });
  return true;
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return yamlFiles(p);
    return /\.ya?ml$/.test(name) ? [p] : [];
  });
}

describe("the loader's fast reader", () => {
  it("reads the kube-prometheus corpus exactly as yaml does, whole and document by document", () => {
    const corpus = gunzipSync(readFileSync(join(REPO, "bench", "corpus", "kube-prometheus-manifests.yaml.gz"))).toString("utf8");
    assert.ok(agrees(corpus), "the corpus is plain rendered YAML: the fast reader must read it");
    let read = 0;
    const parts = corpus.split(/^---$/m);
    for (const part of parts) if (agrees(part)) read++;
    assert.ok(read >= parts.length - 1, `${read} of ${parts.length} documents read`);
    // Twice the corpus, as the benchmark joins it.
    assert.ok(agrees([corpus, corpus].join("---\n")));
  });

  it("agrees with yaml on every YAML file of the tests' fixtures and the rendered tree", () => {
    const files = [...yamlFiles(join(REPO, "test")), ...yamlFiles(join(REPO, "gitops"))];
    assert.ok(files.length > 300, `${files.length} files`);
    let read = 0;
    for (const f of files) if (agrees(readFileSync(f, "utf8"))) read++;
    // Most of them are plain; the rest (flow maps, anchors, broken fixtures) went to yaml.
    assert.ok(read > files.length / 2, `${read} of ${files.length} files read fast`);
  });

  it("declines what it does not read, and the loader then gives yaml's result, problems included", () => {
    const head = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n";
    const declined = [
      head + "data: &a\n  k: v\n", // anchor
      head + "data:\n  k: *a\n", // alias
      head + "data:\n  k: !!str 1\n", // tag
      head + "data: {k: v}\n", // flow map with content
      head + "data:\n  k: [a, b]\n", // flow sequence with content
      head + "data:\n  k: >\n    folded\n", // folded block scalar
      head + "data:\n  k: |+\n    kept\n\n", // kept block scalar
      head + "data:\n  k: |2\n    indicator\n", // indentation indicator
      head + "data:\n  k: |\n\n    leading blank line\n", // leading empty line
      head + "data:\n  k: |\n    a\n   \n    b\n", // a line of blanks inside
      head + "data:\n  k: |\n  empty\n", // an empty block scalar, then a broken line
      head + "data:\n  k: |\n    a\n      \n    b\n", // a line of blanks deeper than the text
      head + "data:\n  k: |\n    a\n  \n", // a line of blanks after the text
      head + "data:\n  k: |\n      a\n     b\n", // a line less indented than the text, deeper than the key
      head + "data:\n  k: | # comment\n    a\n", // a comment after the header
      head + "data:\n  k: multi\n    line\n", // multi-line plain scalar
      head + 'data:\n  k: "multi\n    line"\n', // multi-line quoted scalar
      head + 'data:\n  k: "\\x41"\n', // a YAML-only escape
      head + "data:\n\tk: v\n", // tab indentation
      head.replaceAll("\n", "\r\n"), // CR LF line ends
      "\uFEFF" + head, // byte-order mark
      "%YAML 1.1\n---\n" + head, // directive
      head + "...\n", // document end marker
      "--- " + head, // content on the marker line
      head + "data:\n  k: 1\n  k: 2\n", // repeated key
      head + "data:\n  k: 1\n  'k': 2\n", // repeated key, quoted
      head + "data:\n  yes: 1\n", // a key that is a boolean in YAML 1.1
      head + "data:\n  1: 1\n", // a key that is a number
      head + "data:\n  e0: 1\n", // a key that is a float in YAML 1.1 (NaN)
      head + "data:\n  <<: {a: 1}\n", // merge key
      head + "data:\n  ? k\n  : v\n", // explicit key
      head + "data:\n  __proto__: v\n", // a key that is the prototype
      "- a\n- b\n", // a sequence at the root
      "just text\n", // a scalar at the root
      head + "data:\n  k: a: b\n", // a map on one line
      head + "data:\n  k: v\n   x: y\n", // bad indentation
      head + "data:\n  k: - a\n", // a sequence after a key on its line
      head + "data:\n- - a\n", // nested sequence on one line
      head + 'data:\n  k: "a"b\n', // text after a quoted scalar
      head + "data:\n  k: v\u0001\n", // control character
      head + "data:\n  k: `x`\n", // reserved indicator
      head + " bad: indent\n", // indentation between two levels
    ];
    for (const text of declined) {
      assert.equal(fastDocuments(text, OPTIONS), undefined, JSON.stringify(text));
      agrees(text);
    }
  });

  it("reads the plain cases yaml reads, with YAML 1.1's scalars", () => {
    const cases = [
      "a: 1\n",
      "a: 1\n---\nb: 2\n",
      "---\na: 1\n",
      "# only a comment\n---\na: 1\n",
      "a: 1\n---\n",
      "a: 1\n---",
      "---\n---\na: 1\n",
      "# nothing but comments\n",
      "",
      "a: on\nb: off\nc: y\nd: n\ne: yes\nf: No\ng: true\nh: ~\ni:\nj: null\n",
      "a: 0777\nb: 0x1F\nc: 1_000\nd: 1e3\ne: -.inf\nf: .nan\ng: 1.5\nh: +1\ni: 0b101\nj: 1:30\nk: 2001-12-14\n",
      "a: 'it''s'\nb: \"q\\\"x\\u00e9\\n\"\nc: ''\nd: \"\"\n",
      "a: |\n  line 1\n\n  line 3\n    more\nb: |-\n  x\n\n\nc: 1\n",
      "a: |\n  # not a comment\n   more\n\n\n# a comment\nb: |-\n    x\n---\nc: |\n  at the end",
      "a: |\n  text\n---\nb: |-\n  text\n",
      "a:\n  b: |\n    x\n  c: d\n",
      "a:\n- 1\n- x: 1\n  w: 2\n-\n  z: 3\n- []\n- {}\nb: 2\n",
      "data:\n  - a\n  -   b\n",
      "a:\n  - b: |\n      text\n    c: d\n",
      "a: b # comment\n# comment\nc: 'd' # comment\n  # indented comment\ne: f\n",
      "a#b: c#d\n:x: ?y\n-z: -1\nhttp: http://x/y\n",
      '"quoted key": 1\n\'other\': 2\n',
      "a:\n  b:\n    c: 1\n  d: 2\ne: 3\n",
      "toString: 1\nconstructor: 2\n",
      // Plain scalars that look like text but are numbers in YAML 1.1's tags.
      "a: e0\nb: E5\nc: .e1\nd: +.5\ne: _1\nf: 0_7\n",
    ];
    for (const text of cases) assert.ok(agrees(text), `not read: ${JSON.stringify(text)}`);
  });

  it("keeps nothing of the file's text in its values: a 4 MB comment, then short values, holds well under 1 MB", () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const big = () =>
      `# ${"x".repeat(4_000_000)}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: retained-text-probe\n` +
      "data:\n  literal: |\n    a literal text of some length\n    and a second line\n  stripped: |-\n    a stripped literal text\n" +
      "  plain: a plain value of some length\n  quoted: 'a quoted value of some length'\n  double: \"a double-quoted value\\t\"\n";
    gc();
    const before = process.memoryUsage().heapUsed;
    const docs = fastDocuments(big(), OPTIONS);
    // A regular expression's last subject stays reachable (RegExp.input) until the next match elsewhere.
    /x/.exec("x");
    gc();
    gc();
    const held = process.memoryUsage().heapUsed - before;
    assert.equal((docs?.[0]?.value?.data as Record<string, string>).literal, "a literal text of some length\nand a second line\n");
    assert.ok(held < 1_000_000, `${held} bytes held after reading a 4 MB text`);
  });

  it("agrees with yaml on generated documents and their mutations", () => {
    const key = fc.oneof(
      fc.constantFrom("a", "name", "e0", "E5", ".e1", "on", "yes", "y", "1", "0x1f", "~", "null", "<<", "__proto__", "a b", "a:b", ":a", "-a", "?a", "a#b", "a #b", "toString", "", "k: v", "'", '"'),
      fc.string({ maxLength: 5 }),
    );
    const scalar = fc.oneof(
      fc.constantFrom("on", "off", "yes", "no", "y", "n", "Y", "true", "False", "~", "null", "", "0777", "0o17", "0x1F", "1_000", "1e3", "-.inf", ".nan", "1.5", "-", "-1", ":x", "?x", "a: b", "a:", "a #c", "a#c", "#c", "*a", "&a", "!t", "|", "{}", "[]", "'q'", '"q"', "it's", "multi\nline", "trail\n\n", "\n lead", "  lead", "trail  ", "\\", "%x", "@x", "---", "...", "tab\there", "é\u2028x"),
      fc.string({ maxLength: 8 }),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
    );
    const { node } = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: "small", withCrossShrink: true }, scalar, fc.array(tie("node"), { maxLength: 3 }), fc.dictionary(key, tie("node"), { maxKeys: 3 })),
    }));
    const doc = fc.record({ kind: fc.constantFrom("ConfigMap", "List", "ConfigMapList"), data: fc.dictionary(key, node, { maxKeys: 4 }), items: fc.array(fc.dictionary(key, node, { maxKeys: 3 }), { maxLength: 2 }) });
    const style = fc.record({
      defaultStringType: fc.constantFrom("PLAIN", "QUOTE_DOUBLE", "QUOTE_SINGLE", "BLOCK_LITERAL", "BLOCK_FOLDED"),
      indent: fc.constantFrom(2, 4),
      indentSeq: fc.boolean(),
      lineWidth: fc.constantFrom(0, 24),
      version: fc.constantFrom("1.1", "1.2"),
    });
    const mutation = fc.array(fc.tuple(fc.nat(), fc.constantFrom(" ", "  # c", "\n", "\n  # c", "\n\n", "\t", ":", "-", "'", "\n---\n", "#")), { maxLength: 3 });
    // FAST_YAML_RUNS=100000 for a longer search (done once locally: 100,000 runs).
    const runs = Number(process.env.FAST_YAML_RUNS ?? 3000);
    let read = 0;
    fc.assert(
      fc.property(fc.array(doc, { minLength: 1, maxLength: 3 }), style, mutation, (docs, opts, cuts) => {
        let text = docs
          .map((d) => {
            const value = d.kind === "ConfigMap" ? { apiVersion: "v1", kind: d.kind, metadata: { name: "x" }, data: d.data } : { apiVersion: "v1", kind: d.kind, items: d.items.map((x) => ({ apiVersion: "v1", kind: "ConfigMap", ...x })) };
            return stringify(value, null, { ...opts, defaultKeyType: "PLAIN" } as Parameters<typeof stringify>[2]);
          })
          .join("---\n");
        for (const [at, piece] of cuts) {
          const i = at % (text.length + 1);
          text = text.slice(0, i) + piece + text.slice(i);
        }
        if (agrees(text)) read++;
      }),
      { numRuns: runs },
    );
    // The generator must reach the fast reader, not only its refusals.
    assert.ok(read > runs / 10, `${read} of ${runs} generated texts read fast`);
  });
});
