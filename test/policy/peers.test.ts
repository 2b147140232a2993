// The rules scored against two well-known linters' own fixtures (copied, with their licence, under
// fixtures/peers/): every mapped failure fixture must be caught and no passing fixture flagged for
// the same condition, except the deliberate differences listed below with their reason. The mapping
// is the table in docs/policy.md; a test keeps the two in step.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ALL_RULES, loadManifests, policyContext, runPolicies, type LoadedObject, type Violation } from "../../src/policy/index.ts";
import { TODAY } from "./helpers.ts";
import { DIFFERENCES, MAPPINGS, type PeerMapping } from "./peer-mapping.ts";

const PEERS = join(import.meta.dirname, "fixtures", "peers");
const POLARIS = join(PEERS, "polaris", "checks");
const KUBE_LINTER = join(PEERS, "kube-linter", "checks");

/** The mapped rules' findings for the peer's condition. */
function findings(m: PeerMapping, dir: string, file: string): { v: Violation; doc: LoadedObject }[] {
  const { objects, otherFiles } = loadManifests([file], { cwd: dir });
  const ctx = policyContext({ objects, files: otherFiles, kubernetesVersion: "1.34", wholeNamespaces: true });
  const report = runPolicies(ctx, { waivers: [], today: TODAY, only: m.rules });
  assert.deepEqual(report.notes, [], `${m.check}: every mapped rule must run on ${file}`);
  return report.violations
    .filter((v) => m.rules.includes(v.rule) && (m.condition === undefined || m.condition.test(`${v.path ?? ""} ${v.message}`)))
    .map((v) => {
      // Names repeat inside a peer's fixture file: the document number tells the objects apart.
      const doc = objects.find((o) => o.file === v.file && o.document === v.document);
      assert.ok(doc, `${v.rule} finding without its document: ${JSON.stringify(v)}`);
      return { v, doc };
    });
}

const polarisMappings = MAPPINGS.filter((m) => m.peer === "polaris");
const kubeLinterMappings = MAPPINGS.filter((m) => m.peer === "kube-linter");
const known = new Set(ALL_RULES.map((r) => r.id));
const used = new Set<string>();

/** The deliberate difference for one fixture, if any; records that it was looked up. */
function difference(key: string): (typeof DIFFERENCES)[string] | undefined {
  used.add(key);
  return DIFFERENCES[key];
}

describe("peer fixtures: Polaris", () => {
  it("every copied check is mapped and every mapping names a copied check and real rules", () => {
    const dirs = readdirSync(POLARIS).sort();
    assert.deepEqual(dirs, polarisMappings.map((m) => m.check).sort());
    for (const m of MAPPINGS) for (const r of m.rules) assert.ok(known.has(r), `${m.peer} ${m.check} maps to unknown rule ${r}`);
  });

  for (const m of polarisMappings) {
    const dir = join(POLARIS, m.check);
    for (const file of readdirSync(dir).sort()) {
      const peerFails = file.startsWith("failure");
      it(`${m.check}/${file}: ${peerFails ? "caught" : "not flagged"} by ${m.rules.join(", ")}`, () => {
        const ours = findings(m, dir, file);
        const weFail = ours.length > 0;
        const diff = difference(`polaris/${m.check}/${file}`);
        const detail = ours.map((f) => `${f.v.rule} ${f.v.subject} ${f.v.path}: ${f.v.message}`).join("\n  ");
        if (diff) {
          assert.equal(diff.ours, weFail ? "flagged" : "not flagged", `the deliberate difference no longer holds (we now agree with Polaris): delete it\n  ${detail}`);
          assert.notEqual(weFail, peerFails);
        } else assert.equal(weFail, peerFails, peerFails ? "a Polaris failure fixture is missed" : `a Polaris success fixture is flagged:\n  ${detail}`);
      });
    }
  }
});

interface KubeLinterExpectation {
  readonly [check: string]: readonly string[];
}

describe("peer fixtures: kube-linter", () => {
  const expected = JSON.parse(readFileSync(join(PEERS, "kube-linter", "expected.json"), "utf8")) as KubeLinterExpectation;
  const bats = readFileSync(join(PEERS, "kube-linter", "bats-tests.sh"), "utf8");
  const files = readdirSync(KUBE_LINTER).sort();
  const fileOf = (check: string) => files.find((f) => f.replace(/\.ya?ml$/, "") === check);

  it("every copied fixture is mapped, with an expectation", () => {
    assert.deepEqual(files.map((f) => f.replace(/\.ya?ml$/, "")).sort(), kubeLinterMappings.map((m) => m.check).sort());
    assert.deepEqual(Object.keys(expected).sort(), kubeLinterMappings.map((m) => m.check).sort());
  });

  for (const m of kubeLinterMappings) {
    it(`${m.check}: the expectation agrees with the kinds kube-linter's own test names`, () => {
      const file = fileOf(m.check)!;
      const block = bats.split("\n@test ").find((b) => b.includes(`tmp="tests/checks/${file}"`) && !b.startsWith('"template-'));
      assert.ok(block, `no bats test for ${file}`);
      const kinds = new Set([...block.matchAll(/\[\[ "\$\{message\d+\}" [=~]+ "([A-Za-z]+)[ :]/g)].map((x) => x[1]));
      assert.deepEqual(new Set(expected[m.check]!.map((e) => e.split(" ")[1])), kinds);
    });

    it(`${m.check}: ${m.rules.join(", ")} flag exactly the documents kube-linter flags`, () => {
      const file = fileOf(m.check)!;
      const ours = [...new Set(findings(m, KUBE_LINTER, file).map((f) => `${f.doc.document} ${f.doc.object.kind}`))].sort(byDocument);
      const peer = [...expected[m.check]!].sort(byDocument);
      const diff = difference(`kube-linter/${m.check}`);
      if (diff) {
        assert.notDeepEqual(ours, peer, "the deliberate difference no longer holds (we now agree with kube-linter): delete it");
        assert.deepEqual(ours, [...(diff.documents ?? [])].sort(byDocument), "the deliberate difference lists the documents we flag instead");
      } else assert.deepEqual(ours, peer);
    });
  }
});

function byDocument(a: string, b: string): number {
  return Number.parseInt(a) - Number.parseInt(b) || a.localeCompare(b);
}

describe("peer mapping", () => {
  it("every deliberate difference belongs to a fixture and gives a reason", () => {
    for (const [key, d] of Object.entries(DIFFERENCES)) {
      assert.ok(used.has(key), `difference ${key} matches no fixture`);
      assert.ok(d.reason.length > 40, `difference ${key} needs a real reason`);
    }
  });

  it("docs/policy.md carries the mapping table", () => {
    const doc = readFileSync(join(import.meta.dirname, "..", "..", "docs", "policy.md"), "utf8");
    const rows = [...doc.matchAll(/^\| (Polaris|kube-linter) `([A-Za-z0-9-]+)` \| ([^|]+) \|/gm)].map((r) => `${r[1]!.toLowerCase()} ${r[2]} ${r[3]!.trim()}`);
    assert.deepEqual(rows.sort(), MAPPINGS.map((m) => `${m.peer} ${m.check} ${m.rules.map((r) => `\`${r}\``).join(", ")}`).sort());
  });
});
