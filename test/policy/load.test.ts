import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadFiles, loadManifests, ManifestLoadError, parseManifests } from "../../src/policy/index.ts";

const DIR = join(import.meta.dirname, "fixtures", "load");

describe("loadManifests", () => {
  it("walks folders in name order, reads multi-document files, Lists and JSON, and skips hidden folders", () => {
    const r = loadManifests(["tree"], { cwd: DIR });
    assert.deepEqual(
      r.objects.map((o) => [o.file, o.document, o.item ?? null, o.object.kind, o.object.metadata.name ?? null]),
      [
        ["tree/app/all.yaml", 1, null, "ConfigMap", "one"],
        ["tree/app/all.yaml", 4, 0, "ConfigMap", "two"],
        ["tree/app/all.yaml", 4, 1, "ConfigMap", "three"],
        ["tree/nested/b.yml", 1, null, "Job", null],
        ["tree/nested/deeper/object.json", 1, null, "ServiceAccount", "from-json"],
      ],
    );
    // Passed over: the empty document, the comment-only one, the Kustomization and values.yaml's
    // document; values.yaml is kept for the secret scan.
    assert.equal(r.skippedDocuments, 4);
    assert.deepEqual(r.otherFiles.map((f) => f.path), ["tree/app/values.yaml"]);
  });

  it("remembers Helm's # Source: comment", () => {
    const r = loadManifests(["tree/nested/b.yml"], { cwd: DIR });
    assert.equal(r.objects[0]!.source, "demo/templates/job.yaml");
    assert.equal(loadManifests(["tree/app/all.yaml"], { cwd: DIR }).objects[0]!.source, undefined);
  });

  it("reads standard input for '-'", () => {
    const r = loadManifests(["-"], { cwd: DIR, stdin: "apiVersion: v1\nkind: Namespace\nmetadata: {name: piped}\n" });
    assert.deepEqual(r.objects.map((o) => [o.file, o.object.metadata.name]), [["<stdin>", "piped"]]);
  });

  it("tells onRead the size and text of each file it reads, in reading order", () => {
    const seen: [number, string][] = [];
    const piped = "apiVersion: v1\nkind: Namespace\nmetadata: {name: é}\n";
    const r = loadManifests(["tree/nested", "-"], { cwd: DIR, stdin: piped, onRead: (n, text) => seen.push([n, text]) });
    assert.equal(r.objects.length, 3);
    const files = ["tree/nested/b.yml", "tree/nested/deeper/object.json"].map((f) => [statSync(join(DIR, f)).size, readFileSync(join(DIR, f), "utf8")] as [number, string]);
    assert.deepEqual(seen, [...files, [52, piped]]); // bytes, not characters: é is two
  });

  it("loads a file named twice (directly and through its folder) once", () => {
    const r = loadManifests(["tree/nested", "tree/nested/b.yml"], { cwd: DIR });
    assert.equal(r.objects.length, 2);
  });

  it("reports every problem at once, with file, document and line, and returns nothing", () => {
    let err: unknown;
    try {
      loadManifests(["broken-syntax.yaml", "broken-objects.yaml", "missing.yaml", "tree"], { cwd: DIR });
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof ManifestLoadError);
    assert.deepEqual(
      err.problems.map((p) => [p.file, p.document ?? null, p.line ?? null]),
      [
        ["missing.yaml", null, null],
        ["broken-syntax.yaml", 2, 9],
        ["broken-syntax.yaml", 3, 12],
        ["broken-objects.yaml", 2, 5],
      ],
    );
    assert.deepEqual(
      err.problems.filter((p) => p.file === "broken-objects.yaml").map((p) => p.message),
      ["item 1 of the List is not a Kubernetes object (needs apiVersion and kind)"],
    );
    assert.equal(err.problems[0]!.message, "no such file or folder");
    assert.match(err.message, /^could not load the manifests \(4 problems\):\n {2}- missing\.yaml: no such file or folder\n {2}- broken-syntax\.yaml \(document 2, line 9\): /);
    assert.equal(err.exitCode, 1);
  });
});

