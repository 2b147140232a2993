/**
 * Aliases in every YAML reading path (manifest loader, secret scanner, sops YAML store, config and
 * waiver files): bounded by the size they expand to, never by how many there are.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { isAlias, parseAllDocuments, parseDocument, visit } from "yaml";
import { loadVersions } from "../../src/config/load.ts";
import { analyseAliases, parseYamlFile, YamlInputError } from "../../src/model/yaml-aliases.ts";
import { KUBECTL_YAML, mayHoldAlias, parseManifests } from "../../src/policy/load.ts";
import { parseSopsConfig } from "../../src/secrets/config.ts";
import { SopsFormatError } from "../../src/secrets/errors.ts";
import { scanFiles } from "../../src/secrets/scan.ts";
import { encrypt, loadSopsFile } from "../../src/secrets/sops.ts";
import { newIdentity } from "../../src/secrets/age.ts";
import { homelab } from "../helpers.ts";

/** What `mayHoldAlias` decides, as a regular expression: `*` and a name character where a node can start. */
const MAY_HOLD_ALIAS = /(?:^[\uFEFF \t]*|[?\-][ \t]+|:[ \t]*|[[\]{},][ \t]*)\*[^ \t\r\n,[\]{}]/m;

/** A "billion laughs" ConfigMap: ten levels of nine aliases, about 4e9 nodes from 350 bytes. */
function bomb(): string {
  const lines = ["apiVersion: v1", "kind: ConfigMap", "metadata: {name: bomb, namespace: x}", "data:", '  a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 10; i++) lines.push(`  a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(",")}]`);
  return lines.join("\n") + "\n";
}

/** One anchor used 150 times: kubectl reads it, and so must we. */
function manyAliases(n = 150): string {
  return (
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: many, namespace: x, labels: &l {app: many}}\ndata:\n  base: &b \"v\"\n" +
    Array.from({ length: n }, (_, i) => `  k${i}: *b\n`).join("") +
    "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: other, namespace: x, labels: &m {app: other}}\n" +
    "data:\n" + Array.from({ length: n }, (_, i) => `  m${i}: &v${i} "${i}"\n  n${i}: *v${i}\n`).join("")
  );
}

describe("the loader's test for text that may hold an alias", () => {
  /** The text of each document of `text` in which the parser finds an alias (documents with errors are reported as such, never walked). */
  const withAlias = (text: string) =>
    parseAllDocuments(text, KUBECTL_YAML).flatMap((doc) => {
      let found = false;
      visit(doc, { Alias: () => ((found = true), visit.BREAK) });
      // The loader reads the document's text as far as its value ends (range[1]).
      return found && doc.errors.length === 0 ? [text.slice(doc.range[0], doc.range[1])] : [];
    });
  const parsedAlias = (text: string) => withAlias(text).length > 0;

  it("is true for every document in which the parser finds an alias, on generated YAML full of stars", () => {
    const piece = fc.constantFrom("*a", "&a ", "*", " ", "  ", "\t", "\n", "\r\n", "- ", "? ", ": ", ":", "[", "]", "{", "}", ", ", ",", "a", "b: ", "|\n  ", ">-\n  ", '"', "'", "#", "--- ", "...\n", "x * y", "*.yaml", "\uFEFF", "!t ");
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 14 }), (parts) => {
        const text = parts.join("");
        for (const doc of withAlias(text)) assert.ok(MAY_HOLD_ALIAS.test(doc) && mayHoldAlias(doc), JSON.stringify(doc));
      }),
      { numRuns: 20000 },
    );
  });

  it("the loader's scan of the stars answers as the expression, on any text and any range of it", () => {
    const ch = fc.constantFrom("*", "*", "a", " ", "\t", "\n", "\r", "\u2028", "\uFEFF", "-", "?", ":", "[", "]", "{", "}", ",", "#", '"');
    fc.assert(
      fc.property(fc.array(ch, { maxLength: 16 }), fc.nat(16), fc.nat(16), (chars, a, b) => {
        const text = chars.join("");
        const [start, end] = [Math.min(a, b, text.length), Math.min(Math.max(a, b), text.length)];
        assert.equal(mayHoldAlias(text, start, end), MAY_HOLD_ALIAS.test(text.slice(start, end)), JSON.stringify([text, start, end]));
      }),
      { numRuns: 20000 },
    );
  });

  it("is false for stars inside scalars: PromQL, a dashboard's JSON in a block scalar", () => {
    for (const text of ["expr: sum(rate(x[5m])) * 100", 'json: |\n  {"expr": "a\\n  *\\n b"}', "k: a*b"]) {
      assert.equal(parsedAlias(text), false, text);
      assert.equal(MAY_HOLD_ALIAS.test(text), false, text);
      assert.equal(mayHoldAlias(text), false, text);
    }
  });
});

