/**
 * A sops file must never carry a secret in the clear. Under the project's rule for secrets/
 * (`encrypted_regex: ^(data|stringData)$`) a file that is not a Secret has nothing selected, so sops
 * itself would store every value as typed; set, edit and encrypt refuse and verify fails instead.
 */
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { clearValueProblems, refuseClearValues } from "../../src/secrets/exposure.ts";
import { encrypt, loadSopsFile } from "../../src/secrets/sops.ts";
import { fromPlain, type Branch } from "../../src/secrets/tree.ts";
import { withSopsWorkspace } from "./helpers.ts";

const TOP = "secrets/top.sops.yaml";
const VALUE = "S3cr3t-Value-123";

function assertRefusal(stderr: string): void {
  assert.match(stderr, /refusing to write plaintext; nothing was written/);
  // Which rule, and the two ways out.
  assert.match(stderr, /\.sops\.yaml creation_rules\[0\] \(path_regex \(\^\|\/\)secrets\/\.\+\\\.sops\\\.ya\?ml\$, encrypted_regex \^\(data\|stringData\)\$\)/);
  assert.match(stderr, /under data or stringData of a Kubernetes Secret/);
  assert.match(stderr, /add a rule for this path to \.sops\.yaml/);
  assert.ok(!stderr.includes(VALUE), "the value itself is never printed");
}

/** What real sops writes for `apitoken: …` under the secrets/ rule: every value in the clear, valid MAC. */
async function sopsMadeClearFile(recipient: string, body = `apitoken: ${VALUE}\n`): Promise<string> {
  return encrypt(body, { format: "yaml", recipients: [recipient], rules: { encryptedRegex: "^(data|stringData)$" } });
}

