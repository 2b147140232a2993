/**
 * The plaintext scanner: one seeded bad input per rule (built at run time, so no token-shaped text
 * is committed), clean inputs that must stay clean, waivers, and the repository's own default tree.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { stringify } from "yaml";
import { UserError } from "../../src/errors.ts";
import { newIdentity } from "../../src/secrets/age.ts";
import { ksopsGenerator, kustomizationFor } from "../../src/secrets/ksops.ts";
import { loadWaivers, readScanTargets } from "../../src/secrets/scan-inputs.ts";
import { SCAN_RULES, scanFiles, scanReport, type Finding } from "../../src/secrets/scan.ts";
import { encrypt } from "../../src/secrets/sops.ts";
import { REPO } from "./helpers.ts";

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
function rand(n: number, alphabet = ALNUM): string {
  return [...randomBytes(n)].map((b) => alphabet[b % alphabet.length]).join("");
}
const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const HEX = "0123456789abcdef";
const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");

/** path, content, the rule that must fire, and on which line. */
async function seeded(): Promise<{ path: string; content: string; rule: string; line: number; secret?: string }[]> {
  const { identity } = await newIdentity();
  const gh = "gh" + "p_" + rand(36);
  const pat = "github" + "_pat_" + rand(22) + "_" + rand(59);
  const jwt = `${b64url({ alg: "HS256", typ: "JWT" })}.${b64url({ sub: "1234567890", name: "x" })}.${rand(43)}`;
  const tunnelToken = b64url({ a: rand(32, HEX), t: "00000000-0000-0000-0000-000000000000", s: rand(44) });
  const pw = rand(24);
  const recipientKey = await newIdentity();
  const half = await encrypt("apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  a: YQ==\nstringData:\n  b: leaked-value\n", {
    format: "yaml",
    recipients: [recipientKey.recipient],
    rules: { encryptedRegex: "^data$" },
  });
  return [
    { path: "gitops/app/secret-app.yaml", content: "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\nstringData:\n  password: hunter2\n", rule: "plaintext-secret-object", line: 6 },
    { path: "gitops/app/list.yaml", content: `apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Secret\n    metadata:\n      name: x\n    data:\n      k: ${Buffer.from("v").toString("base64")}\n`, rule: "plaintext-secret-object", line: 9 },
    { path: "secrets/app/half.sops.yaml", content: half, rule: "plaintext-secret-object", line: half.split("\n").findIndex((l) => /^\s+b: leaked-value$/.test(l)) + 1 },
    { path: "hosts/node/ssh/id", content: `# key\n-----BEGIN ${"OPENSSH"} PRIVATE KEY-----\n${rand(64)}\n`, rule: "private-key", line: 2 },
    { path: "hosts/node/age.env", content: `KEY=${identity}\n`, rule: "age-secret-key", line: 1, secret: identity },
    { path: "homelab.config.ts", content: `export default {\n  forgejo: {\n    token: "${gh}",\n  },\n};\n`, rule: "github-token", line: 3, secret: gh },
    { path: "hosts/node/runner.env", content: `A=1\nGITHUB_TOKEN=${pat}\n`, rule: "github-token", line: 2, secret: pat },
    { path: "hosts/node/glab.txt", content: `glpat-${rand(20)}\n`, rule: "gitlab-token", line: 1 },
    { path: "gitops/x/cm.yaml", content: `apiVersion: v1\nkind: ConfigMap\ndata:\n  slack: xox${"b"}-${rand(12, "0123456789")}-${rand(24)}\n`, rule: "slack-token", line: 4 },
    { path: "hosts/node/notes.md", content: `hook: https://hooks.slack.com/services/T${rand(8, UPPER)}/B${rand(8, UPPER)}/${rand(24)}\n`, rule: "slack-webhook", line: 1 },
    { path: "hosts/node/aws.conf", content: `[default]\nkey = ${"AK" + "IA"}${rand(16, UPPER)}\n`, rule: "aws-access-key", line: 2 },
    { path: "hosts/node/compose.yaml", content: `services:\n  cloudflared:\n    command: tunnel run --token ${tunnelToken}\n`, rule: "cloudflare-tunnel-token", line: 3, secret: tunnelToken },
    { path: "hosts/node/creds.json", content: `{\n  "AccountTag": "${rand(32, HEX)}",\n  "TunnelSecret": "${randomBytes(32).toString("base64")}"\n}\n`, rule: "cloudflare-tunnel-credentials", line: 3 },
    { path: "hosts/node/origin.txt", content: `v1.0-${rand(24, HEX)}-${rand(146, HEX)}\n`, rule: "cloudflare-origin-ca-key", line: 1 },
    { path: "gitops/x/jwt.yaml", content: `apiVersion: v1\nkind: ConfigMap\ndata:\n  header: Bearer ${jwt}\n`, rule: "jwt", line: 4, secret: jwt },
    { path: "hosts/node/pr-agent.toml", content: `[anthropic]\nkey = "${"sk-" + "ant-"}api03-${rand(93)}AA"\n`, rule: "anthropic-key", line: 2 },
    { path: "hosts/node/pr-agent2.toml", content: `[openai]\nkey = "${"sk-" + "proj-"}${rand(48)}"\n`, rule: "openai-key", line: 2 },
    { path: "hosts/node/maps.txt", content: `${"AI" + "za"}${rand(35)}\n`, rule: "google-api-key", line: 1 },
    { path: "hosts/node/pay.txt", content: `${"sk" + "_live_"}${rand(24)}\n`, rule: "stripe-key", line: 1 },
    { path: "gitops/monitoring/am.yaml", content: `receivers:\n  - url: https://ntfy.sh/x?auth=1\n    token: ${"tk" + "_"}${rand(29, "abcdefghijklmnopqrstuvwxyz0123456789")}\n`, rule: "ntfy-token", line: 3 },
    { path: "hosts/node/forgejo.env", content: `FORGEJO__database__URL=postgres://forgejo:${pw}@forgejo-db:5432/forgejo\n`, rule: "credentials-in-url", line: 1, secret: pw },
    { path: "gitops/grafana/values.yaml", content: `grafana:\n  adminUser: admin\n  adminPassword: ${pw}\n`, rule: "high-entropy-secret", line: 3, secret: pw },
    { path: "gitops/app/deploy.yaml", content: `env:\n  - name: API_TOKEN\n    value: ${pw}\n`, rule: "high-entropy-secret", line: 3, secret: pw },
    { path: "homelab.config.ts", content: `export default {\n  ntfy: { password: "${pw}" },\n};\n`, rule: "high-entropy-secret", line: 2, secret: pw },
    { path: "secrets/app/plain.sops.yaml", content: "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: b\n", rule: "sops-block-invalid", line: 1 },
    { path: "gitops/app/kustomization.yaml", content: stringify(kustomizationFor(["a.yaml"], [])).replace("- a.yaml", "- a.yaml\n  - creds.sops.yaml"), rule: "sops-file-as-resource", line: 5 },
  ];
}

