/**
 * The plaintext scanner: one seeded bad input per rule (built at run time, so no token-shaped text
 * is committed), clean inputs that must stay clean, waivers, and the repository's own default tree.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { stringify } from "yaml";
import { UserError } from "../../src/errors.ts";
import { newIdentity } from "../../src/secrets/age.ts";
import { ksopsGenerator, kustomizationFor } from "../../src/secrets/ksops.ts";
import { loadWaivers, readScanTargets, repoRootOf } from "../../src/secrets/scan-inputs.ts";
import { SCAN_RULES, scanFiles, scanReport, type Finding } from "../../src/secrets/scan.ts";
import { encrypt } from "../../src/secrets/sops.ts";
import { REPO, tempDir } from "./helpers.ts";

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
    { path: "gitops/grafana/values.yaml", content: `grafana:\n  adminUser: admin\n  adminPassword: ${pw}\n`, rule: "literal-password", line: 3, secret: pw },
    { path: "gitops/app/deploy.yaml", content: `env:\n  - name: API_TOKEN\n    value: ${pw}\n`, rule: "literal-password", line: 3, secret: pw },
    { path: "homelab.config.ts", content: `export default {\n  ntfy: { password: "${pw}" },\n};\n`, rule: "literal-password", line: 2, secret: pw },
    { path: "gitops/app/webhook.yaml", content: `webhook:\n  url: https://example.org/hook\n  hmacKey: ${pw}\n`, rule: "high-entropy-secret", line: 3, secret: pw },
    { path: "hosts/node/app.conf", content: `[auth]\nclient_credentials = ${pw}\n`, rule: "high-entropy-secret", line: 2, secret: pw },
    { path: "gitops/app/broken.yaml", content: "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: [unclosed\n  b: c\n", rule: "unparsable-file", line: 5 },
    { path: "hosts/node/blob.bin", content: "\u0000\u0001binary", rule: "unscanned-file", line: 1 },
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
    const r = scanReport([bad], [{ rule: "literal-password", path: "gitops/**/values.yaml", match: "adminPassword", reason: "documented demo password of the upstream chart test" }]);
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

/** Rule and line of every finding, in order. */
function hits(path: string, content: string): [string, number][] {
  return scanFiles([{ path, content }]).map((f) => [f.rule, f.line]);
}

describe("secret scanner: secrets inside strings and list entries", () => {
  const pw = rand(20);

  it("config files embedded in ConfigMap data: alertmanager.yml, grafana.ini, app.properties", () => {
    assert.deepEqual(hits("gitops/monitoring/am.yaml", `apiVersion: v1\nkind: ConfigMap\ndata:\n  alertmanager.yml: |\n    global:\n      smtp_smarthost: mail.example.org:587\n      smtp_auth_password: "${pw}"\n`), [["literal-password", 7]]);
    assert.deepEqual(hits("gitops/grafana/cm.yaml", `apiVersion: v1\nkind: ConfigMap\ndata:\n  grafana.ini: |\n    [security]\n    admin_user = admin\n    admin_password = ${pw}\n`), [["literal-password", 7]]);
    assert.deepEqual(hits("gitops/app/cm.yaml", `apiVersion: v1\nkind: ConfigMap\ndata:\n  app.properties: |\n    db.url=jdbc:postgresql://db:5432/app\n    db.password=${pw}\n`), [["literal-password", 6]]);
  });

  it("the same text JSON-escaped on one line (objects handed over as JSON) is found on that line", () => {
    const obj = { apiVersion: "v1", kind: "ConfigMap", data: { "alertmanager.yml": `global:\n  smtp_auth_password: "${pw}"\n` } };
    const text = JSON.stringify(obj, null, 2);
    assert.deepEqual(hits("gitops/monitoring/cm.json", text), [["literal-password", text.split("\n").findIndex((l) => l.includes("smtp_auth_password")) + 1]]);
  });

  it("Compose environment lists, container args and a flag followed by its value", () => {
    assert.deepEqual(hits("hosts/node/compose.yaml", `services:\n  db:\n    environment:\n      - POSTGRES_USER=forgejo\n      - POSTGRES_PASSWORD=${pw}\n`), [["literal-password", 5]]);
    assert.deepEqual(hits("hosts/node/compose2.yaml", `services:\n  db:\n    environment: ["POSTGRES_PASSWORD=${pw}"]\n`), [["literal-password", 3]]);
    assert.deepEqual(hits("gitops/app/deploy.yaml", `spec:\n  containers:\n    - name: a\n      args: ["--user=admin", "--password=${pw}"]\n`), [["literal-password", 4]]);
    assert.deepEqual(hits("gitops/app/deploy2.yaml", `spec:\n  containers:\n    - name: a\n      args:\n        - --token\n        - ${pw}\n`), [["literal-password", 6]]);
    assert.deepEqual(hits("gitops/app/deploy3.yaml", `spec:\n  containers:\n    - name: a\n      command: ["sh", "-c", "mysql --user root --password ${pw} app"]\n`), [["high-entropy-secret", 4]]);
  });

  it("Compose's required reference ${NAME:?message} is a reference, not a value: its message is not judged", () => {
    const required = "${FORGEJO_DB_PASSWORD:?FORGEJO_DB_PASSWORD must come from homelab secrets exec-env secrets/forgejo/compose.sops.env}";
    assert.deepEqual(hits("hosts/node/compose.yaml", `services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: ${required}\n`), []);
    assert.deepEqual(hits("hosts/node/compose2.yaml", `services:\n  db:\n    environment:\n      - DB_PASSWORD=${required}\n`), []);
  });

  it("a private key in a block scalar is found on its header line", () => {
    const body = randomBytes(48).toString("base64");
    assert.deepEqual(hits("gitops/app/cm.yaml", `data:\n  key.pem: |\n    -----BEGIN ${"EC"} PRIVATE KEY-----\n    ${body}\n    -----END EC PRIVATE KEY-----\n`), [["private-key", 3]]);
  });
});

