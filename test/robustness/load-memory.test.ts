/**
 * The loader keeps its objects, not the file's text: every string of a loaded object is its own copy, so
 * the parser's slices of the text (and the one-slice-per-line chains of block scalars) are not kept alive
 * by what `check` holds while its rules run. The values are the very ones the parser read.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import fc from "fast-check";
import { Composer, LineCounter, parseAllDocuments, Parser } from "yaml";
import { KUBECTL_YAML, LineStarts, loadManifests, parseManifests } from "../../src/policy/load.ts";
import { REPO } from "../helpers.ts";

const CORPUS = join(REPO, "bench", "corpus", "kube-prometheus-manifests.yaml.gz");

/** What the yaml library itself reads from `text`: the objects of each document, List items one by one. */
function reference(text: string): unknown[] {
  return parseAllDocuments(text, KUBECTL_YAML).flatMap((d) => {
    const v = d.toJS({ maxAliasCount: -1 }) as { kind?: string; items?: unknown[] } | null;
    if (v === null || typeof v !== "object") return [];
    return typeof v.kind === "string" && v.kind.endsWith("List") && Array.isArray(v.items) ? v.items : [v];
  });
}

describe("loaded objects hold their own strings", () => {
  it("the corpus loads to exactly the values the yaml library reads", () => {
    const text = gunzipSync(readFileSync(CORPUS)).toString("utf8");
    const loaded = parseManifests(text, "corpus.yaml");
    assert.equal(loaded.problems.length, 0);
    assert.ok(loaded.objects.length > 80, `${loaded.objects.length} objects`);
    assert.deepEqual(
      loaded.objects.map((o) => o.object),
      reference(text),
    );
  });

  it("every policy fixture loads to exactly the values the yaml library reads", () => {
    const loaded = loadManifests([join(REPO, "test", "policy", "fixtures")], { keepGoing: true });
    const byFile = new Map<string, unknown[]>();
    for (const o of loaded.objects) byFile.set(o.file, [...(byFile.get(o.file) ?? []), o.object]);
    assert.ok(byFile.size > 100, `${byFile.size} files`);
    let compared = 0;
    for (const [file, objects] of byFile) {
      const want = reference(readFileSync(file.startsWith("/") ? file : join(process.cwd(), file), "utf8")).filter((v) => objects.some((o) => o === v || JSON.stringify(o) === JSON.stringify(v)));
      // Documents the loader passes over (build-time files, broken metadata) are not compared here.
      if (want.length !== objects.length) continue;
      assert.deepEqual(objects, want, file);
      compared++;
    }
    assert.ok(compared > 100, `${compared} files compared`);
  });

  it("keeps less than 3x the text's size once loaded (the text and its slices are not retained)", () => {
    // Measured in a process of its own, after forced collections: kube-prometheus's manifests twice over.
    const script = `
      import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
      import { gunzipSync } from "node:zlib";
      import { parseManifests } from ${JSON.stringify(join(REPO, "src", "policy", "load.ts"))};
      const one = gunzipSync(readFileSync(${JSON.stringify(CORPUS)})).toString("utf8");
      let text = [one, one].join("---\\n");
      const bytes = Buffer.byteLength(text);
      globalThis.gc(); globalThis.gc();
      const before = process.memoryUsage().heapUsed;
      const loaded = parseManifests(text, "x2.yaml");
      text = "";
      globalThis.gc(); globalThis.gc();
      const kept = process.memoryUsage().heapUsed - before;
      console.log(JSON.stringify({ bytes, kept, objects: loaded.objects.length }));
    `;
    const res = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", "--input-type=module", "-e", script], { cwd: REPO, encoding: "utf8" });
    assert.equal(res.status, 0, res.stderr);
    const { bytes, kept, objects } = JSON.parse(res.stdout.trim().split("\n").pop()!) as { bytes: number; kept: number; objects: number };
    assert.equal(objects, 240);
    assert.ok(kept < 3 * bytes, `kept ${(kept / 2 ** 20).toFixed(1)} MiB for ${(bytes / 2 ** 20).toFixed(1)} MiB of text`);
  });
});

