/** Declared secrets: each needs its encrypted file with the right Secret name, namespace and keys. */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { collectSecretFiles, secretGitopsPath, secretSourcePath, type SecretDecl } from "../../src/secrets/declared.ts";
import { secretKeyProblem, secretProblems } from "../../src/secrets/k8s-secret.ts";
import { encrypt, verify } from "../../src/secrets/sops.ts";
import { parsePlain } from "../../src/secrets/stores.ts";
import { EXAMPLE_KEY_FILE, REPO, fixtureKeys, newKeyFile, tempDir } from "./helpers.ts";

const CLOUDFLARED: SecretDecl = { app: "cloudflared", namespace: "cloudflared", name: "cloudflared-credentials", keys: ["credentials.json"] };

async function repoWith(files: Record<string, string>): Promise<{ dir: string; cleanup: () => void }> {
  const t = tempDir();
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(dirname(join(t.dir, p)), { recursive: true });
    writeFileSync(join(t.dir, p), c);
  }
  return t;
}

async function secretFile(meta: { name: string; namespace?: string }, stringData: Record<string, string>, opts: { encryptAll?: boolean } = {}): Promise<string> {
  const { dir, cleanup } = tempDir();
  try {
    const k = await newKeyFile(dir);
    const ns = meta.namespace === undefined ? "" : `  namespace: ${meta.namespace}\n`;
    const data = Object.entries(stringData)
      .map(([key, v]) => `  ${key}: ${v}\n`)
      .join("");
    return encrypt(`apiVersion: v1\nkind: Secret\nmetadata:\n  name: ${meta.name}\n${ns}stringData:\n${data}`, {
      format: "yaml",
      recipients: [k.recipient],
      rules: opts.encryptAll ? {} : { encryptedRegex: "^(data|stringData)$" },
    });
  } finally {
    cleanup();
  }
}