describe("secret scanner: YAML merge keys and aliases are followed (as kubectl does)", () => {
  it("a Secret whose kind, data or values arrive through <<: *anchor or an alias", () => {
    assert.deepEqual(
      hits("gitops/app/list.yaml", "apiVersion: v1\nkind: List\nitems:\n  - &s {apiVersion: v1, kind: Secret, metadata: {name: a}}\n  - <<: *s\n    metadata: {name: b}\n    stringData:\n      <<: {user: admin}\n"),
      [["plaintext-secret-object", 8]],
    );
    assert.deepEqual(hits("gitops/app/alias.yaml", "x-creds: &creds\n  token: ''\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: a}\ndata: &d\n  k: dg==\n"), [["plaintext-secret-object", 8]]);
  });

  it("a name/value pair and a sensitive key whose value is merged in or aliased", () => {
    const pw = rand(20);
    assert.deepEqual(hits("gitops/app/env.yaml", `x-base: &base\n  name: DB_PASSWORD\nenv:\n  - <<: *base\n    value: ${pw}\n`), [["literal-password", 5]]);
    assert.deepEqual(hits("hosts/node/compose.yaml", `x-pw: &pw ${pw}\nservices:\n  db:\n    environment:\n      POSTGRES_PASSWORD: *pw\n`), [["literal-password", 5]]);
  });
});

describe("secret scanner: nothing is skipped silently", () => {
  it("a file that does not parse is reported at the error, and what can be read is still checked", () => {
    const f = scanFiles([{ path: "gitops/app/s.yaml", content: "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  token: hunter2\n  bad: [unclosed\n" }]);
    assert.deepEqual(f.map((x) => x.rule).sort(), ["plaintext-secret-object", "plaintext-secret-object", "unparsable-file"]);
    assert.match(f.find((x) => x.rule === "unparsable-file")!.message, /does not parse as YAML\/JSON/);
    assert.deepEqual(hits("hosts/node/x.json", '{"a": 1,,}'), [["unparsable-file", 1]]);
  });

  it("binary content is reported, and known token formats in it are still found", () => {
    const key = `\u0000\u0007-----BEGIN ${"RSA"} PRIVATE KEY-----\n${randomBytes(48).toString("base64")}\n\u0000`;
    assert.deepEqual(hits("hosts/node/blob", key), [["private-key", 1], ["unscanned-file", 1]]);
  });

  it("an input marked unscanned (too large, unreadable) is a finding, not a skip", () => {
    assert.deepEqual(scanFiles([{ path: "gitops/big.yaml", content: "", unscanned: "6.0 MiB, over the 5 MiB scan limit" }]), [
      { file: "gitops/big.yaml", line: 1, rule: "unscanned-file", message: "not scanned: 6.0 MiB, over the 5 MiB scan limit" },
    ]);
  });

  it("readScanTargets marks files over the size limit instead of dropping them", () => {
    const r = tempDir();
    try {
      mkdirSync(join(r.dir, "gitops"));
      writeFileSync(join(r.dir, "gitops", "big.yaml"), Buffer.alloc(5 * 1024 * 1024 + 1, 0x61));
      writeFileSync(join(r.dir, "gitops", "small.yaml"), "a: b\n");
      const files = readScanTargets(r.dir, ["gitops"]);
      assert.deepEqual(files.map((f) => [f.path, f.unscanned]), [["gitops/big.yaml", "5.0 MiB, over the 5 MiB scan limit"], ["gitops/small.yaml", undefined]]);
      assert.deepEqual(scanFiles(files).map((f) => [f.file, f.rule]), [["gitops/big.yaml", "unscanned-file"]]);
    } finally {
      r.cleanup();
    }
  });

  it("repoRootOf finds the directory of .sops.yaml, else the git top level, from any subdirectory", () => {
    const r = tempDir();
    try {
      mkdirSync(join(r.dir, "a", "b"), { recursive: true });
      assert.equal(repoRootOf(join(r.dir, "a", "b")), join(r.dir, "a", "b"));
      mkdirSync(join(r.dir, ".git"));
      assert.equal(repoRootOf(join(r.dir, "a", "b")), r.dir);
      writeFileSync(join(r.dir, "a", ".sops.yaml"), "creation_rules: []\n");
      assert.equal(repoRootOf(join(r.dir, "a", "b")), join(r.dir, "a"));
    } finally {
      r.cleanup();
    }
  });
});

