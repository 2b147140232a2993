/** Tampering is detected as "MAC mismatch" (exit 51, or 25 when a value itself does not decrypt, as sops); a wrong or missing key names the expected recipients (exit 128). */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { MacMismatchError, NoMatchingKeyError, SECRETS_EXIT, SopsFormatError } from "../../src/secrets/errors.ts";
import { loadKeyRing, parseIdentities, sopsKeysPath } from "../../src/secrets/keys.ts";
import { encrypt, verify, keyRingOf } from "../../src/secrets/sops.ts";
import { SOPS_FIXTURES, fixtureKeys, newKeyFile, tempDir } from "./helpers.ts";
import { UserError } from "../../src/errors.ts";

const SECRET_YAML = `apiVersion: v1
kind: Secret
metadata:
  name: demo
  namespace: demo
stringData:
  password: correct horse battery staple
  token: abc123
`;

async function ownFile(): Promise<{ text: string; keys: Awaited<ReturnType<typeof newKeyFile>>["keys"]; cleanup: () => void }> {
  const { dir, cleanup } = tempDir();
  const k = await newKeyFile(dir);
  const text = await encrypt(SECRET_YAML, { format: "yaml", recipients: [k.recipient], rules: { encryptedRegex: "^(data|stringData)$" } });
  return { text, keys: k.keys, cleanup };
}

function flipBase64(s: string): string {
  const c = s[0]!;
  return (c === "A" ? "B" : "A") + s.slice(1);
}

/** Changes the first character of the `data:` field of the value on the line that matches. */
function tamperValue(text: string, line: RegExp): string {
  return text
    .split("\n")
    .map((l) => (line.test(l) ? l.replace(/data:([A-Za-z0-9+/=]+)/, (_, d: string) => `data:${flipBase64(d)}`) : l))
    .join("\n");
}

async function assertMacMismatch(p: Promise<unknown>, detail: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof MacMismatchError, `expected MacMismatchError, got ${String(e)}`);
    // A value that does not decrypt stops sops before the MAC, with exit 25 (common.go DecryptTree).
    const valueFails = /value at .* does not authenticate|is not a valid encrypted value/.test(detail.source);
    assert.equal(e.exitCode, valueFails ? SECRETS_EXIT.decryptValue : SECRETS_EXIT.macMismatch);
    assert.equal(e.exitCode, valueFails ? 25 : 51);
    assert.match(e.message, /MAC mismatch/);
    assert.match(e.message, detail);
    return true;
  });
}