describe("no plaintext in a sops file", () => {
  it("set: the reproduction (secrets/top.sops.yaml apitoken) exits non-zero and writes nothing", async () => {
    await withSopsWorkspace((ws) => {
      const r = ws.run(["set", TOP, "apitoken"], { input: `${VALUE}\n` });
      assert.equal(r.code, 1, r.stderr);
      assertRefusal(r.stderr);
      assert.match(r.stderr, /- apitoken: the value you gave would be stored in plaintext/);
      assert.equal(existsSync(join(ws.dir, TOP)), false);
      // A harmless-looking key is refused too: the value given is what must be encrypted.
      const plainKey = ws.run(["set", TOP, "colour"], { input: "blue\n" });
      assert.equal(plainKey.code, 1, plainKey.stderr);
      assert.match(plainKey.stderr, /- colour: the value you gave would be stored in plaintext/);
      assert.equal(existsSync(join(ws.dir, TOP)), false);
      // The way out the message names works.
      const ok = ws.run(["set", "secrets/top/top.sops.yaml", "apitoken"], { input: `${VALUE}\n` });
      assert.equal(ok.code, 0, ok.stderr);
      assert.ok(!readFileSync(join(ws.dir, "secrets/top/top.sops.yaml"), "utf8").includes(VALUE));
    });
  });

  it("set on an existing clear file (as sops makes it) leaves it byte for byte as it was", async () => {
    await withSopsWorkspace(async (ws) => {
      mkdirSync(join(ws.dir, "secrets"), { recursive: true });
      const p = join(ws.dir, TOP);
      const before = await sopsMadeClearFile(ws.key.recipient, "colour: blue\n");
      writeFileSync(p, before);
      const r = ws.run(["set", TOP, "apitoken"], { input: `${VALUE}\n` });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /the file's own encryption rule \(encrypted_regex \^\(data\|stringData\)\$, fixed when it was created\)/);
      assert.equal(readFileSync(p, "utf8"), before);
    });
  });

  it("edit: an editor that adds a clear top-level key to a Secret is refused and the file is untouched", async () => {
    await withSopsWorkspace((ws) => {
      const secret = "secrets/app/app-db.sops.yaml";
      assert.equal(ws.run(["set", secret, "password"], { input: "pw-1\n" }).code, 0);
      const p = join(ws.dir, secret);
      const before = readFileSync(p, "utf8");
      const editor = join(ws.home, "add-key.sh");
      writeFileSync(editor, `#!/bin/sh\nprintf 'apitoken: ${VALUE}\\n' >> "$1"\n`);
      chmodSync(editor, 0o755);
      const r = ws.run(["edit", secret], { env: { EDITOR: editor } });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /- apitoken: a sensitive-looking value would be stored in plaintext \(literal-password\)/);
      assert.match(r.stderr, /the file's own encryption rule/);
      assert.match(r.stderr, /secrets\/app\/app-db\.sops\.yaml is unchanged/);
      assert.equal(readFileSync(p, "utf8"), before);
      // A new file that is not a Secret: nothing would be encrypted.
      const fresh = ws.run(["edit", TOP], { env: { EDITOR: editor } });
      assert.equal(fresh.code, 1, fresh.stderr);
      assertRefusal(fresh.stderr);
      assert.match(fresh.stderr, /- no value in the file is encrypted/);
      assert.equal(existsSync(join(ws.dir, TOP)), false);
    });
  });

  it("encrypt: a plaintext file that the rule would leave clear stays as it is", async () => {
    await withSopsWorkspace((ws) => {
      mkdirSync(join(ws.dir, "secrets"), { recursive: true });
      const p = join(ws.dir, TOP);
      writeFileSync(p, `apitoken: ${VALUE}\n`);
      const r = ws.run(["encrypt", TOP]);
      assert.equal(r.code, 1, r.stderr);
      assertRefusal(r.stderr);
      assert.match(r.stderr, /- apitoken: a sensitive-looking value would be stored in plaintext/);
      assert.match(r.stderr, /- no value in the file is encrypted/);
      assert.equal(readFileSync(p, "utf8"), `apitoken: ${VALUE}\n`);
      // Under the catch-all rule (every value encrypted) the same content is fine.
      writeFileSync(join(ws.dir, "top.sops.yaml"), `apitoken: ${VALUE}\n`);
      const ok = ws.run(["encrypt", "top.sops.yaml"]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.ok(!readFileSync(join(ws.dir, "top.sops.yaml"), "utf8").includes(VALUE));
    });
  });

  it("verify: a file under a creation rule with nothing encrypted, or a sensitive key in the clear, fails", async () => {
    await withSopsWorkspace(async (ws) => {
      mkdirSync(join(ws.dir, "secrets/app"), { recursive: true });
      writeFileSync(join(ws.dir, TOP), await sopsMadeClearFile(ws.key.recipient));
      const r = ws.run(["verify", TOP]);
      assert.equal(r.code, 1, r.stdout);
      assert.equal(r.stdout, `INVALID ${TOP}\n`);
      assert.match(r.stderr, /plaintext in a sops file:\n {4} {2}- apitoken: a sensitive-looking value/);
      assert.match(r.stderr, /- no value in the file is encrypted/);
      // A Secret whose values are encrypted but with a stray clear token beside them.
      const stray = "secrets/app/app-db.sops.yaml";
      writeFileSync(
        join(ws.dir, stray),
        await sopsMadeClearFile(ws.key.recipient, `apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-db\n  namespace: app\nstringData:\n  password: pw-1\ntoken: ${VALUE}\n`),
      );
      const s = ws.run(["verify", stray]);
      assert.equal(s.code, 1, s.stdout);
      assert.match(s.stderr, /- token: a sensitive-looking value would be stored in plaintext/);
      assert.doesNotMatch(s.stderr, /no value in the file is encrypted/);
    });
  });
});

describe("refuseClearValues / clearValueProblems", () => {
  const doc = (v: unknown) => fromPlain(v) as Branch;
  const rules = { encryptedRegex: "^(data|stringData)$" };

  it("a Secret with its values under stringData passes; names, labels and the type stay readable", () => {
    const secret = doc({ apiVersion: "v1", kind: "Secret", metadata: { name: "tunnel-token", labels: { app: "x" } }, type: "Opaque", stringData: { token: VALUE } });
    assert.doesNotThrow(() => refuseClearValues([secret], rules, { file: "f", given: ["stringData", "token"] }));
  });

  it("the given path must be encrypted even when it looks harmless", () => {
    const secret = doc({ kind: "Secret", metadata: { name: "x" }, stringData: { a: "b" } });
    assert.throws(() => refuseClearValues([secret], rules, { file: "f", given: ["metadata", "name"] }), /metadata\.name: the value you gave/);
  });

  it("on disk: ENC values count as encrypted, clear sensitive ones do not", async () => {
    const text = await encrypt(`kind: Secret\nstringData:\n  a: b\npassword: hunter2hunter2\n`, {
      format: "yaml",
      recipients: ["age1je6kjhzuhdjy3fqptpttxjh5k8q46vygzlgtpuq3030c947pc5tqz9dqvr"],
      rules,
    });
    assert.deepEqual(clearValueProblems(loadSopsFile(text, "yaml").branches), ["password: a sensitive-looking value would be stored in plaintext (literal-password)"]);
  });
});