describe("secret scanner: literal passwords are flagged however they look", () => {
  it("short or low-entropy values under password/token names, a key named PASS, a base64 token starting with /", () => {
    assert.deepEqual(hits("hosts/node/db.env", "DB_PASSWORD=hunter2hunter2\nPASS=Tr0ub4dor\nAPI_TOKEN=/aB3+xY9kLm2PqRsT7uVwXyZ01==\nDB_USER=forgejo\n"), [
      ["literal-password", 1],
      ["literal-password", 2],
      ["literal-password", 3],
    ]);
    assert.deepEqual(hits("gitops/app/values.yaml", "db:\n  password: admin\n  pgpassword: 123456\n  passwordLength: 12\n"), [
      ["literal-password", 2],
      ["literal-password", 3],
    ]);
    assert.deepEqual(hits("gitops/app/values2.yaml", "secretKey: /Xk9mP2vQ7rLw4ZtB8nJcQw\n"), [["literal-password", 1]]);
  });

  it("a password in a URL with an empty user name", () => {
    assert.deepEqual(hits("hosts/node/app.env", "REDIS_URL=redis://:s3cr3tpw@redis:6379/0\n"), [["credentials-in-url", 1]]);
  });
});

describe("secret scanner: false positives that must stay quiet", () => {
  it("checksum annotations, identifiers under SECRET_*_ENV / AUTH_* names, references in embedded configs", () => {
    const files = [
      {
        path: "gitops/x/deploy.yaml",
        content: `apiVersion: apps/v1
kind: Deployment
spec:
  template:
    metadata:
      annotations:
        checksum/secret: 3f2a9c1d7e8b4a6f0c5d2e1b9a8f7c6d5e4b3a2f1c0d9e8b7a6f5c4d3e2b1a0f
        checksum/config: 01ba4719c80b6fe911b091a7c05124b64eeece964e09c058ef8f9805daca546b
        nginx.ingress.kubernetes.io/auth-secret: basic-auth
    spec:
      automountServiceAccountToken: false
      containers:
        - name: app
          args: ["--auth-mode=oidc", "--token-file=/var/run/token", "--password-stdin"]
          env:
            - name: SECRET_KEY_BASE_ENV
              value: RAILS_SECRET_KEY_BASE
            - name: AUTH_PROVIDER
              value: generic_oauth
            - name: AUTHOR
              value: Jane Q. Operator
            - name: PASSWORD_HASH
              value: $2y$10$7O40CaY1yz7fu9O24k2/u.ct/wELYHRBsn25v/7AyuQ8E8hrLqpva
            - name: MAX_TOKENS
              value: "4096"
`,
      },
      {
        path: "gitops/monitoring/cm.yaml",
        content: `apiVersion: v1
kind: ConfigMap
data:
  config.alloy: |
    basic_auth {
      password = env("GRAFANA_CLOUD_TOKEN")
      password_file = "/var/run/secrets/x"
    }
    authorization { credentials = local.file.token.content }
  grafana.ini: |
    [security]
    admin_password = $__file{/etc/secrets/admin-password}
    secret_key = \${GF_SECRET_KEY}
  alertmanager.yml: |
    global:
      smtp_auth_password_file: /etc/alertmanager/secrets/smtp
  app.ini: |
    INTERNAL_TOKEN =
    INTERNAL_TOKEN_URI = file:/data/gitea/internal_token
    PASSWD = \${FORGEJO_DB_PASSWORD}
  nginx.conf: |
    {{- else if $password := $t.password }}
  rules.yaml: |
    expr: rate(apiserver_request_total{job="apiserver",auth_token="",verb=~"LIST|GET"}[5m]) > 0
`,
      },
      {
        path: "hosts/node/compose.yaml",
        content: `services:
  db:
    environment:
      - POSTGRES_PASSWORD_FILE=/run/secrets/db
      - FORGEJO__database__PASSWD=\${DB_PASSWORD}
      - "RUNNER_TOKEN="
  cloudflared:
    command: ["tunnel", "--no-autoupdate", "run", "--token", "$(TUNNEL_TOKEN)"]
`,
      },
      { path: "hosts/node/README.md", content: "Pass the tunnel token with --token as shown; the password: see the password manager.\n" },
      { path: "gitops/x/schema.json", content: '{"description": "Example: extraVolumes: - name: v secret: secretName: extra-volume-secret password: test-password-1"}\n' },
    ];
    assert.deepEqual(scanFiles(files), []);
  });

  it("header-only PEM placeholders (commented examples) are not keys", () => {
    assert.deepEqual(hits("gitops/argocd/values.yaml", `creds: {}\n  # ssh-creds:\n  #  sshPrivateKey: |\n  #    -----BEGIN ${"OPENSSH"} PRIVATE KEY-----\n  #    ...\n  #    -----END OPENSSH PRIVATE KEY-----\n`), []);
  });

  it("the locked charts' default values: only the documented demo MinIO credentials of the loki chart and redis-ha's example connection URIs", () => {
    const dir = join(REPO, "charts");
    const files = (readdirSync(dir, { recursive: true }) as string[])
      .filter((f) => f.endsWith("values.yaml"))
      .sort()
      .map((f) => ({ path: `charts/${f}`, content: readFileSync(join(dir, f), "utf8") }));
    // The seven charts versions.yaml pins and the subcharts whose values the homelab sets: kube-prometheus-stack's
    // grafana, kube-state-metrics and prometheus-node-exporter, argo-cd's redis-ha.
    assert.equal(files.length, 11, `charts found: ${files.map((f) => f.path).join(", ")}`);
    // The loki chart enables nothing with these by default: they belong to the optional bundled MinIO
    // (minio.enabled: false), and the homelab does not turn it on. Real findings nonetheless.
    assert.deepEqual(
      scanFiles(files).map((f) => [f.file, f.rule, f.message]),
      [
        // Comments showing the restore source's form, `redis://username:password@localhost:6379`: the
        // scanner reads comments too (a real URL pasted into one is as leaked), so they are reported.
        ...["charts/argo-cd-10.1.1/charts/redis-ha/values.yaml"].flatMap((file) => [
          [file, "credentials-in-url", "a password inside a URL: redi… (28 chars)"],
          [file, "credentials-in-url", "a password inside a URL: redi… (27 chars)"],
        ]),
        ...["charts/loki-18.11.0/values.yaml"].flatMap((file) => [
          [file, "literal-password", '"rootPassword" holds a literal value: supe… (19 chars)'],
          [file, "literal-password", '"secretKey" holds a literal value: supe… (19 chars)'],
        ]),
      ],
    );
  });

});

