/** `homelab secrets …` end to end: spawned like an operator would run it, keys generated per test. */
import assert from "node:assert/strict";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import { encrypt, loadSopsFile } from "../../src/secrets/sops.ts";
import { toPlain, getPath } from "../../src/secrets/tree.ts";
import { EXAMPLE_RECIPIENT } from "../../src/secrets/config.ts";
import { EXAMPLE_KEY_FILE, REPO, isolatedEnv, newKeyFile, secretsCli, secretsCliAsync, tempDir } from "./helpers.ts";

interface Ws {
  readonly dir: string;
  readonly home: string;
  readonly key: Awaited<ReturnType<typeof newKeyFile>>;
  readonly env: NodeJS.ProcessEnv;
  run(args: string[], opts?: { input?: string; env?: Record<string, string> }): ReturnType<typeof secretsCli>;
  cleanup(): void;
}

/** A repo-like directory with a .sops.yaml for a fresh key that lives outside it. */
/** Runs `fn` in a fresh workspace and removes it afterwards, whatever happens. */
async function withWorkspace(fn: (ws: Ws) => Promise<void> | void): Promise<void> {
  const ws = await workspace();
  try {
    await fn(ws);
  } finally {
    ws.cleanup();
  }
}

async function workspace(): Promise<Ws> {
  const repo = tempDir("homelab-secrets-ws-");
  const home = tempDir("homelab-secrets-home-");
  const key = await newKeyFile(home.dir);
  const env = isolatedEnv(home.dir, { SOPS_AGE_KEY_FILE: key.path });
  writeFileSync(
    join(repo.dir, ".sops.yaml"),
    `stores:\n  yaml:\n    indent: 2\ncreation_rules:\n  - path_regex: (^|/)secrets/.+\\.sops\\.ya?ml$\n    encrypted_regex: ^(data|stringData)$\n    age: ${key.recipient}\n  - path_regex: \\.sops\\.(ya?ml|json|env)$\n    age: ${key.recipient}\n`,
  );
  return {
    dir: repo.dir,
    home: home.dir,
    key,
    env,
    run: (args, opts = {}) => secretsCli(args, { cwd: repo.dir, env: { ...env, ...opts.env }, input: opts.input ?? "" }),
    cleanup: () => {
      repo.cleanup();
      home.cleanup();
    },
  };
}

function allFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

function rawValue(path: string, keyPath: string[]): unknown {
  return toPlain(getPath(loadSopsFile(readFileSync(path, "utf8"), "yaml").branches[0]!, keyPath)!);
}

const SECRET = "secrets/ntfy/ntfy-token.sops.yaml";

