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
import { Composer, Document, isMap, isScalar, isSeq, Parser, stringify, visit } from "yaml";
import { fastDocuments, YAML12_BOOLEAN, type FastBoolean } from "../../src/policy/fast-yaml.ts";
import { KUBECTL_YAML, parseManifests, parseManifestsByYaml } from "../../src/policy/load.ts";

const REPO = join(import.meta.dirname, "..", "..");
const OPTIONS = { ...KUBECTL_YAML, uniqueKeys: true };

/** The documents the loader gets from yaml (its Composer over its Parser, as parseManifestsByYaml reads). */
function yamlDocuments(text: string): Document.Parsed[] {
  return Array.from(new Composer(OPTIONS).compose(new Parser().parse(text)));
}

/** The YAML 1.1-only booleans of a document yaml read (plain scalars only), with their keys and indexes. */
function yamlBooleans(node: unknown, segments: (string | number)[] = [], out: FastBoolean[] = []): FastBoolean[] {
  if (isMap(node)) {
    for (const pair of node.items) {
      segments.push(isScalar(pair.key) ? String(pair.key.value) : "?");
      yamlBooleans(pair.value, segments, out);
      segments.pop();
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      segments.push(i);
      yamlBooleans(item, segments, out);
      segments.pop();
    });
  } else if (isScalar(node) && node.type === "PLAIN" && typeof node.value === "boolean" && !YAML12_BOOLEAN.test(node.source ?? "")) {
    out.push({ segments: [...segments], text: String(node.source), value: node.value });
  }
  return out;
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
    assert.deepStrictEqual(fast[i]!.booleans, yamlBooleans(doc.contents), `booleans of document ${i + 1} of ${JSON.stringify(text)}`);
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
      head + "data: {k: v,\n  l: w}\n", // flow map over two lines
      head + "data:\n  k: [a,\n    b]\n", // flow sequence over two lines
      head + "data:\n  k: [a, b\n", // flow sequence not closed
      head + "data: {k}\n", // implicit key without value
      head + "data: {k: v, l}\n", // implicit key after an entry
      head + "data:\n  k: [a: b]\n", // implicit pair in a sequence
      head + "data:\n  k: [\"a\": b]\n", // implicit pair with a quoted key
      head + "data:\n  k: [[a]: b]\n", // a collection as an implicit key
      head + "data: {? k: v}\n", // explicit key in a flow map
      head + "data:\n  k: [? a]\n", // explicit key in a flow sequence
      head + "data:\n  k: [?a]\n", // `?` starting a plain scalar
      head + "data:\n  k: [&a x]\n", // anchor in a flow sequence
      head + "data:\n  k: [*a]\n", // alias in a flow sequence
      head + "data:\n  k: [!!str 1]\n", // tag in a flow sequence
      head + "data:\n  k: [a #c]\n", // comment inside the brackets
      head + "data:\n  k: [a#b]\n", // `#` inside a plain scalar
      head + "data:\n  k: [a]#c\n", // `#` right after the bracket: not a comment
      head + "data:\n  k: [a:b]\n", // `:` inside a plain scalar
      head + "data: {k: http://x}\n", // `:` inside a plain value
      head + "data: {k:v}\n", // no blank after the colon
      head + 'data: {"k":v}\n', // no blank after a quoted key's colon
      head + "data: {k : v}\n", // blank before the colon
      head + "data: {k: }\n", // empty value
      head + "data:\n  k: [a,,b]\n", // empty item
      head + "data:\n  k: [,]\n", // empty item alone
      head + "data: {,}\n", // empty entry alone
      head + "data:\n  k: [a b: c]\n", // a pair after text
      head + "data:\n  k: [a}\n", // mismatched bracket
      head + "data:\n  k: [a] b\n", // text after the bracket
      head + "data:\n  k: [a]\n    b: c\n", // a deeper line after the collection
      head + "data: {k: 1, k: 2}\n", // repeated key
      head + "data: {k: 1, 'k': 2}\n", // repeated key, quoted
      head + "data: {yes: 1}\n", // a key that is a boolean in YAML 1.1
      head + "data: {1: a}\n", // a key that is a number
      head + "data: {<<: {a: 1}}\n", // merge key
      head + "data: {__proto__: v}\n", // a key that is the prototype
      head + "data: {{a: b}: c}\n", // a collection as key
      head + "data:\n  k: [a\tb]\n", // tab inside the brackets
      head + "data:\n  k: [- a]\n", // a block sequence indicator inside
      head + 'data:\n  k: ["\\x41"]\n', // a YAML-only escape inside
      head + "data:\n  k: ['a\n    b']\n", // a multi-line quoted scalar inside
      head + "data:\n  k: " + "[".repeat(100) + "]".repeat(100) + "\n", // nested deeper than read here
      "{a: b}\n", // a flow map at the root
      "[a, b]\n", // a flow sequence at the root
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
      head + `data:\n  "${"k".repeat(1100)}": v\n`, // a quoted key longer than 1024 characters
      head + `data: {"${"k".repeat(1100)}": v}\n`, // the same in a flow map
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
    // Nested 3000 levels deep in block style: declined, not a stack overflow here (yaml then reports one, at
    // a line that depends on the stack left, so the loader's two readings are not compared).
    const deep = head + "data:\n" + Array.from({ length: 3000 }, (_, i) => `${"  ".repeat(i + 1)}a:\n`).join("") + "  ".repeat(3001) + "x\n";
    assert.equal(fastDocuments(deep, OPTIONS), undefined);
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
      // Flow collections on one line, as hand-written manifests have them.
      "data: {k: v}\n",
      "data:\n  k: [a, b]\n",
      "metadata: {name: web, namespace: shop, labels: {app: web}}\nspec:\n  selector: {matchLabels: {app: web}}\n",
      "args: [\"--a\", '--b', --c=d]\nports: [{containerPort: 80}, {containerPort: 443, name: https}]\n",
      "a: [on, off, yes, No, y, n, true, False, ~, null, 0777, 0x1F, 1e3, -.inf, 1.5, -1, e0]\n",
      "a: {x: on, y2: [n, {z: Yes}]}\nb:\n- [off]\n- {q: y}\n",
      "a: [a, b, ]\nb: {k: v, }\nc: [ a ,b,c ]\nd: {  k:  v  }\ne: [ ]\nf: { }\n",
      "a: [a b  c, -x, x-y, a!b, a&b, a*b, a|b, a>b, a@b, a%b, a'b, a\"b, é]\n",
      "a: ['it''s', \"q\\\"x\\u00e9\", '', \"\", 'a, b', \"[x]\", 'a: b', '#c']\n",
      "a: {'q k': 1, \"d k\": 2, \"\": 3}\n",
      "a: [[], {}, [[1]], {b: {c: [d]}}] # comment\nb: {} # comment\n",
      "x:\n- {a: b}\n",
      "x:\n  - [1, 2, 3]\n  - {a: b}\n  -   [c]\n",
      "a: [" + "[".repeat(60) + "]".repeat(60) + "]\n",
      "data: {k: \"" + "v".repeat(2000) + "\"}\n",
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
      // Bit i set: the i-th collection below the root (in document order, modulo 30) is written in flow style,
      // on one line or (lineWidth 24, BLOCK_* string types) over several.
      flow: fc.oneof(fc.constant(0), fc.nat()),
    });
    const mutation = fc.array(fc.tuple(fc.nat(), fc.constantFrom(" ", "  # c", "\n", "\n  # c", "\n\n", "\t", ":", "-", "'", "\n---\n", "#", ",", "[", "]", "{", "}", ", ", ": ")), { maxLength: 3 });
    // FAST_YAML_RUNS=100000 for a longer search (done once locally: 100,000 runs).
    const runs = Number(process.env.FAST_YAML_RUNS ?? 3000);
    let read = 0;
    let readFlow = 0;
    fc.assert(
      fc.property(fc.array(doc, { minLength: 1, maxLength: 3 }), style, mutation, (docs, { flow, ...opts }, cuts) => {
        let text = docs
          .map((d) => {
            const value = d.kind === "ConfigMap" ? { apiVersion: "v1", kind: d.kind, metadata: { name: "x" }, data: d.data } : { apiVersion: "v1", kind: d.kind, items: d.items.map((x) => ({ apiVersion: "v1", kind: "ConfigMap", ...x })) };
            const options = { ...opts, defaultKeyType: "PLAIN" } as Parameters<typeof stringify>[2] & object;
            if (flow === 0) return stringify(value, null, options);
            const document = new Document(value, options);
            let n = -1;
            const flowStyle = (_: unknown, node: { flow?: boolean }) => {
              if (n++ >= 0 && (flow >> n % 30) & 1) node.flow = true;
            };
            visit(document, { Map: flowStyle, Seq: flowStyle });
            return document.toString(options);
          })
          .join("---\n");
        for (const [at, piece] of cuts) {
          const i = at % (text.length + 1);
          text = text.slice(0, i) + piece + text.slice(i);
        }
        if (agrees(text)) {
          read++;
          // yaml writes a flow collection with content as `{ k: v }` or `[ a ]`.
          if (/[{[] /.test(text)) readFlow++;
        }
      }),
      { numRuns: runs },
    );
    // The generator must reach the fast reader, not only its refusals, flow collections included.
    assert.ok(read > runs / 10, `${read} of ${runs} generated texts read fast`);
    assert.ok(readFlow > runs / 50, `${readFlow} of ${runs} generated texts with flow collections read fast`);
  });

  it("agrees with yaml on generated one-line flow collections as written by hand, and their mutations", () => {
    // Scalars as written, not as a stringifier quotes them: YAML 1.1 booleans and numbers plain, and the shapes
    // declined inside a flow collection (indicators, `:` and `#` in plain text, YAML-only escapes, tabs).
    const scalar = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom("on", "off", "yes", "No", "y", "n", "Y", "true", "False") },
      { weight: 4, arbitrary: fc.constantFrom("a", "web", "x y", "~", "null", "0777", "0x1F", "1e3", "-.inf", ".nan", "1.5", "-1", "e0", "-x", "é", "a'b", 'a"b', "a!b", "a*b") },
      { weight: 2, arbitrary: fc.constantFrom("'q'", "'it''s'", "''", '"q"', '""', '"a\\tb"', '"\\u00e9"', "'a, b'", '"[x]"', "'a: b'", '"#c"', '"\\x41"', "'a\nb'") },
      fc.constantFrom("", "-", "?", "?x", ":x", "a:b", "a: b", "a#b", "a #b", "*a", "&a b", "!t a", "!!str 1", "- a", "? a", "|", ">", "%x", "@x", "`x`", "a\tb", "<<", ","),
      fc.string({ maxLength: 4 }),
    );
    const key = fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom("a", "name", "k", "app", "x y", "'q'", '"d"', "''", "toString") },
      // (A collection as key is among the explicit cases: yaml warns each time it makes one a string.)
      fc.constantFrom("on", "y", "1", "e0", "<<", "__proto__", "a:b", "", "? a", "a #b", "&a k", "!t k"),
      fc.string({ maxLength: 3 }),
    );
    type Flow = string | { seq: Flow[] } | { map: [string, Flow][] };
    const { flow } = fc.letrec((tie) => ({
      flow: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        scalar,
        fc.record({ seq: fc.array(tie("flow"), { maxLength: 4 }) }),
        fc.record({ map: fc.array(fc.tuple(key, tie("flow")), { maxLength: 4 }) }),
      ),
    })) as { flow: fc.Arbitrary<Flow> };
    // Blanks inside the brackets, between items and after a key's colon; a trailing comma or not.
    const spacing = fc.record({ pad: fc.constantFrom("", " ", "  "), sep: fc.constantFrom(", ", ",", " , ", ",  "), colon: fc.constantFrom(": ", ":  ", ":", " : "), trailing: fc.boolean() });
    const write = (f: Flow, sp: { pad: string; sep: string; colon: string; trailing: boolean }): string => {
      if (typeof f === "string") return f;
      const items = "seq" in f ? f.seq.map((x) => write(x, sp)) : f.map.map(([k, v]) => k + sp.colon + write(v, sp));
      const [open, close] = "seq" in f ? ["[", "]"] : ["{", "}"];
      return items.length === 0 ? open + close : open + sp.pad + items.join(sp.sep) + (sp.trailing ? "," : "") + sp.pad + close;
    };
    const collection = fc.oneof(fc.record({ seq: fc.array(flow, { maxLength: 4 }) }), fc.record({ map: fc.array(fc.tuple(key, flow), { maxLength: 4 }) })) as fc.Arbitrary<Flow>;
    // Where a flow collection is written: after a key, after a sequence item's dash, with a comment or not.
    const place = fc.constantFrom("data:\n  k: %\n", "data: %\n", "data:\n  - %\n  - b\n", "data:\n- %\n", "metadata: %\ndata:\n  k: %  # c\n", "data:\n  k: [%, %]\n");
    const mutation = fc.array(fc.tuple(fc.nat(), fc.constantFrom(" ", "\n", "\n  ", "\t", ":", ": ", "-", "'", '"', "#", " #", ",", "[", "]", "{", "}", "&a ", "*a", "!t ", "? ")), { maxLength: 2 });
    const runs = Number(process.env.FAST_YAML_RUNS ?? 3000);
    let read = 0;
    let readBooleans = 0;
    fc.assert(
      fc.property(fc.array(fc.tuple(collection, spacing), { minLength: 1, maxLength: 3 }), place, mutation, (flows, where, cuts) => {
        let n = 0;
        let text = "apiVersion: v1\nkind: ConfigMap\n" + where.replaceAll("%", () => write(...flows[n++ % flows.length]!));
        for (const [at, piece] of cuts) {
          const i = at % (text.length + 1);
          text = text.slice(0, i) + piece + text.slice(i);
        }
        if (agrees(text)) {
          read++;
          if (fastDocuments(text, OPTIONS)![0]!.booleans.length) readBooleans++;
        }
      }),
      { numRuns: runs },
    );
    // Flow collections with content, YAML 1.1 booleans among them, are read, not only declined.
    assert.ok(read > runs / 10, `${read} of ${runs} generated flow collections read fast`);
    assert.ok(readBooleans > runs / 100, `${readBooleans} of ${runs} generated flow collections read fast with YAML 1.1 booleans`);
  });
});
