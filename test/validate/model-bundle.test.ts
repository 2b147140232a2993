/**
 * The published Kubernetes models bundled next to the CLI (scripts/build-cli.mjs → dist/models/, read by
 * src/validate/kube-schema.ts when it runs from the bundle) judge every object exactly as the packages in
 * node_modules do, and re2-compat answers every pattern the models give it as re2-wasm does.
 * run-tests.mjs (and so `npm test`) builds the bundle before any test runs.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { gunzipSync } from "node:zlib";
import { describe, it } from "node:test";
import fc from "fast-check";
import { loadManifests, parseManifests } from "../../src/policy/index.ts";
import RE2Compat from "../../src/validate/re2-compat.ts";
import { REPO } from "../helpers.ts";

const MODELS = join(REPO, "dist", "models");

interface ModelClass {
  readonly apiVersion: string;
  readonly kind: string;
  readonly prototype: { validate(this: unknown): void };
}

function verdict(model: ModelClass, data: unknown): unknown {
  try {
    model.prototype.validate.call(data);
    return "valid";
  } catch (err) {
    const errors = (err as { errors?: unknown }).errors;
    if (!Array.isArray(errors)) throw err;
    return errors;
  }
}

/** The objects to judge: the policy fixtures, kube-prometheus (bench/corpus), and broken copies of each. */
function objects(): Record<string, unknown>[] {
  const fixtures = loadManifests([join(REPO, "test", "policy", "fixtures")], { keepGoing: true }).objects.map((o) => o.object as unknown as Record<string, unknown>);
  const corpus = gunzipSync(readFileSync(join(REPO, "bench", "corpus", "kube-prometheus-manifests.yaml.gz"))).toString("utf8");
  const real = [...fixtures, ...parseManifests(corpus, "corpus.yaml").objects.map((o) => o.object as unknown as Record<string, unknown>)];
  const broken = real.flatMap((o) => [
    { ...o, spec: 7 },
    { ...o, metadata: { name: 5, labels: "x" } },
    { ...o, spec: { ...(o.spec as object), replicas: "two", selector: [], ports: [{ port: "http" }], rules: 3, groups: [{ name: 1, partial_response_strategy: "Sometimes", rules: [{}] }] } },
  ]);
  return [...real, ...broken];
}

describe("the bundled models (dist/models)", () => {
  const kinds = JSON.parse(readFileSync(join(MODELS, "kinds.json"), "utf8")) as string[];

  it("cover every kind of the model packages the schema layer reads", () => {
    for (const spec of ["kubernetes-models/v1/ConfigMap", "kubernetes-models/apps/v1/Deployment", "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule", "@kubernetes-models/argo-cd/argoproj.io/v1alpha1/Application", "@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate"])
      assert.ok(kinds.includes(spec), spec);
    assert.ok(kinds.length > 250, `${kinds.length} kinds`);
  });

  it("judge every object (real and broken) as the packages in node_modules do", async () => {
    const objs = objects();
    const byType = new Map<string, Record<string, unknown>[]>();
    for (const o of objs) byType.set(`${String(o.apiVersion)} ${String(o.kind)}`, [...(byType.get(`${String(o.apiVersion)} ${String(o.kind)}`) ?? []), o]);
    let judged = 0;
    let invalid = 0;
    for (const spec of kinds) {
      const kind = spec.slice(spec.lastIndexOf("/") + 1);
      const bundled = (await import(pathToFileURL(join(MODELS, `${spec}.js`)).href))[kind] as ModelClass;
      // The schema layer takes a module's model only when its apiVersion and kind are the ones asked for.
      assert.equal(bundled.kind, kind, spec);
      assert.ok(spec.endsWith(`/${bundled.apiVersion}/${kind}`) || spec === `kubernetes-models/${bundled.apiVersion}/${kind}`, `${spec}: ${bundled.apiVersion}`);
      const mine = byType.get(`${bundled.apiVersion} ${bundled.kind}`) ?? [];
      if (mine.length === 0) continue;
      const published = (await import(spec))[kind] as ModelClass;
      for (const o of mine) {
        const want = verdict(published, o);
        assert.deepEqual(verdict(bundled, o), want, `${spec}: ${JSON.stringify(o).slice(0, 200)}`);
        judged++;
        if (want !== "valid") invalid++;
      }
    }
    // Both verdicts were really exercised: many objects, valid and not.
    assert.ok(judged > 400 && invalid > 300 && judged - invalid > 50, `${judged} judged, ${invalid} invalid`);
  });
});

describe("re2-compat", () => {
  // Every pattern the models hand to re2-wasm (prometheus-operator's RuleGroup, MonthRange, WeekdayRange).
  const patterns = [
    ...new Set(
      kindsSources().flatMap((src) => [...src.matchAll(/new func\d+\(("(?:[^"\\]|\\.)*"),"u"\)/g)].map((m) => JSON.parse(m[1]!) as string)),
    ),
  ];
  const { RE2 } = createRequire(import.meta.url)("re2-wasm") as { RE2: new (p: string, f: string) => { test(s: string): boolean } };

  it("answers as re2-wasm on every pattern of the models, for names in any case, numbers and junk", () => {
    assert.ok(patterns.length >= 3, `${patterns.length} patterns`);
    const words = ["january", "December", "MAY", "1", "9", "10", "12", "13", "0", "sun", "Mon", "tues", "WEDNES", "thurs", "fri", "satur", "day", "DAY", ":", "abort", "Warn", "", "x", "é", "\n"];
    for (const p of patterns) {
      const wasm = new RE2(p, "u");
      const compat = new RE2Compat(p, "u");
      fc.assert(
        fc.property(fc.array(fc.oneof(fc.constantFrom(...words), fc.string({ maxLength: 3 })), { maxLength: 4 }), (parts) => {
          const s = parts.join("");
          assert.equal(compat.test(s), wasm.test(s), `${p} on ${JSON.stringify(s)}`);
        }),
        { numRuns: 2000 },
      );
    }
  });

  it("refuses what re2-wasm refuses, and flags the models never use", () => {
    assert.throws(() => new RE2Compat("a", ""), /"u" flag is required/);
    assert.throws(() => new RE2Compat("a", "ug"), /flag "g" is not supported/);
    assert.equal(new RE2Compat("^(?i)(abort|warn)?$", "u").test("ABORT"), true);
    // Compiled on the first test, not when the model's module loads: a broken pattern is refused there.
    const broken = new RE2Compat("(abort", "u");
    assert.throws(() => broken.test("abort"), /missing closing \)|missing argument|parse/i);
  });
});

/** The sources of the models that use re2-wasm. */
function kindsSources(): string[] {
  const dir = join(REPO, "node_modules", "@kubernetes-models", "prometheus-operator", "_schemas");
  return ["V1RuleGroup", "V1alpha1MonthRange", "V1alpha1WeekdayRange", "V1beta1MonthRange", "V1beta1WeekdayRange"].map((n) =>
    readFileSync(join(dir, `ComGithubPrometheusOperatorPrometheusOperatorPkgApisMonitoring${n}.js`), "utf8"),
  );
}
