import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkPolicies } from "../../src/policy/index.ts";
import type { LocatedObject } from "../../src/model/k8s.ts";
import { TODAY } from "./helpers.ts";

const deployment: LocatedObject = {
  file: "gitops/web/deployment-web.yaml",
  object: {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "web" },
    spec: { selector: { matchLabels: { app: "web" } }, template: { metadata: { labels: { app: "web" } }, spec: { containers: [] } } },
  },
};
const model = { nodes: 1, gitRepoURL: "https://git.example.org/me/homelab.git", allowedChartRepos: [] };

describe("scrape-coverage and the monitoring stack", () => {
  it("is skipped with a note while the homelab renders no monitoring stack", () => {
    const r = checkPolicies({ objects: [deployment], model: { ...model, monitoring: false } }, { waivers: [], today: TODAY, only: ["scrape-coverage"] });
    assert.deepEqual(r.violations, []);
    assert.deepEqual(r.notes.map((n) => n.rule), ["scrape-coverage"]);
    assert.match(r.notes[0]!.message, /no monitoring stack/);
  });
  it("runs, and fails an unscraped workload, once monitoring exists", () => {
    const r = checkPolicies({ objects: [deployment], model: { ...model, monitoring: true } }, { waivers: [], today: TODAY, only: ["scrape-coverage"] });
    assert.deepEqual(r.violations.map((v) => [v.rule, v.subject]), [["scrape-coverage", "Deployment web/web"]]);
  });
});