function only(findings: Finding[], rule: string): Finding[] {
  return findings.filter((f) => f.rule === rule);
}

describe("secret scanner: seeded bad inputs", () => {
  it("each seeded input triggers its rule at the right line, without echoing the secret", async () => {
    for (const s of await seeded()) {
      const found = scanFiles([{ path: s.path, content: s.content }]);
      const hit = only(found, s.rule);
      assert.equal(hit.length, 1, `${s.path}: expected one ${s.rule}, got ${JSON.stringify(found)}`);
      assert.equal(hit[0]!.file, s.path);
      assert.equal(hit[0]!.line, s.line, `${s.path} ${s.rule}`);
      if (s.secret) assert.ok(!hit[0]!.message.includes(s.secret), `${s.rule} message repeats the secret`);
    }
  });

  it("every rule has a seeded bad input above", async () => {
    const covered = new Set((await seeded()).map((s) => s.rule));
    assert.deepEqual(
      SCAN_RULES.map((r) => r.rule).filter((r) => !covered.has(r)),
      [],
    );
  });

  it("a broken sops block is reported with what is wrong", async () => {
    const k = await newIdentity();
    const good = await encrypt("a: b\n", { format: "yaml", recipients: [k.recipient] });
    const broken = good.replace(/^ {4}mac: .*$/m, "    mac: removed");
    const f = scanFiles([{ path: "secrets/x/y.sops.yaml", content: broken }]);
    assert.deepEqual(f.map((x) => [x.rule, x.message]), [["sops-block-invalid", "sops.mac is missing or not an ENC[AES256_GCM,…] value"]]);
    assert.equal(f[0]!.line, broken.split("\n").indexOf("sops:") + 1);
  });
});