describe("objects with broken metadata", () => {
  it("are loaded with the broken fields left out and the problem noted, and the rest of the file is read", () => {
    const r = parseManifests(readFileSync(join(DIR, "broken-objects.yaml"), "utf8"), "broken-objects.yaml");
    assert.deepEqual(
      r.objects.map((o) => [o.document, o.item ?? null, o.object.kind, o.object.metadata.name ?? null, o.object.metadata.labels ?? null, o.metadataProblem ?? null]),
      [
        [1, null, "ConfigMap", null, null, "ConfigMap has no metadata"],
        [2, 0, "ConfigMap", "fine", null, null],
        [2, 2, "Secret", "s", null, "Secret s has metadata.labels that is not a map"],
      ],
    );
    assert.deepEqual(r.problems.map((p) => p.message), ["item 1 of the List is not a Kubernetes object (needs apiVersion and kind)"]);
  });
});

describe("parseManifests", () => {
  it("skips scalars and maps without apiVersion/kind", () => {
    const r = parseManifests("just text\n---\nfoo: bar\n---\n[1, 2]\n", "x.yaml");
    assert.deepEqual([r.objects.length, r.skipped, r.problems.length], [0, 3, 0]);
  });

  it("honours merge keys, as kubectl does", () => {
    const text = [
      "apiVersion: v1",
      "kind: Pod",
      "metadata: {name: p, namespace: demo}",
      "spec:",
      "  containers:",
      "    - &base {name: a, image: 'x:1'}",
      "    - <<: *base",
      "      name: b",
      "      securityContext:",
      "        <<: {privileged: true, capabilities: {add: [SYS_ADMIN]}}",
      "",
    ].join("\n");
    const r = parseManifests(text, "x.yaml");
    assert.deepEqual(r.problems, []);
    assert.deepEqual((r.objects[0]!.object.spec as { containers: unknown[] }).containers, [
      { name: "a", image: "x:1" },
      { name: "b", image: "x:1", securityContext: { privileged: true, capabilities: { add: ["SYS_ADMIN"] } } },
    ]);
  });

  it("reads YAML 1.1 booleans as kubectl does and records where they are; dates and 1:30 stay strings", () => {
    const text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: d, labels: {a/b: yes}}\ndata: {x: on, w: 'on', z: True, t: 2024-01-01, s: 1:30, n: 1}\n";
    const r = parseManifests(text, "x.yaml");
    const o = r.objects[0]!;
    assert.deepEqual(o.object.data, { x: true, w: "on", z: true, t: "2024-01-01", s: "1:30", false: 1 });
    assert.deepEqual(o.yaml11Booleans, [
      { path: "/metadata/labels/a~1b", text: "yes", value: true },
      { path: "/data/x", text: "on", value: true },
      { path: "/data/false", text: "n", value: false },
    ]);
    assert.equal(parseManifests("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n", "x.yaml").objects[0]!.yaml11Booleans, undefined);
  });

  it("treats SOPS-encrypted documents as an encrypted file, not as objects", () => {
    const text = [
      "apiVersion: v1",
      "kind: ConfigMap",
      "metadata: {name: plain, namespace: d}",
      "---",
      "apiVersion: v1",
      "kind: Secret",
      "metadata: {name: s, namespace: d}",
      "data: {token: 'ENC[AES256_GCM,data:abc,iv:abc,tag:abc,type:str]'}",
      "sops: {lastmodified: '2026-01-01T00:00:00Z', mac: 'ENC[AES256_GCM,data:abc,iv:abc,tag:abc,type:str]'}",
      "",
    ].join("\n");
    const r = parseManifests(text, "x.yaml");
    assert.deepEqual(r.objects.map((o) => o.object.metadata.name), ["plain"]);
    assert.equal(r.skipped, 1);
    // Only the encrypted document is left, on its own lines.
    assert.deepEqual(r.encrypted!.split("\n"), ["", "", "", ...text.split("\n").slice(3)]);
  });
});

describe("loadManifests and SOPS files", () => {
  it("hands an encrypted Secret to the secret scan as a file, like the build does", () => {
    const text = "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: d}\nstringData: {a: 'ENC[AES256_GCM,data:abc,iv:abc,tag:abc,type:str]'}\nsops: {mac: x}\n";
    const r = loadManifests(["-"], { stdin: text });
    assert.deepEqual(r.objects, []);
    assert.deepEqual(r.otherFiles, [{ path: "<stdin>", content: text }]);
  });
});

describe("loadFiles", () => {
  it("lists every file under a folder except hidden ones, and nothing for a missing folder", () => {
    assert.deepEqual(
      loadFiles("tree/app", { cwd: DIR }).map((f) => f.path),
      ["tree/app/all.yaml", "tree/app/notes.txt", "tree/app/values.yaml"],
    );
    assert.deepEqual(loadFiles("no-such-dir", { cwd: DIR }), []);
  });
});