describe("homelab secrets (CLI)", () => {
  it("set creates secrets/<app>/<name>.sops.yaml from stdin; decrypt prints it; the value is never on disk in clear", async () => {
    await withWorkspace(async (ws) => {
      const r = ws.run(["set", SECRET, "token"], { input: "tk-value-1\n" });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /created secrets\/ntfy\/ntfy-token\.sops\.yaml with stringData\.token/);
      const text = readFileSync(join(ws.dir, SECRET), "utf8");
      assert.ok(!text.includes("tk-value-1"));
      assert.match(text, /^kind: Secret\nmetadata:\n {2}name: ntfy-token\n {2}namespace: ntfy\n/m);
      const before = allFiles(ws.dir);
      const d = ws.run(["decrypt", SECRET]);
      assert.equal(d.code, 0, d.stderr);
      assert.equal(d.stdout, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: ntfy-token\n  namespace: ntfy\ntype: Opaque\nstringData:\n  token: tk-value-1\n");
      assert.deepEqual(allFiles(ws.dir), before);
      // A second key: the first value keeps its ciphertext.
      const tokenCipher = rawValue(join(ws.dir, SECRET), ["stringData", "token"]);
      assert.equal(ws.run(["set", SECRET, "user"], { input: "alice" }).code, 0);
      assert.equal(rawValue(join(ws.dir, SECRET), ["stringData", "token"]), tokenCipher);
      assert.match(ws.run(["decrypt", SECRET]).stdout, /token: tk-value-1\n {2}user: alice\n$/);
    });
  });

  it("set refuses a value on the command line and an empty value", async () => {
    await withWorkspace(async (ws) => {
      const r = ws.run(["set", SECRET, "token", "s3cret"]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /values are never taken from the command line/);
      const e = ws.run(["set", SECRET, "token"], { input: "" });
      assert.equal(e.code, 1);
      assert.match(e.stderr, /no value given for token/);
      assert.equal(existsSync(join(ws.dir, SECRET)), false);
    });
  });

  it("verify: ok, then tampered (exit 51), then the wrong key (exit 128, recipients listed)", async () => {
    await withWorkspace(async (ws) => {
      assert.equal(ws.run(["set", SECRET, "token"], { input: "abc" }).code, 0);
      const ok = ws.run(["verify"]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(ok.stdout, `ok      ${SECRET} (opened with ${ws.key.recipient})\n`);
      const wrong = await newKeyFile(ws.home, "wrong.txt");
      const nokey = ws.run(["verify"], { env: { SOPS_AGE_KEY_FILE: wrong.path } });
      assert.equal(nokey.code, 128);
      assert.match(nokey.stdout, /^NO KEY  secrets\/ntfy\/ntfy-token\.sops\.yaml$/m);
      assert.ok(nokey.stderr.includes(`  - ${ws.key.recipient}`));
      const path = join(ws.dir, SECRET);
      writeFileSync(path, readFileSync(path, "utf8").replace("namespace: ntfy", "namespace: other"));
      const bad = ws.run(["verify"]);
      assert.equal(bad.code, 51);
      assert.match(bad.stdout, /^TAMPERED secrets\/ntfy\/ntfy-token\.sops\.yaml$/m);
      assert.match(bad.stderr, /MAC mismatch/);
      const dec = ws.run(["decrypt", SECRET]);
      assert.equal(dec.code, 51);
      assert.equal(dec.stdout, "");
    });
  });

  it("encrypt works in place with the .sops.yaml rules and refuses to encrypt twice (exit 203)", async () => {
    await withWorkspace(async (ws) => {
      mkdirSync(join(ws.dir, "secrets/app"), { recursive: true });
      const p = join(ws.dir, "secrets/app/app-db.sops.yaml");
      writeFileSync(p, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-db\n  namespace: app\nstringData:\n  password: pw\n");
      const r = ws.run(["encrypt", "secrets/app/app-db.sops.yaml"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(rawValue(p, ["metadata", "name"]), "app-db");
      assert.match(String(rawValue(p, ["stringData", "password"])), /^ENC\[AES256_GCM,/);
      const again = ws.run(["encrypt", "secrets/app/app-db.sops.yaml"]);
      assert.equal(again.code, 203);
      assert.match(again.stderr, /already encrypted/);
    });
  });

  it("edit: the editor's change is re-encrypted, untouched values keep their ciphertext, the temp file is gone", async () => {
    await withWorkspace(async (ws) => {
      assert.equal(ws.run(["set", SECRET, "token"], { input: "old-token" }).code, 0);
      assert.equal(ws.run(["set", SECRET, "user"], { input: "alice" }).code, 0);
      const userCipher = rawValue(join(ws.dir, SECRET), ["stringData", "user"]);
      const marker = join(ws.home, "edited-path");
      const editor = join(ws.home, "editor.sh");
      writeFileSync(editor, `#!/bin/sh\nprintf '%s' "$1" > ${JSON.stringify(marker)}\nsed -i 's/old-token/new-token/' "$1"\n`);
      chmodSync(editor, 0o755);
      const r = ws.run(["edit", SECRET], { env: { EDITOR: editor } });
      assert.equal(r.code, 0, r.stderr);
      assert.match(ws.run(["decrypt", SECRET]).stdout, /token: new-token\n {2}user: alice\n/);
      assert.equal(rawValue(join(ws.dir, SECRET), ["stringData", "user"]), userCipher);
      const tmp = readFileSync(marker, "utf8");
      assert.match(tmp, /homelab-secrets-.*\/ntfy-token\.yaml$/);
      assert.equal(existsSync(tmp), false);
    });
  });

  it("edit: a failing editor or no change leaves the file byte for byte as it was", async () => {
    await withWorkspace(async (ws) => {
      assert.equal(ws.run(["set", SECRET, "token"], { input: "t" }).code, 0);
      const before = readFileSync(join(ws.dir, SECRET), "utf8");
      const fail = ws.run(["edit", SECRET], { env: { EDITOR: "false" } });
      assert.equal(fail.code, 1);
      assert.match(fail.stderr, /editor exited with status 1; secrets\/ntfy\/ntfy-token\.sops\.yaml is unchanged/);
      const same = ws.run(["edit", SECRET], { env: { EDITOR: "true" } });
      // sops: FileHasNotBeenModified, exit 200 (cmd/sops/edit.go, cmd/sops/codes/codes.go).
      assert.equal(same.code, 200);
      assert.match(same.stderr, /no changes/);
      // An EDITOR with a leading variable assignment still runs.
      const assigned = ws.run(["edit", SECRET], { env: { EDITOR: "LC_ALL=C true" } });
      assert.equal(assigned.code, 200, assigned.stderr);
      const broken = ws.run(["edit", SECRET], { env: { EDITOR: `sh -c 'echo "a: [unclosed" > "$1"' sh` } });
      assert.equal(broken.code, 1);
      assert.match(broken.stderr, /invalid YAML/);
      assert.equal(readFileSync(join(ws.dir, SECRET), "utf8"), before);
      assert.deepEqual(allFiles(ws.dir), [".sops.yaml", SECRET]);
    });
  });

  it("edit: SIGTERM while the editor is open shreds the plaintext and exits 143", async () => {
    await withWorkspace(async (ws) => {
      assert.equal(ws.run(["set", SECRET, "token"], { input: "t" }).code, 0);
      const before = readFileSync(join(ws.dir, SECRET), "utf8");
      const marker = join(ws.home, "edited-path");
      const editor = join(ws.home, "editor.sh");
      // Waits until the plaintext disappears, so no editor outlives the test.
      writeFileSync(editor, `#!/bin/sh\nprintf '%s' "$1" > ${JSON.stringify(marker)}.part && mv ${JSON.stringify(marker)}.part ${JSON.stringify(marker)}\nwhile [ -e "$1" ]; do sleep 0.05; done\n`);
      chmodSync(editor, 0o755);
      const child = secretsCliAsync(["edit", SECRET], { cwd: ws.dir, env: { ...ws.env, EDITOR: editor } });
      let tmp = "";
      for (let i = 0; i < 400 && !tmp; i++) {
        await new Promise((r) => setTimeout(r, 50));
        if (existsSync(marker)) tmp = readFileSync(marker, "utf8");
      }
      assert.ok(tmp, "the editor was started");
      assert.match(readFileSync(tmp, "utf8"), /token: t/);
      process.kill(child.pid, "SIGTERM");
      const res = await child.done;
      assert.equal(res.code, 143, res.stderr);
      assert.equal(existsSync(tmp), false);
      assert.equal(readFileSync(join(ws.dir, SECRET), "utf8"), before);
    });
  });

  it("init prints a new identity once, never writes it into the repo, and replaces the example recipient", async (t) => {
    await withWorkspace(async (ws) => {
      copyFileSync(join(REPO, ".sops.yaml"), join(ws.dir, ".sops.yaml"));
      const r = ws.run(["init"]);
      assert.equal(r.code, 0, r.stderr);
      const m = /^# public key: (age1[0-9a-z]+)\n(AGE-SECRET-KEY-1[0-9A-Z]+)\n$/m.exec(r.stdout);
      assert.ok(m, r.stdout);
      const cfg = readFileSync(join(ws.dir, ".sops.yaml"), "utf8");
      assert.equal(cfg.match(new RegExp(m[1]!, "g"))?.length, 2);
      assert.ok(!cfg.includes("age1je6kjhzuhdjy3fqptpttxjh5k8q46vygzlgtpuq3030c947pc5tqz9dqvr\n"));
      assert.match(cfg, /# Kubernetes Secrets: only data\/stringData are encrypted/);
      // The paragraph explaining the example recipient went with it.
      assert.ok(!cfg.includes("EXAMPLE RECIPIENT"), cfg);
      assert.match(cfg, /^# sops creation rules, read by `homelab secrets` and by the sops CLI alike\.\nstores:\n/);
      for (const f of allFiles(ws.dir)) assert.ok(!readFileSync(join(ws.dir, f), "utf8").includes("AGE-SECRET-KEY"), f);
      const again = ws.run(["init"]);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /already lists its own recipients .*pass --add/);
      const inside = ws.run(["init", "--add", "--save-key", "keys.txt"]);
      assert.equal(inside.code, 1);
      assert.match(inside.stderr, /inside this repository; private keys never go into the repo/);
    });
  });

  it("the documented migration works offline: init re-creates the FAKE example for the new key, then set and updatekeys work", async () => {
    await withWorkspace(async (ws) => {
      copyFileSync(join(REPO, ".sops.yaml"), join(ws.dir, ".sops.yaml"));
      mkdirSync(join(ws.dir, "secrets/cloudflared"), { recursive: true });
      const ex = "secrets/cloudflared/cloudflared-credentials.sops.yaml";
      copyFileSync(join(REPO, ex), join(ws.dir, ex));
      const saved = join(ws.home, ".config/sops/age/keys.txt");
      // Only the key init saves: no example key anywhere in the environment.
      const useSaved = { SOPS_AGE_KEY_FILE: "" };
      const init = ws.run(["init", "--save-key", saved], { env: useSaved });
      assert.equal(init.code, 0, init.stderr);
      assert.equal(statSync(saved).mode & 0o777, 0o600);
      const recipient = /# public key: (age1[0-9a-z]+)/.exec(init.stdout)![1]!;
      assert.match(init.stderr, new RegExp(`${ex}: the example \\(FAKE values\\) re-created, encrypted to the new recipient`));
      assert.match(init.stderr, /`homelab build` copies them into gitops\//);
      const file = readFileSync(join(ws.dir, ex), "utf8");
      assert.match(file, new RegExp(`recipient: ${recipient}`));
      assert.ok(!file.includes(EXAMPLE_RECIPIENT), "still encrypted to the example recipient");
      // The new key opens it; the example key no longer does.
      assert.equal(ws.run(["verify"], { env: useSaved }).code, 0);
      assert.equal(ws.run(["verify"], { env: { SOPS_AGE_KEY_FILE: EXAMPLE_KEY_FILE, XDG_CONFIG_HOME: join(ws.home, "elsewhere") } }).code, 128);
      assert.match(ws.run(["decrypt", ex], { env: useSaved }).stdout, /EXAMPLE-PLACEHOLDER-NOT-A-SECRET/);
      // The next steps of docs/secrets.md, with nothing from outside the repository.
      const up = ws.run(["updatekeys"], { env: useSaved });
      assert.equal(up.code, 0, up.stderr);
      assert.match(up.stderr, /recipients already up to date/);
      const set = ws.run(["set", ex, "credentials.json"], { env: useSaved, input: '{"AccountTag":"a","TunnelSecret":"test-only-not-real","TunnelID":"t"}\n' });
      assert.equal(set.code, 0, set.stderr);
      assert.match(ws.run(["decrypt", ex], { env: useSaved }).stdout, /test-only-not-real/);
    });
  });

  it("init leaves a file encrypted to the example key alone when it changed since it was shipped, and says how to move it", async () => {
    await withWorkspace(async (ws) => {
      copyFileSync(join(REPO, ".sops.yaml"), join(ws.dir, ".sops.yaml"));
      mkdirSync(join(ws.dir, "secrets/cloudflared"), { recursive: true });
      const ex = "secrets/cloudflared/cloudflared-credentials.sops.yaml";
      // Same recipients, other bytes: a value someone set while the example key was in place.
      const changed = readFileSync(join(REPO, ex), "utf8").replace(/lastmodified: "[^"]+"/, 'lastmodified: "2026-11-26T10:00:00Z"');
      writeFileSync(join(ws.dir, ex), changed);
      const init = ws.run(["init"]);
      assert.equal(init.code, 0, init.stderr);
      assert.equal(readFileSync(join(ws.dir, ex), "utf8"), changed);
      assert.match(init.stderr, new RegExp(`${ex}: encrypted to the example key only and changed since it was shipped, so left as it is`));
      assert.match(init.stderr, /SOPS_AGE_KEY_FILE=test\/fixtures\/sops\/sops-age\/key\.txt homelab secrets updatekeys/);
    });
  });

  it("verify, updatekeys and rotate take folders like scan does", async () => {
    await withWorkspace(async (ws) => {
      assert.equal(ws.run(["set", SECRET, "token"], { input: "tk-value-1\n" }).code, 0);
      assert.equal(ws.run(["set", "secrets/other/db.sops.yaml", "password"], { input: "pw-value-2\n" }).code, 0);
      const v = ws.run(["verify", "secrets/"]);
      assert.equal(v.code, 0, v.stderr);
      assert.equal(v.stdout.split("\n").filter((l) => l.startsWith("ok ")).length, 2, v.stdout);
      assert.doesNotMatch(v.stderr, /EISDIR/);
      const one = ws.run(["verify", "secrets/ntfy"]);
      assert.equal(one.code, 0, one.stderr);
      assert.match(one.stdout, /^ok {6}secrets\/ntfy\/ntfy-token\.sops\.yaml /);
      assert.equal(ws.run(["rotate", "secrets/other"]).code, 0);
      assert.equal(ws.run(["updatekeys", "secrets"]).code, 0);
      mkdirSync(join(ws.dir, "empty"));
      const empty = ws.run(["verify", "empty"]);
      assert.equal(empty.code, 1);
      assert.match(empty.stderr, /no \*\.sops\.\* files under empty/);
    });
  });

  it("updatekeys adds a recipient from .sops.yaml without re-encrypting values", async () => {
    await withWorkspace(async (ws) => {
      assert.equal(ws.run(["set", SECRET, "token"], { input: "abc" }).code, 0);
      const second = await newKeyFile(ws.home, "second.txt");
      const cfg = join(ws.dir, ".sops.yaml");
      writeFileSync(cfg, readFileSync(cfg, "utf8").replaceAll(`age: ${ws.key.recipient}`, `age: ${ws.key.recipient},${second.recipient}`));
      const before = rawValue(join(ws.dir, SECRET), ["stringData", "token"]);
      const r = ws.run(["updatekeys"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`\\+${second.recipient}`));
      assert.equal(rawValue(join(ws.dir, SECRET), ["stringData", "token"]), before);
      assert.equal(ws.run(["decrypt", SECRET], { env: { SOPS_AGE_KEY_FILE: second.path } }).code, 0);
      assert.match(ws.run(["updatekeys"]).stderr, /recipients already up to date/);
    });
  });

  it("scan: a plaintext Secret fails with file, line and rule; a reasoned waiver passes it", async () => {
    await withWorkspace(async (ws) => {
      mkdirSync(join(ws.dir, "gitops/app"), { recursive: true });
      writeFileSync(join(ws.dir, "gitops/app/secret.yaml"), "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  password: hunter2\n");
      const r = ws.run(["scan"]);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, "gitops/app/secret.yaml:6: Secret stringData.password is not encrypted; keep Secrets in secrets/<app>/<name>.sops.yaml, encrypted (`homelab secrets set` creates one, `homelab secrets encrypt` encrypts an existing file) [plaintext-secret-object]\n");
      mkdirSync(join(ws.dir, "secrets"), { recursive: true });
      writeFileSync(join(ws.dir, "secrets/scan-waivers.yaml"), "waivers:\n  - rule: plaintext-secret-object\n    path: gitops/app/secret.yaml\n    reason: throw-away fixture Secret used by this test only\n");
      const w = ws.run(["scan"]);
      assert.equal(w.code, 0, w.stdout);
      assert.match(w.stderr, /waived {2}gitops\/app\/secret\.yaml:6: .* — throw-away fixture Secret used by this test only/);
      writeFileSync(join(ws.dir, "secrets/scan-waivers.yaml"), "waivers:\n  - rule: plaintext-secret-object\n    path: gitops/app/secret.yaml\n");
      const noReason = ws.run(["scan"]);
      assert.equal(noReason.code, 1);
      assert.match(noReason.stderr, /a reason of at least a few words is required/);
      assert.equal(ws.run(["scan", "--no-waivers", "secrets"]).code, 0);
    });
  });

  it("init: an unusable --save-key is a plain error and changes nothing; no recipient without its key", async (t) => {
    await withWorkspace(async (ws) => {
      copyFileSync(join(REPO, ".sops.yaml"), join(ws.dir, ".sops.yaml"));
      const before = readFileSync(join(ws.dir, ".sops.yaml"), "utf8");
      const afile = join(ws.home, "afile");
      writeFileSync(afile, "");
      const r = ws.run(["init", "--save-key", join(afile, "keys.txt")]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^homelab secrets: --save-key .*\/afile\/keys\.txt: cannot write the key file \((EEXIST|ENOTDIR)\); nothing was changed, \.sops\.yaml included\n$/);
      assert.equal(r.stdout, "");
      assert.equal(readFileSync(join(ws.dir, ".sops.yaml"), "utf8"), before);
      // Nothing half-done: init still works afterwards.
      const again = ws.run(["init", "--save-key", join(ws.home, "keys.txt")]);
      assert.equal(again.code, 0, again.stderr);
      const recipient = /# public key: (age1[0-9a-z]+)/.exec(again.stdout)![1]!;
      assert.ok(readFileSync(join(ws.home, "keys.txt"), "utf8").includes(recipient));
      assert.ok(readFileSync(join(ws.dir, ".sops.yaml"), "utf8").includes(recipient));
    });
  });

  it("init: --save-key inside the repository is refused from a subdirectory too (.sops.yaml dir, else git top level)", async (t) => {
    await withWorkspace(async (ws) => {
      copyFileSync(join(REPO, ".sops.yaml"), join(ws.dir, ".sops.yaml"));
      const before = readFileSync(join(ws.dir, ".sops.yaml"), "utf8");
      mkdirSync(join(ws.dir, "secrets"));
      const sub = secretsCli(["init", "--save-key", "../keys.txt"], { cwd: join(ws.dir, "secrets"), env: ws.env });
      assert.equal(sub.code, 1);
      assert.match(sub.stderr, /inside this repository; private keys never go into the repo/);
      assert.equal(sub.stdout, "");
      assert.equal(existsSync(join(ws.dir, "keys.txt")), false);
      assert.equal(readFileSync(join(ws.dir, ".sops.yaml"), "utf8"), before);
      // Without a .sops.yaml yet, the git top level marks the repository.
      rmSync(join(ws.dir, ".sops.yaml"));
      mkdirSync(join(ws.dir, ".git"));
      const git = secretsCli(["init", "--save-key", "../keys.txt"], { cwd: join(ws.dir, "secrets"), env: ws.env });
      assert.equal(git.code, 1);
      assert.match(git.stderr, /inside this repository/);
      assert.deepEqual(allFiles(ws.dir), []);
    });
  });

  it("set: data values must be base64 and Secret keys valid; nothing is written otherwise", async () => {
    await withWorkspace(async (ws) => {
      const b64 = ws.run(["set", SECRET, "data.token"], { input: "not base64 !!" });
      assert.equal(b64.code, 1);
      assert.match(b64.stderr, /data\.token: data values must be base64 \(Kubernetes decodes them\); to store the text as it is, set stringData\.token/);
      const key = ws.run(["set", SECRET, "bad key/with slash"], { input: "x" });
      assert.equal(key.code, 1);
      assert.match(key.stderr, /"bad key\/with slash" is not a valid Secret key: it may contain only letters, digits, '-', '_' and '\.'/);
      assert.equal(existsSync(join(ws.dir, SECRET)), false);
      assert.equal(ws.run(["set", SECRET, "data.token"], { input: Buffer.from("tok").toString("base64") }).code, 0);
      assert.match(ws.run(["decrypt", SECRET]).stdout, /^data:\n {2}token: dG9r\n/m);
      // Setting the same key as text moves it to stringData instead of leaving two values.
      assert.equal(ws.run(["set", SECRET, "token"], { input: "tok2" }).code, 0);
      assert.match(ws.run(["decrypt", SECRET]).stdout, /stringData:\n {2}token: tok2\n$/);
      assert.doesNotMatch(ws.run(["decrypt", SECRET]).stdout, /dG9r/);
    });
  });

  it("edit: an invalid Secret (data not base64) is refused and the file stays as it was", async () => {
    await withWorkspace(async (ws) => {
      assert.equal(ws.run(["set", SECRET, "token"], { input: "t" }).code, 0);
      const before = readFileSync(join(ws.dir, SECRET), "utf8");
      const r = ws.run(["edit", SECRET], { env: { EDITOR: `sh -c 'printf "data:\\n  k: not base64 !!\\n" >> "$1"' sh` } });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /not a valid Kubernetes Secret.*\n {2}- data\.k: data values must be base64/);
      assert.equal(readFileSync(join(ws.dir, SECRET), "utf8"), before);
    });
  });

  it("edit: Ctrl-C (SIGINT) while the editor is open goes to the editor; the edit is saved", async () => {
    await withWorkspace(async (ws) => {
      assert.equal(ws.run(["set", SECRET, "token"], { input: "old" }).code, 0);
      const marker = join(ws.home, "edited-path");
      const go = join(ws.home, "go");
      const editor = join(ws.home, "editor.sh");
      writeFileSync(
        editor,
        `#!/bin/sh\nprintf '%s' "$1" > ${JSON.stringify(marker)}.part && mv ${JSON.stringify(marker)}.part ${JSON.stringify(marker)}\n` +
          // Also stops once the plaintext is gone, so no editor outlives a failing run.
          `while [ ! -e ${JSON.stringify(go)} ] && [ -e "$1" ]; do sleep 0.05; done\nsed -i 's/token: old/token: new/' "$1"\n`,
      );
      chmodSync(editor, 0o755);
      const child = secretsCliAsync(["edit", SECRET], { cwd: ws.dir, env: { ...ws.env, EDITOR: editor } });
      let tmp = "";
      for (let i = 0; i < 400 && !tmp; i++) {
        await new Promise((r) => setTimeout(r, 50));
        if (existsSync(marker)) tmp = readFileSync(marker, "utf8");
      }
      assert.ok(tmp, "the editor was started");
      process.kill(child.pid, "SIGINT");
      process.kill(child.pid, "SIGQUIT");
      writeFileSync(go, "");
      const res = await child.done;
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stderr, /saved/);
      assert.match(ws.run(["decrypt", SECRET]).stdout, /token: new\n/);
      assert.equal(existsSync(tmp), false);
    });
  });

  it("verify: plaintext where the .sops.yaml rule requires ciphertext fails even with a valid MAC; rotate fixes it", async () => {
    await withWorkspace(async (ws) => {
      mkdirSync(join(ws.dir, "secrets/app"), { recursive: true });
      const p = join(ws.dir, "secrets/app/app-db.sops.yaml");
      // Encrypted under loosened rules: the MAC covers the plaintext, and is valid.
      writeFileSync(
        p,
        await encrypt("apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-db\n  namespace: app\nstringData:\n  password: pw-in-clear\n", {
          format: "yaml",
          recipients: [ws.key.recipient],
          rules: { encryptedRegex: "^(nothing)$" },
        }),
      );
      const r = ws.run(["verify"]);
      assert.equal(r.code, 1, r.stdout);
      assert.equal(r.stdout, "INVALID secrets/app/app-db.sops.yaml\n");
      assert.match(r.stderr, /the \.sops\.yaml rule for this path requires encrypted values, but the file has plaintext:\n {4} {2}- stringData\.password holds plaintext where an encrypted value is required/);
      assert.match(r.stderr, /homelab secrets rotate secrets\/app\/app-db\.sops\.yaml/);
      const rot = ws.run(["rotate", "secrets/app/app-db.sops.yaml"]);
      assert.equal(rot.code, 0, rot.stderr);
      assert.match(String(rawValue(p, ["stringData", "password"])), /^ENC\[AES256_GCM,/);
      assert.equal(rawValue(p, ["metadata", "name"]), "app-db");
      assert.equal(ws.run(["verify"]).code, 0);
    });
  });

  it("verify on the repository itself: secrets/ and their gitops/ copies open with the example key, under the secrets/ rule", async (t) => {
    const home = tempDir();
    try {
      const r = secretsCli(["verify"], { cwd: REPO, env: isolatedEnv(home.dir, { SOPS_AGE_KEY_FILE: EXAMPLE_KEY_FILE }) });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      // Every encrypted file of the repository, then the gitops/ copies; each one verifies.
      const lines = r.stdout.split("\n").filter(Boolean).map((l) => l.split(" (")[0]!);
      for (const l of lines) assert.match(l, /^ok {6}(secrets|gitops)\//);
      for (const f of [
        "secrets/cloudflared/cloudflared-credentials.sops.yaml",
        "secrets/monitoring/grafana-admin.sops.yaml",
        "secrets/monitoring/ntfy.sops.yaml",
        "gitops/cloudflared/cloudflared-credentials.sops.yaml",
        "gitops/monitoring/grafana-admin.sops.yaml",
        "gitops/monitoring/ntfy.sops.yaml",
      ])
        assert.ok(lines.includes(`ok      ${f}`), `${f} missing from:\n${lines.join("\n")}`);
      const firstCopy = lines.findIndex((l) => l.includes(" gitops/"));
      assert.ok(firstCopy > 0 && lines.slice(firstCopy).every((l) => l.includes(" gitops/")), "secrets/ first, then their gitops/ copies");
    } finally {
      home.cleanup();
    }
  });

  it("default paths come from the repository root, not the current directory", async () => {
    await withWorkspace(async (ws) => {
      assert.equal(ws.run(["set", SECRET, "token"], { input: "abc" }).code, 0);
      mkdirSync(join(ws.dir, "gitops/app"), { recursive: true });
      writeFileSync(join(ws.dir, "gitops/app/secret.yaml"), "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  password: hunter2\n");
      const inSecrets = { cwd: join(ws.dir, "secrets"), env: ws.env };
      const scan = secretsCli(["scan"], inSecrets);
      assert.equal(scan.code, 1);
      assert.equal(scan.stdout, "gitops/app/secret.yaml:6: Secret stringData.password is not encrypted; keep Secrets in secrets/<app>/<name>.sops.yaml, encrypted (`homelab secrets set` creates one, `homelab secrets encrypt` encrypts an existing file) [plaintext-secret-object]\n");
      assert.match(scan.stderr, new RegExp(`scanned 2 file\\(s\\) under ${ws.dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: 1 finding`));
      // Named paths are relative to the current directory; a missing one is an error, not "0 files".
      assert.equal(secretsCli(["scan", "ntfy"], inSecrets).code, 0);
      const missing = secretsCli(["scan", "nope"], inSecrets);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /nope: no such file or directory/);
      const verify = secretsCli(["verify"], inSecrets);
      assert.equal(verify.code, 0, verify.stderr);
      assert.equal(verify.stdout, `ok      ${SECRET} (opened with ${ws.key.recipient})\n`);
    });
  });

  it("decrypt on a file that is not a sops file says so", async () => {
    await withWorkspace(async (ws) => {
      writeFileSync(join(ws.dir, "README.md"), "# Notes\n\nnothing encrypted here\n");
      const r = ws.run(["decrypt", "README.md"]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^homelab secrets: README\.md: not a sops file: no sops metadata/);
      assert.doesNotMatch(r.stderr, /invalid JSON/);
    });
  });

  it("help and usage errors", async () => {
    await withWorkspace(async (ws) => {
      const h = ws.run(["help", "set"]);
      assert.equal(h.code, 0);
      assert.match(h.stdout, /^Usage: homelab secrets set <file> <key>/);
      assert.match(h.stdout, /never from the command line/);
      const full = ws.run(["--help"]);
      assert.equal(full.code, 0);
      for (const s of ["init", "set", "edit", "decrypt", "encrypt", "updatekeys", "rotate", "verify", "scan"]) assert.match(full.stdout, new RegExp(`^  ${s}\\b`, "m"));
      assert.equal(ws.run(["bogus"]).code, 2);
      assert.equal(ws.run(["decrypt", SECRET, "--bogus"]).code, 2);
      // Wrong usage is exit 2 with the synopsis, for every subcommand.
      for (const args of [["decrypt"], ["decrypt", SECRET, SECRET], ["set", "x"], ["set"], ["edit"], ["encrypt", "a", "b"], ["init", "extra"], ["init", "--save-key"]]) {
        const r = ws.run(args);
        assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
        assert.match(r.stderr, new RegExp(`\nUsage: homelab secrets ${args[0]} `), args.join(" "));
      }
    });
  });
});