describe("secret scanner: clean inputs", () => {
  it("a realistic rendered folder, host files and config produce no finding", async () => {
    const k = await newIdentity();
    const sopsSecret = await encrypt("apiVersion: v1\nkind: Secret\nmetadata:\n  name: c\n  namespace: n\nstringData:\n  credentials.json: '{\"TunnelSecret\":\"abc\"}'\n  password: VeryS3cretPassw0rd!\n", {
      format: "yaml",
      recipients: [k.recipient],
      rules: { encryptedRegex: "^(data|stringData)$" },
    });
    const files = [
      { path: "gitops/n/kustomization.yaml", content: stringify(kustomizationFor(["deploy.yaml"], ["secret-generator.yaml"])) },
      { path: "gitops/n/secret-generator.yaml", content: stringify(ksopsGenerator("n", ["c.sops.yaml"])) },
      { path: "gitops/n/c.sops.yaml", content: sopsSecret },
      {
        path: "gitops/n/deploy.yaml",
        content: `apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      containers:
        - name: app
          image: ghcr.io/example/app@sha256:${"0".repeat(64)}
          env:
            - name: DB_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: forgejo-db
                  key: password
            - name: TOKEN_FILE
              value: /run/secrets/token
          volumeMounts:
            - name: creds
              mountPath: /etc/cloudflared/creds
      volumes:
        - name: creds
          secret:
            secretName: cloudflared-credentials
`,
      },
      { path: "gitops/n/secret-empty.yaml", content: "apiVersion: v1\nkind: Secret\nmetadata:\n  name: sa-token\n  annotations:\n    kubernetes.io/service-account.name: x\ntype: kubernetes.io/service-account-token\n" },
      {
        path: "gitops/argocd/values.yaml",
        content: `configs:\n  secret:\n    createSecret: false\n  cm:\n    kustomize.buildOptions: --enable-alpha-plugins --enable-exec\ngrafana:\n  admin:\n    existingSecret: grafana-admin\n    passwordKey: admin-password\n  adminPassword: ""\n  tokenUrl: https://auth.example.org/oauth/token\n  apiKey: REPLACE_ME\n`,
      },
      { path: "hosts/node/forgejo.env", content: "FORGEJO__database__PASSWD_FILE=/run/secrets/db\nDB_URL=postgres://forgejo:${DB_PASSWORD}@db:5432/forgejo\nRUNNER_TOKEN=\n" },
      { path: "homelab.config.ts", content: 'export default {\n  secretName: "cloudflared-credentials",\n  tokenFile: "/etc/token",\n  passwordSecret: "forgejo-db-password",\n};\n' },
    ];
    assert.deepEqual(scanFiles(files), []);
  });
});

describe("waivers", () => {
  const bad = { path: "gitops/grafana/values.yaml", content: "grafana:\n  adminPassword: Xk29fjQm3LpZr8Tq\n  apiToken: Pq93kdmZ7xL2wQvB\n" };

  it("a waiver with a reason silences exactly the matching finding and is reported as waived", () => {
    const r = scanReport([bad], [{ rule: "high-entropy-secret", path: "gitops/**/values.yaml", match: "adminPassword", reason: "documented demo password of the upstream chart test" }]);
    assert.deepEqual(r.findings.map((f) => f.line), [3]);
    assert.deepEqual(r.waived.map((w) => w.finding.line), [2]);
    assert.deepEqual(r.unusedWaivers, []);
  });

  it("a waiver that matches nothing is reported as unused", () => {
    const w = { rule: "jwt", path: "hosts/**", reason: "sample token in the runbook, expired long ago" };
    const r = scanReport([bad], [w]);
    assert.equal(r.findings.length, 2);
    assert.deepEqual(r.unusedWaivers, [w]);
  });

  it("waivers need a reason and a known rule", () => {
    assert.throws(() => scanFiles([bad], [{ rule: "high-entropy-secret", path: "gitops/**", reason: "" }]), (e: unknown) => e instanceof UserError && /a reason of at least a few words is required/.test(e.message));
    assert.throws(() => scanFiles([bad], [{ rule: "no-such-rule", path: "x", reason: "because it is fine here" }]), /unknown rule "no-such-rule"/);
  });
});

describe("the repository itself", () => {
  it("the default scan paths (gitops/, hosts/, secrets/, homelab.config.ts) are clean", () => {
    const files = readScanTargets(REPO);
    assert.ok(files.some((f) => f.path === "secrets/cloudflared/cloudflared-credentials.sops.yaml"), "the example secret is scanned");
    assert.deepEqual(scanReport(files, loadWaivers(REPO)).findings, []);
  });
});
