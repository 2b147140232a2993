/** An app's secrets from the config: declared in one place, rendered through the platform's KSOPS path. */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { runBuild } from "../../src/build/pipeline.ts";
import { formatIssue } from "../../src/errors.ts";
import { encrypt } from "../../src/secrets/sops.ts";
import { newKeyFile } from "../secrets/helpers.ts";
import { defaultInputCopy, scratchProject } from "../helpers.ts";

const NOTES = {
  name: "notes",
  image: "ghcr.io/me/notes",
  tag: "1.4.2",
  port: 3000,
  host: "notes.skypalette.ai",
  env: { LOG_LEVEL: "info" },
  secrets: [
    { name: "notes-db", keys: ["DATABASE_URL"], env: true },
    { name: "notes-signing", keys: ["signing.pem", "signing.pub"], mountPath: "/etc/notes/keys" },
  ],
};

describe("an app's secrets in homelab.config.ts", () => {
  let dir = "";
  let recipient = "";
  let configCount = 0;
  before(async () => {
    dir = scratchProject("homelab-app-secrets-");
    recipient = (await newKeyFile(dir, "test-only-key.txt")).recipient;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A fresh config file each time: imports are cached by path. */
  async function build() {
    const input = defaultInputCopy();
    const file = `homelab-${configCount++}.config.ts`;
    writeFileSync(join(dir, file), `export default ${JSON.stringify({ ...input, apps: [...(input.apps ?? []), NOTES] })};\n`);
    return runBuild({ root: dir, configPath: join(dir, file), versionsPath: join(dir, "versions.yaml") });
  }

  async function sealed(name: string, stringData: Record<string, string>): Promise<string> {
    const body = Object.entries(stringData).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}\n`).join("");
    return encrypt(`apiVersion: v1\nkind: Secret\nmetadata:\n  name: ${name}\n  namespace: notes\ntype: Opaque\nstringData:\n${body}`, {
      format: "yaml",
      recipients: [recipient],
      rules: { encryptedRegex: "^(data|stringData)$" },
    });
  }

  it("a missing encrypted file fails the build with the exact commands that create it, naming the config key", async () => {
    const r = await build();
    const msgs = r.issues.filter((i) => i.check === "secrets").map(formatIssue);
    assert.deepEqual(msgs, [
      "secrets/notes/notes-db.sops.yaml: Secret notes/notes-db (root): declared secret (apps[1].secrets[0] in homelab.config.ts) has no encrypted file secrets/notes/notes-db.sops.yaml; create it with `homelab secrets set secrets/notes/notes-db.sops.yaml DATABASE_URL` [secrets]",
      "secrets/notes/notes-signing.sops.yaml: Secret notes/notes-signing (root): declared secret (apps[1].secrets[1] in homelab.config.ts) has no encrypted file secrets/notes/notes-signing.sops.yaml; create it with `homelab secrets set secrets/notes/notes-signing.sops.yaml signing.pem`, then `homelab secrets set secrets/notes/notes-signing.sops.yaml signing.pub` [secrets]",
    ]);
  });

  it("with the encrypted files, the app reads them as variables and files, decrypted by KSOPS like the platform's", async () => {
    mkdirSync(join(dir, "secrets/notes"), { recursive: true });
    const db = await sealed("notes-db", { DATABASE_URL: "postgres://fake-test-value" });
    const signing = await sealed("notes-signing", { "signing.pem": "FAKE TEST PEM", "signing.pub": "FAKE TEST PUB" });
    writeFileSync(join(dir, "secrets/notes/notes-db.sops.yaml"), db);
    writeFileSync(join(dir, "secrets/notes/notes-signing.sops.yaml"), signing);
    const r = await build();
    assert.deepEqual(r.issues.map(formatIssue), []);
    assert.equal(r.policy.counts.errors, 0);
    const file = (p: string) => r.plan.files.find((f) => f.path === p)?.content;
    // The ciphertext is copied byte for byte, the same way as cloudflared's credentials.
    assert.equal(file("gitops/notes/notes-db.sops.yaml"), db);
    assert.equal(file("gitops/notes/notes-signing.sops.yaml"), signing);
    const generator = parse(file("gitops/notes/secret-generator.yaml")!) as { kind: string; files: string[] };
    assert.equal(generator.kind, "ksops");
    assert.deepEqual(generator.files, ["notes-db.sops.yaml", "notes-signing.sops.yaml"]);
    const kustomization = parse(file("gitops/notes/kustomization.yaml")!) as { generators: string[]; resources: string[] };
    assert.deepEqual(kustomization.generators, ["secret-generator.yaml"]);
    assert.ok(!kustomization.resources.some((x) => x.includes(".sops.")));
    const deployment = parse(file("gitops/notes/deployment-notes.yaml")!) as {
      spec: { template: { spec: { containers: { env: unknown[]; volumeMounts: unknown[] }[]; volumes: unknown[] } } };
    };
    const pod = deployment.spec.template.spec;
    assert.deepEqual(pod.containers[0]!.env, [
      { name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: "notes-db", key: "DATABASE_URL" } } },
      { name: "LOG_LEVEL", value: "info" },
    ]);
    assert.deepEqual(pod.containers[0]!.volumeMounts, [
      { name: "tmp", mountPath: "/tmp" },
      { name: "secret-notes-signing", mountPath: "/etc/notes/keys", readOnly: true },
    ]);
    assert.deepEqual(pod.volumes[1], {
      name: "secret-notes-signing",
      secret: { secretName: "notes-signing", defaultMode: 0o440, items: [{ key: "signing.pem", path: "signing.pem" }, { key: "signing.pub", path: "signing.pub" }] },
    });
    // Nothing of the plaintext reaches the rendered tree.
    for (const f of r.plan.files) assert.doesNotMatch(f.content, /fake-test-value|FAKE TEST/, f.path);
    // No warning that the files are undeclared.
    assert.deepEqual(r.warnings.filter((w) => w.includes("notes")), []);
  });

  it("a declared key missing from the encrypted file is reported with the command that sets it", async () => {
    writeFileSync(join(dir, "secrets/notes/notes-signing.sops.yaml"), await sealed("notes-signing", { "signing.pem": "FAKE TEST PEM" }));
    const r = await build();
    const msgs = r.issues.map(formatIssue);
    assert.equal(msgs.length, 1, msgs.join("\n"));
    assert.match(msgs[0]!, /Secret notes\/notes-signing \/stringData\/signing\.pub: declared key "signing\.pub" is missing/);
    assert.ok(!existsSync(join(dir, "gitops")), "a failed build wrote gitops/");
  });
});