describe("long double-quoted scalars (read by JSON.parse, not character by character)", () => {
  // A value long enough to be read ahead, from pieces that cover JSON's escapes, YAML-only escapes (left to
  // yaml), raw tabs (JSON.parse refuses them), non-ASCII, quotes and backslashes.
  const piece = fc.constantFrom("a", "Z", "9", " ", ":", "#", "'", "{", "é", "\u{1F600}", "\\\"", "\\\\", "\\/", "\\n", "\\t", "\\u00e9", "\\ud83d\\ude00", "\\x41", "\\e", "\\N", "\\ ", "\t", "\\q");
  const long = fc.array(piece, { minLength: 1, maxLength: 40 }).map((parts) => parts.join("").repeat(Math.ceil(1100 / Math.max(1, parts.join("").length))));
  const doc = fc.record({ body: long, style: fc.constantFrom("block", "flow", "seq", "alias", "tag", "key") }).map(({ body, style }) => {
    const q = `"${body}"`;
    const head = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: q, namespace: x}\n";
    if (style === "block") return `${head}data:\n  blob: ${q}\n  other: "short"\n`;
    if (style === "flow") return `${head}data: {blob: ${q}, other: x}\n`;
    if (style === "seq") return `${head}data:\n  list:\n  - ${q}\n  - [${q}, 1]\n`;
    if (style === "alias") return `${head}data:\n  a: &x ${q}\n  b: *x\n`;
    if (style === "tag") return `${head}data:\n  a: !!str ${q}\n`;
    return `${head}data:\n  ${q}: v\n`;
  });

  it("read to exactly the values and problems the yaml library reads, in every place a scalar can be", () => {
    let readAhead = 0;
    fc.assert(
      fc.property(doc, (text) => {
        const loaded = parseManifests(text, "q.yaml");
        const docs = parseAllDocuments(text, { ...KUBECTL_YAML, uniqueKeys: true });
        const errors = docs.flatMap((d) => d.errors);
        if (errors.length) {
          assert.ok(loaded.problems.length > 0, `yaml: ${errors[0]!.message}`);
          return;
        }
        assert.deepEqual(loaded.problems, []);
        assert.deepEqual(loaded.objects.map((o) => o.object), reference(text));
        if (!/\t|\\[xeN q]/.test(text)) readAhead++;
      }),
      { numRuns: 300 },
    );
    assert.ok(readAhead > 30, `${readAhead} documents read ahead`);
  });

  it("a 7 MB quoted value loads without a chain of one-character pieces (about 30 bytes a character before)", () => {
    const script = `
      import { parseManifests } from ${JSON.stringify(join(REPO, "src", "policy", "load.ts"))};
      const text = "apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: big, namespace: x}\\ndata:\\n  blob: \\"" + "ab\\\\n+/=".repeat(1_000_000) + "\\"\\n";
      globalThis.gc();
      const before = process.memoryUsage().heapUsed;
      const r = parseManifests(text, "big.yaml");
      const grew = process.memoryUsage().heapUsed - before;
      if (r.objects[0].object.data.blob.length !== 6_000_000) throw new Error("wrong value " + r.objects[0].object.data.blob.length);
      process.stdout.write(String(grew));
    `;
    const res = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", "--input-type=module", "-e", script], { cwd: REPO, encoding: "utf8", timeout: 60_000 });
    assert.equal(res.status, 0, res.stderr);
    const grew = Number(res.stdout);
    // The value itself is 6 MB (one byte a character), the text 7 MB: 30 bytes a character would be 210 MB.
    assert.ok(grew < 60 * 1024 * 1024, `heap grew by ${(grew / 1048576).toFixed(0)} MiB`);
  });
});

