/**
 * The secret scanner on parsed objects (`scanObject`) finds exactly what the scan of their
 * pretty-printed JSON text finds, at the same field paths, in the same order, with the same waivers:
 * it only skips printing and parsing the object again.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { loadManifests } from "../../src/policy/index.ts";
import { pathFinder } from "../../src/policy/lib/yaml-path.ts";
import { scanFiles, scanObject, type Waiver } from "../../src/secrets/scan.ts";
import { FIXTURES, REPO } from "../helpers.ts";
import { plan } from "../platform/render-helpers.ts";

function viaText(file: string, value: unknown, waivers: readonly Waiver[] = []) {
  const text = JSON.stringify(value, null, 2);
  const pathAt = pathFinder(text);
  return scanFiles([{ path: file, content: text }], waivers).map((f) => ({ file: f.file, path: pathAt(f.line) ?? "/", rule: f.rule, message: f.message }));
}

function same(file: string, value: unknown, waivers: readonly Waiver[] = []): void {
  const walked = scanObject(file, value, waivers);
  assert.ok(walked, "walked");
  assert.deepEqual(walked, viaText(file, value, waivers), JSON.stringify(value).slice(0, 400));
}

const KEYS = ["TunnelSecret", "password", "DB_PASSWORD", "token", "apiKey", "secretKey", "client_secret", "name", "value", "data", "stringData", "kind", "apiVersion", "args", "command", "config.yaml", "description", "url", "TS_KUBE_SECRET", "auth", "x"];
const VALUES = [
  "hunter2", "supersecretpassword", "replace-me", "", "v1", "Secret", "--password", "-p", "s3cr3t-Zq9vXk2LmP8rT4wY", "ghp_" + "a".repeat(36), "AKIAABCDEFGHIJKLMNOP",
  "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "postgres://app:Pa55word-x@db:5432/app", "password=hunter2\nuser=admin",
  "a: b\ntoken: 9f8e7d6c5b4a39281706f5e4d3c2b1a0", "op://vault/item/field",
  // Token rules read the printed line: escapes next to a token (a tab before `k_…` prints as `\tk_…`, a
  // control character before `eyJ` as `\u001eyJ`), a URL whose password follows an escaped newline, a
  // token after a newline, and TunnelSecret's match running from the key into the value.
  "\tk_" + "a1".repeat(15).slice(0, 29), "x\u001eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
  "redis://u\nx:Pa55word-x@db", "see https://example.com/a@b", "\nghp_" + "b".repeat(36), "tk_" + "z9".repeat(15).slice(0, 29), "ZmFrZS10dW5uZWwtc2VjcmV0LWZvci10ZXN0cw==",
  // Embedded text is read line by line: CRLF and lone CR line ends, hints twice on a line, one late in a long text.
  "user: x\r\npassword: hunter2\r\n", "a=b\rsecret=s3cr3t-Zq9vXk2LmP8rT4wY", "token=abc key=Zq9vXk2LmP8rT4wYs3cr3t\r", "secretName: db\r\nx: 1\npassword: hunter2\rpassword=hunter3\r\n", "\r\n\n--token s3cr3t-Zq9vXk2LmP8rT4wY\nauth=basic",
  Array.from({ length: 300 }, (_, i) => `  "panel${i}": {"title": "p", "expr": "rate(x[5m])"},`).join("\n") + '\n  "apiKey": "s3cr3t-Zq9vXk2LmP8rT4wY"\n', "${DB_PASSWORD}", "ENC[AES256_GCM,data:abc,iv:def,tag:ghi,type:str]", "-----BEGIN PRIVATE KEY-----\n" + "A".repeat(64) + "\n-----END PRIVATE KEY-----",
];

const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: "small", withCrossShrink: true }, tie("leaf"), tie("map"), tie("list")),
  leaf: fc.oneof(fc.constantFrom(...VALUES), fc.integer(), fc.boolean(), fc.constant(null), fc.string({ maxLength: 12 })),
  map: fc.dictionary(fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 6 })), tie("node"), { maxKeys: 5 }),
  list: fc.array(tie("node"), { maxLength: 4 }),
})).node;

describe("scanObject", () => {
  it("agrees with the text scan on every policy fixture and the rendered default tree", () => {
    const loaded = loadManifests([join(REPO, "test", "policy", "fixtures")], { keepGoing: true });
    const objects = [...loaded.objects, ...plan().objects];
    assert.ok(objects.length > 500, `${objects.length} objects`);
    let findings = 0;
    for (const lo of objects) {
      const walked = scanObject(lo.file, lo.object);
      if (!walked) continue;
      findings += walked.length;
      assert.deepEqual(walked, viaText(lo.file, lo.object), `${lo.file} ${lo.object.kind}/${lo.object.metadata?.name}`);
    }
    // The fixtures hold true positives: a walk that found nothing would agree with nothing.
    assert.ok(findings >= 10, `${findings} findings`);
  });

  it("agrees with the text scan on generated objects (secret-like keys and values, Secrets, name/value pairs, flags)", () => {
    fc.assert(
      fc.property(value, fc.boolean(), (v, asSecret) => {
        const obj = asSecret ? { apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, data: v, stringData: { x: v } } : { apiVersion: "v1", kind: "ConfigMap", data: v };
        same("gen.yaml", obj);
        same("gen.yaml", [v, "--password", v]);
      }),
      { numRuns: 400 },
    );
  });

  it("reads a rule's text in the key itself, on a scalar's line and on a map's or list's opening line", () => {
    const token = "ghp_" + "a".repeat(36);
    const tunnel = "ZmFrZS10dW5uZWwtc2VjcmV0LWZvci10ZXN0cw==";
    const cases: unknown[] = [
      { apiVersion: "v1", kind: "ConfigMap", data: { TunnelSecret: tunnel } },
      { apiVersion: "v1", kind: "ConfigMap", data: { [token]: "x" } },
      { apiVersion: "v1", kind: "ConfigMap", data: { [token]: { a: 1 } } },
      { apiVersion: "v1", kind: "ConfigMap", data: { [token]: [1, 2] } },
      { apiVersion: "v1", kind: "ConfigMap", data: { AKIAABCDEFGHIJKLMNOP: {} } },
    ];
    for (const obj of cases) {
      same("keys.yaml", obj);
      assert.ok(scanObject("keys.yaml", obj)!.length > 0, JSON.stringify(obj));
    }
  });

  it("applies waivers to the same text", () => {
    const obj = { kind: "ConfigMap", apiVersion: "v1", data: { DB_PASSWORD: "hunter2", token: "s3cr3t-Zq9vXk2LmP8rT4wY" } };
    const waivers: Waiver[] = [{ rule: "literal-password", path: "*.yaml", match: '"DB_PASSWORD": "hunter2"', reason: "a documented example value" }];
    same("w.yaml", obj, waivers);
    assert.deepEqual(scanObject("w.yaml", obj, waivers)!.map((f) => f.path), ["/data/token"]);
  });

  it("leaves objects with a sops block and kustomizations to the file scan", () => {
    assert.equal(scanObject("a.yaml", { kind: "Secret", sops: { version: "3.9.0" } }), undefined);
    assert.equal(scanObject("x/kustomization.yaml", { resources: ["a.sops.yaml"] }), undefined);
    assert.ok(FIXTURES);
  });
});