describe("the repository itself", () => {
  it("the default scan paths (gitops/, hosts/, secrets/, homelab.config.ts) are clean", () => {
    const files = readScanTargets(REPO);
    assert.ok(files.some((f) => f.path === "secrets/cloudflared/cloudflared-credentials.sops.yaml"), "the example secret is scanned");
    assert.deepEqual(scanReport(files, loadWaivers(REPO)).findings, []);
  });
});

describe("secret scanner: what to do about a plaintext Secret", () => {
  const secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: notes\nstringData:\n  password: Zq8vN2mK4pL7wX1c\n";
  it("a plaintext file already at secrets/<app>/<name>.sops.yaml is told to run homelab secrets encrypt on it", () => {
    const f = scanFiles([{ path: "secrets/notes/db.sops.yaml", content: secret }]);
    const plain = f.find((x) => x.rule === "plaintext-secret-object");
    assert.ok(plain, JSON.stringify(f));
    assert.match(plain.message, /encrypt the file in place: `homelab secrets encrypt secrets\/notes\/db\.sops\.yaml`$/);
    assert.doesNotMatch(plain.message, /keep Secrets in/);
    const block = f.find((x) => x.rule === "sops-block-invalid");
    assert.ok(block, JSON.stringify(f));
    assert.match(block.message, /the file is not encrypted\); encrypt it in place: `homelab secrets encrypt secrets\/notes\/db\.sops\.yaml`$/);
  });
  it("a plaintext Secret elsewhere is told where Secrets live", () => {
    const f = scanFiles([{ path: "gitops/notes/secret.yaml", content: secret }]).find((x) => x.rule === "plaintext-secret-object");
    assert.match(f!.message, /keep Secrets in secrets\/<app>\/<name>\.sops\.yaml, encrypted/);
  });
});