describe("the loader's line index", () => {
  /** Both indexes fed by one parse of `text`, and whether they give the same line for every offset. */
  function agree(text: string): string | undefined {
    const lc = new LineCounter();
    const ls = new LineStarts();
    const both = (offset: number) => {
      lc.addNewLine(offset);
      ls.add(offset);
    };
    for (const _ of new Composer(KUBECTL_YAML).compose(new Parser(both).parse(text)));
    for (let o = 0; o <= text.length + 1; o++) if (lc.linePos(o).line !== ls.lineAt(o)) return `offset ${o}: ${lc.linePos(o).line} / ${ls.lineAt(o)}`;
    return undefined;
  }

  it("answers as yaml's LineCounter for every offset of the corpus", () => {
    const corpus = gunzipSync(readFileSync(join(REPO, "bench", "corpus", "kube-prometheus-manifests.yaml.gz"))).toString("utf8");
    assert.equal(agree(corpus), undefined);
  });

  it("answers as yaml's LineCounter on generated YAML, malformed included (where the parser skips some line ends)", () => {
    const piece = fc.constantFrom("a: 1", "\n", "\r\n", "\r", "- ", "|\n  x\n", ">-\n  y\n", '"q\nr"', "'s\n\nt'", "[a,\n b]", "{c: d,\n e: f}", "# c\n", "---\n", "...\n", "  ", "%YAML 1.1\n", "&a ", "*a", "? k\n: v\n", ": ", "\uFEFF");
    fc.assert(fc.property(fc.array(piece, { maxLength: 12 }), (parts) => assert.equal(agree(parts.join("")), undefined)), { numRuns: 3000 });
  });

  it("holds more lines than one block", () => {
    const ls = new LineStarts();
    for (let i = 0; i < LineStarts.BLOCK * 2 + 5; i++) ls.add(i * 3);
    assert.equal(ls.lineAt(0), 1);
    assert.equal(ls.lineAt(LineStarts.BLOCK * 3), LineStarts.BLOCK + 1);
    assert.equal(ls.lineAt(LineStarts.BLOCK * 3 + 1), LineStarts.BLOCK + 1);
    assert.equal(ls.lineAt((LineStarts.BLOCK * 2 + 4) * 3 + 2), LineStarts.BLOCK * 2 + 5);
  });
});

describe("check's young generation and compilers (bin/homelab.mjs)", () => {
  /**
   * Runs `check` on `copies` copies of the corpus with a probe that reports, as the process ends, the new
   * space's size and whether V8 still optimises a hot function (%GetOptimizationStatus: bit 4, optimised).
   */
  function probe(text: string): { newSpace: number; optimised: boolean } {
    const dir = mkdtempSync(join(tmpdir(), "young-"));
    writeFileSync(join(dir, "x.yaml"), text);
    writeFileSync(
      join(dir, "probe.mjs"),
      [
        'import { getHeapSpaceStatistics } from "node:v8";',
        "process.on(\"exit\", () => {",
        '  const f = new Function("x", "return x * 2 + 1;");',
        '  const status = new Function("f", "%PrepareFunctionForOptimization(f); f(1); f(2); %OptimizeFunctionOnNextCall(f); f(3); return %GetOptimizationStatus(f);")(f);',
        '  process.stderr.write(`new_space=${getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size} status=${status}\\n`);',
        "});",
      ].join("\n"),
    );
    const res = spawnSync(process.execPath, ["--allow-natives-syntax", "--import", join(dir, "probe.mjs"), join(REPO, "bin", "homelab.mjs"), "check", "x.yaml"], { cwd: dir, encoding: "utf8", timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
    rmSync(dir, { recursive: true, force: true });
    assert.equal(res.status, 1, res.stderr); // both inputs have findings
    const m = /new_space=(\d+) status=(\d+)/.exec(res.stderr);
    assert.ok(m, res.stderr);
    return { newSpace: Number(m[1]), optimised: (Number(m[2]) & (1 << 4)) !== 0 };
  }

  const corpus = (copies: number) => Array(copies).fill(gunzipSync(readFileSync(CORPUS)).toString("utf8")).join("---\n");
  /** `n` small Deployments without limits (findings), one `apiVersion` each: about 160 bytes an object. */
  const deployments = (n: number) =>
    Array.from({ length: n }, (_, i) => `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: w${i}, namespace: s}\nspec:\n  selector: {matchLabels: {app: w${i}}}\n  template:\n    metadata: {labels: {app: w${i}}}\n    spec: {containers: [{name: w, image: "w:1"}]}\n`).join("---\n");

  it("on a real input (the corpus, 1.3 MB, 126 objects): the young generation stops at 2 MiB (V8 would double it to 32) and code stays interpreted", () => {
    const { newSpace, optimised } = probe(corpus(1));
    assert.ok(newSpace > 0 && newSpace <= 2 * 1024 * 1024, `new space ${newSpace} bytes`);
    assert.equal(optimised, false);
  });

  it("past 8 MiB of input (7 copies of the corpus, 9.1 MB, 882 objects) V8 optimises hot code again", () => {
    assert.equal(probe(corpus(7)).optimised, true);
  });

  it("so it does past 1000 objects (small Deployments, 0.2 MB), but not at 990", () => {
    assert.equal(probe(deployments(1000)).optimised, true);
    assert.equal(probe(deployments(990)).optimised, false);
  });
});