describe("collectSecretFiles", () => {
  it("paths follow secrets/<app>/<name>.sops.yaml -> gitops/<app>/<name>.sops.yaml", () => {
    assert.equal(secretSourcePath(CLOUDFLARED), "secrets/cloudflared/cloudflared-credentials.sops.yaml");
    assert.equal(secretGitopsPath(CLOUDFLARED), "gitops/cloudflared/cloudflared-credentials.sops.yaml");
  });

  it("the committed cloudflared example satisfies its declaration and is copied byte for byte", async (t) => {
    const { files, issues } = collectSecretFiles([CLOUDFLARED], REPO);
    assert.deepEqual(issues, []);
    const src = readFileSync(join(REPO, "secrets/cloudflared/cloudflared-credentials.sops.yaml"), "utf8");
    assert.deepEqual(files, [{ path: "gitops/cloudflared/cloudflared-credentials.sops.yaml", content: src }]);
    // Encrypted to the published example key, so the tree validates until the operator rotates it.
    await verify(src, "yaml", await fixtureKeys("sops-age/key.txt"));
  });

  it("a declared secret without a file fails the build with the command that creates it", async () => {
    const r = await repoWith({});
    try {
      const { files, issues } = collectSecretFiles([{ app: "ntfy", namespace: "monitoring", name: "ntfy-token", keys: ["token"] }], r.dir);
      assert.deepEqual(files, []);
      assert.deepEqual(issues, [
        {
          file: "secrets/ntfy/ntfy-token.sops.yaml",
          subject: "Secret monitoring/ntfy-token",
          path: "",
          message: "declared secret has no encrypted file secrets/ntfy/ntfy-token.sops.yaml; create it with `homelab secrets set secrets/ntfy/ntfy-token.sops.yaml token`",
          check: "secrets",
        },
      ]);
    } finally {
      r.cleanup();
    }
  });

  it("wrong name, wrong namespace and a missing key are each reported", async () => {
    const r = await repoWith({ "secrets/cloudflared/cloudflared-credentials.sops.yaml": await secretFile({ name: "other", namespace: "default" }, { "token.json": "x" }) });
    try {
      const { files, issues } = collectSecretFiles([CLOUDFLARED], r.dir);
      assert.deepEqual(files, []);
      assert.deepEqual(
        issues.map((i) => [i.path, i.message]),
        [
          ["/metadata/name", 'is "other", expected "cloudflared-credentials"'],
          ["/metadata/namespace", 'is "default", expected "cloudflared"'],
          ["/stringData/credentials.json", 'declared key "credentials.json" is missing from data/stringData'],
        ],
      );
      assert.ok(issues.every((i) => i.check === "secrets" && i.file === "secrets/cloudflared/cloudflared-credentials.sops.yaml"));
    } finally {
      r.cleanup();
    }
  });

  it("an empty declared key and a key name the API server rejects are reported (both readable without a key)", async () => {
    const r = await repoWith({
      "secrets/cloudflared/cloudflared-credentials.sops.yaml": await secretFile({ name: "cloudflared-credentials", namespace: "cloudflared" }, { "credentials.json": '""', "bad key/with slash": "x" }),
    });
    try {
      const { files, issues } = collectSecretFiles([CLOUDFLARED], r.dir);
      assert.deepEqual(files, []);
      assert.deepEqual(
        issues.map((i) => [i.path, i.message]),
        [
          ["/stringData/bad key/with slash", `the key "bad key/with slash" may contain only letters, digits, '-', '_' and '.'; the API server would reject this Secret`],
          [
            "/stringData/credentials.json",
            'declared key "credentials.json" is empty; set it with `homelab secrets set secrets/cloudflared/cloudflared-credentials.sops.yaml credentials.json`',
          ],
        ],
      );
    } finally {
      r.cleanup();
    }
  });

  it("an unencrypted file, a broken sops block, a plaintext value and encrypted metadata are reported", async () => {
    const good = await secretFile({ name: "cloudflared-credentials", namespace: "cloudflared" }, { "credentials.json": "x" });
    const cases: [string, RegExp][] = [
      ["apiVersion: v1\nkind: Secret\nmetadata:\n  name: cloudflared-credentials\n  namespace: cloudflared\nstringData:\n  credentials.json: x\n", /sops metadata not found/],
      [good.replace(/^ {4}mac: .*$/m, "    mac: gone"), /sops\.mac is missing/],
      [good.replace(/^( {4}credentials\.json: )ENC\[.*\]$/m, "$1plain"), /stringData\.credentials\.json holds plaintext/],
      [await secretFile({ name: "cloudflared-credentials", namespace: "cloudflared" }, { "credentials.json": "x" }, { encryptAll: true }), /metadata are encrypted; encrypt Kubernetes Secrets with encrypted_regex/],
    ];
    for (const [content, want] of cases) {
      const r = await repoWith({ "secrets/cloudflared/cloudflared-credentials.sops.yaml": content });
      try {
        const { files, issues } = collectSecretFiles([CLOUDFLARED], r.dir);
        assert.deepEqual(files, []);
        assert.equal(issues.length, 1, JSON.stringify(issues));
        assert.match(issues[0]!.message, want);
      } finally {
        r.cleanup();
      }
    }
  });

  it("later components only declare theirs: several apps at once, good and bad side by side", async () => {
    const r = await repoWith({
      "secrets/grafana/grafana-admin.sops.yaml": await secretFile({ name: "grafana-admin", namespace: "grafana" }, { "admin-user": "a", "admin-password": "b" }),
      "secrets/velero/velero-s3.sops.yaml": await secretFile({ name: "velero-s3", namespace: "velero" }, { cloud: "c" }),
    });
    try {
      const { files, issues } = collectSecretFiles(
        [
          { app: "grafana", namespace: "grafana", name: "grafana-admin", keys: ["admin-user", "admin-password"] },
          { app: "velero", namespace: "velero", name: "velero-s3", keys: ["cloud"] },
          { app: "forgejo", namespace: "forgejo", name: "forgejo-db", keys: ["password"] },
        ],
        r.dir,
      );
      assert.deepEqual(
        files.map((f) => f.path),
        ["gitops/grafana/grafana-admin.sops.yaml", "gitops/velero/velero-s3.sops.yaml"],
      );
      assert.deepEqual(
        issues.map((i) => i.file),
        ["secrets/forgejo/forgejo-db.sops.yaml"],
      );
    } finally {
      r.cleanup();
    }
  });

  it("rejects names that are not DNS labels and duplicate declarations", async () => {
    const r = await repoWith({});
    try {
      const { issues } = collectSecretFiles(
        [
          { app: "Bad_App", namespace: "x", name: "s", keys: [] },
          { ...CLOUDFLARED },
          { ...CLOUDFLARED },
        ],
        r.dir,
      );
      assert.match(issues[0]!.message, /must be DNS labels/);
      assert.equal(issues.filter((i) => /declared twice/.test(i.message)).length, 1);
    } finally {
      r.cleanup();
    }
  });
});

describe("secretProblems: what the API server would refuse, caught before encryption", () => {
  const doc = (text: string) => parsePlain(text, "yaml", "s.yaml")[0]!;
  const head = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n";

  it("accepts base64 data, text stringData and valid key names", () => {
    assert.deepEqual(secretProblems(doc(`${head}data:\n  a.b_c-1: aGVsbG8=\n  empty: ""\nstringData:\n  token: "not base64 !!"\n`)), []);
  });

  it("rejects data that is not base64, bad key names and non-string values, naming each field", () => {
    assert.deepEqual(secretProblems(doc(`${head}data:\n  token: not base64 !!\n  "..x": YQ==\nstringData:\n  "bad key/with slash": x\n  pin: 1234\n`)), [
      "data.token: data values must be base64; to store the text as it is, use stringData.token",
      "data...x: the key must not start with '..'",
      "stringData.bad key/with slash: the key may contain only letters, digits, '-', '_' and '.'",
      "stringData.pin: must be a string (quote it)",
    ]);
    assert.equal(secretKeyProblem("a".repeat(254)), "is 254 characters long; at most 253 are allowed");
  });

  it("leaves documents that are not v1 Secrets alone", () => {
    assert.deepEqual(secretProblems(doc("apiVersion: v1\nkind: ConfigMap\ndata:\n  k: not base64 !!\n")), []);
  });
});