describe("tamper detection", () => {
  it("an intact file verifies", async () => {
    const f = await ownFile();
    try {
      await verify(f.text, "yaml", f.keys, "demo.sops.yaml");
    } finally {
      f.cleanup();
    }
  });

  it("a changed encrypted value", async () => {
    const f = await ownFile();
    try {
      await assertMacMismatch(verify(tamperValue(f.text, /^\s+token: ENC/), "yaml", f.keys), /value at stringData\.token does not authenticate/);
    } finally {
      f.cleanup();
    }
  });

  it("a renamed key above an encrypted value", async () => {
    const f = await ownFile();
    try {
      await assertMacMismatch(verify(f.text.replace(/^(\s+)token: ENC/m, "$1tokens: ENC"), "yaml", f.keys), /value at stringData\.tokens does not authenticate/);
    } finally {
      f.cleanup();
    }
  });

  it("a changed readable value (metadata.name is in the MAC)", async () => {
    const f = await ownFile();
    try {
      await assertMacMismatch(verify(f.text.replace("name: demo", "name: other"), "yaml", f.keys), /content does not match the stored MAC/);
    } finally {
      f.cleanup();
    }
  });

  it("a changed lastmodified", async () => {
    const f = await ownFile();
    try {
      const t = f.text.replace(/lastmodified: "(\d{4})/, (_, y: string) => `lastmodified: "${Number(y) - 1}`);
      assert.notEqual(t, f.text);
      await assertMacMismatch(verify(t, "yaml", f.keys), /sops\.mac or sops\.lastmodified was changed/);
    } finally {
      f.cleanup();
    }
  });

  it("a changed MAC", async () => {
    const f = await ownFile();
    try {
      await assertMacMismatch(verify(tamperValue(f.text, /^\s+mac: ENC/), "yaml", f.keys), /stored MAC does not authenticate/);
    } finally {
      f.cleanup();
    }
  });

  it("an encrypted value replaced by plaintext", async () => {
    const f = await ownFile();
    try {
      await assertMacMismatch(verify(f.text.replace(/^(\s+)token: ENC\[.*\]$/m, "$1token: hunter2"), "yaml", f.keys), /stringData\.token is not a valid encrypted value/);
    } finally {
      f.cleanup();
    }
  });

  it("in a real sops file: value, key name, list order, lastmodified and MAC", async (t) => {
    const text = readFileSync(join(SOPS_FIXTURES, "sops-age/secret.enc.yaml"), "utf8");
    const keys = await fixtureKeys("sops-age/key.txt");
    await verify(text, "yaml", keys);
    await assertMacMismatch(verify(tamperValue(text, /^secret: /), "yaml", keys), /value at secret does not authenticate/);
    await assertMacMismatch(verify(text.replace(/^string: /m, "strings: "), "yaml", keys), /value at strings does not authenticate/);
    // List items share their parent's path, so swapping them passes AES and must be caught by the MAC.
    const lines = text.split("\n");
    const i = lines.findIndex((l) => l.startsWith("    - ENC"));
    [lines[i], lines[i + 1]] = [lines[i + 1]!, lines[i]!];
    await assertMacMismatch(verify(lines.join("\n"), "yaml", keys), /content does not match the stored MAC/);
    await assertMacMismatch(verify(text.replace("2024-03-25T22:08:10Z", "2024-03-25T22:08:11Z"), "yaml", keys), /lastmodified was changed/);
    await assertMacMismatch(verify(tamperValue(text, /^ {2}mac: /), "yaml", keys), /stored MAC does not authenticate/);
  });
});

describe("wrong or missing key", () => {
  it("a key that is not a recipient: NoMatchingKeyError listing every recipient of the file", async (t) => {
    const { dir, cleanup } = tempDir();
    try {
      const stranger = await newKeyFile(dir);
      const text = readFileSync(join(SOPS_FIXTURES, "sops-age/secret.enc.yaml"), "utf8");
      await assert.rejects(verify(text, "yaml", stranger.keys, "secret.enc.yaml"), (e: unknown) => {
        assert.ok(e instanceof NoMatchingKeyError);
        assert.equal(e.exitCode, 128);
        assert.deepEqual(e.expected, [
          "age1je6kjhzuhdjy3fqptpttxjh5k8q46vygzlgtpuq3030c947pc5tqz9dqvr",
          "age19j4d6v9j7rx5fs629fu387qz4zmlpsqjexa4s08tkfrrmfdl5cwqjlaupd",
          "age13runq29jhy9kfpaegczrzttykerswh0qprq59msgd754yermtfmsa3hwg2",
        ]);
        for (const r of e.expected) assert.ok(e.message.includes(`  - ${r}`), r);
        assert.match(e.message, new RegExp(`Identities tried:\\n  - ${stranger.recipient}`));
        return true;
      });
    } finally {
      cleanup();
    }
  });

  it("a corrupt stanza of one recipient does not lock out the others (every stanza is tried, as sops does)", async () => {
    const { dir, cleanup } = tempDir();
    try {
      const a = await newKeyFile(dir, "a.txt");
      const b = await newKeyFile(dir, "b.txt");
      const text = await encrypt(SECRET_YAML, { format: "yaml", recipients: [a.recipient, b.recipient], rules: { encryptedRegex: "^(data|stringData)$" } });
      const lines = text.split("\n");
      const first = lines.findIndex((l) => l.includes("-----BEGIN AGE ENCRYPTED FILE-----"));
      lines[first + 1] = lines[first + 1]!.replace(/[A-Za-z0-9+/=]+$/, Buffer.from("not an age file at all").toString("base64"));
      const corrupt = lines.join("\n");
      assert.equal((await verify(corrupt, "yaml", b.keys, "two.sops.yaml")).openedBy, b.recipient);
      await assert.rejects(verify(corrupt, "yaml", a.keys, "two.sops.yaml"), (e: unknown) => {
        assert.ok(e instanceof SopsFormatError, String(e));
        assert.equal(e.exitCode, 1);
        assert.match(e.message, new RegExp(`^two\\.sops\\.yaml: no age stanza could be opened; broken stanzas:\\n  - age recipient ${a.recipient}: `));
        return true;
      });
    } finally {
      cleanup();
    }
  });

  it("no key at all: the message says none was found and where it looked", async () => {
    const f = await ownFile();
    try {
      await assert.rejects(verify(f.text, "yaml", await keyRingOf([], "nowhere"), "demo.sops.yaml"), (e: unknown) => {
        assert.ok(e instanceof NoMatchingKeyError);
        assert.match(e.message, /^demo\.sops\.yaml: no available age key can decrypt this file\./);
        assert.match(e.message, /No age identity was found\./);
        assert.match(e.message, /Searched: nowhere\./);
        return true;
      });
    } finally {
      f.cleanup();
    }
  });
});

describe("key lookup like sops", () => {
  it("reads SOPS_AGE_KEY_FILE, SOPS_AGE_KEY (several per line), SOPS_AGE_KEY_CMD and the config path, in that order", async () => {
    const { dir, cleanup } = tempDir();
    try {
      const a = await newKeyFile(dir, "a.txt");
      const b = await newKeyFile(dir, "b.txt");
      const c = await newKeyFile(dir, "c.txt");
      const d = await newKeyFile(dir, "d.txt");
      const e = await newKeyFile(dir, "e.txt");
      mkdirSync(join(dir, "cfg", "sops", "age"), { recursive: true });
      writeFileSync(join(dir, "cfg", "sops", "age", "keys.txt"), readFileSync(e.path));
      const ring = await loadKeyRing({
        HOME: dir,
        XDG_CONFIG_HOME: join(dir, "cfg"),
        SOPS_AGE_KEY_FILE: a.path,
        SOPS_AGE_KEY: `${b.identity} ${c.identity}\n`,
        SOPS_AGE_KEY_CMD: `cat ${d.path}`,
      });
      assert.deepEqual(
        ring.entries.map((x) => x.recipient),
        [a, b, c, d, e].map((k) => k.recipient),
      );
      assert.deepEqual(
        ring.entries.map((x) => x.source.split(" ")[0]),
        ["SOPS_AGE_KEY_FILE", "SOPS_AGE_KEY", "SOPS_AGE_KEY", "SOPS_AGE_KEY_CMD", "sops"],
      );
    } finally {
      cleanup();
    }
  });

  it("a missing SOPS_AGE_KEY_FILE is reported in the searched list, not silently ignored", async () => {
    const { dir, cleanup } = tempDir();
    try {
      const ring = await loadKeyRing({ HOME: dir, XDG_CONFIG_HOME: join(dir, "cfg"), SOPS_AGE_KEY_FILE: join(dir, "nope.txt") });
      assert.equal(ring.entries.length, 0);
      assert.match(ring.searched[0]!, /^SOPS_AGE_KEY_FILE \(.*nope\.txt: ENOENT\)$/);
    } finally {
      cleanup();
    }
  });

  it("rejects a key file line that is not an age identity, naming file and line", () => {
    assert.throws(() => parseIdentities("# comment\n\nnot-a-key\n", "keys.txt"), (e: unknown) => e instanceof UserError && /keys\.txt line 3: not an age identity/.test(e.message));
    assert.deepEqual(parseIdentities("# c\nAGE-SECRET-KEY-1ABC\n", "k"), ["AGE-SECRET-KEY-1ABC"]);
  });

  it("the config path follows XDG_CONFIG_HOME, else ~/.config (macOS: Application Support)", () => {
    assert.equal(sopsKeysPath({ HOME: "/h", XDG_CONFIG_HOME: "/x" }, "linux"), "/x/sops/age/keys.txt");
    assert.equal(sopsKeysPath({ HOME: "/h" }, "linux"), "/h/.config/sops/age/keys.txt");
    assert.equal(sopsKeysPath({ HOME: "/h" }, "darwin"), "/h/Library/Application Support/sops/age/keys.txt");
    assert.equal(sopsKeysPath({ HOME: "/h", XDG_CONFIG_HOME: "/x" }, "darwin"), "/x/sops/age/keys.txt");
  });
});