describe("alias expansion is bounded by size", () => {
  it("measures a bomb without expanding it, and names the line", () => {
    const a = analyseAliases(parseDocument(bomb()));
    assert.ok(a.expandedNodes > 1e9, String(a.expandedNodes));
    assert.match(a.problem!.message, /alias bomb, refused before expanding it/);
  });

  it("the manifest loader reports a bomb as a load problem with its line, and reads 150 aliases of one anchor", () => {
    const r = parseManifests(bomb(), "bomb.yaml");
    assert.equal(r.objects.length, 0);
    assert.equal(r.problems.length, 1);
    assert.equal(r.problems[0]!.line, 6);
    assert.match(r.problems[0]!.message, /alias bomb/);
    const ok = parseManifests(manyAliases(), "many.yaml");
    assert.deepEqual(ok.problems, []);
    assert.equal(ok.objects.length, 2);
    assert.equal((ok.objects[0]!.object as unknown as { data: Record<string, string> }).data.k149, "v");
  });

  it("an alias to an anchor of an earlier document, and an alias inside its own anchor, are problems, not crashes", () => {
    const earlier = parseManifests("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: e}\ndata: {a: &x '1'}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: f}\ndata: {a: *x}\n", "e.yaml");
    assert.deepEqual(
      earlier.problems.map((p) => [p.document, p.line, p.message]),
      [[2, 9, "alias *x has no anchor &x before it in this document (anchors do not carry over a `---`)"]],
    );
    const cycle = parseManifests("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: &d {a: *d}\n", "c.yaml");
    assert.match(cycle.problems[0]!.message, /inside its own anchor &d/);
  });

  it("the secret scanner reports a bomb once and still scans 150 aliases", () => {
    const f = scanFiles([{ path: "bomb.yaml", content: bomb() }]);
    assert.deepEqual(f.map((x) => [x.line, x.rule]), [[6, "unparsable-file"]]);
    assert.match(f[0]!.message, /alias bomb/);
    const pw = "Zq8" + "vL2mWx9Rt4Kp";
    const many = scanFiles([{ path: "m.yaml", content: manyAliases() + `---\nx: &p {password: ${pw}}\n` + Array.from({ length: 120 }, (_, i) => `y${i}: *p\n`).join("") }]);
    assert.deepEqual(many.map((x) => x.rule), ["literal-password"]);
  });

  it("the sops YAML store refuses a bomb with file:line:col and reads 150 aliases", async () => {
    assert.throws(() => loadSopsFile(bomb(), "yaml", "s.yaml"), (e: unknown) => e instanceof SopsFormatError && /^s\.yaml:6:\d+: .*alias bomb/.test(e.message));
    const { recipient } = await newIdentity();
    await assert.rejects(encrypt(bomb(), { format: "yaml", recipients: [recipient] }), /alias bomb/);
    const out = await encrypt(manyAliases().split("---\n")[0]!, { format: "yaml", recipients: [recipient] });
    assert.match(out, /k149: ENC\[/);
  });

  it("config, .sops.yaml and waiver files go through the same bound", () => {
    assert.throws(() => parseYamlFile(bomb(), "f.yaml"), (e: unknown) => e instanceof YamlInputError && e.line === 6 && /^f\.yaml:6: .*alias bomb/.test(e.message));
    assert.throws(() => parseSopsConfig(bomb(), ".sops.yaml"), /\.sops\.yaml:6: .*alias bomb/);
    const dir = mkdtempSync(join(tmpdir(), "aliases-"));
    writeFileSync(join(dir, "versions.yaml"), bomb());
    assert.throws(() => loadVersions(join(dir, "versions.yaml")), /alias bomb/);
    assert.equal((parseYamlFile(manyAliases().split("---\n")[0]!, "ok.yaml") as { data: Record<string, string> }).data.k100, "v");
  });

  it("homelab check: a bomb fails fast with exit 1 and valid JSON; 150 aliases pass", () => {
    const dir = mkdtempSync(join(tmpdir(), "aliases-cli-"));
    writeFileSync(join(dir, "bomb.yaml"), bomb());
    writeFileSync(join(dir, "many.yaml"), manyAliases());
    const b = homelab(["check", "--format", "json", join(dir, "bomb.yaml")]);
    assert.equal(b.code, 1, b.stderr);
    const j = JSON.parse(b.stdout) as { error: { kind: string; problems: { line: number; message: string }[] } };
    assert.equal(j.error.kind, "load");
    assert.equal(j.error.problems[0]!.line, 6);
    const m = homelab(["check", join(dir, "many.yaml")]);
    assert.equal(m.code, 0, m.stdout + m.stderr);
    const s = homelab(["secrets", "scan", join(dir, "bomb.yaml")]);
    assert.equal(s.code, 1);
    assert.match(s.stdout + s.stderr, /bomb\.yaml:6: .*alias bomb/);
  });
});
