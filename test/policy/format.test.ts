import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatJson, formatTable, policyContext, REPORT_FORMAT_VERSION, runPolicies } from "../../src/policy/index.ts";
import { located, TODAY } from "./helpers.ts";

const objects = [
  located(
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: "shop" },
      spec: { selector: { matchLabels: { app: "web" } }, template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "nginx:latest" }] } } },
    },
    "shop/web.yaml",
  ),
  located({ apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: "monitoring" }, spec: { type: "NodePort", selector: { app: "web" } } }, "shop/svc.yaml"),
];
const report = runPolicies(policyContext({ objects }), {
  waivers: [{ rule: "service-exposure", object: "Service monitoring/*", reason: "temporary until the tunnel route exists", expires: "2026-02-01" }],
  today: TODAY,
  only: ["image-pinned", "read-only-root-fs", "service-exposure", "backup-coverage"],
});

describe("formatTable", () => {
  it("groups by severity, then says how to fix, what was waived and what did not run", () => {
    assert.equal(
      formatTable(report),
      [
        "ERRORS (1)",
        "  RULE          OBJECT               MESSAGE                                   WHERE",
        "  image-pinned  Deployment shop/web  container 'web' image 'nginx:latest'      shop/web.yaml",
        "                                     uses the floating tag 'latest'            /spec/template/spec/containers/0/image",
        "",
        "WARNINGS (1)",
        "  RULE               OBJECT               MESSAGE                                 WHERE",
        "  read-only-root-fs  Deployment shop/web  container 'web' has a writable root     shop/web.yaml",
        "                                          filesystem                              /spec/template/spec/containers/0/",
        "                                                                                  securityContext/readOnlyRootFilesystem",
        "",
        "HOW TO FIX",
        "  image-pinned: Pin a release tag (e.g. `:1.27.3`) or a digest (`@sha256:…`); let the dependency bot bump it in a",
        "    reviewed commit.",
        "  read-only-root-fs: Set `securityContext.readOnlyRootFilesystem: true` and mount an emptyDir where the process needs",
        "    scratch space (e.g. /tmp).",
        "",
        "WAIVED (1)",
        "  RULE              OBJECT                  EXPIRES     REASON",
        "  service-exposure  Service monitoring/web  2026-02-01  temporary until the tunnel route exists",
        "",
        "NOT RUN",
        "  backup-coverage: skipped: needs the homelab model (run `homelab check` without paths in the homelab repository)",
        "",
        "policy FAILED: 1 error, 1 warning (1 waived, 1 rule(s) not run); 3 rules over 2 objects, Kubernetes 1.34, without the",
        "  homelab model",
      ].join("\n"),
    );
  });

  it("fits a 120-column terminal: long messages, locations, fixes and reasons wrap, nothing is lost", () => {
    const long = runPolicies(
      policyContext({
        objects: [
          located(
            {
              apiVersion: "apps/v1",
              kind: "Deployment",
              metadata: { name: "a-deployment-with-a-rather-long-name-for-testing", namespace: "a-namespace-that-is-long-too" },
              spec: {
                selector: { matchLabels: { app: "x" } },
                template: { metadata: { labels: { app: "x" } }, spec: { containers: [{ name: "container-with-a-long-name", image: "registry.example.org/some/very/long/image/path:latest" }] } },
              },
            },
            "gitops/a-namespace-that-is-long-too/deployment-a-deployment-with-a-rather-long-name-for-testing.yaml",
          ),
        ],
      }),
      { waivers: [], today: TODAY, only: ["image-pinned", "read-only-root-fs"] },
    );
    const text = formatTable(long);
    for (const l of text.split("\n")) assert.ok(l.length <= 120, `${l.length}: ${l}`);
    // Every word of every message and location is still there, in order.
    for (const v of long.violations)
      for (const piece of `${v.message} ${v.file} ${v.path}`.split(/[\s/.\-_]+/).filter(Boolean)) assert.ok(text.includes(piece), `${piece} of: ${v.message} ${v.file}`);
  });

  it("the summary names what the files beside the objects are", () => {
    const files = [
      { path: "gitops/a/kustomization.yaml", content: "resources: []\n" },
      { path: "gitops/b/kustomization.yaml", content: "resources: []\n" },
      { path: "gitops/b/secret-generator.yaml", content: "kind: ksops\n" },
      { path: "gitops/b/creds.sops.yaml", content: "a: b\n" },
    ];
    const r = runPolicies(policyContext({ objects: [], files }), { waivers: [], today: TODAY, only: ["image-pinned"] });
    assert.match(formatTable(r).replace(/\n +/g, " "), /over 0 objects and 4 other files \(2 kustomizations, 1 KSOPS generator, 1 encrypted Secret\)/);
  });

  it("is one line when everything passes", () => {
    const clean = runPolicies(policyContext({ objects: [] }), { waivers: [], today: TODAY, only: ["image-pinned"] });
    assert.equal(formatTable(clean), "policy PASSED: 0 errors, 0 warnings; 1 rule over 0 objects, Kubernetes 1.34, without the homelab model");
  });
});

describe("formatJson", () => {
  it("carries the counts, every rule with its why and fix, the violations, waivers and notes", () => {
    const doc = JSON.parse(formatJson(report));
    assert.equal(doc.version, REPORT_FORMAT_VERSION);
    assert.equal(doc.kubernetesVersion, "1.34");
    assert.equal(doc.withModel, false);
    assert.deepEqual(doc.summary, { errors: 1, warnings: 1, waived: 1, objects: 2, files: 0 });
    assert.deepEqual(
      doc.rules.map((r: { id: string; status: string; violations: number; waived: number }) => [r.id, r.status, r.violations, r.waived]),
      [
        ["image-pinned", "ran", 1, 0],
        ["read-only-root-fs", "ran", 1, 0],
        ["service-exposure", "ran", 0, 1],
        ["backup-coverage", "skipped", 0, 0],
      ],
    );
    assert.ok(doc.rules.every((r: { why: string; fix: string }) => r.why.length > 20 && r.fix.length > 10));
    assert.deepEqual(doc.violations[0], {
      rule: "image-pinned",
      severity: "error",
      subject: "Deployment shop/web",
      file: "shop/web.yaml",
      path: "/spec/template/spec/containers/0/image",
      message: "container 'web' image 'nginx:latest' uses the floating tag 'latest'",
    });
    assert.equal(doc.waived[0].waiver.expires, "2026-02-01");
    assert.deepEqual(doc.notes.map((n: { rule: string }) => n.rule), ["backup-coverage"]);
  });
});
